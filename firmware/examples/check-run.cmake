# check-run.cmake: run one firmware image in QEMU (run-qemu.sh) and check
# its exit status and its output. Used by the examples' ctest tests:
#   cmake -DRUNNER=run-qemu.sh -DQEMU=qemu-system-arm -DBOARD=b -DELF=x.elf
#         -DTIMEOUT=s -DEXPECT_STATUS=n -DEXPECT_REGEX=re -P check-run.cmake
# (ctest's PASS_REGULAR_EXPRESSION would ignore the exit status.)
foreach(var RUNNER QEMU BOARD ELF TIMEOUT EXPECT_STATUS EXPECT_REGEX)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "check-run.cmake: -D${var}=... missing")
    endif()
endforeach()

set(ENV{QEMU} "${QEMU}")
execute_process(
    COMMAND sh ${RUNNER} ${BOARD} ${ELF} ${TIMEOUT}
    RESULT_VARIABLE status
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
message("${out}${err}")

if(NOT status STREQUAL EXPECT_STATUS)
    message(FATAL_ERROR "exit status ${status}, expected ${EXPECT_STATUS}")
endif()
if(NOT out MATCHES "${EXPECT_REGEX}")
    message(FATAL_ERROR "output does not match: ${EXPECT_REGEX}")
endif()
message("ok: ${BOARD} exit status ${status}, output matches")

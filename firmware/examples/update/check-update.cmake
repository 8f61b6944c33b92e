# check-update.cmake: run the update firmware in QEMU and check that it
# exits 0 and prints, before and after the update, the tier and the
# accuracy device-sim got (UPDATE_EXPECT_* of the generated header):
#   cmake -DRUNNER=run-qemu.sh -DQEMU=qemu-system-arm -DBOARD=b -DELF=x.elf
#         -DTIMEOUT=s -DARITH=f32|int -DGEN_HEADER=update_gen.h [-DRESET=ON]
#         -P check-update.cmake
# With RESET, the output must show a system reset between the two tiers.
foreach(var ARITH GEN_HEADER)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "check-update.cmake: -D${var}=... missing")
    endif()
endforeach()

include(${CMAKE_CURRENT_LIST_DIR}/../header-accuracy.cmake)

string(TOUPPER ${ARITH} path)
header_define(${GEN_HEADER} UPDATE_SAMPLES n)
set(EXPECT_REGEX "")
foreach(tier basic full)
    string(TOUPPER ${tier} TIER)
    header_define(${GEN_HEADER} UPDATE_EXPECT_${TIER}_${path} correct)
    percent(${correct} ${n} pct)
    string(APPEND EXPECT_REGEX "tier ${tier}\naccuracy ${pct} % \\(${correct}/${n}\\), device-sim ${pct} %\n.*")
    if(tier STREQUAL "basic" AND RESET)
        # a real reset between the tiers: the firmware starts again from
        # main and finds slot B on trial in the state record it kept
        string(APPEND EXPECT_REGEX "system reset \\(SYSRESETREQ\\)\nweightgate update on [^\n]*\n"
                                   "after the reset: slot B on trial in the state record\n.*")
    endif()
endforeach()
string(APPEND EXPECT_REGEX "ok\n")
set(EXPECT_STATUS 0)
include(${CMAKE_CURRENT_LIST_DIR}/../check-run.cmake)

# check-classify.cmake: run the classify firmware in QEMU and check that it
# exits 0 and prints, for both kinds of kernels, the accuracy device-sim
# got (the CLASSIFY_EXPECT_* of the generated samples header):
#   cmake -DRUNNER=run-qemu.sh -DQEMU=qemu-system-arm -DBOARD=b -DELF=x.elf
#         -DTIMEOUT=s -DARITH=f32|int -DSAMPLES_HEADER=classify_samples.h
#         -P check-classify.cmake
foreach(var ARITH SAMPLES_HEADER)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "check-classify.cmake: -D${var}=... missing")
    endif()
endforeach()

file(READ ${SAMPLES_HEADER} header LIMIT 4096)
function(header_define name out)
    if(NOT header MATCHES "#define ${name} ([0-9]+)u")
        message(FATAL_ERROR "${SAMPLES_HEADER} has no ${name}")
    endif()
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
endfunction()

# board_put_percent(num, den, 2): 100 * num / den rounded half up, 2 decimals.
function(percent num den out)
    math(EXPR scaled "(${num} * 10000 + ${den} / 2) / ${den}")
    math(EXPR whole "${scaled} / 100")
    math(EXPR frac "${scaled} % 100")
    if(frac LESS 10)
        set(frac "0${frac}")
    endif()
    set(${out} "${whole}\\.${frac}" PARENT_SCOPE)
endfunction()

string(TOUPPER ${ARITH} path)
header_define(CLASSIFY_SAMPLES n)
set(EXPECT_REGEX "")
foreach(kind CODED IMAGE)
    header_define(CLASSIFY_EXPECT_${path}_${kind} correct)
    percent(${correct} ${n} pct)
    string(TOLOWER ${kind} label)
    string(APPEND EXPECT_REGEX "${label} kernels: accuracy ${pct} % \\(${correct}/${n}\\), device-sim ${pct} %\n.*")
endforeach()
string(APPEND EXPECT_REGEX "ok\n")
set(EXPECT_STATUS 0)
include(${CMAKE_CURRENT_LIST_DIR}/../check-run.cmake)

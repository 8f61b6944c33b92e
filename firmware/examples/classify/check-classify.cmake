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

include(${CMAKE_CURRENT_LIST_DIR}/../header-accuracy.cmake)

string(TOUPPER ${ARITH} path)
header_define(${SAMPLES_HEADER} CLASSIFY_SAMPLES n)
set(EXPECT_REGEX "")
foreach(kind CODED IMAGE)
    header_define(${SAMPLES_HEADER} CLASSIFY_EXPECT_${path}_${kind} correct)
    percent(${correct} ${n} pct)
    string(TOLOWER ${kind} label)
    string(APPEND EXPECT_REGEX "${label} kernels: accuracy ${pct} % \\(${correct}/${n}\\), device-sim ${pct} %\n.*")
endforeach()
string(APPEND EXPECT_REGEX "ok\n")
set(EXPECT_STATUS 0)
include(${CMAKE_CURRENT_LIST_DIR}/../check-run.cmake)

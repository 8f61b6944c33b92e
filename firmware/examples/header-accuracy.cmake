# header-accuracy.cmake: what the examples' checkers share (included by
# classify/check-classify.cmake and update/check-update.cmake).
#
#   header_define(HEADER_FILE NAME OUT)  OUT = N of "#define NAME Nu" in HEADER_FILE
#   percent(NUM DEN OUT)                 OUT = 100 * NUM / DEN rounded half up to
#                                        2 decimals, as a regex (what the firmware's
#                                        board_put_percent(num, den, 2) prints)
function(header_define file name out)
    file(READ ${file} header LIMIT 4096)
    if(NOT header MATCHES "#define ${name} ([0-9]+)u")
        message(FATAL_ERROR "${file} has no ${name}")
    endif()
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
endfunction()

function(percent num den out)
    math(EXPR scaled "(${num} * 10000 + ${den} / 2) / ${den}")
    math(EXPR whole "${scaled} / 100")
    math(EXPR frac "${scaled} % 100")
    if(frac LESS 10)
        set(frac "0${frac}")
    endif()
    set(${out} "${whole}\\.${frac}" PARENT_SCOPE)
endfunction()

# boards.cmake: the QEMU boards as CMake targets. Include it from a project
# configured with firmware/cmake/arm-none-eabi.cmake.
#
# For each board B in WG_BOARDS it defines:
#   wg_cpu_B     INTERFACE library: the CPU's compile and link flags (empty
#                when the toolchain's WG_CPU already applies them globally).
#                Link any library built for B against it, e.g. the
#                weightgate core: target_link_libraries(weightgate_B PUBLIC wg_cpu_B)
#   wg_board_B   OBJECT library: startup, console/exit/counter, memcpy & co;
#                linking it to an executable also brings the linker script
#                and the bare-metal link flags (-nostdlib, --gc-sections, -lgcc).
# and the function
#   wg_board_executable(NAME BOARD SOURCES... [LIBRARIES libs...])
# which builds NAME as an .elf for BOARD, writes NAME.map beside it and
# prints its size after each link.

set(WG_BOARDS_DIR ${CMAKE_CURRENT_LIST_DIR}/board)

# board -> CPU (a WG_CPU value), linker script, external IRQ vectors, board
# source, and defines for that source.
set(WG_BOARD_mps2-an386_CPU cortex-m4f)
set(WG_BOARD_mps2-an386_LD mps2-an386.ld)
set(WG_BOARD_mps2-an386_IRQS 48)
set(WG_BOARD_mps2-an386_SRC board_mps2.c)

set(WG_BOARD_microbit_CPU cortex-m0)
# The nRF51's M0 runs M0+ code too (both ARMv6-M): a cortex-m0plus tree has it.
set(WG_BOARD_microbit_ALSO_CPU cortex-m0plus)
set(WG_BOARD_microbit_LD microbit.ld)
set(WG_BOARD_microbit_IRQS 32)
set(WG_BOARD_microbit_SRC board_microbit.c)

set(WG_BOARD_mps2-an505_CPU cortex-m33)
set(WG_BOARD_mps2-an505_LD mps2-an505.ld)
set(WG_BOARD_mps2-an505_IRQS 96)
set(WG_BOARD_mps2-an505_SRC board_mps2.c)
set(WG_BOARD_mps2-an505_DEFS WG_BOARD_MPS2_NAME="mps2-an505" WG_BOARD_CPU_HZ=20000000u)

set(WG_KNOWN_BOARDS mps2-an386 microbit mps2-an505)

function(wg_define_board board)
    set(cpu ${WG_BOARD_${board}_CPU})
    string(REPLACE "-" "_" cpu_id "${cpu}")
    add_library(wg_cpu_${board} INTERFACE)
    if(NOT WG_CPU)
        target_compile_options(wg_cpu_${board} INTERFACE ${WG_CPU_FLAGS_${cpu_id}})
        target_link_options(wg_cpu_${board} INTERFACE ${WG_CPU_FLAGS_${cpu_id}})
    endif()

    add_library(wg_board_${board} OBJECT
        ${WG_BOARDS_DIR}/startup.c
        ${WG_BOARDS_DIR}/board_common.c
        ${WG_BOARDS_DIR}/${WG_BOARD_${board}_SRC}
        ${WG_BOARDS_DIR}/libc_min.c)
    target_include_directories(wg_board_${board} PUBLIC ${WG_BOARDS_DIR})
    target_compile_definitions(wg_board_${board} PRIVATE
        WG_BOARD_IRQS=${WG_BOARD_${board}_IRQS} ${WG_BOARD_${board}_DEFS})
    # Freestanding, and no loop turned into a call to the memcpy/memset
    # being defined (libc_min.c) or not yet usable (startup.c).
    target_compile_options(wg_board_${board} PRIVATE -ffreestanding -fno-tree-loop-distribute-patterns)
    target_link_libraries(wg_board_${board} PUBLIC wg_cpu_${board})
    target_link_options(wg_board_${board} INTERFACE
        -nostdlib
        -Wl,--gc-sections
        -L${WG_BOARDS_DIR}
        -T${WG_BOARDS_DIR}/${WG_BOARD_${board}_LD})
    # libgcc last: integer division and float helpers on M0, after the
    # objects and libraries that need them.
    target_link_libraries(wg_board_${board} INTERFACE gcc)
endfunction()

# WG_BOARDS: which boards to build. With a global WG_CPU only the boards
# with that CPU can be built in this tree.
set(_wg_default_boards "")
function(wg_board_runs_cpu board cpu out)
    if(cpu STREQUAL WG_BOARD_${board}_CPU OR cpu STREQUAL "${WG_BOARD_${board}_ALSO_CPU}")
        set(${out} TRUE PARENT_SCOPE)
    else()
        set(${out} FALSE PARENT_SCOPE)
    endif()
endfunction()

foreach(board IN LISTS WG_KNOWN_BOARDS)
    wg_board_runs_cpu(${board} "${WG_CPU}" _wg_runs)
    if(NOT WG_CPU OR _wg_runs)
        list(APPEND _wg_default_boards ${board})
    endif()
endforeach()
set(WG_BOARDS "${_wg_default_boards}" CACHE STRING "Boards to build (of: ${WG_KNOWN_BOARDS})")
if(NOT WG_BOARDS)
    message(STATUS "WG_CPU=${WG_CPU}: no QEMU board here has that CPU; no board targets")
endif()

foreach(board IN LISTS WG_BOARDS)
    if(NOT board IN_LIST WG_KNOWN_BOARDS)
        message(FATAL_ERROR "WG_BOARDS: unknown board ${board} (known: ${WG_KNOWN_BOARDS})")
    endif()
    wg_board_runs_cpu(${board} "${WG_CPU}" _wg_runs)
    if(WG_CPU AND NOT _wg_runs)
        message(FATAL_ERROR "WG_BOARDS: ${board} is a ${WG_BOARD_${board}_CPU}, this tree builds for WG_CPU=${WG_CPU}")
    endif()
    wg_define_board(${board})
endforeach()

function(wg_board_executable name board)
    cmake_parse_arguments(PARSE_ARGV 2 arg "" "" "SOURCES;LIBRARIES")
    add_executable(${name} ${arg_SOURCES} ${arg_UNPARSED_ARGUMENTS})
    set_target_properties(${name} PROPERTIES SUFFIX .elf)
    target_link_libraries(${name} PRIVATE ${arg_LIBRARIES} wg_board_${board})
    target_link_options(${name} PRIVATE -Wl,-Map=$<TARGET_FILE_DIR:${name}>/${name}.map)
    if(CMAKE_SIZE)
        add_custom_command(TARGET ${name} POST_BUILD
            COMMAND ${CMAKE_SIZE} $<TARGET_FILE:${name}>
            VERBATIM)
    endif()
endfunction()

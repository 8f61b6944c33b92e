# arm-none-eabi.cmake: CMake toolchain file for bare-metal Cortex-M builds
# with the GNU Arm Embedded toolchain (arm-none-eabi-gcc).
#
#   cmake -S <project> -B <build> \
#         -DCMAKE_TOOLCHAIN_FILE=<repo>/firmware/cmake/arm-none-eabi.cmake \
#         [-DWG_CPU=cortex-m4f|cortex-m0|cortex-m0plus|cortex-m33] \
#         [-DARM_NONE_EABI_ROOT=<toolchain prefix dir>]
#
# WG_CPU set: every target of the build gets that CPU's flags (a build tree
# for one CPU; what the weightgate library's own CMake wants).
# WG_CPU empty (the default): no CPU flags are global; a project builds for
# several CPUs in one tree by adding ${WG_CPU_FLAGS_<cpu>} per target
# (firmware/examples does this, one set per board). In both cases the flag
# lists are in WG_CPU_FLAGS_cortex_m4f, ..._cortex_m0, ..._cortex_m0plus,
# ..._cortex_m33 (CMake lists, for target_compile_options and
# target_link_options: the same flags must reach the link so it picks the
# matching libgcc multilib).
#
# Optimisation: -Os for every build type (Debug: -Og -g), since flash is
# the budget; -ffunction-sections/-fdata-sections so --gc-sections drops
# what is unused.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(ARM_NONE_EABI_ROOT "" CACHE PATH "Directory holding bin/arm-none-eabi-gcc (empty: search PATH)")
if(ARM_NONE_EABI_ROOT)
    set(_wg_bin "${ARM_NONE_EABI_ROOT}/bin/")
else()
    set(_wg_bin "")
endif()
set(CMAKE_C_COMPILER "${_wg_bin}arm-none-eabi-gcc")
set(CMAKE_CXX_COMPILER "${_wg_bin}arm-none-eabi-g++")
set(CMAKE_ASM_COMPILER "${_wg_bin}arm-none-eabi-gcc")
set(CMAKE_OBJCOPY "${_wg_bin}arm-none-eabi-objcopy" CACHE FILEPATH "objcopy for the target")
set(CMAKE_SIZE "${_wg_bin}arm-none-eabi-size" CACHE FILEPATH "size for the target")

# The compiler checks cannot link a bare-metal executable (no startup, no
# linker script yet): let them build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# WG_CPU must reach the try_compile projects too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES WG_CPU ARM_NONE_EABI_ROOT)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(WG_CPU_FLAGS_cortex_m4f -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard)
set(WG_CPU_FLAGS_cortex_m0 -mcpu=cortex-m0 -mthumb -mfloat-abi=soft)
set(WG_CPU_FLAGS_cortex_m0plus -mcpu=cortex-m0plus -mthumb -mfloat-abi=soft)
# M33 with its single-precision FPU (as on AN505 in QEMU); soft-float if
# the part has none: -mcpu=cortex-m33+nofp -mfloat-abi=soft.
set(WG_CPU_FLAGS_cortex_m33 -mcpu=cortex-m33 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard)

set(WG_CPU "" CACHE STRING "Cortex-M CPU for every target: cortex-m4f, cortex-m0, cortex-m0plus, cortex-m33, or empty for per-target flags")
set_property(CACHE WG_CPU PROPERTY STRINGS "" cortex-m4f cortex-m0 cortex-m0plus cortex-m33)

set(_wg_global_cpu "")
if(WG_CPU)
    string(REPLACE "-" "_" _wg_cpu_id "${WG_CPU}")
    if(NOT DEFINED WG_CPU_FLAGS_${_wg_cpu_id})
        message(FATAL_ERROR "WG_CPU=${WG_CPU}: not one of cortex-m4f, cortex-m0, cortex-m0plus, cortex-m33")
    endif()
    list(JOIN WG_CPU_FLAGS_${_wg_cpu_id} " " _wg_global_cpu)
endif()

set(CMAKE_C_FLAGS_INIT "${_wg_global_cpu} -Os -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${_wg_global_cpu} -Os -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${_wg_global_cpu}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_wg_global_cpu} -Wl,--gc-sections")
foreach(_wg_lang C CXX)
    set(CMAKE_${_wg_lang}_FLAGS_DEBUG_INIT "-Og -g")
    set(CMAKE_${_wg_lang}_FLAGS_RELEASE_INIT "-Os -DNDEBUG")
    set(CMAKE_${_wg_lang}_FLAGS_MINSIZEREL_INIT "-Os -DNDEBUG")
    set(CMAKE_${_wg_lang}_FLAGS_RELWITHDEBINFO_INIT "-Os -g -DNDEBUG")
endforeach()

# arm-none-eabi.cmake: CMake toolchain file for bare-metal Cortex-M builds
# with the GNU Arm Embedded toolchain (arm-none-eabi-gcc).
#
#   cmake -S firmware -B firmware/build/cortex-m4f \
#         -DCMAKE_TOOLCHAIN_FILE=firmware/cmake/arm-none-eabi.cmake \
#         [-DWG_CPU=cortex-m4f|cortex-m0plus|cortex-m0|cortex-m33|""] \
#         [-DARM_NONE_EABI_ROOT=<toolchain prefix dir>]
#
# WG_CPU (default cortex-m4f): every target of the tree gets that CPU's
# flags, also in WG_CPU_FLAGS (a string). The library's CMake builds one
# tree per CPU this way.
# WG_CPU="" : no CPU flags are global; a project builds for several CPUs
# in one tree by adding ${WG_CPU_FLAGS_<cpu>} per target (firmware/examples
# does, one set per board, and sets WG_CPU="" itself when it is the top
# project). The per-CPU lists are WG_CPU_FLAGS_cortex_m4f, ..._cortex_m0,
# ..._cortex_m0plus, ..._cortex_m33 (CMake lists, for target_compile_options
# and target_link_options: the same flags must reach the link so it picks
# the matching libgcc/newlib multilib).
#
# Optimisation: -Os for every build type (Debug: -Og -g), since flash is
# the budget; -ffunction-sections/-fdata-sections so --gc-sections drops
# what is unused; -ffreestanding (the library is freestanding C).
# Executables link against newlib-nano with no system calls
# (--specs=nano.specs --specs=nosys.specs) unless a target says -nostdlib,
# as the examples' board layer does.

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

set(WG_CPU "cortex-m4f" CACHE STRING "Cortex-M CPU for every target: cortex-m4f, cortex-m0plus, cortex-m0, cortex-m33, or empty for per-target flags")
set_property(CACHE WG_CPU PROPERTY STRINGS "" cortex-m4f cortex-m0 cortex-m0plus cortex-m33)

set(WG_CPU_FLAGS "")
if(WG_CPU)
    string(REPLACE "-" "_" _wg_cpu_id "${WG_CPU}")
    if(NOT DEFINED WG_CPU_FLAGS_${_wg_cpu_id})
        message(FATAL_ERROR "WG_CPU=${WG_CPU}: not one of cortex-m4f, cortex-m0plus, cortex-m0, cortex-m33 (or empty)")
    endif()
    list(JOIN WG_CPU_FLAGS_${_wg_cpu_id} " " WG_CPU_FLAGS)
endif()

set(CMAKE_C_FLAGS_INIT "${WG_CPU_FLAGS} -Os -ffunction-sections -fdata-sections -ffreestanding")
set(CMAKE_CXX_FLAGS_INIT "${WG_CPU_FLAGS} -Os -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${WG_CPU_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${WG_CPU_FLAGS} -Wl,--gc-sections --specs=nano.specs --specs=nosys.specs")
foreach(_wg_lang C CXX)
    set(CMAKE_${_wg_lang}_FLAGS_DEBUG_INIT "-Og -g")
    set(CMAKE_${_wg_lang}_FLAGS_RELEASE_INIT "-Os -DNDEBUG")
    set(CMAKE_${_wg_lang}_FLAGS_MINSIZEREL_INIT "-Os -DNDEBUG")
    set(CMAKE_${_wg_lang}_FLAGS_RELWITHDEBINFO_INIT "-Os -g -DNDEBUG")
endforeach()

# Toolchain for Cortex-M with arm-none-eabi-gcc, optimised for size.
#   cmake -S firmware -B firmware/build/m4f -DCMAKE_TOOLCHAIN_FILE=firmware/cmake/arm-none-eabi.cmake \
#         -DWG_CPU=cortex-m4f -DWG_ARITH=f32
# WG_CPU: cortex-m0plus (armv6-m, no FPU), cortex-m4f (FPv4-SP), cortex-m33 (armv8-m.main, FPv5-SP).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(WG_CPU "cortex-m4f" CACHE STRING "cortex-m0plus, cortex-m4f or cortex-m33")
if(WG_CPU STREQUAL "cortex-m0plus")
  set(WG_CPU_FLAGS "-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft")
elseif(WG_CPU STREQUAL "cortex-m4f")
  set(WG_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard")
elseif(WG_CPU STREQUAL "cortex-m33")
  set(WG_CPU_FLAGS "-mcpu=cortex-m33 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard")
else()
  message(FATAL_ERROR "unknown WG_CPU ${WG_CPU}")
endif()

set(CMAKE_C_FLAGS_INIT "${WG_CPU_FLAGS} -ffunction-sections -fdata-sections -ffreestanding")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os -DNDEBUG")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections --specs=nano.specs --specs=nosys.specs")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)

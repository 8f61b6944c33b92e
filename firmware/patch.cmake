# patch.cmake: the streaming .wgp applier (src/patch, interface in
# include/weightgate_patch.h) as wg_patch, over the core library. A CMake
# fragment, like update.cmake; included by firmware/CMakeLists.txt after
# the `weightgate` target. Its tests (test/patch/tests.cmake) are
# registered from test/CMakeLists.txt.
#
# Defines:
#   WG_PATCH_SOURCES   the applier's sources (compile them with the core's
#                      include path and one of WG_ARITH_F32 / WG_ARITH_INT)
#   wg_patch_library(NAME CORE)   the applier as NAME over the core library CORE
#   wg_patch           wg_patch_library(wg_patch weightgate)
#   wg_patch_flash     wg_patch_flash_sink (over wg_update; include after update.cmake)

include_guard(GLOBAL)

set(WG_PATCH_DIR ${CMAKE_CURRENT_LIST_DIR})
set(WG_PATCH_SOURCES
    ${WG_PATCH_DIR}/src/patch/wg_patch.c
    ${WG_PATCH_DIR}/src/patch/wg_patch_coder.c)

function(wg_patch_library name core)
  add_library(${name} STATIC ${WG_PATCH_SOURCES})
  target_include_directories(${name} PUBLIC ${WG_PATCH_DIR}/include)
  target_link_libraries(${name} PUBLIC ${core})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Werror -pedantic -Wshadow -Wconversion -Wno-sign-conversion)
endfunction()

wg_patch_library(wg_patch weightgate)

# The sink over the update half's slot writer (wg_patch_flash_sink).
set(WG_PATCH_FLASH_SOURCES ${WG_PATCH_DIR}/src/patch/wg_patch_flash.c)
if(TARGET wg_update)
  add_library(wg_patch_flash STATIC ${WG_PATCH_FLASH_SOURCES})
  target_link_libraries(wg_patch_flash PUBLIC wg_patch wg_update)
  target_compile_options(wg_patch_flash PRIVATE -Wall -Wextra -Werror -pedantic -Wshadow -Wconversion -Wno-sign-conversion)
endif()

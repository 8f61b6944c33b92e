# update.cmake: the library's update half (src/update, interface in
# include/weightgate_update.h): flash slots A/B, the state record, boot,
# trial / confirm / roll back. A CMake fragment, like crypto.cmake.
#
# From firmware/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/update.cmake)
#   target_link_libraries(<library> PUBLIC wg_update)
# or compile ${WG_UPDATE_SOURCES} into the library itself (then add
# ${WG_UPDATE_INCLUDE_DIRS} to its include path).
#
# Defines:
#   WG_UPDATE_SOURCES, WG_UPDATE_INCLUDE_DIRS
#   wg_update          static library over wg_crypto (includes crypto.cmake)
#   WG_UPDATE_TESTS    option, default OFF: the cmocka tests (AddressSanitizer
#                      and UBSan), the power cut at every flash operation, the
#                      device-sim cross-check through `node --import tsx` and the
#                      Cortex-M build check (test/update/tests.cmake).
#                      Call enable_testing() in the top-level CMakeLists.
include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/crypto.cmake)

set(WG_UPDATE_DIR ${CMAKE_CURRENT_LIST_DIR})
set(WG_UPDATE_SOURCES
    ${WG_UPDATE_DIR}/src/update/wg_state_record.c
    ${WG_UPDATE_DIR}/src/update/wg_update_flash.c
    ${WG_UPDATE_DIR}/src/update/wg_update_boot.c)
set(WG_UPDATE_INCLUDE_DIRS ${WG_UPDATE_DIR}/include ${WG_UPDATE_DIR}/src/update)
option(WG_UPDATE_TESTS "Build and register the update tests" OFF)

function(wg_update_library name crypto)
  add_library(${name} STATIC ${WG_UPDATE_SOURCES})
  target_include_directories(${name} PUBLIC ${WG_UPDATE_DIR}/include PRIVATE ${WG_UPDATE_DIR}/src/update)
  target_link_libraries(${name} PUBLIC ${crypto})
  wg_crypto_c99(${name})
endfunction()

wg_update_library(wg_update wg_crypto)

if(WG_UPDATE_TESTS)
  include(${WG_UPDATE_DIR}/test/update/tests.cmake)
endif()

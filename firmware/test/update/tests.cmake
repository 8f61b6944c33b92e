# tests.cmake: the update tests, included by update.cmake when
# WG_UPDATE_TESTS is ON (firmware/test/update/CMakeLists.txt does that).
find_path(WG_CMOCKA_INCLUDE_DIR cmocka.h)
find_library(WG_CMOCKA_LIBRARY cmocka)
if(NOT WG_CMOCKA_INCLUDE_DIR OR NOT WG_CMOCKA_LIBRARY)
  message(FATAL_ERROR "WG_UPDATE_TESTS needs cmocka (Debian: libcmocka-dev)")
endif()
set(_wg_upd_test_dir ${CMAKE_CURRENT_LIST_DIR})
set(_wg_upd_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

# The update and crypto sources again, with the sanitizers.
add_library(wg_update_san STATIC ${WG_UPDATE_SOURCES} ${WG_CRYPTO_DIR}/src/crypto/wg_sha2_consts.c
            ${WG_CRYPTO_DIR}/src/crypto/wg_sha256.c ${WG_CRYPTO_DIR}/src/crypto/wg_sha512.c
            ${WG_CRYPTO_DIR}/src/crypto/wg_ed25519.c ${WG_CRYPTO_DIR}/src/crypto/wg_crypto_portable.c
            ${WG_CRYPTO_DIR}/src/crypto/wg_sha256_oneshot.c)
target_include_directories(wg_update_san PUBLIC ${WG_UPDATE_DIR}/include
                           PRIVATE ${WG_UPDATE_DIR}/src/update ${WG_CRYPTO_DIR}/src/crypto)
wg_crypto_c99(wg_update_san)
# -O2 whatever the build type: the power-cut test replays tens of thousands
# of updates (with the sanitizers still on), which at -O0 takes minutes.
target_compile_options(wg_update_san PUBLIC ${_wg_upd_san} -O2)
target_link_options(wg_update_san PUBLIC ${_wg_upd_san})

add_library(wg_update_testlib STATIC ${_wg_upd_test_dir}/sim_flash.c ${_wg_upd_test_dir}/test_common.c)
target_include_directories(wg_update_testlib PUBLIC ${_wg_upd_test_dir})
target_link_libraries(wg_update_testlib PUBLIC wg_update_san)
wg_crypto_c99(wg_update_testlib)

foreach(_t test_update test_power_cut)
  add_executable(${_t} ${_wg_upd_test_dir}/${_t}.c)
  wg_crypto_c99(${_t})
  target_include_directories(${_t} PRIVATE ${WG_CMOCKA_INCLUDE_DIR})
  target_link_libraries(${_t} PRIVATE wg_update_testlib ${WG_CMOCKA_LIBRARY})
  add_test(NAME update_${_t} COMMAND ${_t})
endforeach()

# The power-cut test hashes every slot of tens of thousands of reboots: with
# libsodium at hand its SHA-256 does that (the update code is the same; the
# portable SHA-256 has its own vector tests), else the portable one.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(WG_UPD_SODIUM QUIET IMPORTED_TARGET libsodium)
endif()
if(WG_UPD_SODIUM_FOUND)
  target_sources(test_power_cut PRIVATE ${_wg_upd_test_dir}/../support/test_crypto_sodium_shim.c)
  target_include_directories(test_power_cut PRIVATE ${_wg_upd_test_dir}/../support)
  target_compile_definitions(test_power_cut PRIVATE WG_POWER_CUT_CRYPTO=wg_test_crypto)
  target_link_libraries(test_power_cut PRIVATE PkgConfig::WG_UPD_SODIUM)
endif()

# Cross-check with device-sim/state-record.ts both ways; skips (77) without node.
add_executable(state_compat ${_wg_upd_test_dir}/state_compat.c)
wg_crypto_c99(state_compat)
target_link_libraries(state_compat PRIVATE wg_update_testlib)
find_program(WG_BASH bash)
add_test(NAME update_state_compat_device_sim
         COMMAND ${WG_BASH} ${_wg_upd_test_dir}/state-compat.sh $<TARGET_FILE:state_compat>
                 ${CMAKE_CURRENT_BINARY_DIR}/state-compat)
set_tests_properties(update_state_compat_device_sim PROPERTIES SKIP_RETURN_CODE 77)

# The update sources for Cortex-M4F and M0+, warning-free, with sizes.
find_program(WG_ARM_GCC arm-none-eabi-gcc)
if(WG_ARM_GCC AND WG_BASH)
  add_test(NAME update_cortex_m_build COMMAND ${WG_BASH} ${_wg_upd_test_dir}/../../size/objects.sh update
                                              ${_wg_upd_test_dir}/../../src/update -I${_wg_upd_test_dir}/../../src/update)
endif()

# The patch applier's tests, included from test/CMakeLists.txt (its
# cmocka, libsodium and sanitizer settings): vectors from formats and
# device-sim (gen-patch-vectors.ts, through `node --import tsx` at build time; the
# vector tests skip when node or node_modules are missing).
set(WG_PATCH_VECTORS ${CMAKE_CURRENT_BINARY_DIR}/patch-vectors)
find_program(WG_NODE_PATCH node)
if(WG_NODE_PATCH)
  add_custom_command(
    OUTPUT ${WG_PATCH_VECTORS}/stamp
    COMMAND ${CMAKE_COMMAND} -DNODE=${WG_NODE_PATCH} -DROOT=${PROJECT_SOURCE_DIR}/..
            -DSCRIPT=firmware/test/patch/gen-patch-vectors.ts -DOUT=${WG_PATCH_VECTORS}
            -P ${CMAKE_CURRENT_LIST_DIR}/gen-patch-vectors.cmake
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/gen-patch-vectors.ts ${CMAKE_CURRENT_LIST_DIR}/gen-patch-vectors.cmake
    COMMENT "Generating patch vectors with formats and device-sim"
    VERBATIM)
  add_custom_target(wg_patch_vectors ALL DEPENDS ${WG_PATCH_VECTORS}/stamp)
else()
  message(STATUS "node not found: the patch vector tests will skip")
endif()

wg_patch_library(wg_patch_test weightgate_test_f32)
target_compile_options(wg_patch_test PRIVATE ${WG_SANITIZE_COMPILE} -g)
add_executable(test_patch ${CMAKE_CURRENT_LIST_DIR}/test_patch.c)
target_link_libraries(test_patch PRIVATE wg_patch_test wg_test_support PkgConfig::CMOCKA)
target_compile_options(test_patch PRIVATE ${WG_WARNINGS} ${WG_SANITIZE_COMPILE} -g)
target_link_options(test_patch PRIVATE ${WG_SANITIZE})
add_test(NAME patch_vectors COMMAND test_patch)
set_tests_properties(patch_vectors PROPERTIES ENVIRONMENT "WG_PATCH_VECTORS=${WG_PATCH_VECTORS}"
                     SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")

# A power cut at every flash operation of an apply into the update half's
# simulated flash (test/update's sim_flash), then a reboot.
if(TARGET wg_update_testlib)
  add_executable(test_patch_power_cut ${CMAKE_CURRENT_LIST_DIR}/test_patch_power_cut.c ${WG_PATCH_FLASH_SOURCES})
  target_link_libraries(test_patch_power_cut PRIVATE wg_patch_test wg_update_testlib wg_test_support PkgConfig::CMOCKA)
  target_compile_options(test_patch_power_cut PRIVATE ${WG_WARNINGS} ${WG_SANITIZE_COMPILE} -g)
  target_link_options(test_patch_power_cut PRIVATE ${WG_SANITIZE})
  add_test(NAME patch_power_cut COMMAND test_patch_power_cut)
  set_tests_properties(patch_power_cut PROPERTIES ENVIRONMENT "WG_PATCH_VECTORS=${WG_PATCH_VECTORS}"
                       SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endif()

# The applier's sources for Cortex-M4F and M0+, warning-free, with sizes.
find_program(WG_ARM_GCC_PATCH arm-none-eabi-gcc)
find_program(WG_BASH_PATCH bash)
if(WG_ARM_GCC_PATCH AND WG_BASH_PATCH)
  add_test(NAME patch_cortex_m_build COMMAND ${WG_BASH_PATCH} ${CMAKE_CURRENT_LIST_DIR}/../../size/objects.sh "patch applier"
                                             ${CMAKE_CURRENT_LIST_DIR}/../../src/patch -I${CMAKE_CURRENT_LIST_DIR}/../../src -DWG_ARITH_F32=1)
endif()

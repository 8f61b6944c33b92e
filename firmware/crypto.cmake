# crypto.cmake: the library's crypto (src/crypto, interface in
# include/weightgate_crypto.h), as a CMake fragment.
#
# From firmware/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/crypto.cmake)
#   target_link_libraries(<library> PUBLIC wg_crypto)
# or compile ${WG_CRYPTO_SOURCES} into the library itself (then add
# ${WG_CRYPTO_INCLUDE_DIRS} to its include path and, with libsodium, define
# WG_WITH_SODIUM and link ${WG_SODIUM_LIBRARY}).
#
# Defines:
#   WG_CRYPTO_SOURCES, WG_CRYPTO_INCLUDE_DIRS
#   wg_crypto          static library: wg_crypto_portable, wg_sha256 and,
#                      with WG_WITH_SODIUM, wg_crypto_sodium
#   WG_WITH_SODIUM     option, default ON when libsodium is found on a host
#                      (not cross-compiling) build
#   WG_CRYPTO_TESTS    option, default OFF: cmocka tests (built with
#                      AddressSanitizer and UBSan) registered with add_test,
#                      and the node:crypto vector file generated at build time
#                      by test/crypto/gen-vectors.ts through `node --import tsx`.
#                      Call enable_testing() in the top-level CMakeLists.
include_guard(GLOBAL)

set(WG_CRYPTO_DIR ${CMAKE_CURRENT_LIST_DIR})
set(WG_CRYPTO_SOURCES
    ${WG_CRYPTO_DIR}/src/crypto/wg_sha2_consts.c
    ${WG_CRYPTO_DIR}/src/crypto/wg_sha256.c
    ${WG_CRYPTO_DIR}/src/crypto/wg_sha512.c
    ${WG_CRYPTO_DIR}/src/crypto/wg_ed25519.c
    ${WG_CRYPTO_DIR}/src/crypto/wg_crypto_portable.c
    ${WG_CRYPTO_DIR}/src/crypto/wg_sha256_oneshot.c
    ${WG_CRYPTO_DIR}/src/crypto/wg_crypto_sodium.c)
set(WG_CRYPTO_INCLUDE_DIRS ${WG_CRYPTO_DIR}/include ${WG_CRYPTO_DIR}/src/crypto)

find_path(WG_SODIUM_INCLUDE_DIR sodium.h)
find_library(WG_SODIUM_LIBRARY sodium)
if(WG_SODIUM_INCLUDE_DIR AND WG_SODIUM_LIBRARY AND NOT CMAKE_CROSSCOMPILING)
  set(_wg_sodium_default ON)
else()
  set(_wg_sodium_default OFF)
endif()
option(WG_WITH_SODIUM "Build wg_crypto_sodium over libsodium" ${_wg_sodium_default})
option(WG_CRYPTO_TESTS "Build and register the crypto tests" OFF)

# C99, warning-free under gcc and clang.
function(wg_crypto_c99 target)
  set_target_properties(${target} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -pedantic)
  endif()
endfunction()

# One library per flavour: wg_crypto, and wg_crypto_san for the tests.
function(wg_crypto_library name)
  add_library(${name} STATIC ${WG_CRYPTO_SOURCES})
  target_include_directories(${name} PUBLIC ${WG_CRYPTO_DIR}/include PRIVATE ${WG_CRYPTO_DIR}/src/crypto)
  wg_crypto_c99(${name})
  if(WG_WITH_SODIUM)
    target_compile_definitions(${name} PUBLIC WG_WITH_SODIUM)
    target_include_directories(${name} PRIVATE ${WG_SODIUM_INCLUDE_DIR})
    target_link_libraries(${name} PUBLIC ${WG_SODIUM_LIBRARY})
  endif()
endfunction()

wg_crypto_library(wg_crypto)

if(WG_CRYPTO_TESTS)
  find_path(WG_CMOCKA_INCLUDE_DIR cmocka.h)
  find_library(WG_CMOCKA_LIBRARY cmocka)
  if(NOT WG_CMOCKA_INCLUDE_DIR OR NOT WG_CMOCKA_LIBRARY)
    message(FATAL_ERROR "WG_CRYPTO_TESTS needs cmocka (Debian: libcmocka-dev)")
  endif()

  # -O2 whatever the build type (the sanitizers still on): Ed25519 at -O0
  # under AddressSanitizer made these tests the slowest of the suite.
  set(_wg_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  wg_crypto_library(wg_crypto_san)
  target_compile_options(wg_crypto_san PUBLIC ${_wg_san} -O2)
  target_link_options(wg_crypto_san PUBLIC ${_wg_san})

  # Vectors from node:crypto, written at build time; the test skips when
  # node or the project's node_modules are missing.
  set(WG_CRYPTO_VECTORS ${CMAKE_CURRENT_BINARY_DIR}/crypto-vectors.txt)
  find_program(WG_NODE node)
  if(WG_NODE)
    add_custom_command(
      OUTPUT ${WG_CRYPTO_VECTORS}
      COMMAND ${CMAKE_COMMAND} -DNODE=${WG_NODE} -DROOT=${WG_CRYPTO_DIR}/..
              -DSCRIPT=firmware/test/crypto/gen-vectors.ts -DOUT=${WG_CRYPTO_VECTORS}
              -P ${WG_CRYPTO_DIR}/test/crypto/gen-vectors.cmake
      DEPENDS ${WG_CRYPTO_DIR}/test/crypto/gen-vectors.ts ${WG_CRYPTO_DIR}/test/crypto/gen-vectors.cmake
      COMMENT "Generating Ed25519/SHA-2 vectors with node:crypto"
      VERBATIM)
    add_custom_target(wg_crypto_vectors ALL DEPENDS ${WG_CRYPTO_VECTORS})
  else()
    message(STATUS "node not found: the node:crypto vector test will skip")
  endif()

  # The same library with the 16-bit-halves multiply of ARMv6-M, for one
  # more run of the vectors.
  wg_crypto_library(wg_crypto_san_halves)
  target_compile_definitions(wg_crypto_san_halves PRIVATE WG_CRYPTO_MUL32_HALVES)
  target_compile_options(wg_crypto_san_halves PUBLIC ${_wg_san} -O2)
  target_link_options(wg_crypto_san_halves PUBLIC ${_wg_san})

  foreach(_t test_crypto test_crypto_vectors)
    add_executable(${_t} ${WG_CRYPTO_DIR}/test/${_t}.c)
    wg_crypto_c99(${_t})
    target_include_directories(${_t} PRIVATE ${WG_CRYPTO_DIR}/src/crypto ${WG_CMOCKA_INCLUDE_DIR})
    if(WG_WITH_SODIUM)
      target_include_directories(${_t} PRIVATE ${WG_SODIUM_INCLUDE_DIR})
    endif()
    target_link_libraries(${_t} PRIVATE wg_crypto_san ${WG_CMOCKA_LIBRARY})
    add_test(NAME crypto_${_t} COMMAND ${_t})
  endforeach()
  target_compile_definitions(test_crypto_vectors PRIVATE WG_CRYPTO_VECTORS_FILE="${WG_CRYPTO_VECTORS}")
  add_executable(test_crypto_vectors_halves ${WG_CRYPTO_DIR}/test/test_crypto_vectors.c)
  wg_crypto_c99(test_crypto_vectors_halves)
  target_include_directories(test_crypto_vectors_halves PRIVATE ${WG_CRYPTO_DIR}/src/crypto ${WG_CMOCKA_INCLUDE_DIR})
  target_compile_definitions(test_crypto_vectors_halves PRIVATE WG_CRYPTO_VECTORS_FILE="${WG_CRYPTO_VECTORS}")
  target_link_libraries(test_crypto_vectors_halves PRIVATE wg_crypto_san_halves ${WG_CMOCKA_LIBRARY})
  add_test(NAME crypto_test_crypto_vectors_mul32_halves COMMAND test_crypto_vectors_halves)

  # The portable code bare metal on emulated Cortex-M4 and M0, when the
  # cross compiler and qemu are there.
  find_program(WG_ARM_GCC arm-none-eabi-gcc)
  find_program(WG_QEMU_ARM qemu-system-arm)
  find_program(WG_BASH bash)
  if(WG_ARM_GCC AND WG_QEMU_ARM AND WG_BASH)
    add_test(NAME crypto_on_qemu_cortex_m COMMAND ${WG_BASH} ${WG_CRYPTO_DIR}/test/crypto/qemu/run.sh)
  endif()
endif()

# weightgate-sources.cmake: the library's source lists, for every CMake
# project that compiles it (firmware/CMakeLists.txt, and firmware/examples,
# which builds the library once per board and cannot add_subdirectory its
# parent).
#
#   WG_SOURCES          the library (firmware/src/*.c)
#   WG_INCLUDE_DIR      its public headers (weightgate.h, weightgate_crypto.h)
#   WG_CRYPTO_SOURCES   the portable crypto (wg_crypto_portable: SHA-256,
#                       SHA-512, Ed25519 verify); wg_crypto_sodium.c is
#                       empty unless WG_WITH_SODIUM is defined
#   WG_CRYPTO_INCLUDE_DIRS
#
# Compile the library with -ffp-contract=off (docs/arithmetic.md) and one
# of WG_ARITH_F32 / WG_ARITH_INT defined for it and its users; WG_SPATIAL=0
# leaves the convolutional layers out (format version 2; on by default:
# docs/firmware.md).
include_guard(GLOBAL)

set(WG_FIRMWARE_DIR ${CMAKE_CURRENT_LIST_DIR}/..)
cmake_path(NORMAL_PATH WG_FIRMWARE_DIR)

set(WG_SOURCES
  ${WG_FIRMWARE_DIR}/src/wg_flatbuffer.c
  ${WG_FIRMWARE_DIR}/src/wg_manifest.c
  ${WG_FIRMWARE_DIR}/src/wg_canonical.c
  ${WG_FIRMWARE_DIR}/src/wg_segment.c
  ${WG_FIRMWARE_DIR}/src/wg_open.c
  ${WG_FIRMWARE_DIR}/src/wg_invoke.c
  ${WG_FIRMWARE_DIR}/src/wg_arith.c
  ${WG_FIRMWARE_DIR}/src/wg_image.c
  ${WG_FIRMWARE_DIR}/src/wg_spatial.c)
set(WG_INCLUDE_DIR ${WG_FIRMWARE_DIR}/include)

set(WG_CRYPTO_SOURCES
  ${WG_FIRMWARE_DIR}/src/crypto/wg_sha2_consts.c
  ${WG_FIRMWARE_DIR}/src/crypto/wg_sha256.c
  ${WG_FIRMWARE_DIR}/src/crypto/wg_sha512.c
  ${WG_FIRMWARE_DIR}/src/crypto/wg_ed25519.c
  ${WG_FIRMWARE_DIR}/src/crypto/wg_crypto_portable.c
  ${WG_FIRMWARE_DIR}/src/crypto/wg_sha256_oneshot.c
  ${WG_FIRMWARE_DIR}/src/crypto/wg_crypto_sodium.c)
set(WG_CRYPTO_INCLUDE_DIRS ${WG_FIRMWARE_DIR}/include ${WG_FIRMWARE_DIR}/src/crypto)

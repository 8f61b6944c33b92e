/*
 * weightgate_crypto.h: the two primitives the library needs to trust an
 * artifact (SHA-256 of segments, Ed25519 verification of the manifest),
 * behind a small table of functions so a firmware can hand the library the
 * crypto it already has (PSA Crypto, mbedTLS, a secure element).
 *
 * Two implementations ship with the library:
 *   wg_crypto_portable  our own C99 code, no dependencies (FIPS 180-4,
 *                       RFC 8032 verification only);
 *   wg_crypto_sodium    libsodium, for host builds (WG_WITH_SODIUM).
 *
 * Memory: the SHA-256 context is caller storage of WG_SHA256_CTX_BYTES,
 * 8-byte aligned (the library keeps it on its stack while it hashes).
 * Verification uses stack only; its peak is reported by bench/firmware.
 */
#ifndef WEIGHTGATE_CRYPTO_H
#define WEIGHTGATE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of SHA-256 context any implementation may use (libsodium's is 104). */
#define WG_SHA256_CTX_BYTES 128

typedef union wg_sha256_ctx {
    uint8_t bytes[WG_SHA256_CTX_BYTES];
    uint64_t align_; /* 8-byte alignment */
} wg_sha256_ctx;

typedef struct wg_crypto {
    void (*sha256_init)(wg_sha256_ctx *ctx);
    void (*sha256_update)(wg_sha256_ctx *ctx, const uint8_t *data, size_t len);
    void (*sha256_final)(wg_sha256_ctx *ctx, uint8_t digest[32]);
    /* 0 when `signature` is a valid Ed25519 signature of msg[0..len) by
     * `public_key`; non-zero otherwise (including a non-canonical S). */
    int (*ed25519_verify)(const uint8_t signature[64], const uint8_t *msg, size_t len,
                          const uint8_t public_key[32]);
} wg_crypto;

extern const wg_crypto wg_crypto_portable;
#ifdef WG_WITH_SODIUM
extern const wg_crypto wg_crypto_sodium;
#endif

/* One-shot helper over any implementation. */
void wg_sha256(const wg_crypto *crypto, const uint8_t *data, size_t len, uint8_t digest[32]);

#ifdef __cplusplus
}
#endif

#endif /* WEIGHTGATE_CRYPTO_H */

/*
 * wg_crypto_internal.h: what the portable crypto files share with each other
 * and with the tests. Not part of the library's interface.
 */
#ifndef WG_CRYPTO_INTERNAL_H
#define WG_CRYPTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "weightgate_crypto.h"

/* C99 has no _Static_assert: a negative array size stops the build. */
#define WG_STATIC_ASSERT(cond, name) typedef char wg_static_assert_##name[(cond) ? 1 : -1]

/*
 * SHA-512 round constants (FIPS 180-4 section 4.2.3) and initial hash value
 * (section 5.3.5). SHA-256 uses the first 32 bits of the same numbers
 * (sections 4.2.2 and 5.3.3 take the first 32 bits of the same fractional
 * parts of cube and square roots of the first primes), so one table serves
 * both.
 */
extern const uint64_t wg_sha2_k[80];
extern const uint64_t wg_sha2_h0[8];

/* SHA-256 state kept in wg_sha256_ctx (104 bytes). */
typedef struct wg_sha256_state {
    uint32_t h[8];
    uint64_t bytes;    /* message bytes hashed so far */
    uint8_t buf[64];   /* partial block, bytes % 64 of it used */
} wg_sha256_state;

void wg_portable_sha256_init(wg_sha256_ctx *ctx);
void wg_portable_sha256_update(wg_sha256_ctx *ctx, const uint8_t *data, size_t len);
void wg_portable_sha256_final(wg_sha256_ctx *ctx, uint8_t digest[32]);

/* SHA-512 (FIPS 180-4), needed by Ed25519 verification only. */
typedef struct wg_sha512_state {
    uint64_t h[8];
    uint64_t bytes;    /* message bytes so far (messages stay below 2^61 bytes) */
    uint8_t buf[128];
} wg_sha512_state;

void wg_sha512_init(wg_sha512_state *s);
void wg_sha512_update(wg_sha512_state *s, const uint8_t *data, size_t len);
void wg_sha512_final(wg_sha512_state *s, uint8_t digest[64]);

/* RFC 8032 Ed25519 verification: 0 valid, -1 not. */
int wg_portable_ed25519_verify(const uint8_t signature[64], const uint8_t *msg, size_t len,
                               const uint8_t public_key[32]);

#endif /* WG_CRYPTO_INTERNAL_H */

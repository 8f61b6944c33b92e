/*
 * wg_crypto_sodium: the same table over libsodium, for host builds
 * (WG_WITH_SODIUM). Its SHA-256 state lives in the caller's wg_sha256_ctx.
 */
#ifdef WG_WITH_SODIUM

#include <stddef.h>

#include <sodium.h>

#include "wg_crypto_internal.h"

/* libsodium's SHA-256 state must fit the caller's storage, with no stricter
 * alignment than its 8 bytes. */
WG_STATIC_ASSERT(sizeof(crypto_hash_sha256_state) <= WG_SHA256_CTX_BYTES, sodium_sha256_state_fits);
struct wg_sodium_align_probe {
    char c;
    crypto_hash_sha256_state s;
};
WG_STATIC_ASSERT(offsetof(struct wg_sodium_align_probe, s) <= 8, sodium_sha256_state_alignment);

static crypto_hash_sha256_state *state_of(wg_sha256_ctx *ctx)
{
    return (crypto_hash_sha256_state *)(void *)ctx->bytes;
}

static void sodium_sha256_init(wg_sha256_ctx *ctx)
{
    /* SHA-256 needs no sodium_init(): libsodium has one implementation. */
    crypto_hash_sha256_init(state_of(ctx));
}

static void sodium_sha256_update(wg_sha256_ctx *ctx, const uint8_t *data, size_t len)
{
    crypto_hash_sha256_update(state_of(ctx), data, (unsigned long long)len);
}

static void sodium_sha256_final(wg_sha256_ctx *ctx, uint8_t digest[32])
{
    crypto_hash_sha256_final(state_of(ctx), digest);
}

static int sodium_ed25519_verify(const uint8_t signature[64], const uint8_t *msg, size_t len,
                                 const uint8_t public_key[32])
{
    /* sodium_init() is idempotent and cheap once done; fail closed if it
     * cannot run. */
    if (sodium_init() < 0) return -1;
    return crypto_sign_verify_detached(signature, msg, (unsigned long long)len, public_key) == 0 ? 0 : -1;
}

const wg_crypto wg_crypto_sodium = {
    sodium_sha256_init,
    sodium_sha256_update,
    sodium_sha256_final,
    sodium_ed25519_verify,
};

#else

/* ISO C forbids an empty translation unit. */
typedef int wg_crypto_sodium_disabled;

#endif /* WG_WITH_SODIUM */

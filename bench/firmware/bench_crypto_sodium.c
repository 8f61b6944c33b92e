/*
 * bench_crypto_sodium.c: a wg_crypto over libsodium for the host bench
 * programs (its own name, so it never clashes with the library's
 * wg_crypto_portable / wg_crypto_sodium). Hashing and verification happen
 * in bench_setup only, so their cost never reaches the per-sample counts.
 */
#include <sodium.h>

#include "weightgate_crypto.h"

typedef char sha256_state_fits[sizeof(crypto_hash_sha256_state) <= WG_SHA256_CTX_BYTES ? 1 : -1];

static crypto_hash_sha256_state *state(wg_sha256_ctx *ctx)
{
    return (crypto_hash_sha256_state *)(void *)ctx->bytes;
}

static void sha256_init(wg_sha256_ctx *ctx)
{
    crypto_hash_sha256_init(state(ctx));
}

static void sha256_update(wg_sha256_ctx *ctx, const uint8_t *data, size_t len)
{
    crypto_hash_sha256_update(state(ctx), data, len);
}

static void sha256_final(wg_sha256_ctx *ctx, uint8_t digest[32])
{
    crypto_hash_sha256_final(state(ctx), digest);
}

static int ed25519_verify(const uint8_t signature[64], const uint8_t *msg, size_t len, const uint8_t public_key[32])
{
    return crypto_sign_ed25519_verify_detached(signature, msg, len, public_key) == 0 ? 0 : 1;
}

const wg_crypto wg_bench_crypto = {sha256_init, sha256_update, sha256_final, ed25519_verify};

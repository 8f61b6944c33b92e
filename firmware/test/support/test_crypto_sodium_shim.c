/*
 * A wg_crypto over libsodium for the host tests, under its own name so it
 * never clashes with the crypto helper's wg_crypto_portable/_sodium.
 */
#include <sodium.h>

#include "test_support.h"

typedef char ctx_fits[sizeof(crypto_hash_sha256_state) <= WG_SHA256_CTX_BYTES ? 1 : -1];

static void sha_init(wg_sha256_ctx *ctx) { crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)ctx->bytes); }

static void sha_update(wg_sha256_ctx *ctx, const uint8_t *data, size_t len)
{
    crypto_hash_sha256_update((crypto_hash_sha256_state *)(void *)ctx->bytes, data, len);
}

static void sha_final(wg_sha256_ctx *ctx, uint8_t digest[32])
{
    crypto_hash_sha256_final((crypto_hash_sha256_state *)(void *)ctx->bytes, digest);
}

static int verify(const uint8_t signature[64], const uint8_t *msg, size_t len, const uint8_t public_key[32])
{
    return crypto_sign_ed25519_verify_detached(signature, msg, len, public_key) == 0 ? 0 : 1;
}

const wg_crypto wg_test_crypto = {sha_init, sha_update, sha_final, verify};

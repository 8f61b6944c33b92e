/* wg_crypto_portable: the library's own SHA-256 and Ed25519 verification. */
#include "wg_crypto_internal.h"

const wg_crypto wg_crypto_portable = {
    wg_portable_sha256_init,
    wg_portable_sha256_update,
    wg_portable_sha256_final,
    wg_portable_ed25519_verify,
};

void wg_sha256(const wg_crypto *crypto, const uint8_t *data, size_t len, uint8_t digest[32])
{
    wg_sha256_ctx ctx;
    crypto->sha256_init(&ctx);
    crypto->sha256_update(&ctx, data, len);
    crypto->sha256_final(&ctx, digest);
}

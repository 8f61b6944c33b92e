/* wg_sha256: one-shot SHA-256 over any wg_crypto table. A file of its own,
 * so that a firmware handing the library its own table (PSA Crypto, a
 * secure element) links none of the portable code through it. */
#include "weightgate_crypto.h"

void wg_sha256(const wg_crypto *crypto, const uint8_t *data, size_t len, uint8_t digest[32])
{
    wg_sha256_ctx ctx;
    crypto->sha256_init(&ctx);
    crypto->sha256_update(&ctx, data, len);
    crypto->sha256_final(&ctx, digest);
}

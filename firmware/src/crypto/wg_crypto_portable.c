/* wg_crypto_portable: the library's own SHA-256 and Ed25519 verification. */
#include "wg_crypto_internal.h"

const wg_crypto wg_crypto_portable = {
    wg_portable_sha256_init,
    wg_portable_sha256_update,
    wg_portable_sha256_final,
    wg_portable_ed25519_verify,
};

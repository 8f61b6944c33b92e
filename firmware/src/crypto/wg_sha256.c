/*
 * SHA-256, FIPS 180-4 section 6.2, written for small code and a small stack:
 * the message schedule is kept as a rolling window of 16 words instead of
 * the 64 of section 6.2.2 step 1.
 */
#include <string.h>

#include "wg_crypto_internal.h"

WG_STATIC_ASSERT(sizeof(wg_sha256_state) <= WG_SHA256_CTX_BYTES, sha256_state_fits);

static uint32_t rotr32(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

static uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* One 512-bit block (section 6.2.2). */
static void sha256_block(uint32_t h[8], const uint8_t block[64])
{
    uint32_t w[16], v[8], t1, t2;
    unsigned t;

    for (t = 0; t < 16; t++) w[t] = load_be32(block + 4 * t);
    for (t = 0; t < 8; t++) v[t] = h[t];
    for (t = 0; t < 64; t++) {
        uint32_t a = v[0], e = v[4];
        if (t >= 16) {
            /* W_t = s1(W_t-2) + W_t-7 + s0(W_t-15) + W_t-16 (section 6.2.2 step 1) */
            uint32_t x = w[(t - 15) & 15], y = w[(t - 2) & 15];
            uint32_t s0 = rotr32(x, 7) ^ rotr32(x, 18) ^ (x >> 3);
            uint32_t s1 = rotr32(y, 17) ^ rotr32(y, 19) ^ (y >> 10);
            w[t & 15] += s0 + w[(t - 7) & 15] + s1;
        }
        /* Section 4.1.2: Ch, Maj, Sigma0, Sigma1. */
        t1 = v[7] + (rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25)) + ((e & v[5]) ^ (~e & v[6])) +
             (uint32_t)(wg_sha2_k[t] >> 32) + w[t & 15];
        t2 = (rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
        v[7] = v[6];
        v[6] = v[5];
        v[5] = v[4];
        v[4] = v[3] + t1;
        v[3] = v[2];
        v[2] = v[1];
        v[1] = v[0];
        v[0] = t1 + t2;
    }
    for (t = 0; t < 8; t++) h[t] += v[t];
}

void wg_portable_sha256_init(wg_sha256_ctx *ctx)
{
    wg_sha256_state *s = (wg_sha256_state *)(void *)ctx->bytes;
    unsigned i;

    /* H(0), section 5.3.3. */
    for (i = 0; i < 8; i++) s->h[i] = (uint32_t)(wg_sha2_h0[i] >> 32);
    s->bytes = 0;
}

void wg_portable_sha256_update(wg_sha256_ctx *ctx, const uint8_t *data, size_t len)
{
    wg_sha256_state *s = (wg_sha256_state *)(void *)ctx->bytes;

    while (len > 0) {
        size_t used = (size_t)(s->bytes & 63u);
        size_t n = 64u - used;
        if (n > len) n = len;
        memcpy(s->buf + used, data, n);
        s->bytes += n;
        data += n;
        len -= n;
        if (used + n == 64u) sha256_block(s->h, s->buf);
    }
}

void wg_portable_sha256_final(wg_sha256_ctx *ctx, uint8_t digest[32])
{
    wg_sha256_state *s = (wg_sha256_state *)(void *)ctx->bytes;
    size_t used = (size_t)(s->bytes & 63u);
    uint64_t bits = s->bytes << 3;
    unsigned i;

    /* Padding, section 5.1.1: a 1 bit, zeros, then the 64-bit length. */
    s->buf[used++] = 0x80;
    if (used > 56u) {
        memset(s->buf + used, 0, 64u - used);
        sha256_block(s->h, s->buf);
        used = 0;
    }
    memset(s->buf + used, 0, 56u - used);
    for (i = 0; i < 8; i++) s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_block(s->h, s->buf);

    for (i = 0; i < 32; i++) digest[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
    memset(s, 0, sizeof *s);
}

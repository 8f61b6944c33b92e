/*
 * SHA-512, FIPS 180-4 section 6.4, the same shape as wg_sha256.c (rolling
 * 16-word message schedule). Only Ed25519 verification uses it.
 */
#include <string.h>

#include "wg_crypto_internal.h"

static uint64_t rotr64(uint64_t x, unsigned n) { return (x >> n) | (x << (64u - n)); }

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t x = 0;
    unsigned i;
    for (i = 0; i < 8; i++) x = (x << 8) | p[i];
    return x;
}

/* One 1024-bit block (section 6.4.2). */
static void sha512_block(uint64_t h[8], const uint8_t block[128])
{
    uint64_t w[16], v[8], t1, t2;
    unsigned t;

    for (t = 0; t < 16; t++) w[t] = load_be64(block + 8 * t);
    for (t = 0; t < 8; t++) v[t] = h[t];
    for (t = 0; t < 80; t++) {
        uint64_t a = v[0], e = v[4];
        if (t >= 16) {
            uint64_t x = w[(t - 15) & 15], y = w[(t - 2) & 15];
            uint64_t s0 = rotr64(x, 1) ^ rotr64(x, 8) ^ (x >> 7);
            uint64_t s1 = rotr64(y, 19) ^ rotr64(y, 61) ^ (y >> 6);
            w[t & 15] += s0 + w[(t - 7) & 15] + s1;
        }
        /* Section 4.1.3. */
        t1 = v[7] + (rotr64(e, 14) ^ rotr64(e, 18) ^ rotr64(e, 41)) + ((e & v[5]) ^ (~e & v[6])) +
             wg_sha2_k[t] + w[t & 15];
        t2 = (rotr64(a, 28) ^ rotr64(a, 34) ^ rotr64(a, 39)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
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

void wg_sha512_init(wg_sha512_state *s)
{
    memcpy(s->h, wg_sha2_h0, sizeof s->h); /* H(0), section 5.3.5 */
    s->bytes = 0;
}

void wg_sha512_update(wg_sha512_state *s, const uint8_t *data, size_t len)
{
    while (len > 0) {
        size_t used = (size_t)(s->bytes & 127u);
        size_t n = 128u - used;
        if (n > len) n = len;
        memcpy(s->buf + used, data, n);
        s->bytes += n;
        data += n;
        len -= n;
        if (used + n == 128u) sha512_block(s->h, s->buf);
    }
}

void wg_sha512_final(wg_sha512_state *s, uint8_t digest[64])
{
    size_t used = (size_t)(s->bytes & 127u);
    unsigned i;

    /* Padding, section 5.1.2: a 1 bit, zeros, then the 128-bit length. */
    s->buf[used++] = 0x80;
    if (used > 112u) {
        memset(s->buf + used, 0, 128u - used);
        sha512_block(s->h, s->buf);
        used = 0;
    }
    memset(s->buf + used, 0, 128u - used);
    for (i = 0; i < 8; i++) {
        s->buf[112 + i] = (uint8_t)((s->bytes >> 61) >> (56 - 8 * i)); /* high 64 bits */
        s->buf[120 + i] = (uint8_t)((s->bytes << 3) >> (56 - 8 * i));
    }
    sha512_block(s->h, s->buf);

    for (i = 0; i < 64; i++) digest[i] = (uint8_t)(s->h[i / 8] >> (56 - 8 * (i % 8)));
    memset(s, 0, sizeof *s);
}

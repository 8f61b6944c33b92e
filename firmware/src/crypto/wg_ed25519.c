/*
 * Ed25519 signature verification, RFC 8032 section 5.1.7, with the checks
 * libsodium makes (see wg_portable_ed25519_verify below for the list).
 *
 * Not constant time, on purpose: verification handles only public data (the
 * signature, the message, the public key), so there is no secret to leak
 * through timing, and variable-time code is smaller and simpler.
 *
 * Field GF(p), p = 2^255 - 19 (RFC 8032 section 5.1). An element is ten
 * unsigned 32-bit limbs of alternately 26 and 25 bits (radix 2^25.5): limb i
 * weighs 2^pos(i), pos = 0, 26, 51, 77, 102, 128, 153, 179, 204, 230. The
 * product of two limbs fits a 64-bit integer: any 32-bit core runs it, one
 * with a 32x32->64 multiply (UMULL, Cortex-M3/M4/M7/M33) best; on a
 * Cortex-M0/M0+, which has none, mul32x32 builds it from 16-bit halves.
 *
 * Invariant: every element handed to fe_mul, fe_add or fe_sub is "carried":
 * each limb below 2^26 (what fe_carry and fe_frombytes produce). Every
 * operation returns a carried element. Bounds, for carried f and g:
 *   fe_mul: a column sums 10 products f_i * g_j * {1,2} * {1,19} < 10 * 2^52 * 38
 *           < 2^61, so 64-bit accumulators never overflow;
 *   fe_sub: f + 2p - g limb by limb stays non-negative, because every limb of
 *           a carried g is below the limb of 2p at the same position.
 */
#include <string.h>

#include "wg_crypto_internal.h"

typedef uint32_t fe[10];

/* Kept out of line so that their locals (the SHA-512 state, the inversion's
 * temporaries) do not add to verify's own frame during the scalar
 * multiplication: it lowers the stack peak. */
#if defined(__GNUC__)
#define WG_NOINLINE __attribute__((noinline))
#else
#define WG_NOINLINE
#endif

/* Bits in limb i: 26 for even i, 25 for odd i. */
#define LIMB_BITS(i) (26u - ((unsigned)(i) & 1u))

/* d = -121665 / 121666 mod p (RFC 8032 section 5.1), 2d, and sqrt(-1) =
 * 2^((p-1)/4) mod p (section 5.1.3 step 3), as carried limbs. */
static const fe FE_D = {0x35978a3, 0x0d37284, 0x3156ebd, 0x06a0a0e, 0x001c029,
                        0x179e898, 0x3a03cbb, 0x1ce7198, 0x2e2b6ff, 0x1480db3};
static const fe FE_D2 = {0x2b2f159, 0x1a6e509, 0x22add7a, 0x0d4141d, 0x0038052,
                         0x0f3d130, 0x3407977, 0x19ce331, 0x1c56dff, 0x0901b67};
static const fe FE_SQRTM1 = {0x20ea0b0, 0x186c9d2, 0x08f189d, 0x035697f, 0x0bd0c60,
                             0x1fbd7a7, 0x2804c9e, 0x1e16569, 0x004fc1d, 0x0ae0c92};
static const fe FE_ONE = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const fe FE_ZERO = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

/* The base point B (RFC 8032 section 5.1): y = 4/5, x positive. */
static const uint8_t B_ENCODED[32] = {
    0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
};

/* The group order L = 2^252 + 27742317777372353535851937790883648493
 * (RFC 8032 section 5.1), as 32-bit words, least significant first. */
static const uint32_t L_WORDS[8] = {0x5cf5d3ed, 0x5812631a, 0xa2f79cd6, 0x14def9de,
                                    0x00000000, 0x00000000, 0x00000000, 0x10000000};

/* ---- field arithmetic ---------------------------------------------------- */

/* Carry t into limbs of 26/25 bits; 2^255 = 19 (mod p) folds the top carry
 * back into limb 0, whose carry then goes once more into limb 1 (which may
 * end a little above 2^25, well below 2^26). Limbs go in pairs so that every
 * shift is by a constant (a variable 64-bit shift is slow on Cortex-M). */
static void fe_carry(fe h, uint64_t t[10])
{
    unsigned i;
    uint64_t c;

    for (i = 0; i < 10; i += 2) {
        t[i + 1] += t[i] >> 26;
        t[i] &= 0x3ffffffu;
        c = t[i + 1] >> 25;
        t[i + 1] &= 0x1ffffffu;
        if (i < 8)
            t[i + 2] += c;
        else
            t[0] += 19u * c;
    }
    t[1] += t[0] >> 26;
    t[0] &= 0x3ffffffu;
    for (i = 0; i < 10; i++) h[i] = (uint32_t)t[i];
}

static void fe_add(fe h, const fe f, const fe g)
{
    uint64_t t[10];
    unsigned i;
    for (i = 0; i < 10; i++) t[i] = (uint64_t)f[i] + g[i];
    fe_carry(h, t);
}

/* h = f - g, computed as f + 2p - g so no limb goes negative. */
static void fe_sub(fe h, const fe f, const fe g)
{
    uint64_t t[10];
    unsigned i;
    for (i = 0; i < 10; i++) {
        /* limbs of 2p: 2^27 - 38, then 2^26 - 2 and 2^27 - 2 alternately */
        uint64_t two_p = i == 0 ? 0x7ffffdau : ((i & 1u) ? 0x3fffffeu : 0x7fffffeu);
        t[i] = (uint64_t)f[i] + two_p - g[i];
    }
    fe_carry(h, t);
}

/* 32 x 32 -> 64-bit product. Cores without a long multiply (ARMv6-M:
 * Cortex-M0/M0+; ARMv8-M Baseline: Cortex-M23) would call a 64 x 64-bit
 * library routine for it; four 16 x 16-bit products are cheaper there.
 * WG_CRYPTO_MUL32_HALVES selects this path anywhere (the host tests do). */
#if defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_8M_BASE__) || defined(WG_CRYPTO_MUL32_HALVES)
static uint64_t mul32x32(uint32_t a, uint32_t b)
{
    uint32_t al = a & 0xffffu, ah = a >> 16, bl = b & 0xffffu, bh = b >> 16;
    uint32_t ll = al * bl, mid = ah * bl + (ll >> 16); /* no overflow: < 2^32 */
    uint32_t mid2 = (mid & 0xffffu) + al * bh;
    uint32_t hi = ah * bh + (mid >> 16) + (mid2 >> 16);
    return ((uint64_t)hi << 32) | (uint32_t)((mid2 << 16) | (ll & 0xffffu));
}
#else
#define mul32x32(a, b) ((uint64_t)(a) * (b))
#endif

/* h = f * g mod p (schoolbook, one column at a time so the sum stays in
 * registers). pos(i) + pos(j) is pos(i + j), plus one when i and j are both
 * odd (two 25-bit limbs), hence the doubling; a column i + j >= 10 weighs
 * 2^255 more, and 2^255 = 19 (mod p), hence 19 g_j (below 2^31 for a
 * carried g). h may alias f or g. */
static void fe_mul(fe h, const fe f, const fe g)
{
    uint64_t t[10];
    uint32_t g19[10];
    unsigned i, j, k;

    for (j = 0; j < 10; j++) g19[j] = 19u * g[j];
    for (k = 0; k < 10; k++) {
        uint64_t acc = 0;
        for (i = 0; i < 10; i++) {
            uint32_t a = f[i];
            if (i <= k) {
                j = k - i;
                if (i & j & 1u) a <<= 1;
                acc += mul32x32(a, g[j]);
            } else {
                j = k + 10 - i;
                if (i & j & 1u) a <<= 1;
                acc += mul32x32(a, g19[j]);
            }
        }
        t[k] = acc;
    }
    fe_carry(h, t);
}

/* Little-endian 255-bit decoding (RFC 8032 section 5.1.2); bit 255 (the sign
 * of x in a point encoding) is ignored. The value may be >= p. One bit at a
 * time: a few calls per verification, and the smallest code. */
static void fe_frombytes(fe h, const uint8_t s[32])
{
    unsigned i, b, bit = 0;

    for (i = 0; i < 10; i++) {
        h[i] = 0;
        for (b = 0; b < LIMB_BITS(i); b++, bit++) h[i] |= (uint32_t)((s[bit >> 3] >> (bit & 7u)) & 1u) << b;
    }
}

/* Canonical encoding: the unique value in [0, p), 32 bytes little-endian,
 * bit 255 clear. A carried f is below 2^255 + 2^42, so q = floor((f + 19) /
 * 2^255) is 0 or 1 and f - q * p is in [0, p). */
static void fe_tobytes(uint8_t s[32], const fe f)
{
    uint32_t t[10], q;
    unsigned i, b, bit = 0;

    memcpy(t, f, sizeof t);
    q = (t[0] + 19u) >> 26;
    for (i = 1; i < 10; i++) q = (t[i] + q) >> LIMB_BITS(i);
    /* f - q*p = f + 19q - q*2^255: add 19q, carry, drop bit 255 */
    t[0] += 19u * q;
    for (i = 0; i < 9; i++) {
        t[i + 1] += t[i] >> LIMB_BITS(i);
        t[i] &= ((uint32_t)1 << LIMB_BITS(i)) - 1u;
    }
    t[9] &= 0x1ffffffu;

    memset(s, 0, 32);
    for (i = 0; i < 10; i++)
        for (b = 0; b < LIMB_BITS(i); b++, bit++) s[bit >> 3] |= (uint8_t)(((t[i] >> b) & 1u) << (bit & 7u));
}

static int fe_iszero(const fe f)
{
    uint8_t s[32];
    uint8_t any = 0;
    unsigned i;
    fe_tobytes(s, f);
    for (i = 0; i < 32; i++) any |= s[i];
    return any == 0;
}

static int fe_equal(const fe f, const fe g)
{
    fe d;
    fe_sub(d, f, g);
    return fe_iszero(d);
}

/* "Negative" means odd: the low bit of the canonical encoding (section 5.1.2). */
static int fe_isodd(const fe f)
{
    uint8_t s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

/* out = in^(2^n) * m; out may alias in or m. */
static void fe_sqn_mul(fe out, const fe in, unsigned n, const fe m)
{
    fe t;
    memcpy(t, in, sizeof t);
    while (n-- > 0) fe_mul(t, t, t);
    fe_mul(out, t, m);
}

/* out = z^(2^250 - 1), by raising z^(2^k - 1) to longer and longer runs of
 * ones: z^(2^(a+b) - 1) = (z^(2^a - 1))^(2^b) * z^(2^b - 1). */
static void fe_pow_2_250_1(fe out, const fe z)
{
    fe x, x10, x50;
    fe_sqn_mul(x, z, 1, z);        /* 2^2 - 1 */
    fe_sqn_mul(x, x, 2, x);        /* 2^4 - 1 */
    fe_sqn_mul(x, x, 1, z);        /* 2^5 - 1 */
    fe_sqn_mul(x10, x, 5, x);      /* 2^10 - 1 */
    fe_sqn_mul(x, x10, 10, x10);   /* 2^20 - 1 */
    fe_sqn_mul(x, x, 20, x);       /* 2^40 - 1 */
    fe_sqn_mul(x50, x, 10, x10);   /* 2^50 - 1 */
    fe_sqn_mul(x, x50, 50, x50);   /* 2^100 - 1 */
    fe_sqn_mul(x, x, 100, x);      /* 2^200 - 1 */
    fe_sqn_mul(out, x, 50, x50);   /* 2^250 - 1 */
}

/* out = 1/z = z^(p-2) = z^(2^255 - 21) = (z^(2^250 - 1))^(2^5) * z^11. */
static void fe_invert(fe out, const fe z)
{
    fe z2, z11, x;
    fe_mul(z2, z, z);
    fe_mul(z11, z2, z);            /* z^3 */
    fe_sqn_mul(z11, z2, 2, z11);   /* z^8 * z^3 */
    fe_pow_2_250_1(x, z);
    fe_sqn_mul(out, x, 5, z11);
}

/* ---- points: extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z ---- */

typedef struct ge {
    fe X, Y, Z, T;
} ge;

static void ge_identity(ge *p)
{
    memcpy(p->X, FE_ZERO, sizeof(fe));
    memcpy(p->Y, FE_ONE, sizeof(fe));
    memcpy(p->Z, FE_ONE, sizeof(fe));
    memcpy(p->T, FE_ZERO, sizeof(fe));
}

/* r = p + q, RFC 8032 section 5.1.4 (the a = -1 formulas). They are complete,
 * so doubling is r = p + p: one routine for both keeps the code small. r may
 * alias p or q. */
static void ge_add(ge *r, const ge *p, const ge *q)
{
    fe a, b, c, d, e;

    fe_sub(a, p->Y, p->X);
    fe_sub(e, q->Y, q->X);
    fe_mul(a, a, e);          /* A = (Y1-X1)*(Y2-X2) */
    fe_add(b, p->Y, p->X);
    fe_add(e, q->Y, q->X);
    fe_mul(b, b, e);          /* B = (Y1+X1)*(Y2+X2) */
    fe_mul(c, p->T, q->T);
    fe_mul(c, c, FE_D2);      /* C = T1*2*d*T2 */
    fe_mul(d, p->Z, q->Z);
    fe_add(d, d, d);          /* D = Z1*2*Z2 */
    fe_sub(e, b, a);          /* E = B-A */
    fe_add(b, b, a);          /* H = B+A */
    fe_sub(a, d, c);          /* F = D-C */
    fe_add(d, d, c);          /* G = D+C */
    fe_mul(r->X, e, a);       /* X3 = E*F */
    fe_mul(r->Y, d, b);       /* Y3 = G*H */
    fe_mul(r->T, e, b);       /* T3 = E*H */
    fe_mul(r->Z, a, d);       /* Z3 = F*G */
}

/* Decoding, RFC 8032 section 5.1.3: 0 and the point, or -1 when s is not the
 * encoding of a point (y >= p, no square root, or x = 0 with the sign bit
 * set). */
static int ge_decode(ge *p, const uint8_t s[32])
{
    fe u, v, v3, x, t;
    uint8_t check[32];
    int sign = s[31] >> 7;

    /* Step 1: y, which must be below p: its canonical encoding must give
     * back the same 255 bits. */
    fe_frombytes(p->Y, s);
    fe_tobytes(check, p->Y);
    check[31] |= (uint8_t)(s[31] & 0x80u);
    if (memcmp(check, s, 32) != 0) return -1;

    /* Step 2: x^2 = u/v, u = y^2 - 1, v = d y^2 + 1; candidate
     * x = u v^3 (u v^7)^((p-5)/8), (p-5)/8 = 2^252 - 3. */
    fe_mul(t, p->Y, p->Y);
    fe_sub(u, t, FE_ONE);
    fe_mul(v, t, FE_D);
    fe_add(v, v, FE_ONE);
    fe_mul(v3, v, v);
    fe_mul(v3, v3, v);        /* v^3 */
    fe_mul(x, v3, v3);
    fe_mul(x, x, v);          /* v^7 */
    fe_mul(x, x, u);          /* u v^7 */
    fe_pow_2_250_1(t, x);
    fe_sqn_mul(x, t, 2, x);   /* (u v^7)^(2^252 - 3) */
    fe_mul(x, x, v3);
    fe_mul(x, x, u);

    /* Step 3: v x^2 = u: x is a root; v x^2 = -u: x * sqrt(-1) is;
     * otherwise u/v is not a square and no point has this y. */
    fe_mul(t, x, x);
    fe_mul(t, t, v);
    if (!fe_equal(t, u)) {
        fe_add(t, t, u);
        if (!fe_iszero(t)) return -1;
        fe_mul(x, x, FE_SQRTM1);
    }

    /* Step 4: the sign bit picks x or p - x; x = 0 with the bit set is not
     * an encoding. */
    if (sign && fe_iszero(x)) return -1;
    if (fe_isodd(x) != sign) fe_sub(x, FE_ZERO, x);

    memcpy(p->X, x, sizeof(fe));
    memcpy(p->Z, FE_ONE, sizeof(fe));
    fe_mul(p->T, x, p->Y);
    return 0;
}

/* Encoding, RFC 8032 section 5.1.2: y, with the low bit of x as bit 255. */
static WG_NOINLINE void ge_encode(uint8_t s[32], const ge *p)
{
    fe zinv, x, y;
    fe_invert(zinv, p->Z);
    fe_mul(x, p->X, zinv);
    fe_mul(y, p->Y, zinv);
    fe_tobytes(s, y);
    s[31] |= (uint8_t)(fe_isodd(x) << 7);
}

/* Small order (1, 2, 4 or 8): [8]P is the identity, X = 0 and Y = Z. */
static int ge_has_small_order(const ge *p)
{
    ge q = *p;
    unsigned i;
    for (i = 0; i < 3; i++) ge_add(&q, &q, &q);
    return fe_iszero(q.X) && fe_equal(q.Y, q.Z);
}

/* ---- scalars: 256-bit little-endian words ---------------------------------- */

static void sc_load(uint32_t w[8], const uint8_t s[32])
{
    unsigned i;
    for (i = 0; i < 8; i++)
        w[i] = (uint32_t)s[4 * i] | ((uint32_t)s[4 * i + 1] << 8) | ((uint32_t)s[4 * i + 2] << 16) |
               ((uint32_t)s[4 * i + 3] << 24);
}

static int sc_below_l(const uint32_t w[8])
{
    unsigned i = 8;
    while (i-- > 0) {
        if (w[i] != L_WORDS[i]) return w[i] < L_WORDS[i];
    }
    return 0; /* equal to L */
}

/* r = h mod L for a 512-bit little-endian h, one bit at a time from the top:
 * r = 2r + bit, minus L when that reaches L. r < L < 2^253 throughout, so 2r
 * + 1 fits 256 bits. Slow next to the scalar multiplication, but tiny. */
static void sc_reduce512(uint32_t r[8], const uint8_t h[64])
{
    unsigned bit = 512, i;

    memset(r, 0, 8 * sizeof r[0]);
    while (bit-- > 0) {
        uint32_t carry = (uint32_t)(h[bit >> 3] >> (bit & 7u)) & 1u;
        for (i = 0; i < 8; i++) {
            uint32_t top = r[i] >> 31;
            r[i] = (r[i] << 1) | carry;
            carry = top;
        }
        if (!sc_below_l(r)) {
            uint64_t borrow = 0;
            for (i = 0; i < 8; i++) {
                uint64_t diff = (uint64_t)r[i] - L_WORDS[i] - borrow;
                r[i] = (uint32_t)diff;
                borrow = (diff >> 32) & 1u;
            }
        }
    }
}

/* k = SHA-512(R || A || M) mod L (RFC 8032 section 5.1.7 step 2). */
static WG_NOINLINE void challenge(uint32_t k[8], const uint8_t r[32], const uint8_t a[32], const uint8_t *msg,
                      size_t len)
{
    wg_sha512_state hs;
    uint8_t digest[64];

    wg_sha512_init(&hs);
    wg_sha512_update(&hs, r, 32);
    wg_sha512_update(&hs, a, 32);
    wg_sha512_update(&hs, msg, len);
    wg_sha512_final(&hs, digest);
    sc_reduce512(k, digest);
}

#define SC_BIT(w, i) (((w)[(i) >> 5] >> ((i) & 31u)) & 1u)

/*
 * RFC 8032 section 5.1.7, cofactorless: accept when the encoding of
 * [S]B - [k]A equals the 32 bytes of R, as libsodium and OpenSSL (and so
 * node:crypto) do. Rejected, as libsodium rejects them:
 *   - S >= L (non-canonical S; OpenSSL rejects it too);
 *   - a public key or R that does not decode (section 5.1.3: not on the
 *     curve, y >= p, x = 0 with the sign bit set);
 *   - a public key or R of small order (1, 2, 4 or 8). OpenSSL accepts
 *     those when the equation holds; no honest signer produces them (a key
 *     is [a]B, R is [r]B), and a small-order key lets anyone forge.
 */
int wg_portable_ed25519_verify(const uint8_t signature[64], const uint8_t *msg, size_t len,
                               const uint8_t public_key[32])
{
    uint32_t s[8], k[8];
    ge a, b, p;
    uint8_t check[32];
    unsigned i;

    sc_load(s, signature + 32);
    if (!sc_below_l(s)) return -1;
    if (ge_decode(&a, public_key) != 0 || ge_has_small_order(&a)) return -1;
    if (ge_decode(&p, signature) != 0 || ge_has_small_order(&p)) return -1;
    if (ge_decode(&b, B_ENCODED) != 0) return -1; /* cannot fail */

    challenge(k, signature, public_key, msg, len);

    /* -A = (-X, Y, Z, -T) */
    fe_sub(a.X, FE_ZERO, a.X);
    fe_sub(a.T, FE_ZERO, a.T);

    /* [S]B + [k](-A), both scalars below L < 2^253: double and add from the
     * top bit (Straus/Shamir: one doubling chain for both). */
    ge_identity(&p);
    i = 253;
    while (i-- > 0) {
        ge_add(&p, &p, &p);
        if (SC_BIT(s, i)) ge_add(&p, &p, &b);
        if (SC_BIT(k, i)) ge_add(&p, &p, &a);
    }
    ge_encode(check, &p);
    return memcmp(check, signature, 32) == 0 ? 0 : -1;
}

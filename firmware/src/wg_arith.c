/*
 * wg_arith.c: the int path's exact helpers (wg_arith.h). Out of line: one
 * copy each, whatever the number of call sites.
 */
#include "wg_arith.h"

int64_t wg_rnd_pow2(uint32_t bits, int32_t f)
{
    uint32_t exp = (bits >> 23) & 0xffu;
    uint64_t mag = bits & 0x7fffffu;
    int32_t k;
    if (exp != 0) mag |= 0x800000u;
    k = (exp != 0 ? (int32_t)exp - 150 : -149) + f;
    if (mag == 0) return 0;
    if (k >= 0) {
        if (k > 38) return (bits >> 31) ? -WG_RND_HUGE : WG_RND_HUGE;
        mag <<= k;
    } else if (k < -30) {
        mag = 0; /* below half of the last unit: rounds to 0 */
    } else {
        mag = (mag + ((uint64_t)1 << (-k - 1))) >> -k;
    }
    return (bits >> 31) ? -(int64_t)mag : (int64_t)mag;
}

int64_t wg_rnd_pow2_bits(float v, int32_t f)
{
    union {
        float f;
        uint32_t u;
    } bits;
    bits.f = v;
    return wg_rnd_pow2(bits.u, f);
}

/* fit(m, limit): the largest f in [-64, 64] with rnd(m * 2^f) <= limit
 * (64 when m == 0); -65 when there is none. `bits` is |m|'s binary32. */
int32_t wg_fit(uint32_t bits, int64_t limit)
{
    int32_t f;
    bits &= 0x7fffffffu;
    if (bits == 0) return 64;
    for (f = 64; f >= -64; f--) {
        if (wg_rnd_pow2(bits, f) <= limit) return f;
    }
    return -65;
}

/* rsh(a, s) = sign(a) * ((|a| + 2^(s-1)) >> s), on the magnitude: a for
 * s == 0, 0 for s >= 32. */
int32_t wg_rsh(int32_t a, int32_t s)
{
    uint32_t mag;
    if (s <= 0) return a;
    if (s >= 32) return 0;
    mag = a < 0 ? 0u - (uint32_t)a : (uint32_t)a;
    mag = (mag + (1u << (s - 1))) >> s; /* |a| <= 2^31, plus <= 2^30: fits */
    return a < 0 ? -(int32_t)mag : (int32_t)mag;
}

/* X_l = min(32767, floor((2^30 - 1) / (inputs * 128))). */
int32_t wg_activation_bound(uint32_t inputs)
{
    /* inputs <= 2^24 (the tensor cap), so inputs * 128 fits 32 bits */
    uint32_t x = 0x3fffffffu / (inputs * 128u);
    return x > 32767u ? 32767 : (int32_t)x;
}

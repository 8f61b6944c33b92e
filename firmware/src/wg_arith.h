/*
 * wg_arith.h: the integer path's exact helpers (docs/arithmetic.md, "The int
 * path"), on the IEEE-754 bits of binary32 values: no floating point.
 */
#ifndef WG_ARITH_H
#define WG_ARITH_H

#include <stdint.h>

/* Returned by wg_rnd_pow2 when |v * 2^f| >= 2^62: fits nothing we store. */
#define WG_RND_HUGE ((int64_t)1 << 62)

/* rnd(v * 2^f): v the binary32 `bits`, rounded to nearest, halves away from
 * zero; exact (moves the binary point of v's 24-bit significand). */
int64_t wg_rnd_pow2(uint32_t bits, int32_t f);

/* wg_rnd_pow2 of a float value (its bits, no arithmetic). */
int64_t wg_rnd_pow2_bits(float v, int32_t f);

/* fit(m, limit): the largest f in [-64, 64] with rnd(m * 2^f) <= limit
 * (64 when m == 0); -65 when there is none. `bits` is |m|'s binary32. */
int32_t wg_fit(uint32_t bits, int64_t limit);

/* rsh(a, s) = sign(a) * ((|a| + 2^(s-1)) >> s), on the magnitude: a for
 * s == 0, 0 for s >= 32. */
int32_t wg_rsh(int32_t a, int32_t s);

/* wg_rsh for 1 <= s <= 31, inline for the kernels' loops. */
static inline int32_t wg_rsh_in(int32_t a, uint32_t s)
{
    uint32_t mag = a < 0 ? 0u - (uint32_t)a : (uint32_t)a;
    mag = (mag + (1u << (s - 1u))) >> s;
    return a < 0 ? -(int32_t)mag : (int32_t)mag;
}

/* X_l = min(32767, floor((2^30 - 1) / (inputs * 128))). */
int32_t wg_activation_bound(uint32_t inputs);

#endif /* WG_ARITH_H */

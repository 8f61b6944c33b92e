/*
 * wg_patch_coder.c: range decoder and streaming range encoder of
 * docs/format.md 5.2-5.4 (LZMA's binary adaptive coder, first output byte
 * not stored, up to 4 trailing zero bytes dropped), and the Rice stream's
 * writer (5.10), for the patch applier.
 */
#include "wg_patch_coder.h"

#define PROB_ONE (1u << WG_PROB_BITS)
#define MOVE_BITS 5u
#define TOP (1u << 24)
#define VIRTUAL_BYTES 4u
#define MANTISSA_MODELLED 2u

uint32_t wg_log2_floor(uint32_t n)
{
    uint32_t e = 0;
    while (n > 1u) {
        n >>= 1;
        e++;
    }
    return e;
}

/* ---- decoder ---- */

static int32_t next_byte(wg_rdec *d)
{
    uint32_t i = d->at++;
    if (i < d->end) return d->data[i];
    return i - d->end < VIRTUAL_BYTES ? 0 : -1;
}

int wg_rdec_init(wg_rdec *d, const uint8_t *data, uint32_t start, uint32_t end)
{
    uint32_t i;
    d->data = data;
    d->end = end;
    d->at = start;
    d->range = 0xffffffffu;
    d->code = 0;
    for (i = 0; i < 4u; i++) {
        int32_t b = next_byte(d);
        d->code = (d->code << 8) | (uint32_t)(b < 0 ? 0 : b);
    }
    return d->code == 0xffffffffu ? -1 : 0;
}

static int normalize(wg_rdec *d)
{
    while (d->range < TOP) {
        int32_t b = next_byte(d);
        if (b < 0) return -1;
        d->range <<= 8;
        d->code = (d->code << 8) | (uint32_t)b;
    }
    return 0;
}

int32_t wg_rdec_bit(wg_rdec *d, uint16_t *probs, uint32_t index)
{
    uint32_t p = probs[index], bound = (d->range >> WG_PROB_BITS) * p, bit;
    if (d->code < bound) {
        d->range = bound;
        probs[index] = (uint16_t)(p + ((PROB_ONE - p) >> MOVE_BITS));
        bit = 0;
    } else {
        d->code -= bound;
        d->range -= bound;
        probs[index] = (uint16_t)(p - (p >> MOVE_BITS));
        bit = 1;
    }
    return normalize(d) < 0 ? -1 : (int32_t)bit;
}

int32_t wg_rdec_direct(wg_rdec *d)
{
    uint32_t bit = 0;
    d->range >>= 1;
    if (d->code >= d->range) {
        d->code -= d->range;
        bit = 1;
    }
    return normalize(d) < 0 ? -1 : (int32_t)bit;
}

int32_t wg_rdec_gap(wg_rdec *d, uint16_t *probs, uint32_t base, uint32_t max_e)
{
    uint32_t e = 0, tree, modelled, j, v = 1, node = 1;
    int32_t bit;
    while (e < max_e) {
        bit = wg_rdec_bit(d, probs, base + e);
        if (bit < 0) return -1;
        if (bit == 0) break;
        e++;
    }
    tree = base + max_e + 1u + e * (1u << MANTISSA_MODELLED);
    modelled = e < MANTISSA_MODELLED ? e : MANTISSA_MODELLED;
    for (j = 0; j < modelled; j++) {
        bit = wg_rdec_bit(d, probs, tree + node);
        if (bit < 0) return -1;
        node = node * 2u + (uint32_t)bit;
        v = v * 2u + (uint32_t)bit;
    }
    for (j = e - modelled; j > 0; j--) {
        bit = wg_rdec_direct(d);
        if (bit < 0) return -1;
        v = v * 2u + (uint32_t)bit;
    }
    return (int32_t)v;
}

int32_t wg_rdec_tree(wg_rdec *d, uint16_t *probs, uint32_t base, uint32_t bits)
{
    uint32_t value = 0, j;
    for (j = 0; j < bits; j++) {
        int32_t bit = wg_rdec_bit(d, probs, base + ((1u << j) | value));
        if (bit < 0) return -1;
        value = value * 2u + (uint32_t)bit;
    }
    return (int32_t)value;
}

/* ---- encoder ---- */

void wg_renc_init(wg_renc *e, void (*emit)(void *ctx, uint32_t byte), void *ctx)
{
    e->low = 0;
    e->range = 0xffffffffu;
    e->cache = 0;
    e->cache_size = 1;
    e->shifted = 0;
    e->zeros = 0;
    e->emit = emit;
    e->ctx = ctx;
}

/* A final byte: the first (always 0) is dropped, zeros are held back
 * until a non-zero byte follows (up to 4 may end the stream). */
static void push(wg_renc *e, uint32_t byte)
{
    if (e->shifted++ == 0) return;
    if (byte == 0) {
        e->zeros++;
        return;
    }
    for (; e->zeros > 0; e->zeros--) e->emit(e->ctx, 0);
    e->emit(e->ctx, byte);
}

static void shift_low(wg_renc *e)
{
    if (e->low < 0xff000000u || e->low >= 0x100000000u) {
        uint32_t carry = e->low >= 0x100000000u ? 1u : 0u, temp = e->cache;
        do {
            push(e, (temp + carry) & 0xffu);
            temp = 0xffu;
        } while (--e->cache_size != 0);
        e->cache = (uint32_t)(e->low >> 24) & 0xffu;
    }
    e->cache_size++;
    e->low = (e->low & 0xffffffu) << 8;
}

static void enc_normalize(wg_renc *e)
{
    while (e->range < TOP) {
        e->range <<= 8;
        shift_low(e);
    }
}

void wg_renc_bit(wg_renc *e, uint16_t *probs, uint32_t index, uint32_t bit)
{
    uint32_t p = probs[index], bound = (e->range >> WG_PROB_BITS) * p;
    if (bit == 0) {
        e->range = bound;
        probs[index] = (uint16_t)(p + ((PROB_ONE - p) >> MOVE_BITS));
    } else {
        e->low += bound;
        e->range -= bound;
        probs[index] = (uint16_t)(p - (p >> MOVE_BITS));
    }
    enc_normalize(e);
}

void wg_renc_direct(wg_renc *e, uint32_t bit)
{
    e->range >>= 1;
    if (bit) e->low += e->range;
    enc_normalize(e);
}

void wg_renc_gap(wg_renc *e, uint16_t *probs, uint32_t base, uint32_t max_e, uint32_t v)
{
    uint32_t ex = wg_log2_floor(v), j, tree, modelled, node = 1;
    for (j = 0; j < ex; j++) wg_renc_bit(e, probs, base + j, 1);
    if (ex < max_e) wg_renc_bit(e, probs, base + ex, 0);
    tree = base + max_e + 1u + ex * (1u << MANTISSA_MODELLED);
    modelled = ex < MANTISSA_MODELLED ? ex : MANTISSA_MODELLED;
    for (j = 0; j < modelled; j++) {
        uint32_t bit = (v >> (ex - 1u - j)) & 1u;
        wg_renc_bit(e, probs, tree + node, bit);
        node = node * 2u + bit;
    }
    for (j = modelled; j < ex; j++) wg_renc_direct(e, (v >> (ex - 1u - j)) & 1u);
}

void wg_renc_tree(wg_renc *e, uint16_t *probs, uint32_t base, uint32_t bits, uint32_t value)
{
    uint32_t j, node = 1;
    for (j = 0; j < bits; j++) {
        uint32_t bit = (value >> (bits - 1u - j)) & 1u;
        wg_renc_bit(e, probs, base + node, bit);
        node = node * 2u + bit;
    }
}

void wg_renc_finish(wg_renc *e)
{
    uint32_t bits, i;
    for (bits = 32; bits > 0; bits--) {
        uint64_t unit = (uint64_t)1 << bits;
        uint64_t rounded = (e->low + unit - 1u) & ~(unit - 1u); /* unit: a power of 2 */
        if (rounded < e->low + e->range) {
            e->low = rounded;
            break;
        }
    }
    for (i = 0; i < 5u; i++) shift_low(e);
    for (; e->zeros > VIRTUAL_BYTES; e->zeros--) e->emit(e->ctx, 0);
    e->zeros = 0;
}

/* ---- Rice writer ---- */

void wg_rice_enc_init(wg_rice_enc *e, uint32_t k, void (*emit)(void *ctx, uint32_t byte), void *ctx)
{
    e->acc = 0;
    e->bits = 0;
    e->k = k;
    e->emit = emit;
    e->ctx = ctx;
}

/* The n <= 24 low bits of value, most significant first: acc never holds
 * more than 7 + 24 bits. */
static void rice_put(wg_rice_enc *e, uint32_t value, uint32_t n)
{
    if (n == 0) return;
    e->acc = (e->acc << n) | (value & ((1u << n) - 1u));
    e->bits += n;
    while (e->bits >= 8u) {
        e->bits -= 8u;
        e->emit(e->ctx, (e->acc >> e->bits) & 0xffu);
    }
    e->acc &= (1u << e->bits) - 1u;
}

void wg_rice_enc_entry(wg_rice_enc *e, uint32_t v, uint32_t code, uint32_t code_bits)
{
    uint32_t u = v - 1u, q = u >> e->k;
    /* q < 2^24 zeros (u < the tensor's elements), 24 at a time */
    for (; q > 24u; q -= 24u) rice_put(e, 0, 24);
    rice_put(e, 0, q);
    rice_put(e, 1, 1);
    rice_put(e, u, e->k);
    rice_put(e, code, code_bits);
}

void wg_rice_enc_finish(wg_rice_enc *e)
{
    if (e->bits > 0) rice_put(e, 0, 8u - e->bits);
}

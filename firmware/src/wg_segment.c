/*
 * wg_segment.c: the streaming decoder of one segment (formats/
 * segment-cursor.ts, gap-code.ts, range-coder.ts): (position, value) pairs
 * in ascending position order, from a few hundred bytes of state.
 *
 * The range coder is LZMA's (Igor Pavlov, lzma-specification.txt, "The
 * range decoder"): 11-bit probabilities adapted by 1/32, 32-bit range; the
 * stream's first byte (always 0) is not stored and up to 4 bytes past the
 * end read as 0.
 *
 * Validation (wg_open) runs the encoder in lock step with the decoder and
 * compares every byte it would write with the stream: the decoder's model
 * probabilities are the encoder's, so no second set of models is needed.
 * A stream that decodes but is not what the encoder writes (trailing bytes,
 * another encoding of the same entries) is refused, as formats does.
 *
 * Memory of one open segment, at `mem` (wg_segment_decoder_bytes):
 *   probs      models x u16, rounded up to 4 bytes
 *   centroids  local centroids x f32 (codebook segments)
 */
#include "wg_internal.h"

#define PROB_BITS 11u
#define PROB_INIT (1u << (PROB_BITS - 1u))
#define PROB_ONE (1u << PROB_BITS)
#define MOVE_BITS 5u
#define TOP (1u << 24)
#define VIRTUAL_BYTES 4u
#define MANTISSA_MODELLED 2u

/* floor(log2(max(1, n))) */
static uint32_t log2_floor(uint32_t n)
{
    uint32_t e = 0;
    while (n > 1u) {
        n >>= 1;
        e++;
    }
    return e;
}

static uint32_t code_bits_for(uint32_t n)
{
    return n <= 1u ? 0u : log2_floor(n - 1u) + 1u;
}

/* Whether interval i holds `value` ([lower, upper), the last one closed). */
static int in_interval(const wg_model *m, uint32_t i, float value)
{
    float lo = wg_interval_lower(m, i), hi = wg_interval_upper(m, i);
    return value >= lo && (value < hi || (i == m->interval_count - 1u && value == hi));
}

/* formats/artifact/intervals.ts intervalIndexOf: the interval holding `value`, or -1. */
static int32_t interval_index_of(const wg_model *m, float value)
{
    uint32_t i;
    for (i = 0; i < m->interval_count; i++) {
        if (in_interval(m, i, value)) return (int32_t)i;
    }
    return -1;
}

/* The local centroids of a codebook segment, written to `out` when not NULL.
 * A value belongs to interval code - 1 when that interval holds it and no
 * earlier one does (intervalIndexOf's first match); testing the interval
 * itself first leaves the earlier ones to the few values it holds. */
static uint32_t local_centroids(const wg_model *m, uint32_t tensor, uint32_t code, float *out)
{
    const uint8_t *b = m->manifest;
    uint32_t ref = wg_fb_ref(b, wg_tensor(m, tensor), T_CODEBOOK), n = wg_fb_len(b, ref), c, k = 0;
    for (c = 0; c < n; c++) {
        float v = wg_f32_of_bits(wg_u32(b + ref + 4u + 4u * c));
        if (code == 0 || (in_interval(m, code - 1u, v) && interval_index_of(m, v) == (int32_t)(code - 1u))) {
            if (out) out[k] = v;
            k++;
        }
    }
    return k;
}

static uint32_t model_count(uint32_t elements, uint32_t code_bits)
{
    return (log2_floor(elements) + 1u) * (1u + (1u << MANTISSA_MODELLED)) + (1u << code_bits);
}

uint32_t wg_segment_decoder_bytes(const wg_model *m, uint32_t tensor, uint32_t code)
{
    uint32_t encoding = wg_fb_u8(m->manifest, wg_tensor(m, tensor), T_ENCODING, ENC_DENSE_F32);
    uint32_t centroids = encoding == ENC_CODEBOOK ? local_centroids(m, tensor, code, NULL) : 0;
    uint32_t models = model_count(wg_tensor_elements(m, tensor), code_bits_for(centroids));
    return WG_ALIGN4(2u * models) + 4u * centroids;
}

/* ---- the encoder, in compare mode ----
 * formats' validateSegment proves a segment canonical by re-encoding it.
 * A device build (WG_CANONICAL=0) leaves that out: it opens signed
 * artifacts only, whose every segment's SHA-256 the signed manifest pins,
 * so a segment's bytes are the publisher's encoder's. Entries are still
 * decoded and checked in full. */
#ifndef WG_CANONICAL
#define WG_CANONICAL 1
#endif
#if WG_CANONICAL

static void enc_emit(wg_cursor *c, uint32_t byte)
{
    wg_reencoder *e = c->check;
    uint32_t start = c->value_index_end;
    if (start + e->at >= c->len || c->data[start + e->at] != (uint8_t)byte) e->mismatch = 1;
    e->at++;
}

static void enc_push(wg_cursor *c, uint32_t byte)
{
    wg_reencoder *e = c->check;
    if (e->shifted++ == 0) return; /* the first byte is always 0: not stored */
    if (byte == 0) {
        e->zeros++;
        return;
    }
    for (; e->zeros > 0; e->zeros--) enc_emit(c, 0);
    enc_emit(c, byte);
}

static void enc_shift_low(wg_cursor *c)
{
    wg_reencoder *e = c->check;
    if (e->low < 0xff000000u || e->low >= 0x100000000u) {
        uint32_t carry = e->low >= 0x100000000u ? 1u : 0u, temp = e->cache;
        do {
            enc_push(c, (temp + carry) & 0xffu);
            temp = 0xffu;
        } while (--e->cache_size != 0);
        e->cache = (uint32_t)(e->low >> 24) & 0xffu;
    }
    e->cache_size++;
    e->low = (e->low & 0xffffffu) << 8;
}

static void enc_normalize(wg_cursor *c)
{
    while (c->check->range < TOP) {
        c->check->range <<= 8;
        enc_shift_low(c);
    }
}

static void enc_bit(wg_cursor *c, uint32_t p, uint32_t bit)
{
    wg_reencoder *e = c->check;
    uint32_t bound = (e->range >> PROB_BITS) * p;
    if (bit == 0) {
        e->range = bound;
    } else {
        e->low += bound;
        e->range -= bound;
    }
    enc_normalize(c);
}

static void enc_direct(wg_cursor *c, uint32_t bit)
{
    wg_reencoder *e = c->check;
    e->range >>= 1;
    if (bit) e->low += e->range;
    enc_normalize(c);
}

/* The last bits of a checked segment: WG_OK when the stream is exactly
 * what the encoder writes. */
static wg_status check_end(wg_cursor *c)
{
    wg_reencoder *e = c->check;
    uint32_t bits, i;
    /* any value in [low, low + range) decodes the same: the roundest */
    for (bits = 32; bits > 0; bits--) {
        uint64_t unit = (uint64_t)1 << bits;
        uint64_t rounded = (e->low + unit - 1u) / unit * unit;
        if (rounded < e->low + e->range) {
            e->low = rounded;
            break;
        }
    }
    for (i = 0; i < 5u; i++) enc_shift_low(c);
    for (; e->zeros > VIRTUAL_BYTES; e->zeros--) enc_emit(c, 0);
    if (e->mismatch || c->value_index_end + e->at != c->len) return WG_E_BAD_VALUE;
    return WG_OK;
}

#endif /* WG_CANONICAL */

/* ---- the decoder ---- */

/* The next stream byte, 0 past the end; -1 once the 4 virtual zeros are spent. */
static int32_t next_byte(wg_cursor *c)
{
    uint32_t i = c->byte_index++;
    if (i < c->len) return c->data[i];
    return i - c->len < VIRTUAL_BYTES ? 0 : -1;
}

/* One modelled bit, or -1 when the stream ran out. */
static int32_t decode_bit(wg_cursor *c, uint32_t index)
{
    uint32_t p = c->probs[index], bound = (c->range >> PROB_BITS) * p, bit;
#if WG_CANONICAL
    if (c->check) {
        /* the encoder sees the model as it was before this bit */
        uint32_t b = c->code < bound ? 0u : 1u;
        enc_bit(c, p, b);
    }
#endif
    if (c->code < bound) {
        c->range = bound;
        c->probs[index] = (uint16_t)(p + ((PROB_ONE - p) >> MOVE_BITS));
        bit = 0;
    } else {
        c->code -= bound;
        c->range -= bound;
        c->probs[index] = (uint16_t)(p - (p >> MOVE_BITS));
        bit = 1;
    }
    while (c->range < TOP) {
        int32_t byte = next_byte(c);
        if (byte < 0) return -1;
        c->range <<= 8;
        c->code = (c->code << 8) | (uint32_t)byte;
    }
    return (int32_t)bit;
}

static int32_t decode_direct(wg_cursor *c)
{
    uint32_t bit = 0;
    c->range >>= 1;
    if (c->code >= c->range) {
        c->code -= c->range;
        bit = 1;
    }
#if WG_CANONICAL
    if (c->check) enc_direct(c, bit);
#endif
    while (c->range < TOP) {
        int32_t byte = next_byte(c);
        if (byte < 0) return -1;
        c->range <<= 8;
        c->code = (c->code << 8) | (uint32_t)byte;
    }
    return (int32_t)bit;
}

/* gap-code.ts decodeGap: truncated unary exponent, 2 modelled mantissa bits, direct bits. */
static int32_t decode_gap(wg_cursor *c)
{
    uint32_t e = 0, tree, modelled, j, v = 1, node = 1;
    int32_t bit;
    while (e < c->max_exponent) {
        bit = decode_bit(c, e);
        if (bit < 0) return -1;
        if (bit == 0) break;
        e++;
    }
    tree = c->max_exponent + 1u + e * (1u << MANTISSA_MODELLED);
    modelled = e < MANTISSA_MODELLED ? e : MANTISSA_MODELLED;
    for (j = 0; j < modelled; j++) {
        bit = decode_bit(c, tree + node);
        if (bit < 0) return -1;
        node = node * 2u + (uint32_t)bit;
        v = v * 2u + (uint32_t)bit;
    }
    for (j = e - modelled; j > 0; j--) {
        bit = decode_direct(c);
        if (bit < 0) return -1;
        v = v * 2u + (uint32_t)bit;
    }
    return (int32_t)v;
}

static int32_t decode_tree(wg_cursor *c)
{
    uint32_t value = 0, j;
    for (j = 0; j < c->code_bits; j++) {
        int32_t bit = decode_bit(c, c->code_at + ((1u << j) | value));
        if (bit < 0) return -1;
        value = value * 2u + (uint32_t)bit;
    }
    return (int32_t)value;
}

wg_status wg_cursor_open(wg_cursor *c, const wg_model *m, uint32_t tensor, uint32_t code, uint32_t count,
                         const uint8_t *data, uint32_t len, uint8_t *mem, wg_reencoder *check)
{
    uint32_t t = wg_tensor(m, tensor), i, models, value_bytes;
    c->kind = wg_fb_u8(m->manifest, t, T_ENCODING, ENC_DENSE_F32);
    c->elements = wg_tensor_elements(m, tensor);
    c->channels = wg_tensor_channels(m, tensor);
    c->scales = NULL;
    c->centroid_count = 0;
    if (c->kind == ENC_CODEBOOK) {
        uint32_t n = local_centroids(m, tensor, code, NULL);
        if (n == 0) return WG_E_BAD_VALUE;
        c->centroid_count = n;
    } else if (c->kind == ENC_INT8) {
        c->scales = m->manifest + wg_fb_ref(m->manifest, t, T_SCALES) + 4u;
    }
    c->code_bits = code_bits_for(c->centroid_count);
    c->max_exponent = log2_floor(c->elements);
    c->code_at = (c->max_exponent + 1u) * (1u + (1u << MANTISSA_MODELLED));
    models = c->code_at + (1u << c->code_bits);
    c->probs = (uint16_t *)(void *)mem;
    for (i = 0; i < models; i++) c->probs[i] = (uint16_t)PROB_INIT;
    c->centroids = (const float *)(const void *)(mem + WG_ALIGN4(2u * models));
    if (c->kind == ENC_CODEBOOK) (void)local_centroids(m, tensor, code, (float *)(void *)(mem + WG_ALIGN4(2u * models)));
    c->data = data;
    c->len = len;
    c->remaining = count;
    c->count = count;
    c->previous = -1;
    c->value_index = 0;
    c->pending = 0;
    c->check = check;
    if (check) {
        memset(check, 0, sizeof(*check));
        check->range = 0xffffffffu;
        check->cache_size = 1;
    }
    value_bytes = c->kind == ENC_DENSE_F32 ? 4u : c->kind == ENC_INT8 ? 1u : 0u;
    if ((uint64_t)count * value_bytes > len) return WG_E_TRUNCATED;
    c->value_index_end = count * value_bytes;
    c->byte_index = c->value_index_end;
    c->range = 0xffffffffu;
    c->code = 0;
    for (i = 0; i < 4u; i++) {
        int32_t byte = next_byte(c);
        c->code = (c->code << 8) | (uint32_t)(byte < 0 ? 0 : byte);
    }
    return WG_OK;
}

/* The stored value of the next int8 or dense-f32 entry (position p), and
 * its raw bits. */
static float stored_value(wg_cursor *c, uint32_t p, uint32_t *raw)
{
    const uint8_t *at = c->data + c->value_index;
    if (c->kind == ENC_INT8) {
        int32_t q = (int32_t)*at - (int32_t)((*at & 0x80u) << 1);
        *raw = *at;
        c->value_index += 1u;
        return (float)q * wg_f32_of_bits(wg_u32(c->scales + 4u * (p % c->channels)));
    }
    *raw = wg_u32(at);
    c->value_index += 4u;
    return wg_f32_of_bits(*raw);
}

wg_status wg_cursor_next(wg_cursor *c, uint32_t *position, float *value, uint32_t *raw)
{
    int32_t v = decode_gap(c);
    uint32_t p;
    if (v < 0) return WG_E_TRUNCATED;
    p = (uint32_t)(c->previous + v);
    if (p >= c->elements) return WG_E_OUT_OF_BOUNDS;
    if (c->kind == ENC_CODEBOOK) {
        int32_t k = decode_tree(c);
        if (k < 0) return WG_E_TRUNCATED;
        if ((uint32_t)k >= c->centroid_count) return WG_E_BAD_VALUE;
        *value = c->centroids[k];
        *raw = (uint32_t)k;
    } else {
        *value = stored_value(c, p, raw);
    }
    *position = p;
    c->previous = (int32_t)p;
    c->remaining--;
    if (!c->check) return WG_OK;
    /* formats decodes 64 entries, then checks their values: a zero or
     * non-finite stored value is reported at the chunk's end, so a decode
     * error later in the chunk comes first, as there */
    if (c->kind != ENC_CODEBOOK && (*raw == 0 || *value == 0.0f || !wg_finite_bits(wg_bits_of_f32(*value)))) {
        c->pending = 1;
    }
    if (c->pending && ((c->count - c->remaining) % 64u == 0 || c->remaining == 0)) return WG_E_BAD_VALUE;
#if WG_CANONICAL
    return c->remaining == 0 ? check_end(c) : WG_OK;
#else
    return WG_OK;
#endif
}

/* ---- inference: a whole segment in one loop ---- */

#ifndef WG_CODED_COMPACT

/* The decoder's registers live in locals here (range, code, the stream
 * pointer); each bit is the LZMA decode inline. A probability stays in
 * [31, 2017] (it starts at 1024 and moves by 1/32), so after a modelled bit
 * range >= 31 * 2^13 and after a direct bit range >= 2^23: one shift of
 * normalisation is always enough, as the reference's loop would do. */
#define RC_NORMALIZE()                                                                                                \
    do {                                                                                                              \
        if (range < TOP) {                                                                                            \
            range <<= 8;                                                                                              \
            code <<= 8;                                                                                               \
            if (ptr < end) {                                                                                          \
                code |= *ptr++;                                                                                       \
            } else if (++past > VIRTUAL_BYTES) {                                                                      \
                return WG_E_TRUNCATED;                                                                                \
            }                                                                                                         \
        }                                                                                                             \
    } while (0)

/* One modelled bit with model `pp`, appended to `acc`. */
#define RC_BIT(pp, acc)                                                                                               \
    do {                                                                                                              \
        uint16_t *pp_ = (pp);                                                                                         \
        uint32_t p_ = *pp_, bound_ = (range >> PROB_BITS) * p_;                                                       \
        if (code < bound_) {                                                                                          \
            range = bound_;                                                                                           \
            *pp_ = (uint16_t)(p_ + ((PROB_ONE - p_) >> MOVE_BITS));                                                   \
            acc = acc * 2u;                                                                                           \
        } else {                                                                                                      \
            code -= bound_;                                                                                           \
            range -= bound_;                                                                                          \
            *pp_ = (uint16_t)(p_ - (p_ >> MOVE_BITS));                                                                \
            acc = acc * 2u + 1u;                                                                                      \
        }                                                                                                             \
        RC_NORMALIZE();                                                                                               \
    } while (0)

/* The term value of a held entry with binary32 value `v` at position `p`:
 * f32 the value; int the kernel's int8 weight, or the bias entry already
 * shifted to the accumulator's exponent (docs/arithmetic.md). */
static wg_acc term_value(const wg_layer_io *io, float v, int is_bias)
{
#ifdef WG_ARITH_INT
    if (is_bias) return wg_rsh((int32_t)wg_rnd_pow2_bits(v, io->fb), io->fb - io->fa);
    return (int32_t)wg_rnd_pow2_bits(v, io->fw);
#else
    (void)io;
    (void)is_bias;
    return v;
#endif
}

wg_status wg_cursor_run(wg_cursor *c, const wg_model *m, const wg_layer_io *io, uint32_t units, uint32_t inputs,
                        int is_bias)
{
    const uint8_t *end = c->data + c->len, *ptr = c->data + (c->byte_index < c->len ? c->byte_index : c->len);
    uint16_t *probs = c->probs, *unary_end = probs + c->max_exponent, *mantissa = unary_end + 1;
    uint16_t *tree = probs + c->code_at;
    uint32_t range = c->range, code = c->code, past = c->byte_index - (uint32_t)(ptr - c->data);
    uint32_t code_bits = c->code_bits, centroid_count = c->centroid_count;
    uint32_t kind = c->kind, n, row = 0, col = 0xffffffffu;
    wg_acc *out = io->out, *table = (wg_acc *)(void *)(uintptr_t)c->centroids;
    wg_acc x = wg_input_at(m, io, 0);
    if (kind == ENC_CODEBOOK) {
        for (n = 0; n < centroid_count; n++) table[n] = term_value(io, c->centroids[n], is_bias);
    }
    for (n = c->count; n > 0; n--) {
        uint32_t e, v = 1, k = 1, j;
        uint16_t *model = probs;
        wg_acc w;
        /* the gap: truncated unary exponent, 2 modelled mantissa bits, direct bits */
        while (model < unary_end) {
            uint32_t p = *model, bound = (range >> PROB_BITS) * p;
            if (code < bound) {
                range = bound;
                *model = (uint16_t)(p + ((PROB_ONE - p) >> MOVE_BITS));
                RC_NORMALIZE();
                break;
            }
            code -= bound;
            range -= bound;
            *model++ = (uint16_t)(p - (p >> MOVE_BITS));
            RC_NORMALIZE();
        }
        e = (uint32_t)(model - probs);
        if (e > 0) {
            uint16_t *t = mantissa + e * (1u << MANTISSA_MODELLED);
            RC_BIT(t + 1, v);
            if (e > 1u) {
                RC_BIT(t + v, v);
                for (j = e - MANTISSA_MODELLED; j > 0; j--) {
                    uint32_t mask;
                    range >>= 1;
                    code -= range;
                    mask = 0u - (code >> 31); /* all ones: the bit is 0 */
                    code += range & mask;
                    v = v * 2u + 1u + mask;
                    RC_NORMALIZE();
                }
            }
        }
        /* position: rows and columns move forward, a division per new row */
        col += v;
        if (col >= units) {
            uint32_t r = col / units;
            row += r;
            col -= r * units;
            if (row >= inputs) return WG_E_OUT_OF_BOUNDS;
            x = wg_input_at(m, io, row);
        }
        if (kind == ENC_CODEBOOK) {
            /* the tree's node is 1 followed by the bits so far */
            for (j = code_bits; j > 0; j--) RC_BIT(tree + k, k);
            k -= 1u << code_bits;
            if (k >= centroid_count) return WG_E_BAD_VALUE;
            w = table[k];
        } else {
            uint32_t raw;
            w = term_value(io, stored_value(c, row * units + col, &raw), is_bias);
        }
        if (x == 0) continue; /* a blank pixel, a relu zero: no term */
#ifdef WG_ARITH_INT
        out[col] += x * w;
#else
        {
            float t = x * w;
            out[col] = out[col] + t;
        }
#endif
    }
    return WG_OK;
}
#endif /* WG_CODED_COMPACT */

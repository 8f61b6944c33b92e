/*
 * wg_segment.c: the streaming decoder of one segment (formats/
 * segment-cursor.ts, gap-code.ts, range-coder.ts, rice-code.ts): (position,
 * value) pairs in ascending position order, from a few hundred bytes of
 * state. A tensor's segments are range-coded or Rice-coded (its `coding`,
 * docs/format.md 5.1 and 5.10); a build may leave either decoder out
 * (WG_CODING_RANGE, WG_CODING_RICE).
 *
 * The range coder is LZMA's (Igor Pavlov, lzma-specification.txt, "The
 * range decoder"): 11-bit probabilities adapted by 1/32, 32-bit range; the
 * stream's first byte (always 0) is not stored and up to 4 bytes past the
 * end read as 0.
 *
 * Validation (wg_open) runs the range encoder in lock step with the decoder
 * and compares every byte it would write with the stream: the decoder's
 * model probabilities are the encoder's, so no second set of models is
 * needed. A stream that decodes but is not what the encoder writes
 * (trailing bytes, another encoding of the same entries) is refused, as
 * formats does. A Rice stream has one encoding per entry list: its end
 * check (exact length, zero pad bits) is the whole of that, and costs so
 * little that every build makes it.
 *
 * Memory of one open segment, at `mem` (wg_segment_decoder_bytes):
 *   centroids  local centroids x f32 (codebook segments)
 *   probs      models x u16, rounded up to 4 bytes (range; none for Rice)
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

uint32_t wg_code_bits(uint32_t n)
{
    return n <= 1u ? 0u : log2_floor(n - 1u) + 1u;
}

uint32_t wg_rice_k(uint32_t elements, uint32_t count)
{
    uint32_t m = elements / (count > 0 ? count : 1u);
    return m <= 1u ? 0u : log2_floor(m);
}

uint32_t wg_tensor_coding(const wg_model *m, uint32_t tensor)
{
    return wg_fb_u8(m->manifest, wg_tensor(m, tensor), T_CODING, CODING_RANGE);
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

uint32_t wg_segment_centroids(const wg_model *m, uint32_t tensor, uint32_t code)
{
    uint32_t encoding = wg_fb_u8(m->manifest, wg_tensor(m, tensor), T_ENCODING, ENC_DENSE_F32);
    return encoding == ENC_CODEBOOK ? local_centroids(m, tensor, code, NULL) : 0u;
}

/* The plan is the artifact's, whatever this build decodes. */
uint32_t wg_segment_decoder_bytes(const wg_model *m, uint32_t tensor, uint32_t code)
{
    uint32_t centroids = wg_segment_centroids(m, tensor, code), models = 0;
    if (wg_tensor_coding(m, tensor) != CODING_RICE) {
        models = model_count(wg_tensor_elements(m, tensor), wg_code_bits(centroids));
    }
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
#if WG_CANONICAL && WG_CODING_RANGE

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

#endif /* WG_CANONICAL && WG_CODING_RANGE */

/* ---- the range decoder ---- */

#if WG_CODING_RANGE

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

#endif /* WG_CODING_RANGE */

/* ---- the Rice decoder (docs/format.md 5.10) ----
 * The stream is plain bits, first in the top bit of each byte. The cursor
 * holds the next of them in `code`, first in its top bit, and how many in
 * `range`; `byte_index` is the next byte to load. No virtual bytes: a bit
 * past the stream's last byte is TRUNCATED. */

#if WG_CODING_RICE

/* Leading zero bits of x != 0. gcc and clang have an instruction for it on
 * most cores; armv6-m (Cortex-M0/M0+) and armv8-m baseline have none, and
 * the builtin is a libgcc call there: a shift loop instead, whose cost is
 * the count, which the derived k keeps small (a zero or two an entry). */
#if defined(__GNUC__) && (!defined(__arm__) || defined(__ARM_FEATURE_CLZ))
#define WG_CLZ(x) ((uint32_t)__builtin_clz(x))
#else
static uint32_t clz_shift(uint32_t x)
{
    uint32_t n = 0;
    for (; (x & 0x80000000u) == 0 && n < 31u; x <<= 1) n++;
    return n;
}
#define WG_CLZ(x) clz_shift(x)
#endif

/* Tops the register up to 24 bits or more while stream bytes remain
 * (never past 31: the kernel's refill relies on it). */
static void rice_fill(wg_cursor *c)
{
    while (c->range < 24u && c->byte_index < c->len) {
        c->code |= (uint32_t)c->data[c->byte_index++] << (24u - c->range);
        c->range += 8u;
    }
}

/* The next n <= 24 bits as an unsigned integer; -1 past the stream's end. */
static int32_t rice_read(wg_cursor *c, uint32_t n)
{
    uint32_t v;
    if (n == 0) return 0;
    rice_fill(c);
    if (c->range < n) return -1;
    v = c->code >> (32u - n);
    c->code <<= n;
    c->range -= n;
    return (int32_t)v;
}

/* The next entry's gap v = 1 + (q << k) + read(k): q zero bits, at most
 * elements >> k of them (more cannot reach a position inside the tensor,
 * and the bound ends the loop), then a one. Bits of the register past
 * `range` may hold the stream's next bits (the kernel's word loads) or
 * zeros: only the first `range` count. */
static wg_status rice_gap(wg_cursor *c, uint32_t *v)
{
    uint32_t q = 0, bound = c->elements >> c->rice_k, z;
    int32_t low;
    for (;;) { /* each pass takes every bit of the register, or returns */
        rice_fill(c);
        if (c->range == 0) return WG_E_TRUNCATED;
        z = c->code != 0 ? WG_CLZ(c->code) : 32u;
        if (z < c->range) break;
        q += c->range;
        c->code = 0;
        c->range = 0;
        if (q > bound) return WG_E_OUT_OF_BOUNDS;
    }
    q += z;
    if (q > bound) return WG_E_OUT_OF_BOUNDS;
    c->code = (c->code << z) << 1;
    c->range -= z + 1u;
    low = rice_read(c, c->rice_k);
    if (low < 0) return WG_E_TRUNCATED;
    *v = (q << c->rice_k) + (uint32_t)low + 1u;
    return WG_OK;
}

/* After the last entry: exactly ceil(B / 8) bytes for the B bits read, the
 * pad bits of the last one 0. One Rice stream per entry list, so this is
 * the whole canonical check (formats' validateSegment rule 3). */
static wg_status rice_end(const wg_cursor *c)
{
    if (c->byte_index != c->len || c->range >= 8u) return WG_E_BAD_VALUE;
    if (c->range > 0 && (c->code >> (32u - c->range)) != 0) return WG_E_BAD_VALUE;
    return WG_OK;
}

#endif /* WG_CODING_RICE */

/* ---- one entry at a time ---- */

wg_status wg_cursor_open(wg_cursor *c, const wg_model *m, uint32_t tensor, uint32_t code, uint32_t count,
                         const uint8_t *data, uint32_t len, uint8_t *mem, wg_reencoder *check)
{
    uint32_t t = wg_tensor(m, tensor), i, models = 0, value_bytes;
    c->coding = (uint8_t)wg_fb_u8(m->manifest, t, T_CODING, CODING_RANGE);
    if (!wg_coding_built(c->coding)) return WG_E_UNSUPPORTED;
    c->kind = wg_fb_u8(m->manifest, t, T_ENCODING, ENC_DENSE_F32);
    c->elements = wg_tensor_elements(m, tensor);
    c->channels = wg_tensor_channels(m, tensor);
    c->scales = NULL;
    c->centroids = (const float *)(const void *)mem;
    c->centroid_count = 0;
    if (c->kind == ENC_CODEBOOK) {
        /* one pass: the centroids first, then the models */
        uint32_t n = local_centroids(m, tensor, code, (float *)(void *)mem);
        if (n == 0) return WG_E_BAD_VALUE;
        c->centroid_count = n;
    } else if (c->kind == ENC_INT8) {
        c->scales = m->manifest + wg_fb_ref(m->manifest, t, T_SCALES) + 4u;
    }
    c->code_bits = wg_code_bits(c->centroid_count);
    c->max_exponent = log2_floor(c->elements);
    c->code_at = (c->max_exponent + 1u) * (1u + (1u << MANTISSA_MODELLED));
    c->rice_k = (uint8_t)wg_rice_k(c->elements, count);
    if (c->coding != CODING_RICE) models = c->code_at + (1u << c->code_bits);
    c->probs = (uint16_t *)(void *)(mem + 4u * c->centroid_count);
    for (i = 0; i < models; i++) c->probs[i] = (uint16_t)PROB_INIT;
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
    c->range = 0;
    c->code = 0;
#if WG_CODING_RANGE
    if (c->coding == CODING_RANGE) {
        c->range = 0xffffffffu;
        for (i = 0; i < 4u; i++) {
            int32_t byte = next_byte(c);
            c->code = (c->code << 8) | (uint32_t)(byte < 0 ? 0 : byte);
        }
    }
#endif
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

/* The next entry's position gap, in the segment's coding. */
static wg_status next_gap(wg_cursor *c, uint32_t *v)
{
#if WG_CODING_RICE
    if (c->coding == CODING_RICE) return rice_gap(c, v);
#endif
#if WG_CODING_RANGE
    {
        int32_t g = decode_gap(c);
        if (g < 0) return WG_E_TRUNCATED;
        *v = (uint32_t)g;
        return WG_OK;
    }
#else
    return WG_E_UNSUPPORTED; /* not reached: wg_cursor_open refused it */
#endif
}

/* The next entry's local code (codebook segments). */
static wg_status next_code(wg_cursor *c, uint32_t *k)
{
    int32_t v = -1;
#if WG_CODING_RICE
    if (c->coding == CODING_RICE) v = rice_read(c, c->code_bits);
#endif
#if WG_CODING_RANGE
    if (c->coding == CODING_RANGE) v = decode_tree(c);
#endif
    if (v < 0) return WG_E_TRUNCATED;
    *k = (uint32_t)v;
    return WG_OK;
}

wg_status wg_cursor_next(wg_cursor *c, uint32_t *position, float *value, uint32_t *raw)
{
    uint32_t v, p;
    wg_status st = next_gap(c, &v);
    if (st != WG_OK) return st;
    p = (uint32_t)c->previous + v; /* previous -1 wraps to v - 1; else below 2^26 */
    if (p >= c->elements) return WG_E_OUT_OF_BOUNDS;
    if (c->kind == ENC_CODEBOOK) {
        uint32_t k;
        if ((st = next_code(c, &k)) != WG_OK) return st;
        if (k >= c->centroid_count) return WG_E_BAD_VALUE;
        *value = c->centroids[k];
        *raw = k;
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
    if (c->remaining != 0) return WG_OK;
#if WG_CODING_RICE
    if (c->coding == CODING_RICE) return rice_end(c);
#endif
#if WG_CANONICAL && WG_CODING_RANGE
    return check_end(c);
#else
    return WG_OK;
#endif
}

/* ---- inference: a whole segment in one loop ---- */

#ifndef WG_CODED_COMPACT

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

/* A codebook segment's centroids become term values in place (the table
 * the kernel reads), once per segment and inference. */
static wg_acc *term_table(wg_cursor *c, const wg_layer_io *io, int is_bias)
{
    wg_acc *table = (wg_acc *)(void *)(uintptr_t)c->centroids;
    uint32_t n;
    if (c->kind == ENC_CODEBOOK) {
        for (n = 0; n < c->centroid_count; n++) table[n] = term_value(io, c->centroids[n], is_bias);
    }
    return table;
}

#if WG_CODING_RANGE

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

static wg_status run_range(wg_cursor *c, const wg_model *m, const wg_layer_io *io, uint32_t units, uint32_t inputs,
                           int is_bias)
{
    const uint8_t *end = c->data + c->len, *ptr = c->data + (c->byte_index < c->len ? c->byte_index : c->len);
    uint16_t *probs = c->probs, *unary_end = probs + c->max_exponent, *mantissa = unary_end + 1;
    uint16_t *tree = probs + c->code_at;
    uint32_t range = c->range, code = c->code, past = c->byte_index - (uint32_t)(ptr - c->data);
    uint32_t code_bits = c->code_bits, centroid_count = c->centroid_count;
    uint32_t kind = c->kind, n, row = 0, col = 0xffffffffu;
    wg_acc *out = io->out, *table = term_table(c, io, is_bias);
    wg_acc x = wg_input_at(m, io, 0);
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

#endif /* WG_CODING_RANGE */

#if WG_CODING_RICE

/* Where a core loads 32 bits at any alignment in one instruction (Cortex-M3
 * and up, hosts), the kernel refills its bit register with one big-endian
 * word; elsewhere (armv6-m) a byte at a time, as the cursor does. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&                     \
    (!defined(__arm__) || defined(__ARM_FEATURE_UNALIGNED))
#define RICE_WORDS 1
#else
#define RICE_WORDS 0
#endif

/* Tops `buf` up to 24..31 bits (fewer only at the stream's end). A word
 * load ORs the next 32 stream bits in below the `avail` ones and counts
 * the whole bytes among them: the bits past `avail` are then the stream's
 * own next bits (or zeros), so the next load's OR leaves them as they are. */
#if RICE_WORDS
#define RICE_REFILL()                                                                                                 \
    do {                                                                                                              \
        if (end - ptr >= 4) {                                                                                         \
            buf |= __builtin_bswap32(wg_u32(ptr)) >> avail;                                                           \
            ptr += (31u - avail) >> 3;                                                                                \
            avail |= 24u;                                                                                             \
        } else {                                                                                                      \
            for (; avail < 24u && ptr < end; avail += 8u) buf |= (uint32_t)*ptr++ << (24u - avail);                   \
        }                                                                                                             \
    } while (0)
#else
#define RICE_REFILL()                                                                                                 \
    do {                                                                                                              \
        for (; avail < 24u && ptr < end; avail += 8u) buf |= (uint32_t)*ptr++ << (24u - avail);                       \
    } while (0)
#endif

/* The Rice kernel's state between its loop and the loop's caller. */
typedef struct rice_loop {
    /* constant over a segment */
    const uint8_t *end;
    const wg_acc *table; /* codebook segments: the term of each local code */
    wg_acc *out;
    uint32_t k, cb, centroid_count, units, inputs;
    /* the input (wg_input_at's, here so that the loop needs no more pointers) */
    const uint8_t *raw;
    const wg_acc *in;
#ifdef WG_ARITH_INT
    int32_t in_scale, in_offset, in_bound;
#else
    float scale, offset;
#endif
    /* the loop's registers */
    const uint8_t *ptr;
    uint32_t buf, avail; /* the next stream bits, first in the top bit; how many */
    uint32_t n, row, col; /* entries left, the last entry's row and column (0, -1 before the first) */
    uint32_t code;        /* RICE_ROW: the local code of the entry whose gap left the row */
    wg_acc x;             /* the row's input */
} rice_loop;

/* Why the loop returned: every entry done, or one it leaves to its caller
 * (nothing of it taken; or, RICE_ROW, taken but its column past the next
 * row or its row past the tensor), or a local code past the centroids. */
enum { RICE_DONE, RICE_SLOW, RICE_ROW, RICE_BAD_CODE };

/* wg_input_at, inline in the loop (no call there). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline wg_acc rice_input(const rice_loop *s, uint32_t i)
{
#ifdef WG_ARITH_INT
    int32_t x;
    if (!s->raw) return s->in[i];
    x = wg_rsh_in((int32_t)((int64_t)s->raw[i] * s->in_scale + s->in_offset), 15u);
    return x > s->in_bound ? s->in_bound : x < -s->in_bound ? -s->in_bound : x;
#else
    float x;
    if (!s->raw) return s->in[i];
    x = (float)s->raw[i] * s->scale;
    return x + s->offset;
#endif
}

/* A row and column from a column that may have passed the row (a
 * division for a gap past the next row), and the row's input; 0 when the
 * row is past the tensor. */
static int settle_row(rice_loop *s, const wg_model *m, const wg_layer_io *io)
{
    if (s->col >= s->units) {
        uint32_t r = s->col / s->units;
        s->row += r;
        s->col -= r * s->units;
    }
    if (s->row >= s->inputs) return 0;
    s->x = wg_input_at(m, io, s->row);
    return 1;
}

/* The codebook loop of the Rice kernel: an entry is a count of leading
 * zeros and a few shifts. After a refill the register holds 24 bits or
 * more, so an entry of up to 24 bits (q zeros, the one, k bits, the code)
 * is taken whole: its `need` top bits, as a number, are 1 u_low code. No
 * q bound here: q <= 30 on this path, and a q over elements >> k puts the
 * position past the tensor, OUT_OF_BOUNDS as the bound says.
 *
 * It makes no call (the rare cases return to run_rice), and keeps few
 * values live, so that a Cortex-M holds them in registers: the gap and the
 * code come from the entry with shifts, no masks. */
static WG_NOINLINE uint32_t rice_codebook_loop(rice_loop *s)
{
    const uint8_t *ptr = s->ptr;
    const wg_acc *table = s->table;
    wg_acc *out = s->out, x = s->x;
    uint32_t buf = s->buf, avail = s->avail, n = s->n, col = s->col, units = s->units;
    uint32_t k = s->k, cb = s->cb, used = k + cb + 1u, centroid_count = s->centroid_count;
    uint32_t why = RICE_DONE;
    for (; n > 0; n--) {
        uint32_t z = WG_CLZ(buf | 1u), need = z + used, e, h, code;
        if (need > avail) {
            const uint8_t *end = s->end;
            RICE_REFILL();
            z = WG_CLZ(buf | 1u);
            need = z + used;
            if (need > avail) {
                why = RICE_SLOW;
                break;
            }
        }
        e = buf >> (32u - need); /* 1, the k low bits of u, the code */
        h = e >> cb;             /* 2^k + the low bits */
        buf <<= need;            /* need <= avail <= 31 */
        avail -= need;
        code = e - (h << cb);
        col += ((z - 1u) << k) + h + 1u; /* the gap: (z << k) + the low bits + 1 */
        if (col >= units) {
            /* the next row; one further (rare), or past the tensor: run_rice */
            col -= units;
            if (col >= units || s->row + 1u >= s->inputs) {
                col += units;
                s->code = code;
                why = RICE_ROW;
                break;
            }
            s->row++;
            x = rice_input(s, s->row);
        }
        if (code >= centroid_count) {
            why = RICE_BAD_CODE;
            break;
        }
        if (x != 0) { /* a blank pixel, a relu zero: no term */
#ifdef WG_ARITH_INT
            out[col] += x * table[code];
#else
            float t = x * table[code];
            out[col] = out[col] + t;
#endif
        }
    }
    s->ptr = ptr;
    s->buf = buf;
    s->avail = avail;
    s->n = n;
    s->col = col;
    s->x = x;
    return why;
}

/* out[col] += x * w, the kernel's way, unless x is 0. */
static void rice_term(const wg_layer_io *io, uint32_t col, wg_acc x, wg_acc w)
{
    if (x == 0) return;
#ifdef WG_ARITH_INT
    io->out[col] += x * w;
#else
    {
        float t = x * w;
        io->out[col] = io->out[col] + t;
    }
#endif
}

/* An entry through the cursor (a long run of zeros, an entry longer than
 * the register holds, the stream's last bits), with the reference's checks
 * in its order (gap, position, code), then its row. */
static wg_status rice_slow_entry(wg_cursor *c, rice_loop *s, const wg_model *m, const wg_layer_io *io)
{
    uint32_t v;
    int32_t code;
    wg_status st;
    c->code = s->buf;
    c->range = s->avail;
    c->byte_index = (uint32_t)(s->ptr - c->data);
    if ((st = rice_gap(c, &v)) != WG_OK) return st;
    /* the last position plus the gap, below 2^26 (-1 wraps to v - 1) */
    if (s->row * s->units + s->col + v >= c->elements) return WG_E_OUT_OF_BOUNDS;
    code = rice_read(c, c->code_bits);
    if (code < 0) return WG_E_TRUNCATED;
    s->buf = c->code;
    s->avail = c->range;
    s->ptr = c->data + c->byte_index;
    s->code = (uint32_t)code;
    s->col += v;
    if (s->col >= s->units && !settle_row(s, m, io)) return WG_E_OUT_OF_BOUNDS;
    return WG_OK;
}

/* The Rice kernel (docs/format.md 5.10): codebook segments through
 * rice_codebook_loop, whose rare cases come back here; int8 and dense-f32
 * ones (whose every term is a value to read and convert) an entry at a
 * time here. */
static wg_status run_rice(wg_cursor *c, const wg_model *m, const wg_layer_io *io, uint32_t units, uint32_t inputs,
                          int is_bias)
{
    rice_loop s;
    int codebook = c->kind == ENC_CODEBOOK;
    s.end = c->data + c->len;
    s.table = term_table(c, io, is_bias);
    s.out = io->out;
    s.raw = io->raw;
    s.in = io->in;
#ifdef WG_ARITH_INT
    s.in_scale = m->in_scale;
    s.in_offset = m->in_offset;
    s.in_bound = io->in_bound;
#else
    s.scale = m->scale;
    s.offset = m->offset;
#endif
    s.k = c->rice_k;
    s.cb = c->code_bits;
    s.centroid_count = c->centroid_count;
    s.units = units;
    s.inputs = inputs;
    s.ptr = c->data + c->value_index_end;
    s.buf = 0;
    s.avail = 0;
    s.n = c->count;
    s.row = 0;
    s.col = 0xffffffffu;
    s.x = wg_input_at(m, io, 0);
    while (s.n > 0) {
        wg_status st;
        wg_acc w;
        if (codebook) {
            uint32_t why = rice_codebook_loop(&s);
            if (why == RICE_DONE) break;
            if (why == RICE_BAD_CODE) return WG_E_BAD_VALUE;
            if (why == RICE_ROW) {
                if (!settle_row(&s, m, io)) return WG_E_OUT_OF_BOUNDS;
            } else if ((st = rice_slow_entry(c, &s, m, io)) != WG_OK) {
                return st;
            }
            if (s.code >= s.centroid_count) return WG_E_BAD_VALUE;
            w = s.table[s.code];
        } else {
            uint32_t raw;
            if ((st = rice_slow_entry(c, &s, m, io)) != WG_OK) return st;
            w = term_value(io, stored_value(c, s.row * units + s.col, &raw), is_bias);
        }
        rice_term(io, s.col, s.x, w);
        s.n--;
    }
    return WG_OK;
}

#endif /* WG_CODING_RICE */

wg_status wg_cursor_run(wg_cursor *c, const wg_model *m, const wg_layer_io *io, uint32_t units, uint32_t inputs,
                        int is_bias)
{
#if WG_CODING_RICE
    if (c->coding == CODING_RICE) return run_rice(c, m, io, units, inputs, is_bias);
#endif
#if WG_CODING_RANGE
    return run_range(c, m, io, units, inputs, is_bias);
#else
    return WG_E_UNSUPPORTED; /* not reached: wg_cursor_open refused it */
#endif
}

#endif /* WG_CODED_COMPACT */

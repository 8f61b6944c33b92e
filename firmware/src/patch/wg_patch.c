/*
 * wg_patch.c: the streaming .wgp applier (docs/format.md 8.4; formats/
 * patch-stream.ts is the reference, step for step and error for error).
 *
 *   per target segment    source (flash)        patch (flash)       sink
 *   reuse (implied)       segment, same hash ──────────────────────► as is
 *   whole (implied)                             payload ───────────► as is
 *   byte delta            copies ─────────────► literals ──────────► pieces
 *   entry delta           entries, decoded ───► edits, merged ─────► re-encoded
 *
 * Working memory (`work`, a stack of buffers: mark, take, rewind):
 *   [B's manifest, if a delta][output page][one entry delta's models]
 * the manifest delta's models sit above the manifest while it is rebuilt.
 */
#include "weightgate_patch.h"

#include "../wg_internal.h"
#include "wg_patch_coder.h"

#define HASH_PREFIX 4u
#define MODE_SAME 0u
#define MODE_DELTA 1u
#define MODE_WHOLE 2u
#define MODE_SIGNED 4u
#define OP_BYTE_DELTA 2u
#define OP_ENTRY_DELTA 3u
#define NO_CHANGE 0xffffffffu

static const uint8_t patch_id[4] = {'W', 'G', 'P', '1'};

/* Working memory: a bump allocator over the caller's buffer. */
typedef struct wg_work {
    uint8_t *base;
    uint32_t size, top, peak;
} wg_work;

static uint8_t *take(wg_work *w, uint32_t bytes)
{
    uint32_t at = WG_ALIGN4(w->top);
    if (bytes > w->size || at > w->size - bytes) {
        if (at + (uint64_t)bytes > w->peak) w->peak = (uint32_t)(at + (uint64_t)bytes);
        return NULL;
    }
    w->top = at + bytes;
    if (w->top > w->peak) w->peak = w->top;
    return w->base + at;
}

/* Everything the head says, and what follows from it. */
typedef struct wg_patch_ctx {
    const uint8_t *body;
    uint32_t body_len, head_len;
    const uint8_t *toggles;
    uint32_t toggle_bytes;
    uint32_t to_version, mode, signed_;
    const uint8_t *signature;
    const uint8_t *delta; /* manifest_delta */
    uint32_t delta_len;
    uint32_t changes_at, change_count; /* body offset of the change varints */
    const uint8_t *manifest_field;
    uint32_t manifest_field_len;
    /* B */
    const uint8_t *manifest;
    uint32_t manifest_len;
    const uint8_t *sig;     /* B's signature or NULL */
    uint32_t manifest_mark; /* work top after B's manifest */
    uint8_t held[WG_MAX_INTERVALS / 8u]; /* B's held intervals, by index in B's table */
    uint32_t held_count;
    uint32_t segment_bytes, header_bytes, total_bytes;
    wg_model a, b;
} wg_patch_ctx;

/* ---- varints (unsigned LEB128, at most 32 bits) ---- */

/* Reads at *at below end; *minimal cleared when the encoding is longer than needed. */
static wg_status read_varint(const uint8_t *p, uint32_t *at, uint32_t end, uint32_t *value, int *minimal)
{
    uint64_t v = 0;
    uint32_t shift, n = 0;
    for (shift = 0; shift < 35u; shift += 7u) {
        uint32_t byte;
        if (*at >= end) return WG_E_TRUNCATED;
        byte = p[(*at)++];
        n++;
        v += (uint64_t)(byte & 0x7fu) << shift;
        if ((byte & 0x80u) == 0) {
            if (v > 0xffffffffu) return WG_E_BAD_VALUE;
            if (minimal && n > 1u && byte == 0) *minimal = 0;
            *value = (uint32_t)v;
            return WG_OK;
        }
    }
    return WG_E_BAD_VALUE;
}

/* ---- the frame (steps 1-3) and the head (4, 5) ---- */

/* formats' verifyBuffer over the Patch table, slots 0 .. slots-1 (1: the
 * format version alone; 3: all); the vectors' offsets into *at. */
static wg_status verify_patch(const uint8_t *p, uint32_t len, uint32_t slots, uint32_t at[3])
{
    uint64_t pos, target;
    int64_t vt;
    uint32_t vt_len, table_len, slot;
    if (len > WG_MAX_FILE_BYTES) return WG_E_TOO_LARGE;
    if (len < 8u) return WG_E_TRUNCATED;
    if (memcmp(p + 4, patch_id, 4) != 0) return WG_E_BAD_IDENTIFIER;
    pos = wg_u32(p);
    if (pos + 4u > len) return WG_E_OUT_OF_BOUNDS;
    vt = (int64_t)pos - (int32_t)wg_u32(p + pos);
    if (vt < 0 || vt + 4 > (int64_t)len || (vt & 1) != 0) return WG_E_OUT_OF_BOUNDS;
    vt_len = wg_u16(p + vt);
    table_len = wg_u16(p + vt + 2);
    if (vt_len < 4u || (vt_len & 1u) != 0 || (uint64_t)vt + vt_len > len) return WG_E_OUT_OF_BOUNDS;
    if (table_len < 4u || pos + table_len > len) return WG_E_OUT_OF_BOUNDS;
    for (slot = 0; slot < slots; slot++) {
        uint32_t entry = 4u + 2u * slot, off, n;
        at[slot] = 0;
        if (entry + 2u > vt_len) continue;
        off = wg_u16(p + vt + entry);
        if (off == 0) continue;
        if (off < 4u || off + (slot == 0 ? 2u : 4u) > table_len) return WG_E_OUT_OF_BOUNDS;
        at[slot] = (uint32_t)pos + off;
        if (slot == 0) continue;
        target = pos + off + wg_u32(p + pos + off);
        if (target + 4u > len) return WG_E_OUT_OF_BOUNDS;
        n = wg_u32(p + target);
        if (n > WG_MAX_FILE_BYTES) return WG_E_TOO_LARGE;
        if (target + 4u + n > len) return WG_E_OUT_OF_BOUNDS;
        at[slot] = (uint32_t)target;
    }
    return WG_OK;
}

static wg_status read_frame(wg_patch_ctx *x, const uint8_t *p, uint32_t len)
{
    uint32_t at[3];
    wg_status st = verify_patch(p, len, 1, at);
    if (st != WG_OK) return st;
    if ((at[0] ? wg_u16(p + at[0]) : 0u) != 2u) return WG_E_UNSUPPORTED_VERSION;
    if ((st = verify_patch(p, len, 3, at)) != WG_OK) return st;
    if (!at[1]) return WG_E_BAD_VALUE;
    x->body = p + at[1] + 4u;
    x->body_len = wg_u32(p + at[1]);
    x->manifest_field = at[2] ? p + at[2] + 4u : NULL;
    x->manifest_field_len = at[2] ? wg_u32(p + at[2]) : 0u;
    return WG_OK;
}

/* The bytes buildPatchBytes writes around the body: without a manifest
 * (28 bytes), or with one of M bytes (40 + M). */
static const uint8_t frame_plain[28] = {0x10, 0, 0, 0, 'W', 'G', 'P', '1', 8, 0, 12, 0, 10, 0, 4, 0,
                                        8,    0, 0, 0, 8,   0,   0,   0,   0, 0, 2,  0};
static const uint8_t frame_whole[32] = {0x14, 0, 0, 0, 'W', 'G', 'P', '1', 0, 0, 10, 0, 16, 0, 14, 0,
                                        8,    0, 4, 0, 10,  0,   0,   0,   12, 0, 0, 0, 0, 0, 0, 0};

static int canonical_frame(const wg_patch_ctx *x, const uint8_t *p, uint32_t len)
{
    uint32_t prefix, i, pad = (0u - x->body_len) & 3u;
    if (x->manifest_field) {
        uint32_t m = x->manifest_field_len;
        if ((m & 3u) != 0 || len < 40u || memcmp(p, frame_whole, 28) != 0) return 0;
        if (wg_u32(p + 28) != 12u + m || wg_u16(p + 32) != 0 || wg_u16(p + 34) != 2u || wg_u32(p + 36) != m) return 0;
        if (x->manifest_field != p + 40) return 0;
        prefix = 40u + m;
    } else {
        if (len < 28u || memcmp(p, frame_plain, 28) != 0) return 0;
        prefix = 28u;
    }
    if (x->body != p + prefix + 4u || (uint64_t)prefix + 4u + x->body_len + pad != len) return 0;
    for (i = len - pad; i < len; i++) {
        if (p[i] != 0) return 0;
    }
    return 1;
}

static wg_status read_head(wg_patch_ctx *x, int *minimal)
{
    const uint8_t *b = x->body;
    uint32_t at = 2u * HASH_PREFIX, end = x->body_len, n, byte, i, next = 0;
    wg_status st;
    if (end < at) return WG_E_TRUNCATED;
    if ((st = read_varint(b, &at, end, &x->to_version, minimal)) != WG_OK) return st;
    if ((st = read_varint(b, &at, end, &n, minimal)) != WG_OK) return st;
    if (n > WG_MAX_INTERVALS / 8u) return WG_E_BAD_VALUE;
    if (n > end - at) return WG_E_TRUNCATED;
    x->toggles = b + at;
    x->toggle_bytes = n;
    at += n;
    if (n > 0 && x->toggles[n - 1u] == 0) return WG_E_BAD_VALUE;
    if (at >= end) return WG_E_TRUNCATED;
    byte = b[at++];
    x->mode = byte & ~MODE_SIGNED;
    x->signed_ = (byte & MODE_SIGNED) != 0;
    if (x->mode > MODE_WHOLE) return WG_E_BAD_VALUE;
    if (x->signed_ && x->mode == MODE_SAME) return WG_E_BAD_SIGNATURE;
    if ((x->mode == MODE_WHOLE) != (x->manifest_field != NULL)) return WG_E_BAD_VALUE;
    x->signature = NULL;
    if (x->signed_) {
        if (64u > end - at) return WG_E_TRUNCATED;
        x->signature = b + at;
        at += 64u;
    }
    x->delta = NULL;
    x->delta_len = 0;
    if (x->mode == MODE_DELTA) {
        if ((st = read_varint(b, &at, end, &n, minimal)) != WG_OK) return st;
        if (n > end - at) return WG_E_TRUNCATED;
        x->delta = b + at;
        x->delta_len = n;
        at += n;
    }
    if ((st = read_varint(b, &at, end, &x->change_count, minimal)) != WG_OK) return st;
    if (x->change_count > WG_MAX_SEGMENTS) return WG_E_BAD_VALUE;
    x->changes_at = at;
    for (i = 0; i < x->change_count; i++) {
        uint32_t v;
        if ((st = read_varint(b, &at, end, &v, minimal)) != WG_OK) return st;
        if ((uint64_t)next + v / 2u >= WG_MAX_SEGMENTS) return WG_E_BAD_VALUE;
        next = next + v / 2u + 1u;
    }
    x->head_len = at;
    return WG_OK;
}

/* ---- B's manifest from a delta (8.7) ---- */

#define LANES 4u
#define LANE_MODELS 16u

typedef struct md_layout {
    uint32_t max_e, literal_at, copy_at, offset_at, total;
} md_layout;

static void md_layout_for(md_layout *l, uint32_t s, uint32_t t)
{
    uint32_t g;
    l->max_e = wg_log2_floor((uint32_t)(2u * ((uint64_t)s + t) + 1u));
    g = 5u * (l->max_e + 1u);
    l->literal_at = LANES * LANE_MODELS;
    l->copy_at = l->literal_at + g;
    l->offset_at = l->literal_at + 2u * g;
    l->total = l->literal_at + 3u * g;
}

/* Runs the delta against A's manifest `src` (s bytes) into `into` (NULL: a
 * dry run); `length` and `start` from its leading varint. */
static wg_status md_run(const uint8_t *src, uint32_t s, const uint8_t *delta, uint32_t delta_len, uint32_t start,
                        uint32_t length, uint16_t *probs, uint8_t *into)
{
    md_layout l;
    wg_rdec d;
    uint32_t t = 0, at = 0, i;
    md_layout_for(&l, s, length);
    for (i = 0; i < l.total; i++) probs[i] = (uint16_t)WG_PROB_INIT;
    if (wg_rdec_init(&d, delta, start, delta_len) < 0) return WG_E_BAD_VALUE;
    /* each pass either ends, or takes a literal byte or a copy of >= 1 byte */
    for (;;) {
        int32_t g = wg_rdec_gap(&d, probs, l.literal_at, l.max_e), n, off;
        uint32_t literal, from;
        if (g < 0) return WG_E_BAD_VALUE;
        literal = (uint32_t)g - 1u;
        if (literal > length - t) return WG_E_BAD_VALUE;
        for (i = 0; i < literal; i++, t++, at++) {
            uint32_t base = (t & 3u) * LANE_MODELS, x = 0;
            int32_t bit = wg_rdec_bit(&d, probs, base);
            if (bit < 0) return WG_E_BAD_VALUE;
            if (bit == 1) {
                int32_t k = wg_rdec_tree(&d, probs, base, 3);
                uint32_t j;
                if (k < 0) return WG_E_BAD_VALUE;
                k += 1;
                x = 1;
                if (k >= 2) {
                    bit = wg_rdec_bit(&d, probs, base + 6u + (uint32_t)k);
                    if (bit < 0) return WG_E_BAD_VALUE;
                    x = 2u + (uint32_t)bit;
                }
                for (j = 2; j < (uint32_t)k; j++) {
                    bit = wg_rdec_direct(&d);
                    if (bit < 0) return WG_E_BAD_VALUE;
                    x = 2u * x + (uint32_t)bit;
                }
            }
            if (into) into[t] = (uint8_t)(x ^ (at < s ? src[at] : 0u));
        }
        if (t == length) return d.at < delta_len ? WG_E_BAD_VALUE : WG_OK;
        n = wg_rdec_gap(&d, probs, l.copy_at, l.max_e);
        if (n < 0) return WG_E_BAD_VALUE;
        off = wg_rdec_gap(&d, probs, l.offset_at, l.max_e);
        if (off < 0) return WG_E_BAD_VALUE;
        {
            uint32_t z = (uint32_t)off - 1u;
            int64_t f = (int64_t)at + ((z & 1u) == 0 ? (int64_t)(z / 2u) : -(int64_t)(z / 2u) - 1);
            if ((uint32_t)n > length - t || f < 0 || f + n > (int64_t)s) return WG_E_BAD_VALUE;
            from = (uint32_t)f;
        }
        if (into) memcpy(into + t, src + from, (uint32_t)n);
        t += (uint32_t)n;
        at = from + (uint32_t)n;
    }
}

/* Rebuilds B's manifest into working memory (a dry run first). */
static wg_status rebuild_manifest(wg_patch_ctx *x, wg_work *w)
{
    uint32_t at = 0, length, mark, need;
    uint16_t *probs;
    uint8_t *into;
    md_layout l;
    wg_status st = read_varint(x->delta, &at, x->delta_len, &length, NULL);
    if (st != WG_OK) return st;
    if (length > WG_MAX_FILE_BYTES) return WG_E_TOO_LARGE;
    md_layout_for(&l, x->a.manifest_len, length);
    mark = w->top;
    /* too little memory: the whole phase's need (B's manifest, and the
     * models above it); the dry run refuses a damaged delta first */
    need = WG_ALIGN4(mark) + WG_ALIGN4(length) + 2u * l.total;
    probs = (uint16_t *)(void *)take(w, 2u * l.total);
    if (!probs) {
        w->peak = need;
        return WG_E_ARENA_TOO_SMALL;
    }
    st = md_run(x->a.manifest, x->a.manifest_len, x->delta, x->delta_len, at, length, probs, NULL);
    w->top = mark;
    if (st != WG_OK) return st;
    if (need > w->size) {
        w->peak = need;
        return WG_E_ARENA_TOO_SMALL;
    }
    into = take(w, length);
    x->manifest_mark = w->top;
    probs = (uint16_t *)(void *)take(w, 2u * l.total);
    st = md_run(x->a.manifest, x->a.manifest_len, x->delta, x->delta_len, at, length, probs, into);
    w->top = x->manifest_mark;
    x->manifest = into;
    x->manifest_len = length;
    return st;
}

/* ---- A's segments ---- */

/* The interval id of a segment's interval code (0: base). */
static uint32_t id_of(const wg_model *m, uint32_t code)
{
    return code == 0 ? WG_BASE_INTERVAL : wg_interval_id(m, code - 1u);
}

typedef struct wg_src_seg {
    const uint8_t *data;
    uint32_t len, tensor, code, count;
} wg_src_seg;

/* A's held segment with SHA-256 `hash` (by_hash) or of (tensor, interval id). */
static int find_source(const wg_model *a, const uint8_t *hash, uint32_t tensor, uint32_t id, wg_src_seg *out)
{
    wg_seg_iter it;
    uint32_t offset = 0;
    wg_seg_begin(&it, a);
    it.index = (uint32_t)-1; /* index: the record just read */
    while (wg_seg_next(&it)) {
        if (!wg_holds(a, it.code)) continue;
        if (hash ? memcmp(wg_segment_hash(a, it.index), hash, 32) == 0
                 : (it.tensor == tensor && id_of(a, it.code) == id)) {
            out->data = a->segment_data + offset;
            out->len = it.bytes;
            out->tensor = it.tensor;
            out->code = it.code;
            out->count = it.count;
            return 1;
        }
        offset += it.bytes;
    }
    return 0;
}

static int a_holds_id(const wg_model *a, uint32_t id)
{
    uint32_t n = wg_held_interval_count(a), i;
    for (i = 0; i < n; i++) {
        if (wg_held_interval(a, i) == id) return 1;
    }
    return 0;
}

static int b_holds(const wg_patch_ctx *x, uint32_t code)
{
    return code == 0 || ((x->held[(code - 1u) >> 3] >> ((code - 1u) & 7u)) & 1u);
}

/* ---- steps 1-11: everything before the first byte is written ---- */

static wg_status prepare(wg_patch_ctx *x, const uint8_t *source, size_t source_len, const uint8_t *patch,
                         size_t patch_len, const wg_crypto *crypto, wg_work *w)
{
    wg_status st;
    int minimal = 1;
    uint32_t k, n_int;
    uint64_t segment_bytes = 0, total;
    wg_seg_iter it;
    uint8_t digest[32];

    if (patch_len > WG_MAX_FILE_BYTES) return WG_E_TOO_LARGE;
    if ((st = read_frame(x, patch, (uint32_t)patch_len)) != WG_OK) return st;
    if ((st = read_head(x, &minimal)) != WG_OK) return st;
    if (!minimal || !canonical_frame(x, patch, (uint32_t)patch_len)) return WG_E_BAD_VALUE;
    /* A: a verified artifact; its structure again (stack only) */
    if ((st = wg_read_structure(&x->a, source, source_len)) != WG_OK) return st;
    if (crypto) {
        wg_hash(crypto, source, source_len, digest);
        if (memcmp(digest, x->body, HASH_PREFIX) != 0) return WG_E_WRONG_BASE;
    }

    /* B's manifest and signature (7, 8) */
    x->manifest_mark = w->top;
    if (x->mode == MODE_SAME) {
        x->manifest = x->a.manifest;
        x->manifest_len = x->a.manifest_len;
        x->sig = x->a.signed_ ? x->a.manifest + x->a.manifest_len + 4u : NULL;
        x->b = x->a;
    } else {
        if (x->mode == MODE_WHOLE) {
            x->manifest = x->manifest_field;
            x->manifest_len = x->manifest_field_len;
        } else if ((st = rebuild_manifest(x, w)) != WG_OK) {
            return st;
        }
        x->sig = x->signature;
        memset(&x->b, 0, sizeof(x->b));
        if ((st = wg_manifest_read(&x->b, x->manifest, x->manifest_len)) != WG_OK) return st;
    }
    if (wg_model_version(&x->b) != x->to_version) return WG_E_BAD_VALUE; /* 9 */
    /* a device does not go back to an older version (formats' applier
     * leaves that to its caller) */
    if (x->to_version < wg_model_version(&x->a)) return WG_E_ROLLBACK;

    /* B's held intervals (10) */
    n_int = x->b.interval_count;
    for (k = n_int; k < 8u * x->toggle_bytes; k++) {
        if ((x->toggles[k >> 3] >> (k & 7u)) & 1u) return WG_E_BAD_VALUE;
    }
    memset(x->held, 0, sizeof(x->held));
    x->held_count = 0;
    for (k = 0; k < n_int; k++) {
        uint32_t bit = k < 8u * x->toggle_bytes ? (x->toggles[k >> 3] >> (k & 7u)) & 1u : 0u;
        if ((uint32_t)a_holds_id(&x->a, wg_interval_id(&x->b, k)) != bit) {
            x->held[k >> 3] = (uint8_t)(x->held[k >> 3] | (1u << (k & 7u)));
            x->held_count++;
        }
    }

    /* B's size (11) */
    wg_seg_begin(&it, &x->b);
    while (wg_seg_next(&it)) {
        if (b_holds(x, it.code)) segment_bytes += it.bytes;
    }
    if (segment_bytes > WG_MAX_FILE_BYTES) return WG_E_TOO_LARGE;
    x->segment_bytes = (uint32_t)segment_bytes;
    x->header_bytes = 0x30u + (x->sig ? 4u + 68u : 0u) + x->manifest_len + 4u + WG_ALIGN4(2u * x->held_count) + 4u;
    total = (uint64_t)x->header_bytes + segment_bytes + ((0u - x->segment_bytes) & 3u);
    if (total > WG_MAX_FILE_BYTES) return WG_E_TOO_LARGE;
    x->total_bytes = (uint32_t)total;
    return WG_OK;
}

/* ---- output: page, hashes, the sink ---- */

typedef struct wg_out {
    const wg_patch_sink *sink;
    const wg_crypto *crypto;
    uint8_t *page;
    uint32_t fill;
    wg_sha256_ctx whole, seg;
    int in_seg;
    uint32_t seg_bytes, seg_limit, written;
    wg_status error;
} wg_out;

static void deliver(wg_out *o, const uint8_t *data, uint32_t len)
{
    if (len == 0) return;
    if (o->in_seg) {
        o->seg_bytes += len;
        /* a damaged delta may make more: counted, not written */
        if (o->seg_bytes > o->seg_limit || o->seg_bytes < len) {
            o->seg_bytes = o->seg_limit + 1u;
            return;
        }
        o->crypto->sha256_update(&o->seg, data, len);
    }
    o->crypto->sha256_update(&o->whole, data, len);
    o->written += len;
    if (o->error == WG_OK && o->sink && o->sink->write && o->sink->write(o->sink->ctx, data, len) != 0) {
        o->error = WG_E_WRITE_FAILED;
    }
}

static void flush(wg_out *o)
{
    deliver(o, o->page, o->fill);
    o->fill = 0;
}

static void out_bytes(wg_out *o, const uint8_t *data, uint32_t len)
{
    flush(o);
    deliver(o, data, len);
}

static void out_byte(void *ctx, uint32_t byte)
{
    wg_out *o = (wg_out *)ctx;
    if (o->fill == WG_PATCH_PAGE_BYTES) flush(o);
    o->page[o->fill++] = (uint8_t)byte;
}

static void out_u32(wg_out *o, uint32_t v)
{
    out_byte(o, v & 0xffu);
    out_byte(o, (v >> 8) & 0xffu);
    out_byte(o, (v >> 16) & 0xffu);
    out_byte(o, v >> 24);
}

/* The header of docs/format.md 4.3 for B. */
static void write_header(wg_out *o, const wg_patch_ctx *x)
{
    static const uint8_t vt_plain[14] = {0x0e, 0, 0x14, 0, 0x12, 0, 0x0c, 0, 0, 0, 8, 0, 4, 0};
    static const uint8_t vt_signed[14] = {0x0e, 0, 0x18, 0, 0x16, 0, 0x10, 0, 0x0c, 0, 8, 0, 4, 0};
    uint32_t m = x->manifest_len, lic = WG_ALIGN4(2u * x->held_count), k, previous = 0, i;
    out_u32(o, 0x18u);
    out_bytes(o, (const uint8_t *)"WGM1", 4);
    out_byte(o, 0);
    out_byte(o, 0);
    out_bytes(o, x->sig ? vt_signed : vt_plain, 14);
    out_u32(o, 0x0eu);
    if (x->sig) {
        out_u32(o, m + 0x60u + lic);
        out_u32(o, m + 0x58u);
        out_u32(o, m + 0x10u);
    } else {
        out_u32(o, m + 0x18u + lic);
        out_u32(o, m + 0x10u);
    }
    out_u32(o, 8u);
    out_byte(o, 0);
    out_byte(o, 0);
    out_byte(o, 1);
    out_byte(o, 0);
    out_u32(o, m);
    out_bytes(o, x->manifest, m);
    if (x->sig) {
        out_u32(o, 64u);
        out_bytes(o, x->sig, 64);
    }
    out_u32(o, x->held_count);
    /* ascending ids: the smallest id above the previous one, each time */
    for (i = 0; i < x->held_count; i++) {
        uint32_t best = 0x10000u;
        for (k = 0; k < x->b.interval_count; k++) {
            uint32_t id = wg_interval_id(&x->b, k);
            if (b_holds(x, k + 1u) && (i == 0 || id > previous) && id < best) best = id;
        }
        out_byte(o, best & 0xffu);
        out_byte(o, best >> 8);
        previous = best;
    }
    if (x->held_count & 1u) {
        out_byte(o, 0);
        out_byte(o, 0);
    }
    out_u32(o, x->segment_bytes);
}

/* ---- byte delta (8.5) ---- */

static wg_status byte_delta(wg_out *o, const wg_src_seg *src, const uint8_t *data, uint32_t *at, uint32_t end,
                            uint32_t length)
{
    uint32_t t = 0, last = 0, literal, copy, z;
    wg_status st;
    /* each pass adds >= 1 byte to t or ends */
    for (;;) {
        int64_t from;
        if ((st = read_varint(data, at, end, &literal, NULL)) != WG_OK) return st;
        if (literal > length - t) return WG_E_BAD_VALUE;
        if (literal > end - *at) return WG_E_TRUNCATED;
        out_bytes(o, data + *at, literal);
        *at += literal;
        t += literal;
        if (t == length) return WG_OK;
        if ((st = read_varint(data, at, end, &copy, NULL)) != WG_OK) return st;
        if ((st = read_varint(data, at, end, &z, NULL)) != WG_OK) return st;
        from = (int64_t)last + ((z & 1u) == 0 ? (int64_t)(z / 2u) : -(int64_t)(z / 2u) - 1);
        if (copy == 0 || copy > length - t || from < 0 || from + copy > (int64_t)src->len) return WG_E_BAD_VALUE;
        out_bytes(o, src->data + from, copy);
        t += copy;
        last = (uint32_t)from + copy;
    }
}

/* ---- entry delta (8.6) ---- */

#define KIND_INSERT 0u
#define KIND_REMOVE 1u
#define SKIP_AT 2u

typedef struct wg_merge {
    /* source entries, one ahead */
    wg_cursor cur;
    uint32_t s, src_count, pos, raw, have;
    /* target */
    uint32_t made, target_count;
    uint32_t value_bytes; /* pass 1: bytes of each stored form; 0: the stream */
    wg_renc *enc;         /* the stream of a range-coded target, */
    wg_rice_enc *rice;    /* or of a Rice-coded one (then enc is NULL) */
    uint16_t *enc_probs;
    uint32_t enc_max_e, enc_code_at, enc_code_bits;
    int32_t previous;
    wg_out *o;
} wg_merge;

static wg_status src_peek(wg_merge *g)
{
    float value;
    if (g->have) return WG_OK;
    g->have = 1;
    return wg_cursor_next(&g->cur, &g->pos, &value, &g->raw);
}

static wg_status emit(wg_merge *g, uint32_t p, uint32_t raw)
{
    uint32_t i;
    if (g->made >= g->target_count) return WG_E_BAD_VALUE;
    g->made++;
    if (g->value_bytes) {
        for (i = 0; i < g->value_bytes; i++) out_byte(g->o, (raw >> (8u * i)) & 0xffu);
    } else if (g->rice) {
        wg_rice_enc_entry(g->rice, (uint32_t)((int64_t)p - g->previous), raw, g->enc_code_bits);
        g->previous = (int32_t)p;
    } else {
        wg_renc_gap(g->enc, g->enc_probs, 0, g->enc_max_e, (uint32_t)((int64_t)p - g->previous));
        g->previous = (int32_t)p;
        wg_renc_tree(g->enc, g->enc_probs, g->enc_code_at, g->enc_code_bits, raw);
    }
    return WG_OK;
}

static wg_status copy_source(wg_merge *g)
{
    wg_status st = src_peek(g);
    if (st != WG_OK) return st;
    if ((st = emit(g, g->pos, g->raw)) != WG_OK) return st;
    g->have = 0;
    g->s++;
    return WG_OK;
}

/* The entry delta's header at *at; checks of readEntryDeltaHeader. */
static wg_status ed_header(const uint8_t *data, uint32_t *at, uint32_t end, uint32_t src_count,
                           uint32_t target_count, uint32_t *edits, uint32_t *avail)
{
    wg_status st;
    if ((st = read_varint(data, at, end, edits, NULL)) != WG_OK) return st;
    if ((st = read_varint(data, at, end, avail, NULL)) != WG_OK) return st;
    if (*avail > end - *at) return WG_E_TRUNCATED;
    if ((*edits == 0) != (*avail == 0)) return WG_E_BAD_VALUE;
    if ((uint64_t)*edits > 400u * ((uint64_t)*avail + 4u) || (uint64_t)target_count > (uint64_t)src_count + *edits) {
        return WG_E_BAD_VALUE;
    }
    return WG_OK;
}

/* An edit's stored form: a code tree of raw_bits <= 8, else 32 direct bits. */
static wg_status read_raw(wg_rdec *d, uint16_t *probs, uint32_t code_at, uint32_t raw_bits, uint32_t *raw)
{
    uint32_t j;
    int32_t v;
    if (raw_bits <= 8u) {
        v = wg_rdec_tree(d, probs, code_at, raw_bits);
        if (v < 0) return WG_E_BAD_VALUE;
        *raw = (uint32_t)v;
        return WG_OK;
    }
    *raw = 0;
    for (j = 0; j < raw_bits; j++) {
        v = wg_rdec_direct(d);
        if (v < 0) return WG_E_BAD_VALUE;
        *raw = *raw * 2u + (uint32_t)v;
    }
    return WG_OK;
}

/* One merge pass (mergeEntryDelta); *at is left past the delta. */
static wg_status merge_pass(wg_merge *g, const uint8_t *data, uint32_t *at, uint32_t end, uint32_t elements,
                            uint32_t raw_bits, uint16_t *probs)
{
    uint32_t edits, avail, e, max_e = wg_log2_floor(elements), gsize = 5u * (max_e + 1u);
    uint32_t insert_at = SKIP_AT + gsize, code_at = insert_at + gsize, total, i;
    int64_t last = -1;
    wg_rdec d;
    wg_status st = ed_header(data, at, end, g->src_count, g->target_count, &edits, &avail);
    if (st != WG_OK) return st;
    if (edits > 0) {
        total = code_at + (raw_bits <= 8u ? (1u << raw_bits) : 1u);
        for (i = 0; i < total; i++) probs[i] = (uint16_t)WG_PROB_INIT;
        (void)wg_rdec_init(&d, data, *at, *at + avail); /* FF FF FF FF: garbage the checks refuse */
        for (e = 0; e < edits; e++) {
            int32_t bit = wg_rdec_bit(&d, probs, KIND_INSERT), v;
            uint32_t raw = 0, j;
            if (bit < 0) return WG_E_BAD_VALUE;
            if (bit == 1) {
                int64_t p;
                v = wg_rdec_gap(&d, probs, insert_at, max_e);
                if (v < 0) return WG_E_BAD_VALUE;
                p = last + v;
                if (p >= (int64_t)elements) return WG_E_OUT_OF_BOUNDS;
                for (;;) {
                    if (g->s >= g->src_count) break;
                    if ((st = src_peek(g)) != WG_OK) return st;
                    if ((int64_t)g->pos >= p) break;
                    if ((st = copy_source(g)) != WG_OK) return st;
                }
                if (g->s < g->src_count && (int64_t)g->pos == p) return WG_E_BAD_VALUE;
                if ((st = read_raw(&d, probs, code_at, raw_bits, &raw)) != WG_OK) return st;
                if ((st = emit(g, (uint32_t)p, raw)) != WG_OK) return st;
                last = p;
            } else {
                int32_t remove = wg_rdec_bit(&d, probs, KIND_REMOVE);
                uint32_t skip;
                if (remove < 0) return WG_E_BAD_VALUE;
                v = wg_rdec_gap(&d, probs, SKIP_AT, max_e);
                if (v < 0) return WG_E_BAD_VALUE;
                skip = (uint32_t)v;
                if ((uint64_t)g->s + skip - 1u >= g->src_count) return WG_E_BAD_VALUE;
                for (j = 1; j < skip; j++) {
                    if ((st = copy_source(g)) != WG_OK) return st;
                }
                if ((st = src_peek(g)) != WG_OK) return st;
                if (remove == 0) {
                    if ((st = read_raw(&d, probs, code_at, raw_bits, &raw)) != WG_OK) return st;
                    if ((st = emit(g, g->pos, raw)) != WG_OK) return st;
                }
                last = g->pos;
                g->have = 0;
                g->s++;
            }
        }
    }
    while (g->s < g->src_count) {
        if ((st = copy_source(g)) != WG_OK) return st;
    }
    *at += avail;
    return g->made != g->target_count ? WG_E_BAD_VALUE : WG_OK;
}

/* Bytes of working memory one entry delta takes (models, decoder). */
typedef struct ed_plan {
    uint32_t src_bytes, delta_models, tgt_bytes, raw_bits, elements, value_bytes;
    uint32_t enc_max_e, enc_code_at, enc_code_bits, rice;
} ed_plan;

static wg_status ed_plan_for(const wg_patch_ctx *x, const wg_src_seg *src, uint32_t tensor, uint32_t code, ed_plan *p)
{
    uint32_t enc = wg_fb_u8(x->b.manifest, wg_tensor(&x->b, tensor), T_ENCODING, ENC_DENSE_F32);
    uint32_t max_e;
    p->elements = wg_tensor_elements(&x->b, tensor);
    if (wg_tensor_elements(&x->a, src->tensor) != p->elements) return WG_E_BAD_VALUE;
    p->src_bytes = wg_segment_decoder_bytes(&x->a, src->tensor, src->code);
    max_e = wg_log2_floor(p->elements);
    p->raw_bits = enc == ENC_DENSE_F32 ? 32u : 8u;
    p->value_bytes = enc == ENC_DENSE_F32 ? 4u : enc == ENC_INT8 ? 1u : 0u;
    p->enc_code_bits = 0;
    if (enc == ENC_CODEBOOK) {
        p->raw_bits = wg_code_bits(wg_segment_centroids(&x->b, tensor, code));
        p->enc_code_bits = p->raw_bits;
    }
    p->delta_models = 2u + 10u * (max_e + 1u) + (p->raw_bits <= 8u ? (1u << p->raw_bits) : 1u);
    p->enc_max_e = max_e;
    p->enc_code_at = 5u * (max_e + 1u);
    /* the re-encoder's models (a Rice stream has none); the source is
     * decoded in its own tensor's coding, the target encoded in B's */
    p->rice = wg_tensor_coding(&x->b, tensor) == CODING_RICE;
    p->tgt_bytes = p->rice ? 0u : 2u * (p->enc_code_at + (1u << p->enc_code_bits));
    return WG_OK;
}

static uint32_t ed_work(const ed_plan *p)
{
    return WG_ALIGN4(p->src_bytes) + WG_ALIGN4(2u * p->delta_models) + WG_ALIGN4(p->tgt_bytes);
}

static wg_status entry_delta(wg_out *o, const wg_patch_ctx *x, const wg_src_seg *src, uint32_t tensor, uint32_t code,
                             uint32_t target_count, const uint8_t *data, uint32_t *at, uint32_t end, wg_work *w)
{
    ed_plan p;
    wg_merge g;
    wg_renc enc;
    wg_rice_enc rice;
    uint32_t mark = w->top, start = *at, pass, i;
    uint8_t *src_mem, *tgt_mem;
    uint16_t *probs;
    wg_status st;
    if ((st = ed_plan_for(x, src, tensor, code, &p)) != WG_OK) return st;
    tgt_mem = take(w, p.tgt_bytes);
    src_mem = take(w, p.src_bytes);
    probs = (uint16_t *)(void *)take(w, 2u * p.delta_models);
    if ((!tgt_mem && p.tgt_bytes) || (!src_mem && p.src_bytes) || !probs) return WG_E_ARENA_TOO_SMALL;
    wg_renc_init(&enc, out_byte, o);
    wg_rice_enc_init(&rice, wg_rice_k(p.elements, target_count), out_byte, o);
    for (pass = p.value_bytes ? 0u : 1u; pass < 2u; pass++) {
        memset(&g, 0, sizeof(g));
        g.o = o;
        g.src_count = src->count;
        g.target_count = target_count;
        g.value_bytes = pass == 0 ? p.value_bytes : 0u;
        g.enc = &enc;
        g.rice = p.rice ? &rice : NULL;
        g.enc_probs = (uint16_t *)(void *)tgt_mem;
        g.enc_max_e = p.enc_max_e;
        g.enc_code_at = p.enc_code_at;
        g.enc_code_bits = p.enc_code_bits;
        g.previous = -1;
        for (i = 0; i < p.tgt_bytes / 2u; i++) g.enc_probs[i] = (uint16_t)WG_PROB_INIT;
        st = wg_cursor_open(&g.cur, &x->a, src->tensor, src->code, src->count, src->data, src->len, src_mem, NULL);
        if (st == WG_OK) {
            *at = start;
            st = merge_pass(&g, data, at, end, p.elements, p.raw_bits, probs);
        }
        if (st != WG_OK) {
            w->top = mark;
            return st;
        }
    }
    if (p.rice) {
        wg_rice_enc_finish(&rice);
    } else {
        wg_renc_finish(&enc);
    }
    w->top = mark;
    return WG_OK;
}

/* ---- steps 12-19 ---- */

/* The next delta op of the head: its target index and op, or NO_CHANGE. */
static void next_change(const wg_patch_ctx *x, uint32_t *at, uint32_t *left, uint32_t *next, uint32_t *c_at,
                        uint32_t *c_op)
{
    uint32_t v = 0;
    if (*left == 0) {
        *c_at = NO_CHANGE;
        return;
    }
    (void)read_varint(x->body, at, x->head_len, &v, NULL); /* checked by read_head */
    (*left)--;
    *c_at = *next + v / 2u;
    *c_op = OP_BYTE_DELTA + (v & 1u);
    *next = *c_at + 1u;
}

static wg_status write_target(wg_patch_ctx *x, wg_out *o, wg_work *w, wg_patch_info *info)
{
    const uint8_t *data = x->body;
    uint32_t at = x->head_len, end = x->body_len, op = 0, ch_at = x->changes_at, left = x->change_count, next = 0;
    uint32_t c_at, c_op = 0;
    uint8_t digest[32];
    wg_seg_iter it;
    wg_status st = WG_OK;

    o->crypto->sha256_init(&o->whole);
    write_header(o, x);
    next_change(x, &ch_at, &left, &next, &c_at, &c_op);
    wg_seg_begin(&it, &x->b);
    it.index = (uint32_t)-1; /* index: the record just read */
    while (wg_seg_next(&it)) {
        const uint8_t *hash;
        wg_src_seg src;
        int reused;
        uint32_t kind = 1u;
        if (!b_holds(x, it.code)) continue;
        hash = wg_segment_hash(&x->b, it.index);
        reused = find_source(&x->a, hash, 0, 0, &src);
        if (c_at == op) {
            if (reused) return WG_E_BAD_VALUE;
            kind = c_op;
            next_change(x, &ch_at, &left, &next, &c_at, &c_op);
        }
        op++;
        flush(o);
        o->crypto->sha256_init(&o->seg);
        o->in_seg = 1;
        o->seg_bytes = 0;
        o->seg_limit = it.bytes;
        if (reused) {
            out_bytes(o, src.data, src.len);
            info->reused++;
        } else if (kind == 1u) {
            if (it.bytes > end - at) return WG_E_TRUNCATED;
            out_bytes(o, data + at, it.bytes);
            at += it.bytes;
            info->whole++;
        } else {
            if (!find_source(&x->a, NULL, it.tensor, id_of(&x->b, it.code), &src)) return WG_E_WRONG_BASE;
            if (kind == OP_BYTE_DELTA) {
                st = byte_delta(o, &src, data, &at, end, it.bytes);
                info->byte_delta++;
            } else {
                st = entry_delta(o, x, &src, it.tensor, it.code, it.count, data, &at, end, w);
                info->entry_delta++;
            }
            if (st != WG_OK) return st;
        }
        flush(o);
        o->in_seg = 0;
        o->crypto->sha256_final(&o->seg, digest);
        if (o->seg_bytes != it.bytes || memcmp(digest, hash, 32) != 0) return WG_E_HASH_MISMATCH;
        if (o->error != WG_OK) return o->error;
    }
    if (c_at != NO_CHANGE || at != end) return WG_E_BAD_VALUE;
    for (op = 0; op < ((0u - x->segment_bytes) & 3u); op++) out_byte(o, 0);
    flush(o);
    o->crypto->sha256_final(&o->whole, digest);
    if (o->error != WG_OK) return o->error;
    if (memcmp(digest, x->body + HASH_PREFIX, HASH_PREFIX) != 0) return WG_E_HASH_MISMATCH;
    memcpy(info->target_sha256, digest, 32);
    return WG_OK;
}

/* Working memory of the segment ops, above the page: the largest entry delta. */
static wg_status ops_work(const wg_patch_ctx *x, uint32_t *bytes)
{
    uint32_t ch_at = x->changes_at, left = x->change_count, next = 0, c_at, c_op = 0, op = 0;
    wg_seg_iter it;
    *bytes = 0;
    next_change(x, &ch_at, &left, &next, &c_at, &c_op);
    wg_seg_begin(&it, &x->b);
    while (wg_seg_next(&it) && c_at != NO_CHANGE) {
        if (!b_holds(x, it.code)) continue;
        if (c_at == op) {
            wg_src_seg src;
            if (c_op == OP_ENTRY_DELTA &&
                find_source(&x->a, NULL, it.tensor, id_of(&x->b, it.code), &src) &&
                wg_tensor_elements(&x->a, src.tensor) == wg_tensor_elements(&x->b, it.tensor)) {
                ed_plan p;
                uint32_t need;
                (void)ed_plan_for(x, &src, it.tensor, it.code, &p);
                need = ed_work(&p);
                if (need > *bytes) *bytes = need;
            }
            next_change(x, &ch_at, &left, &next, &c_at, &c_op);
        }
        op++;
    }
    return WG_OK;
}

static void fill_info(const wg_patch_ctx *x, wg_patch_info *info)
{
    info->target_bytes = x->total_bytes;
    info->from_version = wg_model_version(&x->a);
    info->to_version = x->to_version;
    info->manifest_mode = x->mode | (x->signed_ ? MODE_SIGNED : 0u);
}

/* The page sits above B's manifest; the ops' memory above the page. */
static uint32_t plan_work(const wg_patch_ctx *x, uint32_t manifest_phase)
{
    uint32_t ops = 0, steady;
    (void)ops_work(x, &ops);
    steady = WG_ALIGN4(x->manifest_mark) + WG_ALIGN4(WG_PATCH_PAGE_BYTES) + ops;
    return steady > manifest_phase ? steady : manifest_phase;
}

wg_status wg_patch_plan(const uint8_t *source, size_t source_len, const uint8_t *patch, size_t patch_len,
                        const wg_crypto *crypto, uint8_t *work, size_t work_size, wg_patch_info *info)
{
    wg_patch_ctx x;
    wg_work w;
    wg_status st;
    if (!source || !patch || !info || (!work && work_size)) return WG_E_BAD_ARGUMENT;
    memset(info, 0, sizeof(*info));
    w.base = work;
    w.size = work_size > 0xffffffffu ? 0xffffffffu : (uint32_t)work_size;
    w.top = w.peak = 0;
    st = prepare(&x, source, source_len, patch, patch_len, crypto, &w);
    if (st == WG_E_ARENA_TOO_SMALL) {
        info->work_bytes = w.peak;
        info->manifest_mode = x.mode | (x.signed_ ? MODE_SIGNED : 0u);
        info->to_version = x.to_version;
    }
    if (st != WG_OK) return st;
    fill_info(&x, info);
    info->work_bytes = plan_work(&x, w.peak);
    return WG_OK;
}

wg_status wg_patch_apply(const uint8_t *source, size_t source_len, const uint8_t *patch, size_t patch_len,
                         const uint8_t *public_key, const wg_crypto *crypto, const wg_patch_sink *sink,
                         uint8_t *work, size_t work_size, wg_patch_info *info)
{
    wg_patch_ctx x;
    wg_work w;
    wg_out o;
    wg_patch_info local;
    wg_status st;
    if (!info) info = &local;
    memset(info, 0, sizeof(*info));
    if (!source || !patch || !crypto || !sink || (!work && work_size)) return WG_E_BAD_ARGUMENT;
    w.base = work;
    w.size = work_size > 0xffffffffu ? 0xffffffffu : (uint32_t)work_size;
    w.top = w.peak = 0;
    st = prepare(&x, source, source_len, patch, patch_len, crypto, &w);
    if (st != WG_OK) {
        if (st == WG_E_ARENA_TOO_SMALL) info->work_bytes = w.peak;
        return st;
    }
    fill_info(&x, info);
    /* the signature of a new manifest, when a key is given */
    if (public_key && x.mode != MODE_SAME) {
        if (!x.sig) return WG_E_UNSIGNED;
        if (crypto->ed25519_verify(x.sig, x.manifest, x.manifest_len, public_key) != 0) return WG_E_BAD_SIGNATURE;
    }
    /* all the memory the ops will take, before the sink is begun */
    if (plan_work(&x, w.peak) > w.size) {
        info->work_bytes = plan_work(&x, w.peak);
        return WG_E_ARENA_TOO_SMALL;
    }
    w.top = x.manifest_mark;
    memset(&o, 0, sizeof(o));
    o.sink = sink;
    o.crypto = crypto;
    o.page = take(&w, WG_PATCH_PAGE_BYTES);
    if (sink->begin && sink->begin(sink->ctx, x.total_bytes) != 0) return WG_E_WRITE_FAILED;
    st = write_target(&x, &o, &w, info);
    info->work_bytes = w.peak;
    return st;
}

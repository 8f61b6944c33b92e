/*
 * wg_flatbuffer.c: the FlatBuffers verifier of formats/container/flatbuffer-verifier.ts
 * and the few accessors the library reads verified buffers with.
 *
 * Layout rules (FlatBuffers internals): a buffer starts with a u32 offset to
 * the root table, then the 4-byte identifier; a table starts with an i32
 * back to its vtable; a vtable is [u16 vtable bytes, u16 table bytes, u16
 * field offsets...]; a vector or string is [u32 length, elements...].
 *
 * Our schemas nest two deep (a root table holds tables and vectors of
 * tables, which hold none), well inside MAX_DEPTH (8), so the verifier needs
 * no recursion: the root's table fields are verified as leaves, in field
 * order, which is the order (and so the error) of the recursive TypeScript
 * verifier. Arithmetic on offsets is 64-bit, so a forged offset cannot wrap.
 */
#include "wg_internal.h"

typedef struct table_spec {
    const wg_field_spec *fields;
    uint8_t count;
} table_spec;

/* Scalars: K_SCALAR, size, flags, default bits. Others: kind, element
 * size, child table, cap. */
#define SCALAR(size, flags, dflt) {K_SCALAR, size, 0, flags, dflt}
#define STRING {K_STRING, 1, 0, 0, WG_MAX_STRING_BYTES}
#define VECTOR(size, max) {K_VECTOR, size, 0, 0, max}

static const wg_field_spec preprocess_fields[] = {
    VECTOR(4, WG_MAX_RANK), SCALAR(4, WG_F_FLOAT, 0x3f800000u), SCALAR(4, WG_F_FLOAT, 0)};
/* Field slots 7-11 (window_h, window_w, stride_h, stride_w, padding:
 * format version 2) are verified in a WG_SPATIAL build, as formats' layerSpec
 * lists them. A build without it neither verifies nor reads them: it
 * refuses version 2 (a Dense layer of version 1 has none; the canonical
 * replay refuses one that sets them). */
static const wg_field_spec layer_fields[] = {
    SCALAR(1, 0, 0), STRING, SCALAR(4, 0, 0), SCALAR(4, 0, 0), SCALAR(1, 0, 0), SCALAR(2, 0, 0), SCALAR(2, 0, 0xffffu)
#if WG_SPATIAL
    , SCALAR(1, 0, 0), SCALAR(1, 0, 0), SCALAR(1, 0, 1), SCALAR(1, 0, 1), SCALAR(1, 0, 0)
#endif
};
static const wg_field_spec tensor_fields[] = {
    STRING, VECTOR(4, WG_MAX_RANK), SCALAR(1, 0, 0), SCALAR(1, 0, 0), VECTOR(4, WG_MAX_CODEBOOK),
    VECTOR(4, 1u << 20), /* per-channel scales: bounded by the last dimension, checked later */
    SCALAR(1, WG_F_BOOL, 0), SCALAR(1, 0, 0) /* coding: range, the default, is left out */};
static const wg_field_spec tier_fields[] = {STRING, VECTOR(2, WG_MAX_INTERVALS), SCALAR(4, WG_F_FLOAT, 0)};
static const wg_field_spec manifest_fields[] = {
    SCALAR(2, 0, 0),
    STRING,
    SCALAR(4, 0, 0),
    {K_TABLE, 0, WG_T_PREPROCESS, 0, 0},
    {K_TABLES, 4, WG_T_LAYER, 0, WG_MAX_LAYERS},
    {K_TABLES, 4, WG_T_TENSOR, 0, WG_MAX_TENSORS},
    VECTOR(4, 2u * WG_MAX_INTERVALS),
    {K_TABLES, 4, WG_T_TIER, 0, WG_MAX_TIERS},
    VECTOR(1, 20u * WG_MAX_SEGMENTS),
    VECTOR(1, 32u * WG_MAX_SEGMENTS),
    VECTOR(2, WG_MAX_INTERVALS),
    SCALAR(1, WG_F_BOOL, 0)};
static const wg_field_spec artifact_fields[] = {
    SCALAR(2, 0, 0), VECTOR(1, WG_MAX_FILE_BYTES), VECTOR(1, 64), VECTOR(2, WG_MAX_INTERVALS),
    VECTOR(1, WG_MAX_FILE_BYTES)};

static const table_spec specs[] = {
    {preprocess_fields, 3}, {layer_fields, sizeof(layer_fields) / sizeof(layer_fields[0])}, {tensor_fields, 8},
    {tier_fields, 3},       {manifest_fields, 12}, {artifact_fields, 5}};

typedef struct vctx {
    const uint8_t *buf;
    uint64_t len;
} vctx;

static wg_status check_vector(const vctx *v, uint64_t pos, uint32_t element, uint32_t max, uint32_t *length)
{
    uint32_t n;
    if (pos + 4u > v->len) return WG_E_OUT_OF_BOUNDS;
    n = wg_u32(v->buf + pos);
    if (n > max) return WG_E_TOO_LARGE;
    if (pos + 4u + (uint64_t)n * element > v->len) return WG_E_OUT_OF_BOUNDS;
    *length = n;
    return WG_OK;
}

/* A table's header: its vtable inside the buffer, sizes sane. */
static wg_status check_header(const vctx *v, uint64_t pos, uint64_t *vt, uint32_t *vt_bytes, uint32_t *table_bytes)
{
    int64_t at;
    if (pos + 4u > v->len) return WG_E_OUT_OF_BOUNDS;
    at = (int64_t)pos - (int32_t)wg_u32(v->buf + pos);
    if (at < 0 || (uint64_t)at + 4u > v->len) return WG_E_OUT_OF_BOUNDS;
    if ((at & 1) != 0) return WG_E_OUT_OF_BOUNDS;
    *vt = (uint64_t)at;
    *vt_bytes = wg_u16(v->buf + at);
    *table_bytes = wg_u16(v->buf + at + 2);
    if (*vt_bytes < 4u || (*vt_bytes & 1u) != 0 || *vt + *vt_bytes > v->len) return WG_E_OUT_OF_BOUNDS;
    if (*table_bytes < 4u || pos + *table_bytes > v->len) return WG_E_OUT_OF_BOUNDS;
    return WG_OK;
}

/* Field i of a table: its slot, and a string or vector's length. For a
 * table-valued field, *target is the child (or vector of children) and
 * *present says whether the field is set. */
static wg_status check_field(const vctx *v, uint64_t pos, uint64_t vt, uint32_t vt_bytes, uint32_t table_bytes,
                             const wg_field_spec *f, uint32_t i, uint64_t *target, uint32_t *length, int *present)
{
    uint32_t entry = 4u + 2u * i, offset, size;
    uint64_t field_pos;
    wg_status st;
    *present = 0;
    if (entry + 2u > vt_bytes) return WG_OK; /* absent: default value */
    offset = wg_u16(v->buf + vt + entry);
    if (offset == 0) return WG_OK;
    size = f->kind == K_SCALAR ? f->size : 4u;
    if (offset < 4u || offset + size > table_bytes) return WG_E_OUT_OF_BOUNDS;
    if (f->kind == K_SCALAR) return WG_OK;
    field_pos = pos + offset;
    *target = field_pos + wg_u32(v->buf + field_pos);
    *present = 1;
    if (f->kind == K_TABLE) return WG_OK;
    st = check_vector(v, *target, f->kind == K_STRING ? 1u : f->kind == K_VECTOR ? f->size : 4u, f->max, length);
    if (st != WG_OK) return st;
    if (f->kind == K_STRING) {
        if (*target + 4u + *length >= v->len || v->buf[*target + 4u + *length] != 0) return WG_E_OUT_OF_BOUNDS;
    }
    return WG_OK;
}

/* A child table: its fields hold no tables in our schemas. */
static wg_status check_leaf(const vctx *v, uint64_t pos, int table)
{
    const table_spec *spec = &specs[table];
    uint64_t vt, target = 0;
    uint32_t vt_bytes, table_bytes, i, length = 0;
    int present;
    wg_status st = check_header(v, pos, &vt, &vt_bytes, &table_bytes);
    for (i = 0; st == WG_OK && i < spec->count; i++) {
        st = check_field(v, pos, vt, vt_bytes, table_bytes, &spec->fields[i], i, &target, &length, &present);
    }
    return st;
}

/* The root table; its table fields are verified where they occur, so the
 * first error is the one the recursive TypeScript verifier reports. */
static wg_status check_root(const vctx *v, uint64_t pos, int table)
{
    const table_spec *spec = &specs[table];
    uint64_t vt, target = 0;
    uint32_t vt_bytes, table_bytes, i, k, length = 0;
    int present;
    wg_status st = check_header(v, pos, &vt, &vt_bytes, &table_bytes);
    for (i = 0; st == WG_OK && i < spec->count; i++) {
        const wg_field_spec *f = &spec->fields[i];
        st = check_field(v, pos, vt, vt_bytes, table_bytes, f, i, &target, &length, &present);
        if (st != WG_OK || !present) continue;
        if (f->kind == K_TABLE) {
            st = check_leaf(v, target, f->table);
        } else if (f->kind == K_TABLES) {
            for (k = 0; st == WG_OK && k < length; k++) {
                uint64_t slot = target + 4u + 4u * (uint64_t)k;
                st = check_leaf(v, slot + wg_u32(v->buf + slot), f->table);
            }
        }
    }
    return st;
}

wg_status wg_fb_verify(const uint8_t *buf, uint32_t len, const char identifier[4], int table)
{
    vctx v;
    if (len > WG_MAX_FILE_BYTES) return WG_E_TOO_LARGE;
    if (len < 8u) return WG_E_TRUNCATED;
    if (memcmp(buf + 4, identifier, 4) != 0) return WG_E_BAD_IDENTIFIER;
    v.buf = buf;
    v.len = len;
    return check_root(&v, wg_u32(buf), table);
}

const wg_field_spec *wg_fb_spec(int table, uint32_t *count)
{
    *count = specs[table].count;
    return specs[table].fields;
}

uint32_t wg_fb_field(const uint8_t *buf, uint32_t table, uint32_t slot)
{
    uint32_t vt = (uint32_t)((int64_t)table - (int32_t)wg_u32(buf + table));
    uint32_t entry = 4u + 2u * slot, offset;
    if (entry + 2u > wg_u16(buf + vt)) return 0;
    offset = wg_u16(buf + vt + entry);
    return offset ? table + offset : 0;
}

uint32_t wg_fb_ref(const uint8_t *buf, uint32_t table, uint32_t slot)
{
    uint32_t at = wg_fb_field(buf, table, slot);
    return at ? at + wg_u32(buf + at) : 0;
}

uint32_t wg_fb_u32(const uint8_t *buf, uint32_t table, uint32_t slot, uint32_t dflt)
{
    uint32_t at = wg_fb_field(buf, table, slot);
    return at ? wg_u32(buf + at) : dflt;
}

uint32_t wg_fb_u16(const uint8_t *buf, uint32_t table, uint32_t slot, uint32_t dflt)
{
    uint32_t at = wg_fb_field(buf, table, slot);
    return at ? wg_u16(buf + at) : dflt;
}

uint32_t wg_fb_u8(const uint8_t *buf, uint32_t table, uint32_t slot, uint32_t dflt)
{
    uint32_t at = wg_fb_field(buf, table, slot);
    return at ? buf[at] : dflt;
}

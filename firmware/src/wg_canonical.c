/*
 * wg_canonical.c: formats/ refuses any manifest or artifact the writer
 * would not produce (manifest-writer.ts, buildArtifactBytes): one content,
 * one byte string. This file replays the writer's FlatBuffers builder calls
 * (flatbuffers' JS Builder: back to front, aligned by prep(), vtables
 * shared when equal) and compares every byte it would write with the byte
 * already there, instead of writing it. No buffer: the builder's offset o
 * is position len - o of the bytes being checked.
 *
 * Memory: stack only, about 400 bytes (the builder state and the offsets of
 * up to WG_MAX_VTABLES distinct vtables; more is refused as not canonical:
 * the writer's manifests have a handful).
 *
 * Cost: about 2.1 KiB of Cortex-M4 code. Building with WG_CANONICAL=0
 * leaves it out: a manifest or container the writer would not produce
 * then opens when everything else holds (structure, hashes, segments,
 * signature) instead of failing with WG_E_BAD_VALUE as formats does.
 */
#include "wg_internal.h"

#ifndef WG_CANONICAL
#define WG_CANONICAL 1
#endif

#if WG_CANONICAL

#define WG_MAX_VTABLES 64u
#define MAX_FIELDS 12u

typedef struct builder {
    const uint8_t *buf;
    uint32_t len;
    uint32_t off;        /* bytes written so far (from the end) */
    uint32_t minalign;
    int bad;
    uint32_t vt[MAX_FIELDS];
    uint32_t fields;
    uint32_t object_start;
    uint32_t vtables[WG_MAX_VTABLES];
    uint32_t vtable_count;
} builder;

/* The byte the builder writes at its offset `o` must be the one there. */
static void put(builder *b, uint8_t byte)
{
    b->off++;
    if (b->off > b->len || b->buf[b->len - b->off] != byte) b->bad = 1;
}

static void put16(builder *b, uint32_t v)
{
    put(b, (uint8_t)(v >> 8));
    put(b, (uint8_t)v);
}

static void put32(builder *b, uint32_t v)
{
    put(b, (uint8_t)(v >> 24));
    put(b, (uint8_t)(v >> 16));
    put(b, (uint8_t)(v >> 8));
    put(b, (uint8_t)v);
}

static void prep(builder *b, uint32_t size, uint32_t additional)
{
    uint32_t align, i;
    if (size > b->minalign) b->minalign = size;
    align = (~(b->off + additional) + 1u) & (size - 1u);
    for (i = 0; i < align; i++) put(b, 0);
}

static void add_offset(builder *b, uint32_t target)
{
    prep(b, 4, 0);
    put32(b, b->off - target + 4u);
}

/* A vector of `n` elements of `size` bytes, alignment `size`; element i
 * at src + stride * i (little-endian, `size` bytes). Returns its offset. */
static uint32_t vector(builder *b, const uint8_t *src, uint32_t n, uint32_t size)
{
    uint32_t i, k;
    prep(b, 4, size * n);
    prep(b, size, size * n);
    for (i = n; i-- > 0;) {
        for (k = size; k-- > 0;) put(b, src[size * i + k]);
    }
    put32(b, n);
    return b->off;
}

/* createString: valid UTF-8 (what TextDecoder gives back unchanged, so no
 * leading BOM), a NUL, the bytes. */
static int utf8_round_trips(const uint8_t *s, uint32_t n)
{
    uint32_t i = 0;
    if (n >= 3u && s[0] == 0xefu && s[1] == 0xbbu && s[2] == 0xbfu) return 0;
    while (i < n) {
        uint32_t c = s[i], extra, cp, k;
        if (c < 0x80u) {
            i++;
            continue;
        }
        if (c >= 0xc2u && c <= 0xdfu) extra = 1, cp = c & 0x1fu;
        else if (c >= 0xe0u && c <= 0xefu) extra = 2, cp = c & 0x0fu;
        else if (c >= 0xf0u && c <= 0xf4u) extra = 3, cp = c & 0x07u;
        else return 0;
        if (i + extra >= n) return 0;
        for (k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0u) != 0x80u) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((extra == 2 && cp < 0x800u) || (extra == 3 && (cp < 0x10000u || cp > 0x10ffffu))) return 0;
        if (cp >= 0xd800u && cp <= 0xdfffu) return 0;
        i += extra + 1u;
    }
    return 1;
}

static uint32_t string(builder *b, const uint8_t *fb, uint32_t ref)
{
    uint32_t n = wg_fb_len(fb, ref);
    const uint8_t *s = ref ? fb + ref + 4u : fb;
    if (!utf8_round_trips(s, n)) b->bad = 1;
    prep(b, 1, 0);
    put(b, 0);
    return vector(b, s, n, 1);
}

static void start_object(builder *b, uint32_t fields)
{
    uint32_t i;
    for (i = 0; i < fields; i++) b->vt[i] = 0;
    b->fields = fields;
    b->object_start = b->off;
}

static void field_offset(builder *b, uint32_t field, uint32_t target)
{
    if (target == 0) return;
    add_offset(b, target);
    b->vt[field] = b->off;
}

/* endObject: the soffset, the vtable (or a shared earlier one). */
static uint32_t end_object(builder *b)
{
    uint16_t vt[MAX_FIELDS + 2u];
    uint32_t loc, trimmed, i, j, n, existing = 0;
    prep(b, 4, 0);
    b->off += 4u; /* the soffset: checked below, once known */
    if (b->off > b->len) b->bad = 1;
    loc = b->off;
    for (trimmed = b->fields; trimmed > 0 && b->vt[trimmed - 1u] == 0; trimmed--) {
    }
    n = trimmed + 2u;
    vt[0] = (uint16_t)(2u * n);
    vt[1] = (uint16_t)(loc - b->object_start);
    for (i = 0; i < trimmed; i++) vt[2u + i] = (uint16_t)(b->vt[i] ? loc - b->vt[i] : 0u);
    if (b->bad) return loc;
    for (i = 0; i < b->vtable_count && !existing; i++) {
        const uint8_t *other = b->buf + b->len - b->vtables[i];
        int same = wg_u16(other) == vt[0];
        for (j = 1; same && j < n; j++) same = wg_u16(other + 2u * j) == vt[j];
        if (same) existing = b->vtables[i];
    }
    if (!existing) {
        for (i = n; i-- > 0;) put16(b, vt[i]);
        if (b->vtable_count == WG_MAX_VTABLES) b->bad = 1;
        else b->vtables[b->vtable_count++] = b->off;
        existing = b->off;
    }
    if (!b->bad && wg_u32(b->buf + b->len - loc) != (uint32_t)((int32_t)existing - (int32_t)loc)) b->bad = 1;
    return loc;
}

/* One table as the writer builds it: fields in slot order, a scalar
 * left out when it equals its default (as a number for floats), an
 * offset field when refs[slot] is set. Scalars come from the table at `at`
 * of `fb`, but slot `over` takes `over_value`. Returns the table's offset. */
static uint32_t table(builder *b, const uint8_t *fb, uint32_t at, int id, const uint32_t *refs, uint32_t over,
                      uint32_t over_value)
{
    uint32_t count, i;
    const wg_field_spec *spec = wg_fb_spec(id, &count);
    start_object(b, count);
    for (i = 0; i < count; i++) {
        const wg_field_spec *f = &spec[i];
        uint32_t v, where;
        if (f->kind != K_SCALAR) {
            field_offset(b, i, refs[i]);
            continue;
        }
        where = at ? wg_fb_field(fb, at, i) : 0;
        v = !where ? f->max : f->size == 1u ? fb[where] : f->size == 2u ? wg_u16(fb + where) : wg_u32(fb + where);
        if (i == over) v = over_value;
        if (f->flags & WG_F_BOOL) v = v != 0;
        if ((f->flags & WG_F_FLOAT) ? wg_f32_of_bits(v) == wg_f32_of_bits(f->max) : v == f->max) continue;
        prep(b, f->size, 0);
        for (where = f->size; where-- > 0;) put(b, (uint8_t)(v >> (8u * where)));
        b->vt[i] = b->off;
    }
    return end_object(b);
}

/* A vector of offsets to the tables `ref` of `fb` points at: canonical
 * when each table sits where the builder put it (checked as it was built). */
static uint32_t tables(builder *b, const uint8_t *fb, uint32_t ref)
{
    uint32_t n = wg_fb_len(fb, ref), i;
    prep(b, 4, 4u * n);
    for (i = n; i-- > 0;) {
        prep(b, 4, 0);
        put32(b, (b->off + 4u) - (b->len - wg_fb_table_at(fb, ref, i)));
    }
    put32(b, n);
    return b->off;
}

/* The field's vector as the reader hands it to the writer. */
static uint32_t same_vector(builder *b, const uint8_t *fb, uint32_t ref, uint32_t size)
{
    return vector(b, ref ? fb + ref + 4u : fb, wg_fb_len(fb, ref), size);
}

/* A child table as the writer makes it: its strings and vectors in slot
 * order (a tensor's codebook only for codebook-sparse, its scales only
 * for int8), then the table, which must sit where the parent points. */
static uint32_t child(builder *b, const uint8_t *fb, uint32_t t, int id)
{
    uint32_t count, k, r[8] = {0}, encoding = id == WG_T_TENSOR ? wg_fb_u8(fb, t, T_ENCODING, 0) : 0u;
    const wg_field_spec *spec = wg_fb_spec(id, &count);
    for (k = 0; k < count; k++) {
        if (spec[k].kind == K_STRING) r[k] = string(b, fb, wg_fb_ref(fb, t, k));
        if (spec[k].kind != K_VECTOR) continue;
        if (id == WG_T_TENSOR && ((k == T_CODEBOOK && encoding != ENC_CODEBOOK) || (k == T_SCALES && encoding != ENC_INT8))) {
            continue;
        }
        r[k] = same_vector(b, fb, wg_fb_ref(fb, t, k), spec[k].size);
    }
    k = table(b, fb, t, id, r, 99, 0);
    if (b->len - k != t) b->bad = 1;
    return k;
}

/* Every table of a vector of tables, then the vector. */
static uint32_t children(builder *b, const uint8_t *fb, uint32_t ref, int id)
{
    uint32_t n = wg_fb_len(fb, ref), i;
    for (i = 0; i < n && !b->bad; i++) (void)child(b, fb, wg_fb_table_at(fb, ref, i), id);
    return tables(b, fb, ref);
}

static int finish(builder *b, uint32_t root, const char id[4])
{
    uint32_t i;
    prep(b, b->minalign, 8);
    for (i = 4; i-- > 0;) put(b, (uint8_t)id[i]);
    prep(b, b->minalign, 4);
    add_offset(b, root);
    return !b->bad && b->off == b->len;
}

static void begin(builder *b, const uint8_t *buf, uint32_t len)
{
    memset(b, 0, sizeof(*b));
    b->buf = buf;
    b->len = len;
    b->minalign = 1;
}

wg_status wg_manifest_canonical(const wg_model *m)
{
    builder bld, *b = &bld;
    const uint8_t *fb = m->manifest;
    uint32_t root = wg_fb_root(fb), refs[12], i, n;
    uint32_t edges = 0, identity = 1;
    begin(b, fb, m->manifest_len);
    memset(refs, 0, sizeof(refs));

    refs[M_MODEL] = string(b, fb, wg_fb_ref(fb, root, M_MODEL));
    refs[M_PREPROCESS] = child(b, fb, wg_fb_ref(fb, root, M_PREPROCESS), WG_T_PREPROCESS);
    refs[M_LAYERS] = children(b, fb, m->layers_at, WG_T_LAYER);
    refs[M_TENSORS] = children(b, fb, m->tensors_at, WG_T_TENSOR);

    /* interval bounds: edges when every interval starts where the last ended */
    if (m->interval_count > 0) {
        edges = 1;
        for (i = 1; i < m->interval_count; i++) {
            if (!(wg_interval_lower(m, i) == wg_interval_upper(m, i - 1u))) edges = 0;
        }
    }
    n = m->interval_count ? (edges ? m->interval_count + 1u : 2u * m->interval_count) : 0u;
    prep(b, 4, 4u * n);
    for (i = n; i-- > 0;) {
        float v;
        if (edges) v = i == 0 ? wg_interval_lower(m, 0) : wg_interval_upper(m, i - 1u);
        else v = (i & 1u) ? wg_interval_upper(m, i / 2u) : wg_interval_lower(m, i / 2u);
        put32(b, wg_bits_of_f32(v));
    }
    put32(b, n);
    refs[M_BOUNDS] = b->off;
    for (i = 0; i < m->interval_count; i++) identity &= wg_interval_id(m, i) == i;
    if (!identity) refs[M_INTERVAL_IDS] = same_vector(b, fb, m->ids_at, 2);

    refs[M_TIERS] = children(b, fb, m->tiers_at, WG_T_TIER);
    /* the writer's varints are minimal; the bytes are otherwise the same */
    refs[M_SEGMENT_TABLE] = same_vector(b, fb, m->table_at ? m->table_at - 4u : 0u, 1);
    if (m->table_padded) b->bad = 1;
    refs[M_HASHES] = same_vector(b, fb, wg_fb_ref(fb, root, M_HASHES), 1);
    i = table(b, fb, root, WG_T_MANIFEST, refs, M_INTERVAL_EDGES, edges);
    return finish(b, i, "WGMM") ? WG_OK : WG_E_BAD_VALUE;
}

wg_status wg_artifact_canonical(const wg_model *m)
{
    builder bld, *b = &bld;
    const uint8_t *a = m->artifact;
    uint32_t root = wg_fb_root(a), refs[5] = {0};
    begin(b, a, m->artifact_len);
    refs[A_SEGMENT_DATA] = vector(b, m->segment_data, m->segment_data_len, 1);
    refs[A_HELD_INTERVALS] = same_vector(b, a, m->held_at, 2);
    if (m->signed_) refs[A_SIGNATURE] = same_vector(b, a, wg_fb_ref(a, root, A_SIGNATURE), 1);
    refs[A_MANIFEST] = vector(b, m->manifest, m->manifest_len, 1);
    return finish(b, table(b, a, root, WG_T_ARTIFACT, refs, 99, 0), "WGM1") ? WG_OK : WG_E_BAD_VALUE;
}

#else /* WG_CANONICAL */

wg_status wg_manifest_canonical(const wg_model *m)
{
    (void)m;
    return WG_OK;
}

/* The artifact container without the builder replay: the reference
 * writer's output is a fixed layout (docs/format.md, section 4.3), so each
 * byte outside the manifest, signature, held interval ids and segment data is
 * known from their lengths. Cheap, and kept in every build: a container
 * is not signed, so its form is checked here or nowhere. */
static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

wg_status wg_artifact_canonical(const wg_model *m)
{
    static const uint8_t vtables[2][14] = {
        {0x0e, 0, 0x14, 0, 0x12, 0, 0x0c, 0, 0, 0, 0x08, 0, 0x04, 0},
        {0x0e, 0, 0x18, 0, 0x16, 0, 0x10, 0, 0x0c, 0, 0x08, 0, 0x04, 0},
    };
    const uint8_t *a = m->artifact;
    uint8_t head[0x30];
    uint32_t s = m->signed_ ? 1u : 0u, n = wg_fb_len(a, m->held_at), len = m->segment_data_len;
    uint32_t man_at = s ? 0x30u : 0x2cu;                  /* manifest vector: length word */
    uint32_t sig_at = man_at + 4u + m->manifest_len;       /* signature vector (signed) */
    uint32_t lic_at = sig_at + (s ? 68u : 0u);             /* held_intervals vector */
    uint32_t seg_at = lic_at + 4u + 2u * n + ((n & 1u) ? 2u : 0u);
    uint32_t end = seg_at + 4u + len, i;
    if ((uint64_t)end + ((0u - len) & 3u) != m->artifact_len || (m->manifest_len & 3u) != 0) return WG_E_BAD_VALUE;
    memset(head, 0, sizeof(head));
    put_u32(head, 0x18u);
    memcpy(head + 4, "WGM1", 4);
    memcpy(head + 0x0a, vtables[s], 14);
    put_u32(head + 0x18, 0x0eu);
    put_u32(head + 0x1c, seg_at - 0x1cu);
    put_u32(head + 0x20, lic_at - 0x20u);
    if (s) put_u32(head + 0x24, sig_at - 0x24u);
    put_u32(head + man_at - 8u, 8u);
    head[man_at - 2u] = 1u; /* format_version 1, the table's last field */
    if (memcmp(a, head, man_at) != 0) return WG_E_BAD_VALUE;
    /* the uoffsets compared above place every vector; their length words too: */
    if (m->held_at != lic_at || m->segment_data != a + seg_at + 4u) return WG_E_BAD_VALUE;
    if ((n & 1u) && (a[seg_at - 2u] | a[seg_at - 1u]) != 0) return WG_E_BAD_VALUE;
    for (i = end; i < m->artifact_len; i++) {
        if (a[i] != 0) return WG_E_BAD_VALUE;
    }
    return WG_OK;
}

#endif /* WG_CANONICAL */

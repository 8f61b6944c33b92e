/*
 * wg_manifest.c: formats/artifact/manifest-reader.ts's checks on a verified manifest,
 * in its order (so the same bad manifest gives the same status), and the
 * lookups the rest of the library reads the manifest with. Stack only.
 * The last check, canonical form, is wg_canonical.c's.
 */
#include "wg_internal.h"

static const char manifest_id[4] = {'W', 'G', 'M', 'M'};

/* Unsigned LEB128, bounded to 32 bits (formats/container/varint.ts). A longer form
 * than the writer's (a last byte of 0 after others) sets *padded. */
static wg_status read_varint(const uint8_t *p, uint32_t *at, uint32_t end, uint32_t *value, uint8_t *padded)
{
    uint64_t v = 0;
    uint32_t shift;
    for (shift = 0; shift < 35u; shift += 7u) {
        uint8_t byte;
        if (*at >= end) return WG_E_TRUNCATED;
        byte = p[(*at)++];
        v += (uint64_t)(byte & 0x7fu) << shift;
        if ((byte & 0x80u) == 0) {
            if (v > 0xffffffffu) break;
            if (byte == 0 && shift > 0) *padded = 1;
            *value = (uint32_t)v;
            return WG_OK;
        }
    }
    return WG_E_BAD_VALUE;
}

void wg_seg_begin(wg_seg_iter *it, const wg_model *m)
{
    memset(it, 0, sizeof(*it));
    it->table = m->manifest + m->table_at;
    it->len = m->table_len;
}

int wg_seg_next(wg_seg_iter *it)
{
    uint32_t delta;
    uint8_t padded;
    if (it->at >= it->len) return 0;
    /* the table was checked by wg_manifest_read: these cannot fail */
    (void)read_varint(it->table, &it->at, it->len, &delta, &padded);
    it->tensor += delta;
    (void)read_varint(it->table, &it->at, it->len, &it->code, &padded);
    (void)read_varint(it->table, &it->at, it->len, &it->count, &padded);
    (void)read_varint(it->table, &it->at, it->len, &it->bytes, &padded);
    it->index++;
    return 1;
}

uint32_t wg_tensor(const wg_model *m, uint32_t t) { return wg_fb_table_at(m->manifest, m->tensors_at, t); }
uint32_t wg_layer(const wg_model *m, uint32_t l) { return wg_fb_table_at(m->manifest, m->layers_at, l); }

/* Elements of the tensor table at `t`, and its channels (last dimension
 * for rank >= 2, else 1); the shape was checked. */
static uint32_t shape_elements(const uint8_t *b, uint32_t t)
{
    uint32_t shape = wg_fb_ref(b, t, T_SHAPE), n = wg_fb_len(b, shape), i, e = 1;
    for (i = 0; i < n; i++) e *= wg_u32(b + shape + 4u + 4u * i);
    return e;
}

static uint32_t shape_channels(const uint8_t *b, uint32_t t)
{
    uint32_t shape = wg_fb_ref(b, t, T_SHAPE), n = wg_fb_len(b, shape);
    return n >= 2u ? wg_u32(b + shape + 4u + 4u * (n - 1u)) : 1u;
}

uint32_t wg_tensor_elements(const wg_model *m, uint32_t t) { return shape_elements(m->manifest, wg_tensor(m, t)); }
uint32_t wg_tensor_channels(const wg_model *m, uint32_t t) { return shape_channels(m->manifest, wg_tensor(m, t)); }

float wg_interval_lower(const wg_model *m, uint32_t i)
{
    return wg_f32_of_bits(wg_u32(m->manifest + m->bounds_at + 4u + 4u * (m->interval_edges ? i : 2u * i)));
}

float wg_interval_upper(const wg_model *m, uint32_t i)
{
    return wg_f32_of_bits(wg_u32(m->manifest + m->bounds_at + 4u + 4u * (m->interval_edges ? i + 1u : 2u * i + 1u)));
}

uint32_t wg_interval_id(const wg_model *m, uint32_t i)
{
    return m->ids_at ? wg_u16(m->manifest + m->ids_at + 4u + 2u * i) : i;
}

int wg_holds(const wg_model *m, uint32_t code)
{
    uint32_t id, n, i;
    if (code == 0) return 1;
    id = wg_interval_id(m, code - 1u);
    n = wg_fb_len(m->artifact, m->held_at);
    for (i = 0; i < n; i++) {
        if (wg_u16(m->artifact + m->held_at + 4u + 2u * i) == id) return 1;
    }
    return 0;
}

/* formats' checkShape: rank >= 1, dimensions >= 1, elements <= cap. */
static wg_status check_shape(const uint8_t *b, uint32_t ref, uint32_t *elements)
{
    uint32_t n = wg_fb_len(b, ref), i;
    uint64_t e = 1;
    if (n == 0) return WG_E_BAD_VALUE;
    for (i = 0; i < n; i++) {
        uint32_t d = wg_u32(b + ref + 4u + 4u * i);
        if (d < 1u) return WG_E_BAD_VALUE;
        e *= d;
        if (e > WG_MAX_TENSOR_ELEMENTS) return WG_E_TOO_LARGE;
    }
    *elements = (uint32_t)e;
    return WG_OK;
}

static int floats_finite(const uint8_t *b, uint32_t ref)
{
    uint32_t n = wg_fb_len(b, ref), i;
    for (i = 0; i < n; i++) {
        if (!wg_finite_bits(wg_u32(b + ref + 4u + 4u * i))) return 0;
    }
    return 1;
}

static wg_status check_tensor(const uint8_t *b, uint32_t t)
{
    uint32_t elements = 0, shape = wg_fb_ref(b, t, T_SHAPE);
    uint32_t encoding = wg_fb_u8(b, t, T_ENCODING, ENC_DENSE_F32), bits = wg_fb_u8(b, t, T_BITS, 0);
    uint32_t codebook = wg_fb_ref(b, t, T_CODEBOOK), scales = wg_fb_ref(b, t, T_SCALES);
    uint32_t n_codebook = wg_fb_len(b, codebook), n_scales = wg_fb_len(b, scales);
    wg_status st = check_shape(b, shape, &elements);
    if (st != WG_OK) return st;
    if (encoding > ENC_CODEBOOK) return WG_E_BAD_VALUE;
    if (encoding == ENC_CODEBOOK) {
        uint32_t cap = 1u << (bits > 8u ? 8u : bits);
        if (bits < 1u || bits > 8u) return WG_E_BAD_VALUE;
        if (n_codebook < 1u || n_codebook > cap) return WG_E_BAD_VALUE;
        if (!floats_finite(b, codebook)) return WG_E_BAD_VALUE;
    } else if (n_codebook != 0) {
        return WG_E_BAD_VALUE;
    }
    if (encoding == ENC_INT8) {
        if (bits != 8u) return WG_E_BAD_VALUE;
        if (n_scales != shape_channels(b, t)) return WG_E_BAD_VALUE;
        if (!floats_finite(b, scales)) return WG_E_BAD_VALUE;
    } else if (n_scales != 0) {
        return WG_E_BAD_VALUE;
    }
    if (encoding == ENC_DENSE_F32 && bits != 32u) return WG_E_BAD_VALUE;
    if (wg_fb_u8(b, t, T_CODING, CODING_RANGE) > CODING_RICE) return WG_E_BAD_VALUE;
    return WG_OK;
}

#if !WG_SPATIAL
/* A version-1 layer: Dense, its kernel [inputs, units], its bias `units`
 * values (a WG_SPATIAL build checks layers in wg_spatial.c). */
static wg_status check_layer(const wg_model *m, uint32_t l, uint32_t tensor_count)
{
    const uint8_t *b = m->manifest;
    uint32_t layer = wg_layer(m, l), kernel, shape;
    uint32_t inputs = wg_fb_u32(b, layer, L_INPUTS, 0), units = wg_fb_u32(b, layer, L_UNITS, 0);
    uint32_t kernel_index = wg_fb_u16(b, layer, L_KERNEL, 0);
    int32_t bias = (int16_t)wg_fb_u16(b, layer, L_BIAS, 0xffffu);
    if (wg_fb_u8(b, layer, L_KIND, 0) != 0) return WG_E_BAD_VALUE;
    if (wg_fb_u8(b, layer, L_ACTIVATION, ACT_LINEAR) > ACT_TANH) return WG_E_BAD_VALUE;
    if (kernel_index >= tensor_count) return WG_E_BAD_VALUE;
    kernel = wg_tensor(m, kernel_index);
    shape = wg_fb_ref(b, kernel, T_SHAPE);
    if (wg_fb_len(b, shape) != 2u || wg_u32(b + shape + 4u) != inputs || wg_u32(b + shape + 8u) != units) {
        return WG_E_BAD_VALUE;
    }
    if (bias != -1) {
        if (bias < 0 || (uint32_t)bias >= tensor_count) return WG_E_BAD_VALUE;
        if (shape_elements(b, wg_tensor(m, (uint32_t)bias)) != units) return WG_E_BAD_VALUE;
    }
    return WG_OK;
}
#endif

static wg_status check_intervals(const wg_model *m)
{
    uint32_t i, j;
    for (i = 0; i < m->interval_count; i++) {
        uint32_t id = wg_interval_id(m, i);
        float lower = wg_interval_lower(m, i), upper = wg_interval_upper(m, i);
        uint32_t lo = wg_bits_of_f32(lower), hi = wg_bits_of_f32(upper);
        if (id == WG_BASE_INTERVAL) return WG_E_BAD_VALUE;
        for (j = 0; j < i; j++) {
            if (wg_interval_id(m, j) == id) return WG_E_BAD_VALUE;
        }
        if (!wg_finite_bits(lo) || !wg_finite_bits(hi) || !(lower <= upper)) {
            return WG_E_BAD_VALUE;
        }
    }
    return WG_OK;
}

static int interval_known(const wg_model *m, uint32_t id)
{
    uint32_t i;
    for (i = 0; i < m->interval_count; i++) {
        if (wg_interval_id(m, i) == id) return 1;
    }
    return 0;
}

static wg_status check_tiers(const wg_model *m)
{
    const uint8_t *b = m->manifest;
    uint32_t n = wg_fb_len(b, m->tiers_at), i, j;
    for (i = 0; i < n; i++) {
        uint32_t tier = wg_fb_table_at(b, m->tiers_at, i), ids = wg_fb_ref(b, tier, TI_INTERVALS);
        uint32_t k = wg_fb_len(b, ids);
        for (j = 0; j < k; j++) {
            if (!interval_known(m, wg_u16(b + ids + 4u + 2u * j))) return WG_E_BAD_VALUE;
        }
        if (!wg_finite_bits(wg_fb_u32(b, tier, TI_ACCURACY, 0))) return WG_E_BAD_VALUE;
    }
    return WG_OK;
}

/* The segment table: varints, canonical order, counts, one hash each. */
static wg_status check_segments(wg_model *m, uint32_t tensor_count, uint32_t hash_bytes)
{
    const uint8_t *p = m->manifest + m->table_at;
    uint32_t at = 0, i, previous_tensor = 0, nonzero = 0;
    uint64_t previous_key = 0;
    int first = 1;
    for (i = 0; at < m->table_len; i++) {
        uint32_t delta, code, count, bytes, elements, t, licensed;
        uint64_t tensor, key;
        wg_status st;
        if (i >= WG_MAX_SEGMENTS) return WG_E_TOO_LARGE;
        if (32u * (uint64_t)(i + 1u) > hash_bytes) return WG_E_BAD_VALUE;
        if ((st = read_varint(p, &at, m->table_len, &delta, &m->table_padded)) != WG_OK) return st;
        tensor = (uint64_t)previous_tensor + delta;
        if ((st = read_varint(p, &at, m->table_len, &code, &m->table_padded)) != WG_OK) return st;
        if (tensor >= tensor_count) return WG_E_BAD_VALUE;
        t = wg_tensor(m, (uint32_t)tensor);
        licensed = wg_fb_u8(m->manifest, t, T_LICENSED, 0) != 0;
        if (code > m->interval_count) return WG_E_BAD_VALUE;
        if (licensed == (code == 0)) return WG_E_BAD_VALUE;
        if ((st = read_varint(p, &at, m->table_len, &count, &m->table_padded)) != WG_OK) return st;
        if ((st = read_varint(p, &at, m->table_len, &bytes, &m->table_padded)) != WG_OK) return st;
        key = tensor * 0x10000u + code;
        if (!first && key <= previous_key) return WG_E_BAD_VALUE;
        if (first || tensor != previous_tensor) nonzero = 0;
        first = 0;
        previous_key = key;
        previous_tensor = (uint32_t)tensor;
        elements = shape_elements(m->manifest, t);
        if (count < 1u || count > elements) return WG_E_BAD_VALUE;
        nonzero += count;
        if (nonzero > elements) return WG_E_BAD_VALUE;
    }
    if (hash_bytes != 32u * (uint64_t)i) return WG_E_BAD_VALUE;
    m->segment_count = i;
    return WG_OK;
}

wg_status wg_manifest_read(wg_model *m, const uint8_t *b, uint32_t len)
{
    uint32_t root, pre, shape, elements, i, tensor_count, bound_count, id_count, hashes;
#if WG_SPATIAL
    uint32_t version;
#endif
    wg_status st = wg_fb_verify(b, len, manifest_id, WG_T_MANIFEST);
    if (st != WG_OK) return st;
    m->manifest = b;
    m->manifest_len = len;
    root = wg_fb_root(b);
#if WG_SPATIAL
    version = wg_fb_u16(b, root, M_FORMAT_VERSION, 0);
    if (version != WG_FORMAT_VERSION && version != 2u) return WG_E_UNSUPPORTED_VERSION;
#else
    /* version 2 (convolutional models) needs a WG_SPATIAL build */
    if (wg_fb_u16(b, root, M_FORMAT_VERSION, 0) != WG_FORMAT_VERSION) return WG_E_UNSUPPORTED_VERSION;
#endif
    if (wg_fb_len(b, wg_fb_ref(b, root, M_MODEL)) == 0) return WG_E_BAD_VALUE;
    if (wg_fb_u32(b, root, M_VERSION, 0) < 1u) return WG_E_BAD_VALUE;

    pre = wg_fb_ref(b, root, M_PREPROCESS);
    if (!pre) return WG_E_BAD_VALUE;
    shape = wg_fb_ref(b, pre, P_INPUT_SHAPE);
    if ((st = check_shape(b, shape, &elements)) != WG_OK) return st;
    m->inputs = elements;
    m->scale = wg_f32_of_bits(wg_fb_u32(b, pre, P_SCALE, 0x3f800000u));
    m->offset = wg_f32_of_bits(wg_fb_u32(b, pre, P_OFFSET, 0));
    if (!wg_finite_bits(wg_bits_of_f32(m->scale)) || !wg_finite_bits(wg_bits_of_f32(m->offset))) return WG_E_BAD_VALUE;

    m->tensors_at = wg_fb_ref(b, root, M_TENSORS);
    tensor_count = wg_fb_len(b, m->tensors_at);
    for (i = 0; i < tensor_count; i++) {
        if ((st = check_tensor(b, wg_tensor(m, i))) != WG_OK) return st;
    }
    m->layers_at = wg_fb_ref(b, root, M_LAYERS);
    m->layer_count = wg_fb_len(b, m->layers_at);
#if WG_SPATIAL
    if ((st = wg_graph_check(m, version, tensor_count)) != WG_OK) return st;
#else
    for (i = 0; i < m->layer_count; i++) {
        if ((st = check_layer(m, i, tensor_count)) != WG_OK) return st;
    }
#endif

    m->bounds_at = wg_fb_ref(b, root, M_BOUNDS);
    bound_count = wg_fb_len(b, m->bounds_at);
    m->interval_edges = wg_fb_u8(b, root, M_INTERVAL_EDGES, 0) != 0;
    if (m->interval_edges ? bound_count < 2u : (bound_count & 1u) != 0) return WG_E_BAD_VALUE;
    m->interval_count = m->interval_edges ? bound_count - 1u : bound_count / 2u;
    m->ids_at = wg_fb_ref(b, root, M_INTERVAL_IDS);
    id_count = wg_fb_len(b, m->ids_at);
    if (id_count != 0 && id_count != m->interval_count) return WG_E_BAD_VALUE;
    if (id_count == 0) m->ids_at = 0;
    if ((st = check_intervals(m)) != WG_OK) return st;

    m->tiers_at = wg_fb_ref(b, root, M_TIERS);
    if ((st = check_tiers(m)) != WG_OK) return st;

    m->table_at = wg_fb_ref(b, root, M_SEGMENT_TABLE);
    m->table_len = wg_fb_len(b, m->table_at);
    if (m->table_at) m->table_at += 4u;
    hashes = wg_fb_ref(b, root, M_HASHES);
    if ((st = check_segments(m, tensor_count, wg_fb_len(b, hashes))) != WG_OK) return st;
    /* one manifest, one byte string: the signature pins the content */
    return wg_manifest_canonical(m);
}

const uint8_t *wg_segment_hash(const wg_model *m, uint32_t i)
{
    uint32_t hashes = wg_fb_ref(m->manifest, wg_fb_root(m->manifest), M_HASHES);
    return m->manifest + hashes + 4u + 32u * i;
}

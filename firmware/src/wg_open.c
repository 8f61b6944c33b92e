/*
 * wg_open.c: reading an artifact as formats/artifact/artifact-reader.ts does (same
 * checks, same order, same status), the arena plan of docs/arithmetic.md,
 * and preparing the kernels.
 *
 * Arena layout after wg_open (offsets 4-byte aligned, L layers):
 *
 *   0                 L x wg_layer_state (16 bytes): int exponents, flags
 *   16L               activations, even layers' outputs   4 x max even output
 *   16L + 4 x even    activations, odd layers' outputs    4 x max odd output
 *                     (and first the preprocessed input, when it is a map)
 *   coded: after them the decoder of the one open segment (the largest held)
 *
 * A layer's output is its units (Dense) or its feature map's values
 * (WG_SPATIAL builds: wg_graph_regions).
 */
#include "wg_internal.h"

static const char artifact_id[4] = {'W', 'G', 'M', '1'};

const char *wg_status_str(wg_status status)
{
    switch (status) {
    case WG_OK: return "WG_OK";
    case WG_E_TRUNCATED: return "WG_E_TRUNCATED";
    case WG_E_BAD_IDENTIFIER: return "WG_E_BAD_IDENTIFIER";
    case WG_E_OUT_OF_BOUNDS: return "WG_E_OUT_OF_BOUNDS";
    case WG_E_TOO_LARGE: return "WG_E_TOO_LARGE";
    case WG_E_BAD_VALUE: return "WG_E_BAD_VALUE";
    case WG_E_HASH_MISMATCH: return "WG_E_HASH_MISMATCH";
    case WG_E_BAD_SIGNATURE: return "WG_E_BAD_SIGNATURE";
    case WG_E_UNSIGNED: return "WG_E_UNSIGNED";
    case WG_E_UNSUPPORTED_VERSION: return "WG_E_UNSUPPORTED_VERSION";
    case WG_E_MISSING_SEGMENT: return "WG_E_MISSING_SEGMENT";
    case WG_E_ARENA_TOO_SMALL: return "WG_E_ARENA_TOO_SMALL";
    case WG_E_UNSUPPORTED: return "WG_E_UNSUPPORTED";
    case WG_E_BAD_ARGUMENT: return "WG_E_BAD_ARGUMENT";
    case WG_E_BAD_IMAGE: return "WG_E_BAD_IMAGE";
    case WG_E_WRITE_FAILED: return "WG_E_WRITE_FAILED";
    case WG_E_WRONG_BASE: return "WG_E_WRONG_BASE";
    case WG_E_ROLLBACK: return "WG_E_ROLLBACK";
    }
    return "WG_E_UNKNOWN";
}

void wg_hash(const wg_crypto *crypto, const uint8_t *data, size_t len, uint8_t digest[32])
{
    wg_sha256_ctx ctx;
    crypto->sha256_init(&ctx);
    crypto->sha256_update(&ctx, data, len);
    crypto->sha256_final(&ctx, digest);
}

/* The container: structure, format version, the manifest's presence and
 * the signature's length; nothing nested is read yet. Fills `m`'s artifact
 * part and the manifest's place (not its contents). */
static wg_status read_container(wg_model *m, const uint8_t *artifact, size_t len)
{
    uint32_t root, ref;
    wg_status st;
    memset(m, 0, sizeof(*m));
    if (len > WG_MAX_FILE_BYTES) return WG_E_TOO_LARGE;
    st = wg_fb_verify(artifact, (uint32_t)len, artifact_id, WG_T_ARTIFACT);
    if (st != WG_OK) return st;
    m->artifact = artifact;
    m->artifact_len = (uint32_t)len;
    root = wg_fb_root(artifact);
    if (wg_fb_u16(artifact, root, A_FORMAT_VERSION, 0) != WG_FORMAT_VERSION) return WG_E_UNSUPPORTED_VERSION;
    ref = wg_fb_ref(artifact, root, A_MANIFEST);
    if (!ref) return WG_E_BAD_VALUE;
    m->manifest = artifact + ref + 4u;
    m->manifest_len = wg_u32(artifact + ref);
    ref = wg_fb_ref(artifact, root, A_SIGNATURE);
    if (ref) {
        if (wg_u32(artifact + ref) != 64u) return WG_E_BAD_SIGNATURE;
        m->signed_ = 1;
    }
    m->held_at = wg_fb_ref(artifact, root, A_HELD_INTERVALS);
    ref = wg_fb_ref(artifact, root, A_SEGMENT_DATA);
    m->segment_data = ref ? artifact + ref + 4u : artifact;
    m->segment_data_len = ref ? wg_u32(artifact + ref) : 0u;
    return WG_OK;
}

/* The manifest and the held intervals (ids: known, ascending). */
static wg_status read_manifest_and_held(wg_model *m)
{
    uint32_t n = wg_fb_len(m->artifact, m->held_at), i, previous = 0;
    wg_status st = wg_manifest_read(m, m->manifest, m->manifest_len);
    if (st != WG_OK) return st;
    for (i = 0; i < n; i++) {
        uint32_t id = wg_u16(m->artifact + m->held_at + 4u + 2u * i), k, known = 0;
        for (k = 0; k < m->interval_count && !known; k++) known = wg_interval_id(m, k) == id;
        if (!known) return WG_E_BAD_VALUE;
        if (i > 0 && id <= previous) return WG_E_BAD_VALUE;
        previous = id;
    }
    return WG_OK;
}

/* Structure, manifest and held intervals: what wg_plan needs (no signature). */
wg_status wg_read_structure(wg_model *m, const uint8_t *artifact, size_t len)
{
    wg_status st = read_container(m, artifact, len);
    return st != WG_OK ? st : read_manifest_and_held(m);
}

/* Entries a segment of `bytes` may declare at most: formats' maxEntriesFor,
 * (bytes + 8) * 364 (no decision of the coder costs less than 1/364 byte). */
#define WG_MAX_ENTRIES_PER_BYTE 364u

/* The held segments' declared sizes against the file, before any is hashed
 * or decoded: a codebook segment declaring more entries than its bytes can
 * code is TRUNCATED, and so is segment data shorter than declared; longer
 * is BAD_VALUE (formats' readArtifact, same order). */
static wg_status check_declared(const wg_model *m)
{
    wg_seg_iter it;
    uint64_t declared = 0;
    wg_seg_begin(&it, m);
    while (wg_seg_next(&it)) {
        if (!wg_holds(m, it.code)) continue;
        declared += it.bytes;
        if (wg_fb_u8(m->manifest, wg_tensor(m, it.tensor), T_ENCODING, 0) == ENC_CODEBOOK &&
            (uint64_t)it.count > ((uint64_t)it.bytes + 8u) * WG_MAX_ENTRIES_PER_BYTE) {
            return WG_E_TRUNCATED;
        }
    }
    if (declared != m->segment_data_len) return declared > m->segment_data_len ? WG_E_TRUNCATED : WG_E_BAD_VALUE;
    return WG_OK;
}

#if WG_SPATIAL
/* The plan's sums in 64 bits: a convolutional model's maps may pass 4 GiB
 * on paper; such a plan is 0xffffffff, which no arena meets. */
static uint32_t saturate(uint64_t n) { return n > 0xffffffffu ? 0xffffffffu : (uint32_t)n; }

void wg_plan_model(const wg_model *m, wg_plan_info *plan)
{
    uint32_t decoder = 0;
    uint64_t regions[3], fixed;
    wg_seg_iter it;
    memset(plan, 0, sizeof(*plan));
    wg_graph_regions(m, regions);
    wg_seg_begin(&it, m);
    while (wg_seg_next(&it)) {
        uint32_t d;
        if (!wg_holds(m, it.code)) continue;
        d = wg_segment_decoder_bytes(m, it.tensor, it.code);
        decoder = d > decoder ? d : decoder;
    }
    fixed = 16u * (uint64_t)m->layer_count + 4u * (regions[0] + regions[1]);
    plan->arena_coded = saturate(fixed + decoder);
    plan->arena_image = saturate(fixed);
    plan->inputs = m->inputs;
    plan->outputs = saturate(regions[2]);
}
#else
void wg_plan_model(const wg_model *m, wg_plan_info *plan)
{
    const uint8_t *b = m->manifest;
    uint32_t l, even = 0, odd = 0, decoder = 0, layers = 16u * m->layer_count, activations;
    wg_seg_iter it;
    memset(plan, 0, sizeof(*plan));
    for (l = 0; l < m->layer_count; l++) {
        uint32_t units = wg_fb_u32(b, wg_layer(m, l), L_UNITS, 0);
        if (l % 2u == 0) even = units > even ? units : even;
        else odd = units > odd ? units : odd;
    }
    wg_seg_begin(&it, m);
    while (wg_seg_next(&it)) {
        uint32_t d;
        if (!wg_holds(m, it.code)) continue;
        d = wg_segment_decoder_bytes(m, it.tensor, it.code);
        decoder = d > decoder ? d : decoder;
    }
    activations = 4u * (even + odd);
    plan->arena_coded = layers + activations + decoder;
    plan->arena_image = layers + activations;
    plan->inputs = m->inputs;
    plan->outputs = m->layer_count ? wg_fb_u32(b, wg_layer(m, m->layer_count - 1u), L_UNITS, 0) : 0u;
}
#endif

wg_status wg_plan(const uint8_t *artifact, size_t len, wg_plan_info *plan)
{
    wg_model m;
    wg_status st;
    if (!artifact || !plan) return WG_E_BAD_ARGUMENT;
    st = wg_read_structure(&m, artifact, len);
    if (st == WG_OK) wg_plan_model(&m, plan);
    return st;
}

/* What the kernels can run: a chain of Dense layers, linear or relu, and a
 * softmax last layer (its logits are returned), over tensors in codings
 * this build decodes (WG_CODING_RANGE, WG_CODING_RICE). A WG_SPATIAL
 * build also runs version 2 (docs/firmware.md): relu6, and spatial layers
 * with the coded kernels, on both paths; softmax only on a Dense last
 * layer. */
static wg_status check_supported(const wg_model *m)
{
    const uint8_t *b = m->manifest;
    uint32_t l, previous = m->inputs, t, tensors = wg_fb_len(b, m->tensors_at);
    if (m->layer_count == 0) return WG_E_UNSUPPORTED;
    for (t = 0; t < tensors; t++) {
        if (!wg_coding_built(wg_tensor_coding(m, t))) return WG_E_UNSUPPORTED;
    }
    for (l = 0; l < m->layer_count; l++) {
        uint32_t layer = wg_layer(m, l), act = wg_fb_u8(b, layer, L_ACTIVATION, ACT_LINEAR);
#if WG_SPATIAL
        /* version 2: the manifest reader linked the chain */
        if (!(m->graph & WG_GRAPH_V2) && wg_fb_u32(b, layer, L_INPUTS, 0) != previous) return WG_E_UNSUPPORTED;
        if (act == ACT_SOFTMAX && wg_fb_u8(b, layer, L_KIND, KIND_DENSE) != KIND_DENSE) return WG_E_UNSUPPORTED;
#else
        if (wg_fb_u32(b, layer, L_INPUTS, 0) != previous) return WG_E_UNSUPPORTED;
#endif
        previous = wg_fb_u32(b, layer, L_UNITS, 0);
        if (act == ACT_SIGMOID || act == ACT_TANH) return WG_E_UNSUPPORTED;
        if (act == ACT_SOFTMAX && l + 1u != m->layer_count) return WG_E_UNSUPPORTED;
    }
    return WG_OK;
}

#ifdef WG_ARITH_INT
/* The largest |value| of a tensor's held entries is known: set the
 * exponents of every layer that uses it. */
static void set_exponents(wg_model *m, wg_layer_state *ls, uint32_t tensor, uint32_t max_bits)
{
    const uint8_t *b = m->manifest;
    uint32_t l;
    for (l = 0; l < m->layer_count; l++) {
        uint32_t layer = wg_layer(m, l);
        int32_t bias = (int16_t)wg_fb_u16(b, layer, L_BIAS, 0xffffu);
        if (wg_fb_u16(b, layer, L_KERNEL, 0) == tensor) ls[l].fw = wg_fit(max_bits, 127);
        if (bias >= 0 && (uint32_t)bias == tensor) {
            ls[l].fb = wg_fit(max_bits, (int64_t)1 << 30);
            ls[l].flags |= WG_LS_BIAS_HELD;
        }
    }
}

wg_status wg_prepare_input(wg_model *m)
{
    const wg_layer_state *ls = (const wg_layer_state *)(const void *)m->arena;
    float top = (float)255 * m->scale;
    uint32_t a, c, l;
    int64_t s, o;
    int32_t fx;
#if WG_SPATIAL
    uint32_t first;
    int32_t bound;
#endif
    for (l = 0; l < m->layer_count; l++) {
        if (ls[l].fw < -64 || ls[l].fb < -64) return WG_E_UNSUPPORTED; /* fit had no solution */
    }
    top = top + m->offset;
    a = wg_bits_of_f32(m->offset) & 0x7fffffffu;
    c = wg_bits_of_f32(top) & 0x7fffffffu;
#if WG_SPATIAL
    /* the first weighted layer's bound and bias (none: 32767, nothing lowers fx) */
    first = wg_weighted_ahead(m, 0, &bound);
    fx = wg_fit(a > c ? a : c, bound); /* binary32 magnitudes order as their bits */
    if (first < m->layer_count && (ls[first].flags & WG_LS_BIAS_HELD) && ls[first].fb - ls[first].fw < fx) fx = ls[first].fb - ls[first].fw;
#else
    /* binary32 magnitudes order as their bits */
    fx = wg_fit(a > c ? a : c, wg_activation_bound(m->inputs));
    if ((ls[0].flags & WG_LS_BIAS_HELD) && ls[0].fb - ls[0].fw < fx) fx = ls[0].fb - ls[0].fw;
#endif
    s = wg_rnd_pow2(wg_bits_of_f32(m->scale), fx + 15);
    o = wg_rnd_pow2(wg_bits_of_f32(m->offset), fx + 15);
    if (s > INT32_MAX || s < INT32_MIN || o > INT32_MAX || o < INT32_MIN) return WG_E_UNSUPPORTED;
    m->in_scale = (int32_t)s;
    m->in_offset = (int32_t)o;
    m->in_exp = fx;
    return WG_OK;
}
#endif

/* Every held segment: SHA-256, then (coded kernels) decoded once and
 * re-encoded to check it, formats' validateSegment, with its decoder at
 * `dec`; `dec` NULL (image kernels, or a signature verified on the f32
 * path: the hash binds the segment to the publisher's encoder, as formats'
 * readArtifact) leaves that out. */
static wg_status check_segments(wg_model *m, const wg_crypto *crypto, uint8_t *dec)
{
    wg_seg_iter it;
    wg_cursor c;
    wg_reencoder enc;
    uint32_t at = 0;
    uint8_t digest[32];
#ifdef WG_ARITH_INT
    wg_layer_state *ls = (wg_layer_state *)(void *)m->arena;
    uint32_t max_bits = 0, tensor = 0;
    int any = 0;
#endif
    wg_seg_begin(&it, m);
    it.index = (uint32_t)-1;
    while (wg_seg_next(&it)) {
        const uint8_t *data = m->segment_data + at;
        uint32_t n;
        wg_status st;
        if (!wg_holds(m, it.code)) continue;
        if ((uint64_t)at + it.bytes > m->segment_data_len) return WG_E_TRUNCATED;
        at += it.bytes;
        wg_hash(crypto, data, it.bytes, digest);
        if (memcmp(digest, wg_segment_hash(m, it.index), 32) != 0) return WG_E_HASH_MISMATCH;
        if (!dec) continue;
        st = wg_cursor_open(&c, m, it.tensor, it.code, it.count, data, it.bytes, dec, &enc);
        if (st != WG_OK) return st;
#ifdef WG_ARITH_INT
        if (any && it.tensor != tensor) set_exponents(m, ls, tensor, max_bits), max_bits = 0;
        tensor = it.tensor;
        any = 1;
#endif
        for (n = 0; n < it.count; n++) {
            uint32_t position, raw;
            float value;
            st = wg_cursor_next(&c, &position, &value, &raw);
            if (st != WG_OK) return st;
#ifdef WG_ARITH_INT
            {
                uint32_t mag = wg_bits_of_f32(value) & 0x7fffffffu;
                max_bits = mag > max_bits ? mag : max_bits;
            }
#endif
        }
    }
#ifdef WG_ARITH_INT
    if (any) set_exponents(m, ls, tensor, max_bits);
#endif
    if (at != m->segment_data_len) return WG_E_BAD_VALUE;
    return wg_artifact_canonical(m);
}

wg_status wg_open(wg_model *m, const uint8_t *artifact, size_t len, const uint8_t *public_key,
                  const wg_crypto *crypto, unsigned flags, uint8_t *arena, size_t arena_size)
{
    wg_plan_info plan;
    wg_status st;
    uint32_t need, l, even = 0, odd = 0;
    if (!m || !artifact || !crypto || !arena || ((uintptr_t)arena & 3u) != 0) return WG_E_BAD_ARGUMENT;
    if (!public_key && !(flags & WG_OPEN_ALLOW_UNSIGNED)) return WG_E_BAD_ARGUMENT;
    /* The cheapest decisive check first, as formats' readArtifact: with a
     * key, the signature over the manifest's exact bytes before any of them
     * is parsed. A signed manifest is one the publisher's writer made, so
     * its canonical form needs no replay (WG_CANONICAL=0 builds skip it). */
    st = read_container(m, artifact, len);
    if (st != WG_OK) return st;
    if (public_key) {
        uint32_t ref = wg_fb_ref(artifact, wg_fb_root(artifact), A_SIGNATURE);
        if (!m->signed_) return WG_E_UNSIGNED;
        if (!(flags & WG_OPEN_VERIFIED) && crypto->ed25519_verify(artifact + ref + 4u, m->manifest, m->manifest_len, public_key) != 0) {
            return WG_E_BAD_SIGNATURE;
        }
    }
    st = read_manifest_and_held(m);
    if (st != WG_OK) return st;
    st = check_declared(m);
    if (st != WG_OK) return st;
    wg_plan_model(m, &plan);
    need = (flags & WG_OPEN_IMAGE) ? plan.arena_image : plan.arena_coded;
#if WG_SPATIAL
    if (need == 0xffffffffu) return WG_E_ARENA_TOO_SMALL; /* 4 GiB or more: none is large enough */
#endif
    if (arena_size < need) return WG_E_ARENA_TOO_SMALL;
    m->arena = arena;
    m->arena_size = need;
    m->outputs = plan.outputs;
    for (l = 0; l < m->layer_count; l++) {
        wg_layer_state *ls = (wg_layer_state *)(void *)(arena + 16u * l);
#if !WG_SPATIAL
        uint32_t units = wg_fb_u32(m->manifest, wg_layer(m, l), L_UNITS, 0);
#endif
        ls->fw = 64;
        ls->fb = 64;
        ls->flags = 0;
        ls->reserved = 0;
#if !WG_SPATIAL
        if (l % 2u == 0) even = units > even ? units : even;
        else odd = units > odd ? units : odd;
#endif
    }
#if WG_SPATIAL
    {
        uint64_t regions[3];
        wg_graph_regions(m, regions); /* each below 2^30: the plan fits 32 bits */
        even = (uint32_t)regions[0];
        odd = (uint32_t)regions[1];
    }
#endif
    m->act_at[0] = 16u * m->layer_count;
    m->act_at[1] = m->act_at[0] + 4u * even;
    m->decoder_at = m->act_at[1] + 4u * odd; /* coded kernels only */

#ifdef WG_ARITH_INT
    /* the int path's exponents come from the decoded values */
    st = check_segments(m, crypto, (flags & WG_OPEN_IMAGE) ? NULL : arena + m->decoder_at);
#else
    st = check_segments(m, crypto, (flags & WG_OPEN_IMAGE) || public_key ? NULL : arena + m->decoder_at);
#endif
    if (st != WG_OK) return st;
    st = check_supported(m);
    if (st != WG_OK) return st;
#ifdef WG_ARITH_INT
    /* the image kernels learn the exponents from the image (wg_image_attach) */
    if (!(flags & WG_OPEN_IMAGE) && (st = wg_prepare_input(m)) != WG_OK) return st;
#endif
    m->open_flags = (uint8_t)(flags | WG_OPEN_READY);
    return WG_OK;
}

/* ---- accessors ---- */

static wg_str string_at(const uint8_t *b, uint32_t ref)
{
    wg_str s;
    s.ptr = ref ? (const char *)(b + ref + 4u) : "";
    s.len = ref ? wg_u32(b + ref) : 0u;
    return s;
}

wg_str wg_model_name(const wg_model *m)
{
    return string_at(m->manifest, wg_fb_ref(m->manifest, wg_fb_root(m->manifest), M_MODEL));
}

uint32_t wg_model_version(const wg_model *m) { return wg_fb_u32(m->manifest, wg_fb_root(m->manifest), M_VERSION, 0); }
uint32_t wg_input_size(const wg_model *m) { return m->inputs; }
uint32_t wg_output_size(const wg_model *m) { return m->outputs; }
uint32_t wg_held_interval_count(const wg_model *m) { return wg_fb_len(m->artifact, m->held_at); }

uint16_t wg_held_interval(const wg_model *m, uint32_t i)
{
    return i < wg_held_interval_count(m) ? (uint16_t)wg_u16(m->artifact + m->held_at + 4u + 2u * i) : 0xffffu;
}

uint32_t wg_tier_count(const wg_model *m) { return wg_fb_len(m->manifest, m->tiers_at); }

static uint32_t tier_table(const wg_model *m, uint32_t tier) { return wg_fb_table_at(m->manifest, m->tiers_at, tier); }

wg_str wg_tier_name(const wg_model *m, uint32_t tier)
{
    wg_str none = {"", 0};
    return tier < wg_tier_count(m) ? string_at(m->manifest, wg_fb_ref(m->manifest, tier_table(m, tier), TI_NAME)) : none;
}

float wg_tier_accuracy(const wg_model *m, uint32_t tier)
{
    return tier < wg_tier_count(m) ? wg_f32_of_bits(wg_fb_u32(m->manifest, tier_table(m, tier), TI_ACCURACY, 0)) : 0.0f;
}

uint32_t wg_tier_interval_count(const wg_model *m, uint32_t tier)
{
    return tier < wg_tier_count(m) ? wg_fb_len(m->manifest, wg_fb_ref(m->manifest, tier_table(m, tier), TI_INTERVALS)) : 0u;
}

uint16_t wg_tier_interval(const wg_model *m, uint32_t tier, uint32_t i)
{
    if (i >= wg_tier_interval_count(m, tier)) return 0xffffu;
    return (uint16_t)wg_u16(m->manifest + wg_fb_ref(m->manifest, tier_table(m, tier), TI_INTERVALS) + 4u + 2u * i);
}

int32_t wg_held_tier(const wg_model *m)
{
    uint32_t t, i, j, n = wg_held_interval_count(m);
    for (t = 0; t < wg_tier_count(m); t++) {
        uint32_t k = wg_tier_interval_count(m, t), all = 1;
        /* equal as sets: the held intervals are ascending and unique; a tier may repeat ids */
        for (i = 0; i < k && all; i++) {
            uint16_t id = wg_tier_interval(m, t, i), found = 0;
            for (j = 0; j < n && !found; j++) found = wg_held_interval(m, j) == id;
            all = found;
        }
        for (j = 0; j < n && all; j++) {
            uint16_t id = wg_held_interval(m, j), found = 0;
            for (i = 0; i < k && !found; i++) found = wg_tier_interval(m, t, i) == id;
            all = found;
        }
        if (all) return (int32_t)t;
    }
    return -1;
}

/*
 * wg_image.c: the execution image (device-sim/exec-image.ts, 'WGX1'): a
 * byte-aligned sparse form of the held weights that the kernels read in
 * place from flash, built once from a verified artifact.
 *
 * Layout (little-endian, sections 4-byte aligned), as exec-image.ts:
 *   header  80 bytes: "WGX1", version 1, artifact SHA-256 (8), body
 *           SHA-256 (40: everything after the header), layer count (72:
 *           the weighted layers), total bytes (76)
 *   layers  L x 12 u32, one per weighted layer (Dense, conv2d, depthwise;
 *           a convolution's kernel as rows (ky, kx, input channel) and
 *           columns its last dimension): inputs, units, entries, countBytes (1|2|4),
 *           entryBytes (2|4), colBits, tableLength (0: one f32 per entry),
 *           countsAt, entriesAt, valuesAt, biasAt, 0
 *   per layer: counts (a row's kept weights), entries (column | table
 *           index << colBits, rows in order, columns ascending), values
 *           (the codebook, or one f32 per entry), bias (the layer's units
 *           f32, 0 where no bias entry is held)
 *
 * Building writes the body in ascending order through the caller's
 * callback, hashing it as it goes, then the header: each flash byte is
 * written once. It decodes every held segment, so it also makes formats'
 * segment checks (a model opened with WG_OPEN_IMAGE has not made them:
 * its image, which names the artifact's SHA-256, vouches for them). Working memory (wg_plan_info.image_build_arena): every
 * held segment of one tensor open at once (a k-way merge into ascending
 * positions), each a WG_MERGE_SLOT_BYTES slot plus its decoder.
 */
#include "wg_internal.h"

#define HEADER_BYTES 80u
#define LAYER_BYTES 48u
#define MAGIC 0x31584757u /* "WGX1" */
#define IMAGE_VERSION 1u

/* ---- layout (shared with the plan) ---- */

static uint32_t bits_for(uint32_t n)
{
    uint32_t b = 0;
    if (n <= 1u) return 0;
    for (n -= 1u; n; n >>= 1) b++;
    return b;
}

#if WG_SPATIAL
#define OUTPUTS(li) ((li)->outputs)
/* The image holds weighted layers only: a pooling layer has none. */
static int image_holds(const wg_model *m, uint32_t l) { return wg_fb_u8(m->manifest, wg_layer(m, l), L_KIND, KIND_DENSE) <= KIND_DEPTHWISE; }
#else
#define OUTPUTS(li) ((li)->units)
#define image_holds(m, l) 1
#endif

/* The matrix an image layer holds (exec-image.ts's imageLayers): a Dense
 * layer's kernel [inputs, units]; a convolution's [kh, kw, c, last] as
 * rows (ky, kx, input channel) and columns its last dimension (output
 * channels, or the depthwise multiplier), its bias the layer's units. */
static void layer_shape(const wg_model *m, uint32_t layer, wg_image_layer_info *info)
{
    const uint8_t *b = m->manifest;
    info->inputs = wg_fb_u32(b, layer, L_INPUTS, 0);
    info->units = wg_fb_u32(b, layer, L_UNITS, 0);
    info->kernel = wg_fb_u16(b, layer, L_KERNEL, 0);
#if WG_SPATIAL
    info->outputs = info->units;
    if (wg_fb_u8(b, layer, L_KIND, KIND_DENSE) != KIND_DENSE) {
        /* a checked shape: every dimension >= 1, elements <= 2^24 */
        info->units = wg_tensor_channels(m, info->kernel);
        info->inputs = wg_tensor_elements(m, info->kernel) / info->units;
    }
#endif
}

uint32_t wg_image_layout(const wg_model *m, uint32_t l, uint32_t at, wg_image_layer_info *info)
{
    const uint8_t *b = m->manifest;
    uint32_t layer = wg_layer(m, l), kernel, packed;
    wg_seg_iter it;
    int32_t bias;
    memset(info, 0, sizeof(*info));
    layer_shape(m, layer, info);
    bias = (int16_t)wg_fb_u16(b, layer, L_BIAS, 0xffffu);
    info->bias = bias;
    kernel = wg_tensor(m, info->kernel);
    wg_seg_begin(&it, m);
    while (wg_seg_next(&it)) {
        uint32_t work;
        if (!wg_holds(m, it.code)) continue;
        work = wg_segment_decoder_bytes(m, it.tensor, it.code) + WG_MERGE_SLOT_BYTES;
        if (it.tensor == info->kernel) {
            info->entries += it.count;
            info->kernel_work += work;
        } else if (bias >= 0 && it.tensor == (uint32_t)bias) {
            info->bias_work += work;
        }
    }
    if (wg_fb_u8(b, kernel, T_ENCODING, 0) == ENC_CODEBOOK) info->table_length = wg_fb_len(b, wg_fb_ref(b, kernel, T_CODEBOOK));
    info->col_bits = bits_for(info->units) > 1u ? bits_for(info->units) : 1u;
    packed = info->col_bits + bits_for(info->table_length);
    info->packs = packed <= 32u;
    info->entry_bytes = packed <= 16u ? 2u : 4u;
    info->count_bytes = info->units <= 0xffu ? 1u : info->units <= 0xffffu ? 2u : 4u;
    /* a layer adds under 2^28 bytes (its tensors have <= 2^24 elements):
     * from 2^31 on the image is too large, and stays so */
    if (at >= 0x80000000u) return 0xffffffffu;
    info->counts_at = at;
    info->entries_at = WG_ALIGN4(at + info->inputs * info->count_bytes);
    info->values_at = WG_ALIGN4(info->entries_at + info->entries * info->entry_bytes);
    info->bias_at = info->values_at + (info->table_length > 0 ? info->table_length : info->entries) * 4u;
    return info->bias_at + OUTPUTS(info) * 4u;
}

/* ---- output: staged, hashed, handed to the callback in order ---- */

typedef struct sink {
    wg_write_fn write;
    void *ctx;
    const wg_crypto *crypto;
    wg_sha256_ctx sha;
    uint32_t offset; /* of buf[0] */
    uint32_t n;
    int failed;
    uint8_t buf[64];
} sink;

static void flush(sink *s)
{
    if (s->n == 0) return;
    s->crypto->sha256_update(&s->sha, s->buf, s->n);
    if (!s->failed && s->write(s->ctx, s->offset, s->buf, s->n) != 0) s->failed = 1;
    s->offset += s->n;
    s->n = 0;
}

static void emit(sink *s, uint32_t value, uint32_t bytes)
{
    uint32_t i;
    for (i = 0; i < bytes; i++) {
        if (s->n == sizeof(s->buf)) flush(s);
        s->buf[s->n++] = (uint8_t)(value >> (8u * i));
    }
}

static void pad_to(sink *s, uint32_t at)
{
    while (s->offset + s->n < at) emit(s, 0, 1);
}

/* ---- the merge of one tensor's held segments ---- */

typedef struct merge_slot {
    wg_cursor c;
    wg_reencoder check;
    uint32_t head;
    float head_value;
    uint32_t live;
} merge_slot;

typedef char merge_slot_fits[sizeof(merge_slot) <= WG_MERGE_SLOT_BYTES ? 1 : -1];

typedef struct merge {
    merge_slot *slots;
    uint32_t k;
    int32_t previous;
} merge;

static wg_status advance(merge_slot *s)
{
    uint32_t raw;
    wg_status st;
    if (s->c.remaining == 0) {
        s->live = 0;
        return WG_OK;
    }
    st = wg_cursor_next(&s->c, &s->head, &s->head_value, &raw);
    s->live = st == WG_OK;
    return st;
}

/* Opens every held segment of `tensor` (checking each as formats does
 * when `validate`) and reads one entry of each. */
static wg_status merge_open(merge *g, const wg_model *m, uint32_t tensor, uint8_t *work, size_t work_size, int validate)
{
    wg_seg_iter it;
    uint32_t at = 0, k = 0, n = 0, used;
    wg_status st;
    wg_seg_begin(&it, m);
    while (wg_seg_next(&it)) {
        if (wg_holds(m, it.code) && it.tensor == tensor) n++;
    }
    g->slots = (merge_slot *)(void *)work;
    g->k = n;
    g->previous = -1;
    used = n * WG_MERGE_SLOT_BYTES;
    wg_seg_begin(&it, m);
    while (wg_seg_next(&it)) {
        uint32_t need;
        if (!wg_holds(m, it.code)) continue;
        at += it.bytes;
        if (it.tensor != tensor) continue;
        need = wg_segment_decoder_bytes(m, tensor, it.code);
        if ((uint64_t)used + need > work_size) return WG_E_ARENA_TOO_SMALL;
        st = wg_cursor_open(&g->slots[k].c, m, tensor, it.code, it.count, m->segment_data + at - it.bytes, it.bytes,
                            work + used, validate ? &g->slots[k].check : NULL);
        if (st != WG_OK) return st;
        used += need;
        st = advance(&g->slots[k]);
        if (st != WG_OK) return st;
        k++;
    }
    return WG_OK;
}

/* The next entry in ascending position; 0 when every segment is done. */
static int merge_next(merge *g, uint32_t *position, float *value, wg_status *st)
{
    uint32_t i, best = g->k;
    for (i = 0; i < g->k; i++) {
        if (g->slots[i].live && (best == g->k || g->slots[i].head < g->slots[best].head)) best = i;
    }
    if (best == g->k) return 0;
    *position = g->slots[best].head;
    *value = g->slots[best].head_value;
    if ((int32_t)*position <= g->previous) {
        *st = WG_E_UNSUPPORTED; /* two held segments hold one position */
        return 0;
    }
    g->previous = (int32_t)*position;
    *st = advance(&g->slots[best]);
    return *st == WG_OK;
}

/* ---- build ---- */

static wg_status emit_layer(sink *s, const wg_model *m, const wg_image_layer_info *li, uint8_t *work, size_t work_size)
{
    const uint8_t *b = m->manifest;
    uint32_t codebook = li->table_length ? wg_fb_ref(b, wg_tensor(m, li->kernel), T_CODEBOOK) + 4u : 0u;
    uint32_t pass, p, row, count, j;
    float v;
    merge g;
    wg_status st = WG_OK;
    /* counts, entries, per-entry values: one pass over the kernel each */
    for (pass = 0; pass < 3u; pass++) {
        if (pass == 2u && li->table_length) break;
        /* the first pass checks every segment (a model opened for the
         * image kernels has not decoded them yet) */
        if ((st = merge_open(&g, m, li->kernel, work, work_size, pass == 0u)) != WG_OK) return st;
        row = 0;
        count = 0;
        while (merge_next(&g, &p, &v, &st)) {
            uint32_t r = p / li->units, col = p - r * li->units;
            if (pass == 0u) {
                for (; row < r; row++, count = 0) emit(s, count, li->count_bytes);
                count++;
            } else if (pass == 1u) {
                uint32_t index = 0;
                if (li->table_length) {
                    while (index < li->table_length && wg_f32_of_bits(wg_u32(b + codebook + 4u * index)) != v) index++;
                    if (index == li->table_length) return WG_E_UNSUPPORTED;
                }
                emit(s, col | (index << li->col_bits), li->entry_bytes);
            } else {
                emit(s, wg_bits_of_f32(v), 4);
            }
        }
        if (st != WG_OK) return st;
        if (pass == 0u) {
            for (; row < li->inputs; row++, count = 0) emit(s, count, li->count_bytes);
            pad_to(s, li->entries_at);
        } else if (pass == 1u) {
            pad_to(s, li->values_at);
        }
    }
    for (j = 0; j < li->table_length; j++) emit(s, wg_u32(b + codebook + 4u * j), 4);
    /* bias: zeros where no entry is held */
    j = 0;
    if (li->bias >= 0) {
        if ((st = merge_open(&g, m, (uint32_t)li->bias, work, work_size, 1)) != WG_OK) return st;
        while (merge_next(&g, &p, &v, &st)) {
            for (; j < p; j++) emit(s, 0, 4);
            emit(s, wg_bits_of_f32(v), 4);
            j++;
        }
        if (st != WG_OK) return st;
    }
    for (; j < OUTPUTS(li); j++) emit(s, 0, 4);
    return WG_OK;
}

/* The image's layer count: the model's weighted layers. */
static uint32_t image_layer_count(const wg_model *m)
{
#if WG_SPATIAL
    uint32_t l, n = 0;
    for (l = 0; l < m->layer_count; l++) n += (uint32_t)image_holds(m, l);
    return n;
#else
    return m->layer_count;
#endif
}

void wg_image_plan_model(const wg_model *m, wg_plan_info *plan)
{
    wg_image_layer_info li;
    uint32_t l, at = HEADER_BYTES + LAYER_BYTES * image_layer_count(m), build = 0;
    for (l = 0; l < m->layer_count; l++) {
        if (!image_holds(m, l)) continue;
        at = wg_image_layout(m, l, at, &li);
        build = li.kernel_work > build ? li.kernel_work : build;
        build = li.bias_work > build ? li.bias_work : build;
    }
    plan->image_bytes = at;
    plan->image_build_arena = build;
}

wg_status wg_plan_image(const uint8_t *artifact, size_t len, wg_plan_info *plan)
{
    wg_model m;
    wg_status st;
    if (!artifact || !plan) return WG_E_BAD_ARGUMENT;
    st = wg_read_structure(&m, artifact, len);
    if (st != WG_OK) return st;
    wg_plan_model(&m, plan);
    wg_image_plan_model(&m, plan);
    return WG_OK;
}

wg_status wg_image_build(const wg_model *m, const wg_crypto *crypto, wg_write_fn write, void *ctx, uint8_t *work,
                         size_t work_size)
{
    wg_image_layer_info li;
    wg_plan_info plan;
    sink s;
    uint8_t header[HEADER_BYTES];
    uint32_t l, at, layers;
    wg_status st;
    if (!m || !crypto || !write || (!work && work_size) || !(m->open_flags & WG_OPEN_READY)) return WG_E_BAD_ARGUMENT;
    if (((uintptr_t)work & (sizeof(void *) - 1u)) != 0) return WG_E_BAD_ARGUMENT;
    layers = image_layer_count(m);
    wg_image_plan_model(m, &plan);
    if (plan.image_bytes >= 0x80000000u) return WG_E_UNSUPPORTED; /* no flash holds it */
    if (work_size < plan.image_build_arena) return WG_E_ARENA_TOO_SMALL;
    memset(&s, 0, sizeof(s));
    s.write = write;
    s.ctx = ctx;
    s.crypto = crypto;
    s.offset = HEADER_BYTES;
    crypto->sha256_init(&s.sha);
    at = HEADER_BYTES + LAYER_BYTES * layers;
    for (l = 0; l < m->layer_count; l++) {
        if (!image_holds(m, l)) continue;
        at = wg_image_layout(m, l, at, &li);
        if (!li.packs) return WG_E_UNSUPPORTED;
        emit(&s, li.inputs, 4);
        emit(&s, li.units, 4);
        emit(&s, li.entries, 4);
        emit(&s, li.count_bytes, 4);
        emit(&s, li.entry_bytes, 4);
        emit(&s, li.col_bits, 4);
        emit(&s, li.table_length, 4);
        emit(&s, li.counts_at, 4);
        emit(&s, li.entries_at, 4);
        emit(&s, li.values_at, 4);
        emit(&s, li.bias_at, 4);
        emit(&s, 0, 4);
    }
    at = HEADER_BYTES + LAYER_BYTES * layers;
    for (l = 0; l < m->layer_count; l++) {
        if (!image_holds(m, l)) continue;
        at = wg_image_layout(m, l, at, &li);
        st = emit_layer(&s, m, &li, work, work_size);
        if (st != WG_OK) return st;
    }
    flush(&s);
    if (s.failed) return WG_E_WRITE_FAILED;
    memset(header, 0, sizeof(header));
    header[0] = 'W';
    header[1] = 'G';
    header[2] = 'X';
    header[3] = '1';
    header[4] = IMAGE_VERSION;
    wg_hash(crypto, m->artifact, m->artifact_len, header + 8);
    crypto->sha256_final(&s.sha, header + 40);
    for (l = 0; l < 4u; l++) {
        header[72u + l] = (uint8_t)(layers >> (8u * l));
        header[76u + l] = (uint8_t)(at >> (8u * l));
    }
    return write(ctx, 0, header, HEADER_BYTES) == 0 ? WG_OK : WG_E_WRITE_FAILED;
}

/* ---- attach: openExecImage's checks ---- */

#ifdef WG_ARITH_INT
/* The int path's exponents from the image's values (the largest held
 * |value| of each kernel and bias: unheld bias entries are 0 there), and
 * whether each layer holds bias entries, from the manifest. A pooling
 * layer has no image layer: wg_open left it fw = fb = 64 and no bias. */
static wg_status image_exponents(wg_model *m)
{
    const uint8_t *img = m->image;
    wg_layer_state *ls = (wg_layer_state *)(void *)m->arena;
    uint32_t l;
#if WG_SPATIAL
    uint32_t il = 0; /* the image's layer: weighted layers only */
#define IMAGE_LAYER il++
/* a convolution's bias has the layer's units (its output channels), the
 * image's units being its kernel's last dimension */
#define BIAS_VALUES(w) wg_fb_u32(m->manifest, wg_layer(m, l), L_UNITS, 0)
#else
#define IMAGE_LAYER l /* every layer is Dense: the image's layer l is the model's */
#define BIAS_VALUES(w) wg_u32((w) + 4)
#endif
    for (l = 0; l < m->layer_count; l++) {
        if (!image_holds(m, l)) continue;
        {
            const uint8_t *w = img + HEADER_BYTES + LAYER_BYTES * IMAGE_LAYER;
            uint32_t entries = wg_u32(w + 8), entry_bytes = wg_u32(w + 16), col_bits = wg_u32(w + 20);
            uint32_t table = wg_u32(w + 24), units = BIAS_VALUES(w), e, max = 0;
            int32_t bias = (int16_t)wg_fb_u16(m->manifest, wg_layer(m, l), L_BIAS, 0xffffu);
            wg_seg_iter it;
            for (e = 0; e < entries; e++) {
                uint32_t packed = entry_bytes == 2u ? wg_u16(img + wg_u32(w + 32) + 2u * e) : wg_u32(img + wg_u32(w + 32) + 4u * e);
                uint32_t v = wg_u32(img + wg_u32(w + 36) + 4u * (table ? packed >> col_bits : e)) & 0x7fffffffu;
                max = v > max ? v : max;
            }
            ls[l].fw = wg_fit(max, 127);
            ls[l].fb = 64;
            ls[l].flags = 0;
            wg_seg_begin(&it, m);
            while (bias >= 0 && wg_seg_next(&it)) {
                if (it.tensor == (uint32_t)bias && wg_holds(m, it.code)) ls[l].flags = WG_LS_BIAS_HELD;
            }
            if (ls[l].flags) {
                for (max = 0, e = 0; e < units; e++) {
                    uint32_t v = wg_u32(img + wg_u32(w + 40) + 4u * e) & 0x7fffffffu;
                    max = v > max ? v : max;
                }
                ls[l].fb = wg_fit(max, (int64_t)1 << 30);
            }
        }
    }
#undef IMAGE_LAYER
#undef BIAS_VALUES
    return wg_prepare_input(m);
}
#endif

static wg_status image_layer(const wg_model *m, uint32_t l, const wg_layer_io *io);
#if WG_SPATIAL
static wg_status conv_image(const wg_model *m, uint32_t l, const wg_layer_io *io);
#endif

/* wg_invoke reaches the image kernels through the model, so a firmware
 * that never attaches an image does not link them. `l` is the image's
 * layer (the model's weighted layer). */
static wg_status image_kernel(const wg_model *m, uint32_t l, const void *io)
{
#if WG_SPATIAL
    const wg_layer_io *x = (const wg_layer_io *)io;
    if (x->geom && x->geom->kind != KIND_DENSE) return conv_image(m, l, x);
#endif
    return image_layer(m, l, (const wg_layer_io *)io);
}

static int within(uint32_t at, uint64_t n, uint32_t len)
{
    return at % 4u == 0 && at >= HEADER_BYTES && (uint64_t)at + n <= len;
}

static uint32_t count_at(const uint8_t *p, uint32_t width)
{
    return width == 1u ? p[0] : width == 2u ? wg_u16(p) : wg_u32(p);
}

/* Image layer `il` against the model's layer l (its weighted layer). */
static wg_status check_layer(const wg_model *m, const uint8_t *img, uint32_t len, uint32_t il, uint32_t l)
{
    const uint8_t *w = img + HEADER_BYTES + LAYER_BYTES * il;
    uint32_t i, total = 0, mask;
    uint32_t inputs = wg_u32(w), units = wg_u32(w + 4), entries = wg_u32(w + 8), count_bytes = wg_u32(w + 12);
    uint32_t entry_bytes = wg_u32(w + 16), col_bits = wg_u32(w + 20), table = wg_u32(w + 24);
    uint32_t counts_at = wg_u32(w + 28), entries_at = wg_u32(w + 32), values_at = wg_u32(w + 36), bias_at = wg_u32(w + 40);
    wg_image_layer_info shape;
    layer_shape(m, wg_layer(m, l), &shape);
    if (inputs != shape.inputs || units != shape.units) return WG_E_BAD_IMAGE;
    if ((count_bytes != 1u && count_bytes != 2u && count_bytes != 4u) || (entry_bytes != 2u && entry_bytes != 4u) ||
        col_bits < 1u || col_bits > 31u) {
        return WG_E_BAD_IMAGE;
    }
    if (!within(counts_at, (uint64_t)inputs * count_bytes, len) || !within(entries_at, (uint64_t)entries * entry_bytes, len) ||
        !within(values_at, (uint64_t)(table > 0 ? table : entries) * 4u, len) || !within(bias_at, (uint64_t)OUTPUTS(&shape) * 4u, len)) {
        return WG_E_BAD_IMAGE;
    }
    for (i = 0; i < inputs; i++) {
        uint32_t n = count_at(img + counts_at + count_bytes * i, count_bytes);
        if (n > units) return WG_E_BAD_IMAGE;
        total += n;
    }
    if (total != entries) return WG_E_BAD_IMAGE;
    mask = (1u << col_bits) - 1u;
    for (i = 0; i < entries; i++) {
        uint32_t packed = entry_bytes == 2u ? wg_u16(img + entries_at + 2u * i) : wg_u32(img + entries_at + 4u * i);
        if ((packed & mask) >= units) return WG_E_BAD_IMAGE;
        if (table > 0 ? (packed >> col_bits) >= table : packed > mask) return WG_E_BAD_IMAGE;
    }
    return WG_OK;
}

wg_status wg_image_attach(wg_model *m, const wg_crypto *crypto, const uint8_t *image, size_t len)
{
    uint8_t digest[32];
    uint32_t l, il = 0, layers;
    wg_status st;
    if (!m || !crypto || !image || !(m->open_flags & WG_OPEN_READY)) return WG_E_BAD_ARGUMENT;
    m->image_ready = 0;
    layers = image_layer_count(m);
    if (len < HEADER_BYTES || len > 0xffffffffu) return WG_E_BAD_IMAGE;
    if (wg_u32(image) != MAGIC || wg_u32(image + 4) != IMAGE_VERSION) return WG_E_BAD_IMAGE;
    wg_hash(crypto, m->artifact, m->artifact_len, digest);
    if (memcmp(digest, image + 8, 32) != 0) return WG_E_BAD_IMAGE;
    if (wg_u32(image + 76) != len) return WG_E_BAD_IMAGE;
    wg_hash(crypto, image + HEADER_BYTES, len - HEADER_BYTES, digest);
    if (memcmp(digest, image + 40, 32) != 0) return WG_E_BAD_IMAGE;
    if (wg_u32(image + 72) != layers) return WG_E_BAD_IMAGE;
    if (HEADER_BYTES + (uint64_t)LAYER_BYTES * layers > len) return WG_E_BAD_IMAGE;
    for (l = 0; l < m->layer_count; l++) {
        if (!image_holds(m, l)) continue;
        if ((st = check_layer(m, image, (uint32_t)len, il++, l)) != WG_OK) return st;
    }
    m->image = image;
    m->image_len = (uint32_t)len;
#ifdef WG_ARITH_INT
    if ((m->open_flags & WG_OPEN_IMAGE) && (st = image_exponents(m)) != WG_OK) return st;
#endif
    m->image_kernel = image_kernel;
    m->image_ready = 1;
    return WG_OK;
}

/* ---- the image kernel: rows ascending, columns ascending in a row, then
 * the bias for every unit ---- */

#ifdef WG_ARITH_INT
typedef int8_t wg_weight; /* the table as int8 weights (fit(W, 127)) */
#define WEIGHT(tab, i) ((int32_t)(tab)[i])
#else
typedef uint8_t wg_weight; /* the image's f32 table, read in place */
#define WEIGHT(tab, i) wg_f32_of_bits(wg_u32((tab) + 4u * (i)))
#endif

/* attach checked every section's bounds and every entry's column and
 * table index: the loops below read without checks. */

/* The common layout (1-byte counts, 16-bit entries into a value table),
 * apart so that its few variables stay in registers. On the first layer,
 * when a 0 byte is a 0 input, runs of four blank pixels are skipped with
 * one 32-bit compare and their counts summed at once. */
static WG_NOINLINE void rows_table16(const wg_model *m, const wg_layer_io *io, const uint8_t *counts,
                                     const uint8_t *entry, const wg_weight *tab, uint32_t col_bits, const uint8_t *raw)
{
    wg_acc *out = io->out;
    uint32_t i, inputs = io->inputs, mask = (1u << col_bits) - 1u;
    for (i = 0; i < inputs; i++) {
        uint32_t n;
        wg_acc x;
        if (raw) {
            while (i + 4u <= inputs && wg_u32(raw + i) == 0) {
                uint32_t c = wg_u32(counts + i);
                c = (c & 0x00ff00ffu) + ((c >> 8) & 0x00ff00ffu);
                entry += 2u * ((c & 0xffffu) + (c >> 16));
                i += 4u;
            }
            if (i == inputs) break;
        }
        n = counts[i];
        if (n == 0) continue;
        x = io->raw ? wg_input_at(m, io, i) : io->in[i];
        if (x == 0) {
            entry += 2u * n;
            continue;
        }
        do {
            uint32_t packed = wg_u16(entry);
            uint32_t col = packed & mask;
#ifdef WG_ARITH_INT
            out[col] += x * WEIGHT(tab, packed >> col_bits);
#else
            float t = x * WEIGHT(tab, packed >> col_bits);
            out[col] = out[col] + t;
#endif
            entry += 2;
        } while (--n > 0);
    }
}

#ifdef WG_ARITH_INT
/* wg_rnd_pow2(bits, f) in 32 bits for a bias value of the image: every
 * one is at most the largest, and f = fit(largest, 2^30), so the result
 * is within 2^30 and k <= 7 (the general routine otherwise). */
static int32_t rnd_bias(uint32_t bits, int32_t f)
{
    uint32_t exp = (bits >> 23) & 0xffu, mag = bits & 0x7fffffu;
    int32_t k = (exp != 0 ? (int32_t)exp - 150 : -149) + f;
    if (exp != 0) mag |= 0x800000u;
    if (k > 7) return (int32_t)wg_rnd_pow2(bits, f);
    if (k >= 0) {
        mag <<= k;
    } else if (k > -25) {
        mag = (mag + (1u << (-k - 1))) >> -k; /* k <= -25: below half of 2^-k, 0 */
    } else {
        mag = 0;
    }
    return (bits >> 31) ? -(int32_t)mag : (int32_t)mag;
}
#endif

static wg_status image_layer(const wg_model *m, uint32_t l, const wg_layer_io *io)
{
    const uint8_t *img = m->image, *w = img + HEADER_BYTES + LAYER_BYTES * l;
    uint32_t count_bytes = wg_u32(w + 12), entry_bytes = wg_u32(w + 16), col_bits = wg_u32(w + 20);
    uint32_t table = wg_u32(w + 24), inputs = io->inputs, units = io->units, mask = (1u << col_bits) - 1u, i, j, e;
    const uint8_t *counts = img + wg_u32(w + 28), *entry = img + wg_u32(w + 32), *values = img + wg_u32(w + 36);
    const uint8_t *bias = img + wg_u32(w + 40), *raw = io->raw;
    wg_acc *out = io->out;
#ifdef WG_ARITH_INT
    wg_weight tab[WG_MAX_CODEBOOK];
    for (j = 0; j < table; j++) tab[j] = (int8_t)wg_rnd_pow2(wg_u32(values + 4u * j), io->fw);
#else
    const wg_weight *tab = values;
#endif
    if (raw) {
        static const uint8_t zero = 0;
        wg_layer_io z = *io;
        z.raw = &zero;
        if (wg_input_at(m, &z, 0) != 0) raw = NULL;
    }
    if (count_bytes == 1u && entry_bytes == 2u && table) {
        rows_table16(m, io, counts, entry, tab, col_bits, raw);
    } else {
        for (i = 0, e = 0; i < inputs; i++) {
            uint32_t n = count_at(counts + count_bytes * i, count_bytes);
            wg_acc x = wg_input_at(m, io, i);
            for (; n > 0 && x != 0; n--, e++) {
                uint32_t packed = entry_bytes == 2u ? wg_u16(entry + 2u * e) : wg_u32(entry + 4u * e);
                wg_add_term(io, packed & mask, x, wg_f32_of_bits(wg_u32(values + 4u * (table ? packed >> col_bits : e))));
            }
            e += n;
        }
    }
#ifdef WG_ARITH_INT
    if (!io->bias_held) return WG_OK;
    /* rsh(bq, fb - fa); an entry not held is +0.0: no term */
    {
        int32_t s = io->fb - io->fa, f = io->fb;
        if (s >= 32) return WG_OK; /* every term shifts to 0 */
        for (j = 0; j < units; j++, bias += 4) {
            uint32_t bits = wg_u32(bias);
            int32_t bq;
            if (bits == 0) continue;
            bq = rnd_bias(bits, f);
            out[j] += s <= 0 ? bq : wg_rsh_in(bq, (uint32_t)s);
        }
    }
#else
    for (j = 0; j < units; j++, bias += 4) out[j] = out[j] + wg_f32_of_bits(wg_u32(bias));
#endif
    return WG_OK;
}

#if WG_SPATIAL
/* A convolution from its image layer, in device-sim/kernels/conv-image.ts's
 * order (docs/arithmetic.md, "Convolutional layers"): rows ascending (a
 * row is (ky, kx, input channel)), a row's entries in column order, each
 * added into every output cell its tap reaches, cells row-major, its input
 * not 0; then every cell's bias, once per channel (+0.0 where no entry is
 * held). An entry of row r, column c is the kernel's position r units + c,
 * so wg_conv_entry adds it exactly as the coded kernels add a decoded one:
 * only the order of the entries, and of the bias, is the image's. On the
 * int path (conv-int.ts's convImageLayerInt) an entry adds its wq =
 * rnd(value 2^fw) and a held bias rsh(rnd(b 2^fb), fb - fa): exact sums,
 * so the coded kernels' integers in another order. */
static wg_status conv_image(const wg_model *m, uint32_t l, const wg_layer_io *io)
{
    const uint8_t *img = m->image, *w = img + HEADER_BYTES + LAYER_BYTES * l;
    uint32_t inputs = wg_u32(w), units = wg_u32(w + 4), count_bytes = wg_u32(w + 12), entry_bytes = wg_u32(w + 16);
    uint32_t col_bits = wg_u32(w + 20), table = wg_u32(w + 24), mask = (1u << col_bits) - 1u;
    const uint8_t *counts = img + wg_u32(w + 28), *entry = img + wg_u32(w + 32), *values = img + wg_u32(w + 36);
    const uint8_t *bias = img + wg_u32(w + 40);
    const wg_geom *g = io->geom;
    uint32_t n = g->oh * g->ow * g->oc, oc = g->oc, r, e = 0, j, cell; /* the arena holds n values */
    wg_acc *out = io->out;
    wg_conv k;
#ifdef WG_ARITH_INT
    int8_t tab[WG_MAX_CODEBOOK]; /* the table as int8 weights, as image_layer's */
    if (table > WG_MAX_CODEBOOK) return WG_E_BAD_IMAGE; /* a codebook is no longer: tab holds it */
    for (j = 0; j < table; j++) tab[j] = (int8_t)wg_rnd_pow2(wg_u32(values + 4u * j), io->fw);
#endif
    for (j = 0; j < n; j++) out[j] = 0;
    wg_conv_begin(&k, g);
    /* attach checked every count, column and table index, and that the
     * rows are the kernel's: every position is inside it */
    for (r = 0; r < inputs; r++) {
        uint32_t c = count_at(counts + count_bytes * r, count_bytes);
        for (; c > 0; c--, e++) {
            uint32_t packed = entry_bytes == 2u ? wg_u16(entry + 2u * e) : wg_u32(entry + 4u * e);
#ifdef WG_ARITH_INT
            int32_t v = table ? tab[packed >> col_bits] : (int32_t)wg_rnd_pow2(wg_u32(values + 4u * e), io->fw);
            if (v == 0) continue; /* no term: exact sums, no bit changes */
#else
            float v = wg_f32_of_bits(wg_u32(values + 4u * (table ? packed >> col_bits : e)));
#endif
            wg_conv_entry(&k, io->in, out, r * units + (packed & mask), v);
        }
    }
#ifdef WG_ARITH_INT
    /* a held bias: rsh(bq, fb - fa) into every cell of its channel; an
     * entry not held is +0.0, no term; none held: no term at all */
    if (!io->bias_held || io->fb - io->fa >= 32) return WG_OK;
    for (j = 0; j < oc; j++) {
        uint32_t bits = wg_u32(bias + 4u * j);
        int32_t b = bits == 0 ? 0 : wg_rsh(rnd_bias(bits, io->fb), io->fb - io->fa);
        if (b == 0) continue;
        for (cell = j; cell < n; cell += oc) out[cell] += b;
    }
#else
    for (cell = 0; cell < n; cell += oc) {
        for (j = 0; j < oc; j++) out[cell + j] = out[cell + j] + wg_f32_of_bits(wg_u32(bias + 4u * j));
    }
#endif
    return WG_OK;
}
#endif

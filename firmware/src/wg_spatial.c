/*
 * wg_spatial.c: convolutional models (format version 2, docs/format.md
 * 3.1.1), in a build with WG_SPATIAL: the layer rules of the manifest
 * reader (formats/artifact/layer-graph.ts, rule 6 of docs/format.md 3.3),
 * the layers' geometry, and, with the coded kernels, the operators of
 * device-sim/kernels/conv.ts in its order of operations (docs/arithmetic.md,
 * "Convolutional layers"), or on the int path those of conv-int.ts
 * ("Convolutional layers (int path)"):
 *
 *   conv2d, depthwise-conv2d  each held kernel entry, as the segments
 *                             decode, is added into every output cell its
 *                             tap reaches (cells row-major), its input not
 *                             0; then each bias entry into every cell
 *   max-pool2d, avg-pool2d    per output cell, the window's cells inside
 *                             the input (row-major), channels innermost
 *   global-avg-pool2d         the cells row-major, channels innermost
 *
 * Feature maps are NHWC without the batch: [height, width, channels]
 * float32 (int32 on the int path), row-major, in the arena's activation
 * regions. No allocation,
 * no recursion; every index below is bounded by a checked geometry and by
 * the cursor's position check (position < the kernel's elements).
 */
#include "wg_internal.h"

#if WG_SPATIAL

/* Output side for input side n, window k, stride s ('same': ceil(n / s)). */
static uint32_t out_len(uint32_t n, uint32_t k, uint32_t s, uint32_t same)
{
    if (same) return (n + s - 1u) / s; /* n <= 2^24 */
    return n >= k ? (n - k) / s + 1u : 0u;
}

/* Zero rows (columns) before the input: floor(max((out - 1) s + k - n, 0) / 2). */
static uint32_t pad_before(uint32_t n, uint32_t k, uint32_t s, uint32_t out, uint32_t same)
{
    uint32_t span = (out - 1u) * s + k; /* (out - 1) s < n */
    return same && out > 0 && span > n ? (span - n) / 2u : 0u;
}

void wg_geom_window(wg_geom *g, uint32_t padding)
{
    g->oh = out_len(g->h, g->kh, g->sh, padding);
    g->ow = out_len(g->w, g->kw, g->sw, padding);
    g->pt = pad_before(g->h, g->kh, g->sh, g->oh, padding);
    g->pl = pad_before(g->w, g->kw, g->sw, g->ow, padding);
}

/* The preprocessed input as a map: [h, w] is [h, w, 1], [h, w, c] itself;
 * any other rank a vector (1 x 1 x n). Returns whether it is a map. */
static int input_map(const wg_model *m, wg_geom *g)
{
    const uint8_t *b = m->manifest;
    uint32_t shape = wg_fb_ref(b, wg_fb_ref(b, wg_fb_root(b), M_PREPROCESS), P_INPUT_SHAPE), n = wg_fb_len(b, shape);
    g->h = 1;
    g->w = 1;
    g->c = m->inputs;
    if (n != 2u && n != 3u) return 0;
    g->h = wg_u32(b + shape + 4u);
    g->w = wg_u32(b + shape + 8u);
    g->c = n == 3u ? wg_u32(b + shape + 12u) : 1u;
    return 1;
}

void wg_geom_next(const wg_model *m, uint32_t layer, wg_geom *g, int first)
{
    const uint8_t *b = m->manifest;
    uint32_t units = wg_fb_u32(b, layer, L_UNITS, 0);
    if (first) {
        (void)input_map(m, g);
    } else {
        g->h = g->oh;
        g->w = g->ow;
        g->c = g->oc;
    }
    g->kind = wg_fb_u8(b, layer, L_KIND, KIND_DENSE);
    g->kh = wg_fb_u8(b, layer, L_WINDOW_H, 0);
    g->kw = wg_fb_u8(b, layer, L_WINDOW_W, 0);
    g->sh = wg_fb_u8(b, layer, L_STRIDE_H, 1);
    g->sw = wg_fb_u8(b, layer, L_STRIDE_W, 1);
    g->pt = 0;
    g->pl = 0;
    g->oh = 1;
    g->ow = 1;
    g->oc = units;
    if (g->kind == KIND_GLOBAL_AVG_POOL) g->oc = g->c;
    if (g->kind != KIND_DENSE && g->kind != KIND_GLOBAL_AVG_POOL) wg_geom_window(g, wg_fb_u8(b, layer, L_PADDING, 0));
}

void wg_graph_regions(const wg_model *m, uint64_t regions[3])
{
    wg_geom g;
    uint32_t l;
    regions[0] = 0;
    regions[1] = (m->graph & WG_GRAPH_MAP) ? m->inputs : 0u;
    regions[2] = 0;
    memset(&g, 0, sizeof(g));
    for (l = 0; l < m->layer_count; l++) {
        uint64_t n;
        wg_geom_next(m, wg_layer(m, l), &g, l == 0);
        n = (uint64_t)g.oh * g.ow * g.oc; /* < 2^56: h w <= 2^24, c < 2^32 */
        if (n > regions[l & 1u]) regions[l & 1u] = n;
        regions[2] = n;
    }
}

/* ---- the manifest's layer rules ---- */

/* Whether tensor t has exactly the shape dims[0..n). */
static int shape_is(const wg_model *m, uint32_t t, const uint32_t *dims, uint32_t n)
{
    const uint8_t *b = m->manifest;
    uint32_t shape = wg_fb_ref(b, wg_tensor(m, t), T_SHAPE), i;
    if (wg_fb_len(b, shape) != n) return 0;
    for (i = 0; i < n; i++) {
        if (wg_u32(b + shape + 4u + 4u * i) != dims[i]) return 0;
    }
    return 1;
}

/* The fields of every layer, then whether the version is the layers' (2
 * exactly when one is not Dense or uses relu6), then the chain. */
wg_status wg_graph_check(wg_model *m, uint32_t version, uint32_t tensor_count)
{
    const uint8_t *b = m->manifest;
    uint32_t l, needs2 = 0, map;
    uint64_t count = m->inputs;
    wg_geom g;
    for (l = 0; l < m->layer_count; l++) {
        uint32_t layer = wg_layer(m, l), kind = wg_fb_u8(b, layer, L_KIND, KIND_DENSE);
        uint32_t act = wg_fb_u8(b, layer, L_ACTIVATION, ACT_LINEAR);
        uint32_t wh = wg_fb_u8(b, layer, L_WINDOW_H, 0), ww = wg_fb_u8(b, layer, L_WINDOW_W, 0);
        uint32_t sh = wg_fb_u8(b, layer, L_STRIDE_H, 1), sw = wg_fb_u8(b, layer, L_STRIDE_W, 1);
        uint32_t padding = wg_fb_u8(b, layer, L_PADDING, 0);
        if (kind > KIND_GLOBAL_AVG_POOL || act > ACT_RELU6 || padding > 1u) return WG_E_BAD_VALUE;
        if (kind >= KIND_MAX_POOL &&
            (act != ACT_LINEAR || wg_fb_u16(b, layer, L_KERNEL, 0) != 0 || wg_fb_u16(b, layer, L_BIAS, 0xffffu) != 0xffffu)) {
            return WG_E_BAD_VALUE;
        }
        if ((kind == KIND_DENSE || kind == KIND_GLOBAL_AVG_POOL) && ((wh | ww | padding) != 0 || sh != 1u || sw != 1u)) {
            return WG_E_BAD_VALUE;
        }
        if (kind != KIND_DENSE || act == ACT_RELU6) needs2 = 1;
    }
    if (needs2 != (version == 2u)) return WG_E_BAD_VALUE;
    m->graph = (uint8_t)(version == 2u ? WG_GRAPH_V2 : 0u);

    /* the chain: each layer reads what the one before wrote (version 1:
     * each Dense layer is checked against its own tensors only) */
    memset(&g, 0, sizeof(g));
    map = (uint32_t)input_map(m, &g);
    for (l = 0; l < m->layer_count; l++) {
        uint32_t layer = wg_layer(m, l), kind = wg_fb_u8(b, layer, L_KIND, KIND_DENSE), dims[4], rank = 4;
        uint32_t inputs = wg_fb_u32(b, layer, L_INPUTS, 0), units = wg_fb_u32(b, layer, L_UNITS, 0);
        uint32_t kernel = wg_fb_u16(b, layer, L_KERNEL, 0);
        int32_t bias = (int16_t)wg_fb_u16(b, layer, L_BIAS, 0xffffu);
        if (inputs < 1u || units < 1u) return WG_E_BAD_VALUE;
        if (kind == KIND_DENSE) {
            if (version == 2u && count != inputs) return WG_E_BAD_VALUE;
            map = 0;
            count = units;
            dims[0] = inputs;
            dims[1] = units;
            rank = 2;
        } else {
            if (!map || g.c != inputs) return WG_E_BAD_VALUE;
            if (l == 0) m->graph |= WG_GRAPH_MAP;
            if (kind == KIND_GLOBAL_AVG_POOL) {
                if (units != inputs) return WG_E_BAD_VALUE;
                map = 0;
                count = units;
            } else {
                g.kh = wg_fb_u8(b, layer, L_WINDOW_H, 0);
                g.kw = wg_fb_u8(b, layer, L_WINDOW_W, 0);
                g.sh = wg_fb_u8(b, layer, L_STRIDE_H, 1);
                g.sw = wg_fb_u8(b, layer, L_STRIDE_W, 1);
                if (g.kh < 1u || g.kw < 1u || g.sh < 1u || g.sw < 1u) return WG_E_BAD_VALUE;
                wg_geom_window(&g, wg_fb_u8(b, layer, L_PADDING, 0));
                if (g.oh < 1u || g.ow < 1u) return WG_E_BAD_VALUE;
                if (kind == KIND_DEPTHWISE && units % inputs != 0) return WG_E_BAD_VALUE;
                if (kind >= KIND_MAX_POOL && units != inputs) return WG_E_BAD_VALUE;
                dims[0] = g.kh;
                dims[1] = g.kw;
                dims[2] = inputs;
                dims[3] = kind == KIND_DEPTHWISE ? units / inputs : units;
                g.h = g.oh;
                g.w = g.ow;
                g.c = units;
                count = (uint64_t)g.oh * g.ow * units;
            }
        }
        if (kind <= KIND_DEPTHWISE) {
            if (kernel >= tensor_count || !shape_is(m, kernel, dims, rank)) return WG_E_BAD_VALUE;
            if (bias != -1 && (bias < 0 || (uint32_t)bias >= tensor_count || wg_tensor_elements(m, (uint32_t)bias) != units)) {
                return WG_E_BAD_VALUE;
            }
        }
    }
    return WG_OK;
}

/* ---- the operators (device-sim/kernels/conv.ts, conv-int.ts) ---- */

#if WG_SPATIAL_INT
uint32_t wg_weighted_ahead(const wg_model *m, uint32_t from, int32_t *bound)
{
    const uint8_t *b = m->manifest;
    uint32_t l;
    for (l = from; l < m->layer_count; l++) {
        uint32_t layer = wg_layer(m, l), kind = wg_fb_u8(b, layer, L_KIND, KIND_DENSE);
        uint32_t terms = wg_fb_u32(b, layer, L_INPUTS, 0);
        if (kind > KIND_DEPTHWISE) continue;
        /* conv2d: kh kw inputs; depthwise: kh kw (one input channel per
         * output); Dense: its inputs. At most the kernel's elements, 2^24. */
        if (kind != KIND_DENSE) {
            uint32_t window = wg_fb_u8(b, layer, L_WINDOW_H, 0) * wg_fb_u8(b, layer, L_WINDOW_W, 0);
            terms = kind == KIND_CONV ? window * terms : window;
        }
        *bound = wg_activation_bound(terms);
        return l;
    }
    *bound = 32767;
    return m->layer_count;
}

int32_t wg_rdiv(int64_t a, uint32_t k)
{
    uint64_t mag = a < 0 ? (uint64_t)-a : (uint64_t)a;
    mag = (2u * mag + k) / (2u * (uint64_t)k);
    return a < 0 ? -(int32_t)mag : (int32_t)mag;
}

void wg_relu6_int(wg_acc *out, uint32_t n, int32_t fa)
{
    /* floor(6 * 2^fa), exact: 6 << fa up to fa = 28; from 29 on it is past
     * every int32, so no clamp; 3, 1, then 0 below fa = 0 */
    int32_t cap = fa >= 29 ? INT32_MAX : fa >= 0 ? 6 << fa : fa >= -2 ? 6 >> -fa : 0;
    uint32_t j;
    for (j = 0; j < n; j++) out[j] = out[j] < 0 ? 0 : out[j] > cap ? cap : out[j];
}
#endif

void wg_conv_begin(wg_conv *k, const wg_geom *g)
{
    memset(k, 0, sizeof(*k));
    k->g = g;
    k->last_dim = g->kind == KIND_CONV ? g->oc : g->oc / g->c;
    k->per_tap = g->c * k->last_dim;
    k->tap = 0xffffffffu;
}

/* The first output o >= 0 whose input o s + offset is >= 0. */
static uint32_t first_valid(int32_t offset, uint32_t s)
{
    return offset >= 0 ? 0u : ((uint32_t)-offset + s - 1u) / s;
}

/* One past the last output o < out whose input o s + offset is < n. */
static uint32_t end_valid(int32_t offset, uint32_t s, uint32_t n, uint32_t out)
{
    uint32_t end;
    if (offset >= (int32_t)n) return 0;
    end = (uint32_t)((int32_t)n - 1 - offset) / s + 1u;
    return end < out ? end : out;
}

void wg_conv_entry(wg_conv *k, const wg_acc *in, wg_acc *out, uint32_t position, wg_acc w)
{
    const wg_geom *g = k->g;
    uint32_t t = position / k->per_tap, within, ci, co, oy, ox, in_row, out_row, in_step, out_c = g->oc;
    if (t != k->tap) {
        uint32_t ky = t / g->kw, kx = t - ky * g->kw;
        k->tap = t;
        k->iy = (int32_t)ky - (int32_t)g->pt;
        k->ix = (int32_t)kx - (int32_t)g->pl;
        k->oy0 = first_valid(k->iy, g->sh);
        k->oy1 = end_valid(k->iy, g->sh, g->h, g->oh);
        k->ox0 = first_valid(k->ix, g->sw);
        k->ox1 = end_valid(k->ix, g->sw, g->w, g->ow);
    }
    if (k->oy0 >= k->oy1 || k->ox0 >= k->ox1) return;
    within = position - t * k->per_tap; /* ci x last_dim + (co, or the multiplier's j) */
    ci = within / k->last_dim;
    co = g->kind == KIND_CONV ? within - ci * k->last_dim : within;
    /* the tap's valid outputs [oy0, oy1) x [ox0, ox1): the input with a
     * constant step (stride x channels), the output with out_c */
    in_row = ((uint32_t)((int32_t)(k->oy0 * g->sh) + k->iy) * g->w + (uint32_t)((int32_t)(k->ox0 * g->sw) + k->ix)) * g->c + ci;
    out_row = (k->oy0 * g->ow + k->ox0) * out_c + co;
    in_step = g->sw * g->c;
    for (oy = k->oy0; oy < k->oy1; oy++) {
        uint32_t i = in_row, o = out_row;
        for (ox = k->ox0; ox < k->ox1; ox++) {
            wg_acc x = in[i];
            if (x != 0) { /* a zero input: no term (int: exact either way) */
                wg_acc term = x * w; /* int: |x| <= 32767, |w| <= 127; the bound keeps the sum in int32 */
                out[o] = out[o] + term;
            }
            i += in_step;
            o += out_c;
        }
        in_row += g->sh * g->w * g->c;
        out_row += g->ow * out_c;
    }
}

void wg_pool(const wg_geom *g, const wg_acc *in, wg_acc *out)
{
    uint32_t oy, ox, y, x, k, o = 0, c = g->c;
    int avg = g->kind == KIND_AVG_POOL;
    for (oy = 0; oy < g->oh; oy++) {
        /* the window's rows inside the input, [y0, y1); columns [x0, x1) */
        int32_t top = (int32_t)(oy * g->sh) - (int32_t)g->pt;
        uint32_t y0 = top > 0 ? (uint32_t)top : 0u, y1 = (uint32_t)(top + (int32_t)g->kh);
        if (y1 > g->h) y1 = g->h;
        for (ox = 0; ox < g->ow; ox++) {
            int32_t left = (int32_t)(ox * g->sw) - (int32_t)g->pl;
            uint32_t x0 = left > 0 ? (uint32_t)left : 0u, x1 = (uint32_t)(left + (int32_t)g->kw);
            if (x1 > g->w) x1 = g->w;
#if WG_SPATIAL_INT
            /* per channel: the largest cell (at least one is inside), or
             * the exact sum (< 2^31 here: at most 255 x 255 cells of
             * |v| <= 32767; int64 all the same) rounded by wg_rdiv */
            for (k = 0; k < c; k++) {
                int64_t sum = 0;
                int32_t best = INT32_MIN;
                for (y = y0; y < y1; y++) {
                    const wg_acc *i = in + (y * g->w + x0) * c + k;
                    for (x = x0; x < x1; x++, i += c) {
                        sum += *i;
                        if (*i > best) best = *i;
                    }
                }
                out[o + k] = avg ? wg_rdiv(sum, (y1 - y0) * (x1 - x0)) : best;
            }
#else
            /* padded cells are no candidates and not counted: max starts
             * at -infinity, a NaN is never larger */
            for (k = 0; k < c; k++) out[o + k] = avg ? 0.0f : wg_f32_of_bits(0xff800000u);
            for (y = y0; y < y1; y++) {
                const float *i = in + (y * g->w + x0) * c;
                for (x = x0; x < x1; x++) {
                    for (k = 0; k < c; k++, i++) {
                        if (avg) {
                            out[o + k] = out[o + k] + *i;
                        } else if (*i > out[o + k]) {
                            out[o + k] = *i;
                        }
                    }
                }
            }
            if (avg) {
                float cells = (float)((y1 - y0) * (x1 - x0)); /* <= 255 x 255: exact */
                for (k = 0; k < c; k++) out[o + k] = out[o + k] / cells;
            }
#endif
            o += c;
        }
    }
}

void wg_global_pool(const wg_geom *g, const wg_acc *in, wg_acc *out)
{
    uint32_t c = g->c, n = g->h * g->w * c, i, k;
#if WG_SPATIAL_INT
    /* the exact sum of each channel: h w <= 2^24 cells of |v| <= 32767 */
    for (k = 0; k < c; k++) {
        int64_t sum = 0;
        for (i = k; i < n; i += c) sum += in[i];
        out[k] = wg_rdiv(sum, g->h * g->w);
    }
#else
    float cells = (float)(g->h * g->w); /* <= 2^24: exact */
    for (k = 0; k < c; k++) out[k] = 0.0f;
    for (i = 0; i < n; i += c) {
        for (k = 0; k < c; k++) out[k] = out[k] + in[i + k];
    }
    for (k = 0; k < c; k++) out[k] = out[k] / cells;
#endif
}

/* Every held segment of `tensor`, in the manifest's segment order, each
 * entry in ascending position: a kernel entry into its taps, or a bias
 * entry (position = output channel) into every cell of `out` (n values).
 * The int path adds wq = rnd(w 2^fw), and a bias rsh(rnd(b 2^fb), fb - fa). */
static wg_status stream(const wg_model *m, uint32_t tensor, wg_conv *k, const wg_acc *in, wg_acc *out, uint32_t n, const wg_layer_io *io)
{
    wg_seg_iter it;
    wg_cursor c;
    uint32_t at = 0;
#if !WG_SPATIAL_INT
    (void)io;
#endif
    wg_seg_begin(&it, m);
    while (wg_seg_next(&it)) {
        uint32_t e;
        wg_status st;
        if (!wg_holds(m, it.code)) continue;
        at += it.bytes;
        if (it.tensor != tensor) continue;
        st = wg_cursor_open(&c, m, tensor, it.code, it.count, m->segment_data + at - it.bytes, it.bytes, m->arena + m->decoder_at,
                            NULL);
        for (e = 0; st == WG_OK && e < it.count; e++) {
            uint32_t p, raw, o;
            float value;
            wg_acc w;
            st = wg_cursor_next(&c, &p, &value, &raw);
            if (st != WG_OK) break;
#if WG_SPATIAL_INT
            w = in ? (int32_t)wg_rnd_pow2_bits(value, io->fw) : wg_rsh((int32_t)wg_rnd_pow2_bits(value, io->fb), io->fb - io->fa);
#else
            w = value;
#endif
            if (!in) {
                for (o = p; o < n; o += k->g->oc) out[o] = out[o] + w;
            } else {
                wg_conv_entry(k, in, out, p, w);
            }
        }
        if (st != WG_OK) return st;
    }
    return WG_OK;
}

wg_status wg_spatial_layer(const wg_model *m, uint32_t layer, wg_layer_io *io, const wg_geom *g)
{
    uint32_t n = g->oh * g->ow * g->oc, j; /* the arena holds it: < 2^30 */
    wg_acc *out = io->out;
    wg_status st = WG_OK;
    if (g->kind == KIND_CONV || g->kind == KIND_DEPTHWISE) {
        wg_conv k;
        int32_t bias = (int16_t)wg_fb_u16(m->manifest, layer, L_BIAS, 0xffffu);
        for (j = 0; j < n; j++) out[j] = 0;
        wg_conv_begin(&k, g);
        st = stream(m, wg_fb_u16(m->manifest, layer, L_KERNEL, 0), &k, io->in, out, n, io);
#if WG_SPATIAL_INT
        if (!io->bias_held) bias = -1; /* no entry held: no term (and fb - fa means nothing) */
#endif
        if (st == WG_OK && bias >= 0) st = stream(m, (uint32_t)bias, &k, NULL, out, n, io);
    } else if (g->kind == KIND_GLOBAL_AVG_POOL) {
        wg_global_pool(g, io->in, out);
    } else {
        wg_pool(g, io->in, out);
    }
    io->units = n;
    return st;
}

#endif /* WG_SPATIAL */

/*
 * wg_invoke.c: one inference. Layer by layer, outputs ping-pong between the
 * arena's two activation regions; each layer runs the coded kernel (decode
 * the held segments while computing, one segment open at a time, its
 * decoder in the arena's decoder region) or the image kernel (wg_image.c).
 *
 * Term order (f32, docs/arithmetic.md): the coded kernel adds the kernel
 * segments' terms in manifest segment order, each in ascending position,
 * then the bias segments' the same way. The int path's sums are exact.
 * A convolutional model's layers that are not Dense run in wg_spatial.c
 * (coded kernels, either path; pooling with the image too), or, its
 * convolutions with the image (either path), in wg_image.c; their input map is
 * preprocessed once into the odd region; its Dense layers read the last map flat, here. On the
 * int path a pooling layer keeps its input's exponent, and each weighted
 * layer but the last is rescaled toward the next weighted layer's bound.
 */
#include "wg_internal.h"

/* One walk of the segment table for a whole inference: the record read
 * and not yet taken (pending), the byte offset in segment_data of the held
 * segments passed, and the last tensor streamed. Every model the pipeline
 * writes streams its tensors in ascending order (the table's), so the walk
 * reads each record once; a tensor at or below the last one (a kernel two
 * layers share) starts it again. */
typedef struct seg_walk {
    wg_seg_iter it;
    uint32_t at;
    uint32_t last; /* 0xffffffff before the first tensor: a start */
    int pending;
} seg_walk;

/* Adds every held segment of `tensor`: kernel terms, or bias entries. */
static wg_status stream_tensor(const wg_model *m, const wg_layer_io *io, uint32_t tensor, int is_bias, seg_walk *walk)
{
    wg_cursor c;
    wg_layer_io bio;
    const wg_layer_io *use = io;
    uint32_t units = io->units, inputs = io->inputs;
    static const wg_acc one = 1;
    if (is_bias) {
        /* a bias is one row of `units` columns whose input is 1: the term
         * fl32(1 * b) is b, so out[j] + b as the path adds a bias */
        bio = *io;
        bio.raw = NULL;
        bio.in = &one;
        use = &bio;
        inputs = 1;
    }
    if (tensor <= walk->last) {
        wg_seg_begin(&walk->it, m);
        walk->at = 0;
        walk->pending = 0;
    }
    walk->last = tensor;
    for (; walk->pending || wg_seg_next(&walk->it); walk->pending = 0) {
        wg_status st;
        if (walk->it.tensor > tensor) { /* a later tensor's: kept for it */
            walk->pending = 1;
            break;
        }
        if (!wg_holds(m, walk->it.code)) continue;
        walk->at += walk->it.bytes;
        if (walk->it.tensor != tensor) continue;
        st = wg_cursor_open(&c, m, tensor, walk->it.code, walk->it.count, m->segment_data + walk->at - walk->it.bytes, walk->it.bytes,
                            m->arena + m->decoder_at, NULL);
#ifndef WG_CODED_COMPACT
        if (st == WG_OK) st = wg_cursor_run(&c, m, use, units, inputs, is_bias);
        if (st != WG_OK) return st;
#else
        (void)inputs;
        if (st != WG_OK) return st;
        {
            /* the compact build (WG_CODED_FAST=OFF): an entry at a time
             * through the validation decoder, no second decoder in flash */
            uint32_t n, row = 0xffffffffu;
            wg_acc x = 0;
            for (n = 0; n < walk->it.count; n++) {
                uint32_t p, raw;
                float w;
                st = wg_cursor_next(&c, &p, &w, &raw);
                if (st != WG_OK) return st;
                if (p / units != row) {
                    row = p / units;
                    x = wg_input_at(m, use, row);
                }
                if (x == 0) continue; /* a blank pixel, a relu zero: no term */
                if (is_bias) {
                    wg_add_bias(io, p, w);
                } else {
                    wg_add_term(io, p - row * units, x, w);
                }
            }
        }
#endif
    }
    return WG_OK;
}

static wg_status coded_layer(const wg_model *m, uint32_t l, const wg_layer_io *io, seg_walk *walk)
{
    const uint8_t *b = m->manifest;
    uint32_t layer = wg_layer(m, l);
    int32_t bias = (int16_t)wg_fb_u16(b, layer, L_BIAS, 0xffffu);
    wg_status st = stream_tensor(m, io, wg_fb_u16(b, layer, L_KERNEL, 0), 0, walk);
    if (st == WG_OK && bias >= 0) {
#ifdef WG_ARITH_INT
        if (io->bias_held)
#endif
            st = stream_tensor(m, io, (uint32_t)bias, 1, walk);
    }
    return st;
}

#ifdef WG_ARITH_INT
/* Block floating point between layers: the ReLU when the layer has one,
 * then the smallest shift s that bounds the next layer's inputs and keeps
 * its bias exponent above the sum's, applied to every output. Returns the
 * next layer's input exponent. After a ReLU every output is >= 0, so the
 * largest magnitude comes from the same pass and the rounding shift needs
 * no sign. */
static int32_t rescale(const wg_model *m, const wg_layer_io *io, uint32_t l, int relu)
{
    const wg_layer_state *ls = (const wg_layer_state *)(const void *)m->arena;
#if WG_SPATIAL
    /* the next weighted layer (pooling between never grows a magnitude),
     * or the cap 32767 when only pooling follows */
    int32_t bound, s = 0;
    uint32_t next = wg_weighted_ahead(m, l + 1u, &bound), a = 0, j, units = io->units;
#else
    uint32_t next = wg_layer(m, l + 1u), a = 0, j, units = io->units;
    int32_t bound = wg_activation_bound(wg_fb_u32(m->manifest, next, L_INPUTS, 0)), s = 0;
#endif
    wg_acc *out = io->out;
    if (relu) {
        for (j = 0; j < units; j++) {
            int32_t v = out[j];
            if (v < 0) out[j] = v = 0;
            if ((uint32_t)v > a) a = (uint32_t)v;
        }
    } else {
        for (j = 0; j < units; j++) {
            uint32_t mag = out[j] < 0 ? 0u - (uint32_t)out[j] : (uint32_t)out[j];
            a = mag > a ? mag : a;
        }
    }
#if WG_SPATIAL
    if (next < m->layer_count && (ls[next].flags & WG_LS_BIAS_HELD)) {
        int32_t need = io->fa + ls[next].fw - ls[next].fb;
#else
    if (ls[l + 1u].flags & WG_LS_BIAS_HELD) {
        int32_t need = io->fa + ls[l + 1u].fw - ls[l + 1u].fb;
#endif
        s = need > 0 ? need : 0;
    }
    while (s < 32 && wg_rsh((int32_t)(a > 0x7fffffffu ? 0x7fffffffu : a), s) > bound) s++;
    if (s >= 32) {
        for (j = 0; j < units; j++) out[j] = 0;
    } else if (s > 0 && relu) {
        uint32_t half = 1u << (s - 1); /* out[j] < 2^31, half <= 2^30: no carry out */
        for (j = 0; j < units; j++) out[j] = (int32_t)(((uint32_t)out[j] + half) >> s);
    } else if (s > 0) {
        for (j = 0; j < units; j++) out[j] = wg_rsh_in(out[j], (uint32_t)s);
    }
    return io->fa - s;
}
#endif

wg_status wg_invoke(wg_model *m, const uint8_t *input, wg_logit *logits, wg_result *result)
{
    const uint8_t *b;
    uint32_t l, j, best = 0;
    wg_layer_io io;
    seg_walk walk;
    const wg_acc *last = NULL;
#ifdef WG_ARITH_INT
    int32_t fx;
#endif
#if WG_SPATIAL
    wg_geom geom;
#endif
#if WG_SPATIAL
    uint32_t il = 0; /* the image's layer: weighted layers only */
#define IMAGE_LAYER il
#else
#define IMAGE_LAYER l /* every layer is one (Dense-only models) */
#endif
    if (!m || !input || !result || !(m->open_flags & WG_OPEN_READY)) return WG_E_BAD_ARGUMENT;
    if ((m->open_flags & WG_OPEN_IMAGE) && !m->image_ready) return WG_E_BAD_ARGUMENT;
    b = m->manifest;
    memset(&io, 0, sizeof(io));
    walk.last = 0xffffffffu;
    io.raw = input;
    io.inputs = m->inputs;
#ifdef WG_ARITH_INT
#if WG_SPATIAL
    (void)wg_weighted_ahead(m, 0, &io.in_bound); /* X_0: the first weighted layer's bound */
#else
    io.in_bound = wg_activation_bound(m->inputs);
#endif
    fx = m->in_exp;
#endif
#if WG_SPATIAL
    memset(&geom, 0, sizeof(geom));
    io.geom = &geom;
    if (m->graph & WG_GRAPH_MAP) {
        /* a map is read many times: preprocessed once into the odd region
         * (f32: fl32(fl32(raw scale) + offset); int: the clamped xq) */
        wg_acc *x = (wg_acc *)(void *)(m->arena + m->act_at[1]);
        for (j = 0; j < m->inputs; j++) x[j] = wg_input_at(m, &io, j);
        io.raw = NULL;
        io.in = x;
    }
#endif
    for (l = 0; l < m->layer_count; l++) {
        uint32_t layer = wg_layer(m, l);
        uint32_t act = wg_fb_u8(b, layer, L_ACTIVATION, ACT_LINEAR);
        wg_status st;
#ifdef WG_ARITH_INT
        const wg_layer_state *ls = (const wg_layer_state *)(const void *)m->arena;
        io.fw = ls[l].fw;
        io.fb = ls[l].fb;
        io.bias_held = ls[l].flags & WG_LS_BIAS_HELD;
        io.fa = fx + io.fw;
#endif
        io.units = wg_fb_u32(b, layer, L_UNITS, 0);
        io.out = (wg_acc *)(void *)(m->arena + m->act_at[l % 2u]);
#if WG_SPATIAL
        if (m->graph & WG_GRAPH_MAP) wg_geom_next(m, layer, &geom, l == 0);
#if WG_SPATIAL_INT
        if (geom.kind >= KIND_MAX_POOL) io.fa = fx; /* pooling keeps the exponent */
#endif
        /* the image runs a convolution too (io.geom), pooling runs here */
        if (geom.kind >= KIND_MAX_POOL || (geom.kind != KIND_DENSE && !(m->open_flags & WG_OPEN_IMAGE))) {
            st = wg_spatial_layer(m, layer, &io, &geom);
        } else
#endif
        {
            /* a convolution's image kernel clears its whole map */
            for (j = 0; j < io.units; j++) io.out[j] = 0;
            st = (m->open_flags & WG_OPEN_IMAGE) ? m->image_kernel(m, IMAGE_LAYER, &io) : coded_layer(m, l, &io, &walk);
#if WG_SPATIAL
            if (geom.kind != KIND_DENSE) io.units = geom.oh * geom.ow * geom.oc;
#endif
        }
#if WG_SPATIAL
        if (geom.kind <= KIND_DEPTHWISE) il++;
#endif
        if (st != WG_OK) return st;
#ifdef WG_ARITH_INT
#if WG_SPATIAL
        if (act == ACT_RELU6) {
            wg_relu6_int(io.out, io.units, io.fa);
            act = ACT_LINEAR;
        }
        if (geom.kind >= KIND_MAX_POOL) {
            act = ACT_LINEAR; /* nothing to rescale: the exponent passes on */
        } else
#endif
        if (l + 1u < m->layer_count) {
            fx = rescale(m, &io, l, act == ACT_RELU);
            act = ACT_LINEAR; /* rescale applied the ReLU */
        }
#endif
        if (act == ACT_RELU) {
            for (j = 0; j < io.units; j++) {
                if (io.out[j] < 0) io.out[j] = 0;
            }
        }
#if WG_SPATIAL_F32
        if (act == ACT_RELU6) { /* a -0 and a NaN stay */
            for (j = 0; j < io.units; j++) io.out[j] = io.out[j] < 0 ? 0.0f : io.out[j] > 6.0f ? 6.0f : io.out[j];
        }
#endif
        io.raw = NULL;
        io.in = io.out;
        io.inputs = io.units;
        last = io.out;
    }
    for (j = 0; j < io.units; j++) {
        if (logits) logits[j] = last[j];
        if (last[j] > last[best]) best = j;
    }
    result->class_index = best;
#undef IMAGE_LAYER
#ifdef WG_ARITH_INT
    result->exponent = io.fa;
#endif
    return WG_OK;
}

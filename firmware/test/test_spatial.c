/*
 * The operators of convolutional models (wg_spatial.c, docs/arithmetic.md
 * "Convolutional layers") on exact numbers: the geometry of 'valid' and
 * 'same' windows (odd total padding, strides over the window, 1x1 maps,
 * the largest window), every kernel entry's taps against a loop over the
 * definition (docs/format.md 3.1.1), conv2d and depthwise, and max,
 * average and global average pooling, where padded cells are never
 * candidates nor counted. The order of the f32 sums is the conformance
 * vectors' to check (device-sim's bits); here the values are exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wg_internal.h"

static wg_geom geom(uint32_t kind, uint32_t h, uint32_t w, uint32_t c, uint32_t kh, uint32_t kw, uint32_t sh, uint32_t sw,
                    uint32_t same, uint32_t oc)
{
    wg_geom g;
    memset(&g, 0, sizeof(g));
    g.kind = kind;
    g.h = h;
    g.w = w;
    g.c = c;
    g.kh = kh;
    g.kw = kw;
    g.sh = sh;
    g.sw = sw;
    wg_geom_window(&g, same);
    g.oc = oc;
    return g;
}

static void expect_window(uint32_t n, uint32_t k, uint32_t s, uint32_t same, uint32_t out, uint32_t before)
{
    wg_geom g = geom(KIND_MAX_POOL, n, 1, 1, k, 1, s, 1, same, 1);
    if (g.oh != out || (out > 0 && g.pt != before)) {
        print_error("n %u k %u s %u %s: %u outputs, %u before (expected %u, %u)\n", n, k, s, same ? "same" : "valid", g.oh, g.pt,
                    out, before);
        fail();
    }
}

static void test_geometry(void **state)
{
    (void)state;
    /* 'valid': floor((n - k) / s) + 1, no padding; a window larger than the input fits nothing */
    expect_window(12, 3, 1, 0, 10, 0);
    expect_window(12, 2, 2, 0, 6, 0);
    expect_window(2, 3, 1, 0, 0, 0);
    expect_window(1, 2, 1, 0, 0, 0);
    expect_window(1, 1, 1, 0, 1, 0);
    /* stride over the window: rows 0, 3, 6 ('valid'); 'same' needs no padding here */
    expect_window(7, 1, 3, 0, 3, 0);
    expect_window(7, 1, 3, 1, 3, 0);
    expect_window(8, 2, 5, 1, 2, 0);
    expect_window(3, 1, 2, 0, 2, 0);
    /* 'same': ceil(n / s), pad = (out - 1) s + k - n, floor(pad / 2) before, the odd one after */
    expect_window(12, 3, 1, 1, 12, 1);
    expect_window(9, 4, 2, 1, 5, 1);  /* pad 3: one above, two below */
    expect_window(11, 3, 2, 1, 6, 1); /* pad 2 */
    expect_window(6, 3, 2, 1, 3, 0);  /* pad 1: none above, one below */
    expect_window(5, 3, 2, 1, 3, 1);
    expect_window(3, 2, 1, 1, 3, 0);
    /* 1x1 maps: a 3x3 window has its centre on the one cell, a 2x2 its top left */
    expect_window(1, 3, 1, 1, 1, 1);
    expect_window(1, 2, 1, 1, 1, 0);
    expect_window(1, 3, 2, 1, 1, 1);
    expect_window(1, 255, 255, 1, 1, 127);
    expect_window(255, 255, 1, 1, 255, 127);
    expect_window(255, 255, 255, 0, 1, 0);
}

/* docs/format.md 3.1.1 as written: every output cell row-major, each
 * (ky, kx, i) whose input cell is inside, entries in the given order. */
static void naive_conv(const wg_geom *g, const float *in, float *out, const uint32_t *positions, const float *values, uint32_t n)
{
    uint32_t e, oy, ox, last = g->kind == KIND_CONV ? g->oc : g->oc / g->c;
    for (e = 0; e < n; e++) {
        uint32_t p = positions[e], o = p % last, ci = (p / last) % g->c, kx = (p / last / g->c) % g->kw,
                 ky = p / last / g->c / g->kw;
        uint32_t co = g->kind == KIND_CONV ? o : ci * last + o;
        for (oy = 0; oy < g->oh; oy++) {
            for (ox = 0; ox < g->ow; ox++) {
                int32_t iy = (int32_t)(oy * g->sh + ky) - (int32_t)g->pt, ix = (int32_t)(ox * g->sw + kx) - (int32_t)g->pl;
                float x, t;
                if (iy < 0 || ix < 0 || iy >= (int32_t)g->h || ix >= (int32_t)g->w) continue;
                x = in[((uint32_t)iy * g->w + (uint32_t)ix) * g->c + ci];
                if (x == 0) continue;
                t = x * values[e];
                out[(oy * g->ow + ox) * g->oc + co] += t;
            }
        }
    }
}

static uint32_t lcg = 12345u;
static uint32_t next_random(void)
{
    lcg = lcg * 1103515245u + 12345u;
    return lcg >> 8;
}

/* Every kernel position (a dense kernel) and a sparse one, random quarter
 * values, an input with zeros: the taps equal the definition's exactly. */
static void check_conv(wg_geom g)
{
    uint32_t last = g.kind == KIND_CONV ? g.oc : g.oc / g.c, elements = g.kh * g.kw * g.c * last, cells = g.oh * g.ow * g.oc;
    uint32_t i, n = 0, sparse;
    float *in = calloc(g.h * g.w * g.c, sizeof(float)), *ours = calloc(cells, sizeof(float)), *theirs = calloc(cells, sizeof(float));
    uint32_t *positions = malloc(sizeof(uint32_t) * elements);
    float *values = malloc(sizeof(float) * elements);
    assert_true(g.oh > 0 && g.ow > 0);
    for (i = 0; i < g.h * g.w * g.c; i++) in[i] = (float)((int32_t)(next_random() % 9u) - 4) * 0.5f;
    for (sparse = 0; sparse < 2; sparse++) {
        wg_conv k;
        n = 0;
        for (i = 0; i < elements; i++) {
            if (sparse && next_random() % 3u != 0) continue;
            positions[n] = i;
            values[n++] = (float)((int32_t)(next_random() % 7u) - 3) * 0.25f;
        }
        memset(ours, 0, sizeof(float) * cells);
        memset(theirs, 0, sizeof(float) * cells);
        wg_conv_begin(&k, &g);
        for (i = 0; i < n; i++) wg_conv_entry(&k, in, ours, positions[i], values[i]);
        naive_conv(&g, in, theirs, positions, values, n);
        assert_memory_equal(ours, theirs, sizeof(float) * cells);
    }
    free(values);
    free(positions);
    free(theirs);
    free(ours);
    free(in);
}

static void test_conv_taps(void **state)
{
    (void)state;
    check_conv(geom(KIND_CONV, 12, 12, 1, 3, 3, 1, 1, 1, 6));    /* 'same', stride 1 */
    check_conv(geom(KIND_CONV, 9, 11, 2, 4, 3, 2, 2, 1, 4));     /* 'same', odd total padding */
    check_conv(geom(KIND_CONV, 7, 5, 3, 1, 1, 3, 2, 0, 2));      /* stride over the window */
    check_conv(geom(KIND_CONV, 8, 8, 2, 2, 3, 5, 4, 1, 3));      /* stride over the window, 'same' */
    check_conv(geom(KIND_CONV, 1, 1, 3, 3, 3, 1, 1, 1, 4));      /* 1x1 map, 3x3 window */
    check_conv(geom(KIND_CONV, 1, 1, 2, 1, 1, 1, 1, 0, 5));      /* 1x1 map, 1x1 window */
    check_conv(geom(KIND_CONV, 6, 4, 1, 6, 4, 1, 1, 0, 2));      /* the window is the map: 1x1 output */
    check_conv(geom(KIND_CONV, 3, 2, 1, 7, 5, 1, 1, 1, 1));      /* a window larger than the map, 'same' */
    check_conv(geom(KIND_DEPTHWISE, 5, 6, 4, 3, 3, 1, 1, 1, 12)); /* multiplier 3 */
    check_conv(geom(KIND_DEPTHWISE, 6, 6, 6, 3, 3, 1, 1, 0, 12)); /* multiplier 2, 'valid' */
    check_conv(geom(KIND_DEPTHWISE, 1, 1, 4, 2, 2, 1, 1, 1, 8));  /* 1x1 map, 2x2 'same' */
    check_conv(geom(KIND_DEPTHWISE, 9, 7, 2, 2, 4, 3, 2, 1, 2));  /* multiplier 1, odd padding */
}

/* Pooling by definition: the window's cells inside the input, row-major. */
static void naive_pool(const wg_geom *g, const float *in, float *out)
{
    uint32_t oy, ox, k, ky, kx;
    for (oy = 0; oy < g->oh; oy++) {
        for (ox = 0; ox < g->ow; ox++) {
            for (k = 0; k < g->c; k++) {
                float acc = g->kind == KIND_AVG_POOL ? 0.0f : wg_f32_of_bits(0xff800000u);
                uint32_t cells = 0;
                for (ky = 0; ky < g->kh; ky++) {
                    for (kx = 0; kx < g->kw; kx++) {
                        int32_t iy = (int32_t)(oy * g->sh + ky) - (int32_t)g->pt, ix = (int32_t)(ox * g->sw + kx) - (int32_t)g->pl;
                        float v;
                        if (iy < 0 || ix < 0 || iy >= (int32_t)g->h || ix >= (int32_t)g->w) continue;
                        v = in[((uint32_t)iy * g->w + (uint32_t)ix) * g->c + k];
                        cells++;
                        if (g->kind == KIND_AVG_POOL) acc += v;
                        else if (v > acc) acc = v;
                    }
                }
                assert_true(cells > 0); /* every window holds a cell of the input */
                out[(oy * g->ow + ox) * g->c + k] = g->kind == KIND_AVG_POOL ? acc / (float)cells : acc;
            }
        }
    }
}

static void check_pool(wg_geom g, float bias)
{
    uint32_t i, n = g.h * g.w * g.c, cells = g.oh * g.ow * g.c;
    float *in = malloc(sizeof(float) * n), *ours = malloc(sizeof(float) * cells), *theirs = malloc(sizeof(float) * cells);
    for (i = 0; i < n; i++) in[i] = (float)(next_random() % 64u) * 0.125f + bias;
    memset(ours, 0xa5, sizeof(float) * cells); /* every cell is written */
    wg_pool(&g, in, ours);
    naive_pool(&g, in, theirs);
    assert_memory_equal(ours, theirs, sizeof(float) * cells);
    free(theirs);
    free(ours);
    free(in);
}

static void test_pooling(void **state)
{
    uint32_t kind;
    (void)state;
    for (kind = KIND_MAX_POOL; kind <= KIND_AVG_POOL; kind++) {
        /* all inputs negative: a padded cell (0) would win a max, and count in an average */
        check_pool(geom(kind, 5, 6, 12, 3, 3, 2, 2, 1, 12), -9.0f);
        check_pool(geom(kind, 3, 3, 12, 2, 2, 1, 1, 1, 12), -9.0f); /* odd padding: one row and column after */
        check_pool(geom(kind, 9, 11, 2, 4, 3, 2, 2, 1, 2), -9.0f);
        check_pool(geom(kind, 7, 7, 1, 1, 1, 3, 3, 0, 1), -1.0f);   /* stride over the window */
        check_pool(geom(kind, 8, 5, 3, 2, 1, 5, 3, 1, 3), -1.0f);   /* stride over the window, 'same' */
        check_pool(geom(kind, 1, 1, 8, 3, 3, 2, 2, 1, 8), -2.0f);   /* 1x1 map */
        check_pool(geom(kind, 1, 1, 8, 2, 2, 1, 1, 1, 8), 0.5f);
        check_pool(geom(kind, 12, 12, 6, 2, 2, 2, 2, 0, 6), 0.0f);
        check_pool(geom(kind, 4, 4, 2, 4, 4, 1, 1, 0, 2), 1.0f);    /* one window: the whole map */
    }
}

static void test_pool_values(void **state)
{
    /* 2x2 map, 3x3 'same' windows of stride 1: each output sees all 4 cells
     * but counts only them; max: a padded cell never wins, a NaN never does */
    const float in[4] = {-4.0f, -3.0f, -2.0f, -1.5f};
    float nan = wg_f32_of_bits(0x7fc00000u), inf = wg_f32_of_bits(0x7f800000u);
    const float nans[4] = {nan, -8.0f, nan, nan};
    float out[4];
    wg_geom g = geom(KIND_AVG_POOL, 2, 2, 1, 3, 3, 1, 1, 1, 1);
    uint32_t i;
    (void)state;
    assert_int_equal(g.oh, 2);
    assert_int_equal(g.pt, 1);
    wg_pool(&g, in, out);
    for (i = 0; i < 4; i++) assert_true(out[i] == -2.625f); /* (-10.5) / 4 */
    g.kind = KIND_MAX_POOL;
    wg_pool(&g, in, out);
    for (i = 0; i < 4; i++) assert_true(out[i] == -1.5f);
    wg_pool(&g, nans, out);
    for (i = 0; i < 4; i++) assert_true(out[i] == -8.0f);
    /* a window of NaNs only: -infinity */
    g = geom(KIND_MAX_POOL, 2, 2, 1, 1, 1, 1, 1, 0, 1);
    wg_pool(&g, nans, out);
    assert_true(out[0] == -inf && out[1] == -8.0f && out[2] == -inf && out[3] == -inf);
}

static void test_global_pool(void **state)
{
    const float one[3] = {1.5f, -2.0f, 0.25f};
    const float map[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; /* 2x3 cells of 2 channels */
    float out[3];
    wg_geom g;
    (void)state;
    memset(&g, 0, sizeof(g));
    g.kind = KIND_GLOBAL_AVG_POOL;
    g.h = 1;
    g.w = 1;
    g.c = 3;
    wg_global_pool(&g, one, out);
    assert_memory_equal(out, one, sizeof(one)); /* 1x1: the cell itself */
    g.h = 2;
    g.w = 3;
    g.c = 2;
    wg_global_pool(&g, map, out);
    assert_true(out[0] == 6.0f && out[1] == 7.0f); /* (1+3+5+7+9+11)/6, (2+...+12)/6 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry),   cmocka_unit_test(test_conv_taps),   cmocka_unit_test(test_pooling),
        cmocka_unit_test(test_pool_values), cmocka_unit_test(test_global_pool),
    };
    return cmocka_run_group_tests_name("spatial_operators", tests, NULL, NULL);
}

/*
 * The int path's operators of convolutional models (wg_spatial.c,
 * docs/arithmetic.md "Convolutional layers (int path)") on exact
 * integers: the rounding division of the averages (halves away from
 * zero, sums past 2^32), relu6's clamp at floor(6 * 2^fa) for every
 * exponent, max and average pooling over padded borders, the global
 * average of a large map, and the bound ahead of a layer. Whole models
 * are the conformance vectors' (device-sim's bits).
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

static void test_rdiv(void **state)
{
    (void)state;
    assert_int_equal(wg_rdiv(5, 2), 3);
    assert_int_equal(wg_rdiv(-5, 2), -3);
    assert_int_equal(wg_rdiv(7, 4), 2);
    assert_int_equal(wg_rdiv(-7, 4), -2);
    assert_int_equal(wg_rdiv(6, 4), 2);
    assert_int_equal(wg_rdiv(-6, 4), -2);
    assert_int_equal(wg_rdiv(1, 3), 0);
    assert_int_equal(wg_rdiv(2, 3), 1);
    assert_int_equal(wg_rdiv(-2, 3), -1);
    assert_int_equal(wg_rdiv(0, 7), 0);
    /* a global pool's extremes: 2^24 cells of -+32767 */
    assert_int_equal(wg_rdiv((int64_t)32767 << 24, 1u << 24), 32767);
    assert_int_equal(wg_rdiv(-((int64_t)32767 << 24), 1u << 24), -32767);
    /* a half just below and at, with sums far past 2^32 */
    assert_int_equal(wg_rdiv(((int64_t)32767 << 24) + (1 << 23) - 1, 1u << 24), 32767);
    assert_int_equal(wg_rdiv(((int64_t)32767 << 24) + (1 << 23), 1u << 24), 32768);
    assert_int_equal(wg_rdiv(-(((int64_t)32767 << 24) + (1 << 23)), 1u << 24), -32768);
}

static void test_relu6(void **state)
{
    static const int32_t fa[] = {-100, -3, -2, -1, 0, 1, 10, 28, 29, 60};
    static const int32_t cap[] = {0, 0, 1, 3, 6, 12, 6144, 6 << 28, INT32_MAX, INT32_MAX};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(fa) / sizeof(fa[0]); i++) {
        int32_t v[6] = {INT32_MIN, -1, 0, 5, 6 << 28, INT32_MAX}, want[6];
        size_t j;
        for (j = 0; j < 6; j++) want[j] = v[j] < 0 ? 0 : v[j] > cap[i] ? cap[i] : v[j];
        wg_relu6_int(v, 6, fa[i]);
        if (memcmp(v, want, sizeof(v)) != 0) {
            print_error("fa %d: not clamped at %d\n", fa[i], cap[i]);
            fail();
        }
    }
}

static wg_geom geom(uint32_t kind, uint32_t h, uint32_t w, uint32_t c, uint32_t kh, uint32_t kw, uint32_t sh, uint32_t sw,
                    uint32_t same)
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
    g.oc = c;
    return g;
}

static void test_pools(void **state)
{
    /* 3x3, one channel; 'same' 2x2 windows: the last row and column hold 2 cells, the corner 1 */
    static const int32_t map[9] = {1, 2, 3, 4, 5, 6, 7, 8, 10};
    static const int32_t neg[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -10};
    int32_t out[9];
    wg_geom g = geom(KIND_AVG_POOL, 3, 3, 1, 2, 2, 1, 1, 1);
    (void)state;
    wg_pool(&g, map, out);
    assert_int_equal(out[0], 3);  /* 12 / 4 */
    assert_int_equal(out[2], 5);  /* 9 / 2: a half, away from zero */
    assert_int_equal(out[6], 8);  /* 15 / 2 */
    assert_int_equal(out[8], 10); /* one cell */
    wg_pool(&g, neg, out);
    assert_int_equal(out[2], -5);
    assert_int_equal(out[6], -8);
    g = geom(KIND_MAX_POOL, 3, 3, 1, 2, 2, 1, 1, 1);
    wg_pool(&g, neg, out);
    assert_int_equal(out[0], -1); /* padded cells are no candidates: never 0 */
    assert_int_equal(out[8], -10);
}

static void test_global_large(void **state)
{
    uint32_t side = 1024, n = side * side, i;
    int32_t *map = malloc(sizeof(int32_t) * n * 2u), out[2];
    int64_t sum = 0;
    wg_geom g;
    (void)state;
    assert_non_null(map);
    for (i = 0; i < n; i++) {
        map[2u * i] = i % 3u == 0 ? -32767 : 32767;
        map[2u * i + 1u] = 32767;
        sum += map[2u * i];
    }
    memset(&g, 0, sizeof(g));
    g.kind = KIND_GLOBAL_AVG_POOL;
    g.h = side;
    g.w = side;
    g.c = 2;
    wg_global_pool(&g, map, out);
    assert_int_equal(out[0], wg_rdiv(sum, n));
    assert_int_equal(out[0], 10922); /* 32767 (2^20 - 2 x 349526) / 2^20 = 10922.29 */
    assert_int_equal(out[1], 32767);
    free(map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rdiv),
        cmocka_unit_test(test_relu6),
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_global_large),
    };
    return cmocka_run_group_tests_name("spatial_operators_int", tests, NULL, NULL);
}

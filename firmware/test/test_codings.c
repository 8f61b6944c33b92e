/*
 * A library built with one segment coding left out (CMake WG_CODING_RANGE
 * or WG_CODING_RICE OFF; WG_TEST_LEFT_OUT names it): on the fixtures
 * (WG_FIXTURES), every model of the other coding opens, for both kernels,
 * and gives its expected logits on the coded ones; every model of the one
 * left out (named *-rice when Rice-coded) is refused with WG_E_UNSUPPORTED,
 * signed or not, coded or image kernels, and its image is not built.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_vectors.h"

static test_vectors fx;

static int is_rice(const char *name)
{
    size_t n = strlen(name);
    return n >= 5 && strcmp(name + n - 5, "-rice") == 0;
}

static int built(const char *name)
{
    return is_rice(name) ? strcmp(WG_TEST_LEFT_OUT, "rice") != 0 : strcmp(WG_TEST_LEFT_OUT, "range") != 0;
}

static void test_models(void **state)
{
    int i, opened = 0, refused = 0;
    (void)state;
    for (i = 0; i < fx.count; i++) {
        const test_record *r = &fx.records[i], *samples, *expect = NULL;
        const char *name = r->words[1];
        size_t len, slen, elen;
        uint8_t *bytes, *arena;
        wg_plan_info plan;
        wg_model m;
        int j;
        if (strcmp(r->words[0], "model") != 0) continue;
        bytes = test_read_file(fx.dir, r->words[2], &len);
        assert_non_null(bytes);
        assert_int_equal(wg_plan_image(bytes, len, &plan), WG_OK); /* the plan is the artifact's */
        arena = malloc(plan.arena_coded);
        if (!built(name)) {
            assert_int_equal(wg_open(&m, bytes, len, fx.key, &wg_test_crypto, 0, arena, plan.arena_coded), WG_E_UNSUPPORTED);
            assert_int_equal(wg_open(&m, bytes, len, fx.key, &wg_test_crypto, WG_OPEN_IMAGE, arena, plan.arena_coded),
                             WG_E_UNSUPPORTED);
            refused++;
            free(arena);
            free(bytes);
            continue;
        }
        assert_int_equal(wg_open(&m, bytes, len, fx.key, &wg_test_crypto, 0, arena, plan.arena_coded), WG_OK);
        samples = test_vectors_find(&fx, "samples", name);
        for (j = 0; j < fx.count; j++) {
            const test_record *e = &fx.records[j];
            if (strcmp(e->words[0], "expect") == 0 && strcmp(e->words[1], name) == 0 && strcmp(e->words[2], "f32") == 0 &&
                strcmp(e->words[3], "coded") == 0) {
                expect = e;
            }
        }
        if (samples && expect) {
            uint32_t inputs = (uint32_t)strtoul(r->words[3], NULL, 10), outputs = (uint32_t)strtoul(r->words[4], NULL, 10);
            uint8_t *raw = test_read_file(fx.dir, samples->words[2], &slen);
            uint8_t *want = test_read_file(fx.dir, expect->words[4], &elen);
            wg_logit *logits = malloc(sizeof(wg_logit) * outputs);
            size_t s, count = strtoul(samples->words[3], NULL, 10);
            for (s = 0; s < count; s++) {
                wg_result result;
                assert_int_equal(wg_invoke(&m, raw + s * inputs, logits, &result), WG_OK);
                assert_memory_equal(logits, want + s * (4u * outputs + 4u), 4u * outputs);
            }
            free(logits);
            free(want);
            free(raw);
        }
        opened++;
        free(arena);
        free(bytes);
    }
    print_message("without %s: %d models open and run, %d refused\n", WG_TEST_LEFT_OUT, opened, refused);
    assert_true(opened > 0);
    assert_true(refused > 0);
}

/* Unsigned: segments are decoded at open, and refused there. */
static void test_unsigned(void **state)
{
    int i;
    (void)state;
    for (i = 0; i < fx.count; i++) {
        const test_record *r = &fx.records[i];
        size_t len;
        uint8_t *bytes, *arena;
        wg_plan_info plan;
        wg_model m;
        if (strcmp(r->words[0], "unsigned") != 0) continue;
        bytes = test_read_file(fx.dir, r->words[2], &len);
        assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
        arena = malloc(plan.arena_coded);
        assert_int_equal(wg_open(&m, bytes, len, NULL, &wg_test_crypto, WG_OPEN_ALLOW_UNSIGNED, arena, plan.arena_coded),
                         strcmp(WG_TEST_LEFT_OUT, "range") == 0 ? WG_E_UNSUPPORTED : WG_OK);
        free(arena);
        free(bytes);
    }
}

static int setup(void **state)
{
    (void)state;
    return test_vectors_load(&fx, "WG_FIXTURES") ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_unsigned),
    };
    return cmocka_run_group_tests_name("codings_without_" WG_TEST_LEFT_OUT, tests, setup, NULL);
}

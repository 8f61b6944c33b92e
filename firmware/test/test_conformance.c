/*
 * Conformance vectors (docs/firmware.md): the directory named by WG_VECTORS
 * holds index.txt and the files it names, written by the TypeScript side.
 * Every model opens with exactly its planned arena and gives the expected
 * logits and class bit for bit, on the coded and the image kernels (where
 * it runs: a `refuse` record says where not, and its status); the
 * C-built execution image equals device-sim's byte for byte; every `bad`
 * artifact gives its status, and so does every `forged` one (an unsigned
 * artifact whose Rice segment is damaged, opened without a key), every
 * `badgraph` one (a layer graph the writer wrote, the reader refuses) and,
 * in a build with the canonical replay, every `badunsigned` one. Skipped
 * when WG_VECTORS is unset.
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

#ifndef WG_SPATIAL
#define WG_SPATIAL 1
#endif

static test_vectors vx;
static int loaded;

/* Version-2 (convolutional) vectors are named conv*, relu6* and graph-v2-*
 * (scripts/gen-conformance.ts): a build without WG_SPATIAL refuses them
 * with WG_E_UNSUPPORTED_VERSION. */
static int is_v2(const char *name)
{
    return strncmp(name, "conv", 4) == 0 || strncmp(name, "relu6", 5) == 0 || strncmp(name, "graph-v2-", 9) == 0;
}

/* A model (or a record made from one) this build does not read. */
static int not_read(const char *name)
{
    return !WG_SPATIAL && is_v2(name);
}

/* Whether a `refuse` record says the model does not run on this build's
 * path with `kernel`. */
static int refused(const char *name, const char *kernel)
{
    int i;
    for (i = 0; i < vx.count; i++) {
        const test_record *r = &vx.records[i];
        if (strcmp(r->words[0], "refuse") == 0 && strcmp(r->words[1], name) == 0 && strcmp(r->words[2], TEST_ARITH) == 0 &&
            strcmp(r->words[3], kernel) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Whether `st` is the status a record expects on this build's path:
 * STATUS, or INT_STATUS (the fifth word, when given) on the int path. A
 * build without WG_SPATIAL gives a damaged version-2 artifact formats'
 * status when a check before the manifest's version refuses it, else
 * WG_E_UNSUPPORTED_VERSION; a writer-made graph-v2 one always the latter. */
static int status_matches(const test_record *r, wg_status st)
{
    const char *want = r->words[3];
    size_t name_len = strlen(r->words[1]);
#ifdef WG_ARITH_INT
    if (r->count > 4) want = r->words[4];
#endif
    if (!WG_SPATIAL && strncmp(r->words[1], "graph-v2-", 9) == 0) want = "WG_E_UNSUPPORTED_VERSION";
    /* damaged only in a Layer's window fields, which a reader of version 1
     * does not know: refused there for another reason */
    if (!WG_SPATIAL && name_len > 9 && strcmp(r->words[1] + name_len - 9, "-v2fields") == 0 && st != WG_OK) return 1;
    if (strcmp(wg_status_str(st), want) == 0) return 1;
    if (!WG_SPATIAL && is_v2(r->words[1]) && st == WG_E_UNSUPPORTED_VERSION) return 1;
    print_error("%s %s: expected %s, got %s\n", r->words[0], r->words[1], want, wg_status_str(st));
    return 0;
}

#define SKIP_WITHOUT_VECTORS()                                                                     \
    do {                                                                                           \
        if (!loaded) {                                                                             \
            print_message("WG_VECTORS is not set to a vectors directory: conformance skipped\n"); \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

typedef struct image_sink {
    uint8_t *bytes;
    size_t len;
    int order_ok;
    uint32_t next; /* the body comes in ascending order, the header last */
} image_sink;

static int write_image(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    image_sink *s = ctx;
    if ((size_t)offset + len > s->len) return 1;
    if (offset != 0 && offset != s->next) s->order_ok = 0;
    if (offset != 0) s->next = offset + (uint32_t)len;
    memcpy(s->bytes + offset, data, len);
    return 0;
}

/* Runs every sample of `name` on one kernel and compares with its expect record. */
static void check_model(const test_record *model, int image)
{
    const char *name = model->words[1];
    const test_record *samples = test_vectors_find(&vx, "samples", name), *expect = NULL;
    uint32_t inputs = (uint32_t)strtoul(model->words[3], NULL, 10), outputs = (uint32_t)strtoul(model->words[4], NULL, 10);
    size_t len, slen, elen, per = 4u * outputs + (strcmp(TEST_ARITH, "int") == 0 ? 8u : 4u), count, s;
    uint8_t *bytes, *raw, *expected, *arena, *flash = NULL, *work = NULL;
    wg_plan_info plan;
    wg_model m;
    wg_logit *logits;
    int i;
    for (i = 0; i < vx.count; i++) {
        const test_record *r = &vx.records[i];
        if (strcmp(r->words[0], "expect") == 0 && strcmp(r->words[1], name) == 0 && strcmp(r->words[2], TEST_ARITH) == 0 &&
            strcmp(r->words[3], image ? "image" : "coded") == 0) {
            expect = r;
        }
    }
    if (!samples || !expect || not_read(name)) return;
    bytes = test_read_file(vx.dir, model->words[2], &len);
    raw = test_read_file(vx.dir, samples->words[2], &slen);
    expected = test_read_file(vx.dir, expect->words[4], &elen);
    assert_non_null(bytes);
    assert_non_null(raw);
    assert_non_null(expected);
    count = strtoul(samples->words[3], NULL, 10);
    assert_int_equal(slen, count * inputs);
    assert_int_equal(elen, count * per);
    assert_int_equal(wg_plan_image(bytes, len, &plan), WG_OK);
    arena = malloc(image ? plan.arena_image : plan.arena_coded);
    assert_int_equal(wg_open(&m, bytes, len, vx.key, &wg_test_crypto, image ? WG_OPEN_IMAGE : 0, arena,
                             image ? plan.arena_image : plan.arena_coded),
                     WG_OK);
    if (image) {
        image_sink sink;
        flash = calloc(plan.image_bytes, 1);
        work = malloc(plan.image_build_arena ? plan.image_build_arena : 1u);
        sink.bytes = flash;
        sink.len = plan.image_bytes;
        sink.order_ok = 1;
        sink.next = 80;
        assert_int_equal(wg_image_build(&m, &wg_test_crypto, write_image, &sink, work, plan.image_build_arena), WG_OK);
        assert_true(sink.order_ok);
        assert_int_equal(wg_image_attach(&m, &wg_test_crypto, flash, plan.image_bytes), WG_OK);
    }
    logits = malloc(sizeof(wg_logit) * outputs);
    for (s = 0; s < count; s++) {
        wg_result result;
        const uint8_t *e = expected + s * per;
        uint32_t cls;
        assert_int_equal(wg_invoke(&m, raw + s * inputs, logits, &result), WG_OK);
        if (memcmp(logits, e, 4u * outputs) != 0) {
            print_error("%s %s %s sample %zu: logits differ\n", name, TEST_ARITH, image ? "image" : "coded", s);
        }
        assert_memory_equal(logits, e, 4u * outputs);
#ifdef WG_ARITH_INT
        {
            int32_t exponent;
            memcpy(&exponent, e + 4u * outputs, 4);
            assert_int_equal(result.exponent, exponent);
        }
#endif
        memcpy(&cls, e + per - 4u, 4);
        assert_int_equal(result.class_index, cls);
    }
    free(logits);
    free(work);
    free(flash);
    free(arena);
    free(expected);
    free(raw);
    free(bytes);
}

static void test_models_coded(void **state)
{
    int i, n = 0;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    for (i = 0; i < vx.count; i++) {
        if (strcmp(vx.records[i].words[0], "model") != 0) continue;
        check_model(&vx.records[i], 0);
        n++;
    }
    assert_true(n > 0);
}

static void test_models_image(void **state)
{
    int i;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    for (i = 0; i < vx.count; i++) {
        if (strcmp(vx.records[i].words[0], "model") == 0) check_model(&vx.records[i], 1);
    }
}

static void test_plans(void **state)
{
    int i;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    for (i = 0; i < vx.count; i++) {
        const test_record *r = &vx.records[i], *model;
        size_t len;
        uint8_t *bytes;
        wg_plan_info plan;
        if (strcmp(r->words[0], "plan") != 0 || not_read(r->words[1])) continue;
        model = test_vectors_find(&vx, "model", r->words[1]);
        assert_non_null(model);
        bytes = test_read_file(vx.dir, model->words[2], &len);
        assert_int_equal(wg_plan_image(bytes, len, &plan), WG_OK);
        assert_int_equal(plan.arena_coded, strtoul(r->words[2], NULL, 10));
        assert_int_equal(plan.arena_image, strtoul(r->words[3], NULL, 10));
        assert_int_equal(plan.image_bytes, strtoul(r->words[4], NULL, 10));
        free(bytes);
    }
}

static void test_images_equal_device_sims(void **state)
{
    int i;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    for (i = 0; i < vx.count; i++) {
        const test_record *r = &vx.records[i], *model;
        size_t len, ilen;
        uint8_t *bytes, *theirs, *ours, *arena, *work;
        wg_plan_info plan;
        wg_model m;
        image_sink sink;
        /* the image is built from the model opened on this path's coded kernels */
        if (strcmp(r->words[0], "image") != 0 || not_read(r->words[1]) || refused(r->words[1], "coded")) continue;
        model = test_vectors_find(&vx, "model", r->words[1]);
        assert_non_null(model);
        bytes = test_read_file(vx.dir, model->words[2], &len);
        theirs = test_read_file(vx.dir, r->words[2], &ilen);
        assert_int_equal(wg_plan_image(bytes, len, &plan), WG_OK);
        assert_int_equal(plan.image_bytes, ilen);
        arena = malloc(plan.arena_coded);
        assert_int_equal(wg_open(&m, bytes, len, vx.key, &wg_test_crypto, 0, arena, plan.arena_coded), WG_OK);
        ours = calloc(ilen, 1);
        work = malloc(plan.image_build_arena ? plan.image_build_arena : 1u);
        sink.bytes = ours;
        sink.len = ilen;
        sink.order_ok = 1;
        sink.next = 80;
        /* one byte short of the working memory fails, the plan succeeds */
        if (plan.image_build_arena > 0) {
            assert_int_equal(wg_image_build(&m, &wg_test_crypto, write_image, &sink, work, plan.image_build_arena - 1u),
                             WG_E_ARENA_TOO_SMALL);
        }
        assert_int_equal(wg_image_build(&m, &wg_test_crypto, write_image, &sink, work, plan.image_build_arena), WG_OK);
        if (memcmp(ours, theirs, ilen) != 0) print_error("image of %s differs from device-sim's\n", r->words[1]);
        assert_memory_equal(ours, theirs, ilen);
        /* a damaged image is refused */
        ours[ilen - 1u] ^= 1u;
        assert_int_equal(wg_image_attach(&m, &wg_test_crypto, ours, ilen), WG_E_BAD_IMAGE);
        free(work);
        free(ours);
        free(arena);
        free(theirs);
        free(bytes);
    }
}

static void test_bad_artifacts(void **state)
{
    int i;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    for (i = 0; i < vx.count; i++) {
        const test_record *r = &vx.records[i];
        size_t len;
        uint8_t *bytes, *arena;
        wg_model m;
        wg_plan_info plan;
        size_t size = 1u << 16;
        wg_status st;
        if (strcmp(r->words[0], "bad") != 0) continue;
        bytes = test_read_file(vx.dir, r->words[2], &len);
        assert_non_null(bytes);
        if (wg_plan(bytes, len, &plan) == WG_OK && plan.arena_coded > size) size = plan.arena_coded;
        arena = malloc(size);
        st = wg_open(&m, bytes, len, vx.key, &wg_test_crypto, 0, arena, size);
        assert_true(status_matches(r, st));
        free(arena);
        free(bytes);
    }
}

/* Opens every record of `kind` without a key (WG_OPEN_ALLOW_UNSIGNED) on
 * the coded kernels (every held segment decoded and checked) and compares
 * the status. A `forged` one also opens for the image kernels (hashes
 * only), and the image build decodes its segments: it refuses a damaged
 * one (its k-way merge meets the entries in another order than formats, so
 * not always with formats' status) and builds a good one (unless a forged
 * segment now holds a position another held segment holds: UNSUPPORTED). */
static int check_unsigned_statuses(const char *kind)
{
    int i, n = 0;
    for (i = 0; i < vx.count; i++) {
        const test_record *r = &vx.records[i];
        size_t len, size = 1u << 16;
        uint8_t *bytes, *arena;
        wg_model m;
        wg_plan_info plan;
        wg_status st;
        if (strcmp(r->words[0], kind) != 0) continue;
        bytes = test_read_file(vx.dir, r->words[2], &len);
        assert_non_null(bytes);
        if (wg_plan_image(bytes, len, &plan) == WG_OK && plan.arena_coded > size) size = plan.arena_coded;
        arena = malloc(size);
        st = wg_open(&m, bytes, len, NULL, &wg_test_crypto, WG_OPEN_ALLOW_UNSIGNED, arena, size);
        assert_true(status_matches(r, st));
        if (st == WG_OK) {
            /* it runs: a bright sample, outputs as planned */
            uint8_t *input = malloc(plan.inputs ? plan.inputs : 1u);
            wg_result result;
            memset(input, 200, plan.inputs);
            assert_int_equal(wg_invoke(&m, input, NULL, &result), WG_OK);
            assert_true(result.class_index < plan.outputs);
            free(input);
        }
        if (strcmp(kind, "forged") == 0 && wg_open(&m, bytes, len, NULL, &wg_test_crypto, WG_OPEN_ALLOW_UNSIGNED | WG_OPEN_IMAGE,
                                                   arena, size) == WG_OK) {
            uint8_t *work = malloc(plan.image_build_arena ? plan.image_build_arena : 1u), *flash = calloc(plan.image_bytes, 1);
            image_sink sink;
            sink.bytes = flash;
            sink.len = plan.image_bytes;
            sink.order_ok = 1;
            sink.next = 80;
            st = wg_image_build(&m, &wg_test_crypto, write_image, &sink, work, plan.image_build_arena);
            if ((st == WG_OK) != (strcmp(r->words[3], "WG_OK") == 0) && st != WG_E_UNSUPPORTED) {
                print_error("%s %s, image build: expected %s, got %s\n", kind, r->words[1], r->words[3], wg_status_str(st));
                fail();
            }
            free(flash);
            free(work);
        }
        free(arena);
        free(bytes);
        n++;
    }
    return n;
}

static void test_forged_rice_segments(void **state)
{
    (void)state;
    SKIP_WITHOUT_VECTORS();
    if (check_unsigned_statuses("forged") == 0) print_message("no forged records in these vectors\n");
}

/* A build without the canonical replay (WG_CANONICAL=0) opens an unsigned
 * manifest the writer would not produce (docs/firmware.md): not compared. */
static void test_damaged_unsigned_artifacts(void **state)
{
    (void)state;
    SKIP_WITHOUT_VECTORS();
#if defined(WG_TEST_NOCANONICAL)
    print_message("a WG_CANONICAL=0 build: the badunsigned records are not compared\n");
#else
    (void)check_unsigned_statuses("badunsigned");
#endif
}

/* Layer graphs formats' writer wrote (so canonical): the manifest's layer
 * rules refuse them in every build, also WG_CANONICAL=0 ones. */
static void test_layer_graphs(void **state)
{
    (void)state;
    SKIP_WITHOUT_VECTORS();
    if (check_unsigned_statuses("badgraph") == 0) print_message("no badgraph records in these vectors\n");
}

/* A model on a path or kernel that does not run it (a convolutional model
 * with the int path's image kernels): wg_open refuses it with its planned
 * arena. (Its image is built all the same: an `image` record, compared
 * in test_images_equal_device_sims on both paths.) */
static void test_refusals(void **state)
{
    int i, n = 0;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    for (i = 0; i < vx.count; i++) {
        const test_record *r = &vx.records[i], *model;
        size_t len;
        uint8_t *bytes, *arena;
        wg_plan_info plan;
        wg_model m;
        int image;
        if (strcmp(r->words[0], "refuse") != 0 || strcmp(r->words[2], TEST_ARITH) != 0 || not_read(r->words[1])) continue;
        image = strcmp(r->words[3], "image") == 0;
        model = test_vectors_find(&vx, "model", r->words[1]);
        assert_non_null(model);
        bytes = test_read_file(vx.dir, model->words[2], &len);
        assert_int_equal(wg_plan_image(bytes, len, &plan), WG_OK);
        arena = malloc(plan.arena_coded);
        if (strcmp(wg_status_str(wg_open(&m, bytes, len, vx.key, &wg_test_crypto, image ? WG_OPEN_IMAGE : 0, arena,
                                          image ? plan.arena_image : plan.arena_coded)),
                   r->words[4]) != 0) {
            print_error("refuse %s %s %s: not %s\n", r->words[1], r->words[2], r->words[3], r->words[4]);
            fail();
        }
        free(arena);
        free(bytes);
        n++;
    }
    print_message("%d refusals on the %s path\n", n, TEST_ARITH);
}

/* A build without WG_SPATIAL refuses every version-2 model by its version,
 * as formats' readers before version 2 do; plan included. */
static void test_version2_models(void **state)
{
    int i, n = 0;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    for (i = 0; i < vx.count; i++) {
        const test_record *r = &vx.records[i];
        size_t len;
        uint8_t *bytes, arena[64];
        wg_plan_info plan;
        wg_model m;
        if (strcmp(r->words[0], "model") != 0 || !is_v2(r->words[1])) continue;
        bytes = test_read_file(vx.dir, r->words[2], &len);
        if (WG_SPATIAL) {
            assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
            assert_int_equal(plan.inputs, strtoul(r->words[3], NULL, 10));
            assert_int_equal(plan.outputs, strtoul(r->words[4], NULL, 10));
        } else {
            assert_int_equal(wg_plan(bytes, len, &plan), WG_E_UNSUPPORTED_VERSION);
            assert_int_equal(wg_open(&m, bytes, len, vx.key, &wg_test_crypto, 0, arena, sizeof(arena)), WG_E_UNSUPPORTED_VERSION);
        }
        free(bytes);
        n++;
    }
    print_message("%d version-2 models %s\n", n, WG_SPATIAL ? "planned" : "refused");
}

static void test_unsigned_artifacts(void **state)
{
    int i;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    for (i = 0; i < vx.count; i++) {
        const test_record *r = &vx.records[i];
        size_t len;
        uint8_t *bytes, *arena, *input;
        wg_plan_info plan;
        wg_model m;
        wg_result result;
        if (strcmp(r->words[0], "unsigned") != 0) continue;
        bytes = test_read_file(vx.dir, r->words[2], &len);
        assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
        assert_int_equal(plan.inputs, strtoul(r->words[3], NULL, 10));
        assert_int_equal(plan.outputs, strtoul(r->words[4], NULL, 10));
        arena = malloc(plan.arena_coded);
        assert_int_equal(wg_open(&m, bytes, len, vx.key, &wg_test_crypto, 0, arena, plan.arena_coded), WG_E_UNSIGNED);
        assert_int_equal(wg_open(&m, bytes, len, NULL, &wg_test_crypto, WG_OPEN_ALLOW_UNSIGNED, arena, plan.arena_coded),
                         WG_OK);
        input = calloc(plan.inputs, 1);
        assert_int_equal(wg_invoke(&m, input, NULL, &result), WG_OK);
        free(input);
        free(arena);
        free(bytes);
    }
}

static int setup(void **state)
{
    (void)state;
    loaded = test_vectors_load(&vx, "WG_VECTORS");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_models_coded),
        cmocka_unit_test(test_models_image),
        cmocka_unit_test(test_images_equal_device_sims),
        cmocka_unit_test(test_bad_artifacts),
        cmocka_unit_test(test_unsigned_artifacts),
        cmocka_unit_test(test_forged_rice_segments),
        cmocka_unit_test(test_damaged_unsigned_artifacts),
        cmocka_unit_test(test_layer_graphs),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_version2_models),
    };
    return cmocka_run_group_tests_name("conformance_" TEST_ARITH, tests, setup, NULL);
}

/*
 * wg_open, wg_plan and the accessors on the fixtures (WG_FIXTURES):
 * structure rejection, hashes, signatures, the arena boundary, the plan.
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

static uint8_t *load(const char *name, size_t *len)
{
    const test_record *r = test_vectors_find(&fx, "model", name);
    assert_non_null(r);
    return test_read_file(fx.dir, r->words[2], len);
}

/* Opens with exactly `arena_size` bytes of a fresh heap arena (ASan sees overruns). */
static wg_status open_with(wg_model *m, const uint8_t *bytes, size_t len, const uint8_t *key, unsigned flags,
                           size_t arena_size, uint8_t **arena)
{
    *arena = malloc(arena_size ? arena_size : 1u);
    return wg_open(m, bytes, len, key, &wg_test_crypto, flags, *arena, arena_size);
}

/* Whether a `refuse` record says the model does not run on this path's coded kernels. */
static int refused_here(const char *name)
{
    int i;
    for (i = 0; i < fx.count; i++) {
        const test_record *r = &fx.records[i];
        if (strcmp(r->words[0], "refuse") == 0 && strcmp(r->words[1], name) == 0 && strcmp(r->words[2], TEST_ARITH) == 0 &&
            strcmp(r->words[3], "coded") == 0) {
            return 1;
        }
    }
    return 0;
}

static void test_every_model_opens_and_reports(void **state)
{
    int i, models = 0;
    (void)state;
    for (i = 0; i < fx.count; i++) {
        const test_record *r = &fx.records[i];
        size_t len;
        uint8_t *bytes, *arena;
        wg_plan_info plan;
        wg_model m;
        if (strcmp(r->words[0], "model") != 0) continue;
        bytes = test_read_file(fx.dir, r->words[2], &len);
        assert_non_null(bytes);
        assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
        assert_int_equal(plan.inputs, atoi(r->words[3]));
        assert_int_equal(plan.outputs, atoi(r->words[4]));
        if (refused_here(r->words[1])) {
            /* a convolutional model on the int path: the plan is the artifact's, the open refused */
            assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded, &arena), WG_E_UNSUPPORTED);
            free(arena);
            free(bytes);
            continue;
        }
        assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded, &arena), WG_OK);
        assert_int_equal(wg_input_size(&m), plan.inputs);
        assert_int_equal(wg_output_size(&m), plan.outputs);
        assert_true(wg_model_name(&m).len > 0);
        assert_int_equal(wg_model_version(&m), 1);
        free(arena);
        free(bytes);
        models++;
    }
    assert_true(models >= 3);
}

static void test_plan_equals_formula(void **state)
{
    int i, plans = 0;
    (void)state;
    for (i = 0; i < fx.count; i++) {
        const test_record *r = &fx.records[i], *model;
        size_t len;
        uint8_t *bytes;
        wg_plan_info plan;
        if (strcmp(r->words[0], "plan") != 0) continue;
        model = test_vectors_find(&fx, "model", r->words[1]);
        assert_non_null(model);
        bytes = test_read_file(fx.dir, model->words[2], &len);
        assert_int_equal(wg_plan_image(bytes, len, &plan), WG_OK);
        assert_int_equal(plan.arena_coded, strtoul(r->words[2], NULL, 10));
        assert_int_equal(plan.arena_image, strtoul(r->words[3], NULL, 10));
        assert_int_equal(plan.image_bytes, strtoul(r->words[4], NULL, 10));
        free(bytes);
        plans++;
    }
    assert_true(plans >= 3);
}

/* plan - 1 bytes fail with WG_E_ARENA_TOO_SMALL, plan bytes open and run. */
static void test_arena_boundary_is_exact(void **state)
{
    static const char *names[] = {"tiny-codebook", "tiny-int8", "mlp", "tiny-codebook-rice", "tiny-int8-rice", "mlp-rice"};
    size_t k;
    (void)state;
    for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        size_t len;
        uint8_t *bytes = load(names[k], &len), *arena, *input;
        wg_plan_info plan;
        wg_model m;
        wg_result result;
        assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
        assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded - 1u, &arena), WG_E_ARENA_TOO_SMALL);
        free(arena);
        assert_int_equal(open_with(&m, bytes, len, fx.key, WG_OPEN_IMAGE, plan.arena_image - 1u, &arena),
                         WG_E_ARENA_TOO_SMALL);
        free(arena);
        assert_int_equal(open_with(&m, bytes, len, fx.key, WG_OPEN_IMAGE, plan.arena_image, &arena), WG_OK);
        free(arena);
        assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded, &arena), WG_OK);
        input = calloc(plan.inputs, 1);
        memset(input, 200, plan.inputs);
        assert_int_equal(wg_invoke(&m, input, NULL, &result), WG_OK);
        assert_true(result.class_index < plan.outputs);
        free(input);
        free(arena);
        free(bytes);
    }
}

/* A convolutional model: the arena check comes before the support check,
 * so one byte below the plan is WG_E_ARENA_TOO_SMALL on every path and
 * kernel; at the plan it opens with either kernel on both paths
 * (docs/firmware.md). */
static void test_convolutional_arena_and_paths(void **state)
{
    static const char *names[] = {"conv", "conv-rice"};
    size_t k;
    (void)state;
    for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        size_t len;
        uint8_t *bytes = load(names[k], &len), *arena, *input;
        wg_plan_info plan;
        wg_model m;
        wg_result result;
        wg_logit logits[10];
        assert_int_equal(wg_plan_image(bytes, len, &plan), WG_OK);
        assert_true(plan.image_bytes > 0);
        assert_true(plan.image_build_arena > 0);
        assert_int_equal(plan.inputs, 144);
        assert_int_equal(plan.outputs, 10);
        assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded - 1u, &arena), WG_E_ARENA_TOO_SMALL);
        free(arena);
        assert_int_equal(open_with(&m, bytes, len, fx.key, WG_OPEN_IMAGE, plan.arena_image - 1u, &arena), WG_E_ARENA_TOO_SMALL);
        free(arena);
        assert_int_equal(open_with(&m, bytes, len, fx.key, WG_OPEN_IMAGE, plan.arena_image, &arena), WG_OK);
        free(arena);
        /* without a key: every segment decoded and checked at open */
        assert_int_equal(open_with(&m, bytes, len, NULL, WG_OPEN_ALLOW_UNSIGNED, plan.arena_coded, &arena), WG_OK);
        free(arena);
        assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded, &arena), WG_OK);
        input = malloc(plan.inputs);
        memset(input, 200, plan.inputs);
        assert_int_equal(wg_invoke(&m, input, logits, &result), WG_OK);
        assert_true(result.class_index < plan.outputs);
        assert_int_equal(wg_input_size(&m), 144);
        assert_int_equal(wg_output_size(&m), 10);
        free(input);
        free(arena);
        free(bytes);
    }
}

/* A plan of 4 GiB or more (a convolutional model's maps) is 0xffffffff,
 * and no arena, however large its size says it is, opens it. */
static void test_plan_past_4_gib(void **state)
{
    int i, n = 0;
    (void)state;
    for (i = 0; i < fx.count; i++) {
        const test_record *r = &fx.records[i];
        size_t len;
        uint8_t *bytes, arena[64];
        wg_plan_info plan;
        wg_model m;
        if (strcmp(r->words[0], "arena") != 0) continue;
        bytes = test_read_file(fx.dir, r->words[2], &len);
        assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
        assert_int_equal(plan.arena_coded, strtoul(r->words[3], NULL, 10));
        assert_int_equal(plan.arena_image, strtoul(r->words[4], NULL, 10));
        assert_int_equal(wg_open(&m, bytes, len, fx.key, &wg_test_crypto, 0, arena, SIZE_MAX), WG_E_ARENA_TOO_SMALL);
        assert_int_equal(wg_open(&m, bytes, len, fx.key, &wg_test_crypto, WG_OPEN_IMAGE, arena, SIZE_MAX), WG_E_ARENA_TOO_SMALL);
        free(bytes);
        n++;
    }
    assert_true(n > 0);
}

static void test_bad_artifacts_give_the_readers_status(void **state)
{
    int i, bad = 0;
    (void)state;
    for (i = 0; i < fx.count; i++) {
        const test_record *r = &fx.records[i];
        size_t len;
        uint8_t *bytes, *arena = malloc(1u << 16);
        wg_model m;
        wg_status st;
        if (strcmp(r->words[0], "bad") != 0) {
            free(arena);
            continue;
        }
        bytes = test_read_file(fx.dir, r->words[2], &len);
        assert_non_null(bytes);
        st = wg_open(&m, bytes, len, fx.key, &wg_test_crypto, 0, arena, 1u << 16);
        if (strcmp(wg_status_str(st), r->words[3]) != 0) {
            print_error("bad %s: expected %s, got %s\n", r->words[1], r->words[3], wg_status_str(st));
        }
        assert_string_equal(wg_status_str(st), r->words[3]);
        free(arena);
        free(bytes);
        bad++;
    }
    assert_true(bad >= 5);
}

/* Every byte flipped three ways: the status formats' reader gives. */
static void test_mutations_give_the_readers_status(void **state)
{
    int i, files = 0;
    (void)state;
    for (i = 0; i < fx.count; i++) {
        const test_record *r = &fx.records[i];
        size_t len, listed, mismatches = 0, lines = 0;
        uint8_t *bytes, *list, *arena = malloc(4096);
        char *line;
        wg_model m;
        if (strcmp(r->words[0], "mutations") != 0) {
            free(arena);
            continue;
        }
        bytes = load(r->words[1], &len);
        list = test_read_file(fx.dir, r->words[2], &listed);
        assert_non_null(list);
        list[listed] = 0;
        for (line = strtok((char *)list, "\n"); line; line = strtok(NULL, "\n")) {
            unsigned at, x;
            char expected[64];
            wg_status st;
            assert_int_equal(sscanf(line, "%u %u %63s", &at, &x, expected), 3);
            bytes[at] ^= (uint8_t)x;
            st = wg_open(&m, bytes, len, fx.key, &wg_test_crypto, 0, arena, 4096);
            bytes[at] ^= (uint8_t)x;
            if (strcmp(wg_status_str(st), expected) != 0) {
                if (mismatches++ < 10) print_error("%s byte %u ^ %u: expected %s, got %s\n", r->words[1], at, x, expected, wg_status_str(st));
            }
            lines++;
        }
        assert_true(lines > 100);
        assert_int_equal(mismatches, 0);
        free(list);
        free(arena);
        free(bytes);
        files++;
    }
    assert_true(files >= 1);
}

/* Every prefix of an artifact fails (and never reads past it: ASan). */
static void test_every_truncation_fails(void **state)
{
    size_t len, cut;
    uint8_t *bytes = load("tiny-codebook", &len), *arena = malloc(4096);
    wg_model m;
    (void)state;
    for (cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1u);
        memcpy(copy, bytes, cut);
        assert_int_not_equal(wg_open(&m, copy, cut, fx.key, &wg_test_crypto, 0, arena, 4096), WG_OK);
        free(copy);
    }
    free(arena);
    free(bytes);
}

/* Forged offsets and lengths: any u32 of the artifact set to hostile values. */
static void test_forged_offsets_are_caught(void **state)
{
    static const uint32_t forged[] = {0xffffffffu, 0x7fffffffu, 0x80000000u, 0xfffffffcu, 0x10000u, 3u};
    size_t len, at, k;
    uint8_t *bytes = load("tiny-codebook", &len), *arena = malloc(4096);
    wg_model m;
    (void)state;
    for (at = 0; at + 4u <= len; at += 2u) {
        for (k = 0; k < sizeof(forged) / sizeof(forged[0]); k++) {
            uint8_t *copy = malloc(len);
            wg_status st;
            memcpy(copy, bytes, len);
            memcpy(copy + at, &forged[k], 4);
            st = wg_open(&m, copy, len, fx.key, &wg_test_crypto, 0, arena, 4096);
            if (memcmp(copy, bytes, len) != 0) assert_int_not_equal(st, WG_OK);
            free(copy);
        }
    }
    free(arena);
    free(bytes);
}

static void test_segment_byte_is_a_hash_mismatch(void **state)
{
    size_t len;
    uint8_t *bytes = load("mlp", &len), *arena;
    wg_plan_info plan;
    wg_model m;
    (void)state;
    assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
    bytes[len - 100u] ^= 0x40u; /* segment data sits at the end of the buffer */
    assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded, &arena), WG_E_HASH_MISMATCH);
    free(arena);
    free(bytes);
}

static void test_wrong_key_is_a_bad_signature(void **state)
{
    size_t len;
    uint8_t *bytes = load("tiny-codebook", &len), *arena, key[32];
    wg_plan_info plan;
    wg_model m;
    (void)state;
    assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
    memcpy(key, fx.key, 32);
    key[0] ^= 1u;
    assert_int_equal(open_with(&m, bytes, len, key, 0, plan.arena_coded, &arena), WG_E_BAD_SIGNATURE);
    free(arena);
    free(bytes);
}

static void test_unsigned_needs_permission(void **state)
{
    const test_record *r = test_vectors_find(&fx, "unsigned", NULL);
    size_t len;
    uint8_t *bytes, *arena;
    wg_plan_info plan;
    wg_model m;
    (void)state;
    assert_non_null(r);
    bytes = test_read_file(fx.dir, r->words[2], &len);
    assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
    assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded, &arena), WG_E_UNSIGNED);
    free(arena);
    assert_int_equal(open_with(&m, bytes, len, NULL, 0, plan.arena_coded, &arena), WG_E_BAD_ARGUMENT);
    free(arena);
    assert_int_equal(open_with(&m, bytes, len, NULL, WG_OPEN_ALLOW_UNSIGNED, plan.arena_coded, &arena), WG_OK);
    free(arena);
    free(bytes);
}

/* wg_test_crypto, counting its Ed25519 verifications. */
static unsigned verifications;
static int counting_verify(const uint8_t signature[64], const uint8_t *msg, size_t len, const uint8_t public_key[32])
{
    verifications++;
    return wg_test_crypto.ed25519_verify(signature, msg, len, public_key);
}

/* WG_OPEN_VERIFIED skips the signature and nothing else: the key and a
 * signed artifact are still required, and every segment's hash is checked. */
static void test_verified_skips_only_the_signature(void **state)
{
    const test_record *r = test_vectors_find(&fx, "unsigned", NULL);
    wg_crypto counting = wg_test_crypto;
    size_t len, unsigned_len;
    uint8_t *bytes = load("mlp", &len), *unsigned_bytes, *arena;
    wg_plan_info plan;
    wg_model m;
    (void)state;
    counting.ed25519_verify = counting_verify;
    assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);

    verifications = 0;
    arena = malloc(plan.arena_coded);
    assert_int_equal(wg_open(&m, bytes, len, fx.key, &counting, 0, arena, plan.arena_coded), WG_OK);
    assert_int_equal(verifications, 1);
    assert_int_equal(wg_open(&m, bytes, len, fx.key, &counting, WG_OPEN_VERIFIED, arena, plan.arena_coded), WG_OK);
    assert_int_equal(verifications, 1);
    free(arena);

    assert_int_equal(open_with(&m, bytes, len, NULL, WG_OPEN_VERIFIED, plan.arena_coded, &arena), WG_E_BAD_ARGUMENT);
    free(arena);
    bytes[len - 100u] ^= 0x40u; /* a segment byte */
    assert_int_equal(open_with(&m, bytes, len, fx.key, WG_OPEN_VERIFIED, plan.arena_coded, &arena), WG_E_HASH_MISMATCH);
    free(arena);

    assert_non_null(r);
    unsigned_bytes = test_read_file(fx.dir, r->words[2], &unsigned_len);
    assert_int_equal(wg_plan(unsigned_bytes, unsigned_len, &plan), WG_OK);
    assert_int_equal(open_with(&m, unsigned_bytes, unsigned_len, fx.key, WG_OPEN_VERIFIED, plan.arena_coded, &arena), WG_E_UNSIGNED);
    free(arena);
    free(unsigned_bytes);
    free(bytes);
}

static void test_held_intervals_and_tiers(void **state)
{
    size_t len;
    uint8_t *bytes, *arena;
    wg_plan_info plan;
    wg_model m;
    wg_str name;
    (void)state;
    bytes = load("tiny-basic", &len);
    assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
    assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded, &arena), WG_OK);
    assert_int_equal(wg_held_interval_count(&m), 2);
    assert_int_equal(wg_held_interval(&m, 0), 1);
    assert_int_equal(wg_held_interval(&m, 1), 2);
    assert_int_equal(wg_tier_count(&m), 2);
    name = wg_tier_name(&m, 0);
    assert_int_equal(name.len, 5);
    assert_memory_equal(name.ptr, "basic", 5);
    assert_int_equal(wg_held_tier(&m), 0);
    assert_int_equal(wg_tier_interval_count(&m, 1), 4);
    assert_true(wg_tier_accuracy(&m, 1) > 0.89f && wg_tier_accuracy(&m, 1) < 0.91f);
    free(arena);
    free(bytes);
    bytes = load("tiny-none", &len);
    assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
    assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded, &arena), WG_OK);
    assert_int_equal(wg_held_interval_count(&m), 0);
    assert_int_equal(wg_held_tier(&m), -1);
    free(arena);
    free(bytes);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(wg_status_str(WG_OK), "WG_OK");
    assert_string_equal(wg_status_str(WG_E_HASH_MISMATCH), "WG_E_HASH_MISMATCH");
    assert_string_equal(wg_status_str(WG_E_ARENA_TOO_SMALL), "WG_E_ARENA_TOO_SMALL");
}

static int failing_write(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)offset;
    (void)data;
    (void)len;
    return 1;
}

/* Wrong state and wrong arguments are caught, not run. */
static void test_misuse_is_refused(void **state)
{
    size_t len;
    uint8_t *bytes = load("tiny-codebook", &len), *arena, *work, input[12] = {0};
    wg_plan_info plan;
    wg_model m;
    wg_result result;
    (void)state;
    memset(&m, 0, sizeof(m));
    assert_int_equal(wg_invoke(&m, input, NULL, &result), WG_E_BAD_ARGUMENT);
    assert_int_equal(wg_plan_image(bytes, len, &plan), WG_OK);
    arena = malloc(plan.arena_coded + 1u);
    assert_int_equal(wg_open(&m, bytes, len, fx.key, &wg_test_crypto, 0, arena + 1, plan.arena_coded), WG_E_BAD_ARGUMENT);
    assert_int_equal(wg_open(&m, bytes, len, fx.key, NULL, 0, arena, plan.arena_coded), WG_E_BAD_ARGUMENT);
    /* opened for the image kernels: no invoke before an image is attached */
    assert_int_equal(wg_open(&m, bytes, len, fx.key, &wg_test_crypto, WG_OPEN_IMAGE, arena, plan.arena_coded), WG_OK);
    assert_int_equal(wg_invoke(&m, input, NULL, &result), WG_E_BAD_ARGUMENT);
    work = malloc(plan.image_build_arena);
    assert_int_equal(wg_image_build(&m, &wg_test_crypto, failing_write, NULL, work, plan.image_build_arena), WG_E_WRITE_FAILED);
    /* an image that is not this artifact's */
    assert_int_equal(wg_image_attach(&m, &wg_test_crypto, bytes, len), WG_E_BAD_IMAGE);
    free(work);
    free(arena);
    free(bytes);
}

/* An image built for one artifact does not attach to another. */
static void test_image_of_another_artifact_is_refused(void **state)
{
    size_t len, other_len;
    uint8_t *bytes = load("tiny-codebook", &len), *other = load("tiny-basic", &other_len), *image, *arena;
    const test_record *r = test_vectors_find(&fx, "image", "tiny-basic");
    size_t image_len;
    wg_plan_info plan;
    wg_model m;
    (void)state;
    assert_non_null(r);
    image = test_read_file(fx.dir, r->words[2], &image_len);
    assert_int_equal(wg_plan(bytes, len, &plan), WG_OK);
    arena = malloc(plan.arena_image);
    assert_int_equal(wg_open(&m, bytes, len, fx.key, &wg_test_crypto, WG_OPEN_IMAGE, arena, plan.arena_image), WG_OK);
    assert_int_equal(wg_image_attach(&m, &wg_test_crypto, image, image_len), WG_E_BAD_IMAGE);
    free(arena);
    assert_int_equal(wg_plan(other, other_len, &plan), WG_OK);
    arena = malloc(plan.arena_image);
    assert_int_equal(wg_open(&m, other, other_len, fx.key, &wg_test_crypto, WG_OPEN_IMAGE, arena, plan.arena_image), WG_OK);
    assert_int_equal(wg_image_attach(&m, &wg_test_crypto, image, image_len), WG_OK);
    free(arena);
    free(image);
    free(other);
    free(bytes);
}

static int write_flash(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    memcpy((uint8_t *)ctx + offset, data, len);
    return 0;
}

/* Rewrites the body's SHA-256 after a change, so that only the layer checks can refuse it. */
static void rehash(uint8_t *image, size_t len)
{
    wg_sha256_ctx sha;
    wg_test_crypto.sha256_init(&sha);
    wg_test_crypto.sha256_update(&sha, image + 80, len - 80);
    wg_test_crypto.sha256_final(&sha, image + 40);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A convolutional model's image holds its weighted layers only, a
 * convolution's kernel as rows (ky, kx, input channel) and columns its
 * last dimension, its bias the layer's units. wg_image_attach checks each
 * against the model: an image whose body hash is right but whose layer
 * count, matrix shape, entry column or bias section is not this model's
 * is WG_E_BAD_IMAGE. */
static void test_convolutional_image_is_checked(void **state)
{
    size_t len;
    uint8_t *bytes = load("conv", &len), *arena, *work, *image, *damaged;
    wg_plan_info plan;
    wg_model m;
    uint32_t layer1 = 80u + 48u, entries0, bias1;
    (void)state;
    assert_int_equal(wg_plan_image(bytes, len, &plan), WG_OK);
    assert_int_equal(open_with(&m, bytes, len, fx.key, 0, plan.arena_coded, &arena), WG_OK);
    work = malloc(plan.image_build_arena);
    image = calloc(plan.image_bytes, 1);
    damaged = malloc(plan.image_bytes);
    assert_int_equal(wg_image_build(&m, &wg_test_crypto, write_flash, image, work, plan.image_build_arena), WG_OK);
    assert_int_equal(wg_image_attach(&m, &wg_test_crypto, image, plan.image_bytes), WG_OK);
    /* conv, max-pool, depthwise, avg-pool, conv, global pool, dense: 4 image layers */
    assert_int_equal(image[72], 4);
    /* the depthwise layer: 3 x 3 x 6 rows, its multiplier 2 columns, 12 bias values */
    assert_int_equal(image[layer1], 54);
    assert_int_equal(image[layer1 + 4u], 2);
#define DAMAGED(edit)                                                                      \
    do {                                                                                   \
        memcpy(damaged, image, plan.image_bytes);                                          \
        edit;                                                                              \
        rehash(damaged, plan.image_bytes);                                                 \
        assert_int_equal(wg_image_attach(&m, &wg_test_crypto, damaged, plan.image_bytes), WG_E_BAD_IMAGE); \
    } while (0)
    DAMAGED(put_u32(damaged + 72, 7));                  /* every layer, not the weighted ones */
    DAMAGED(put_u32(damaged + layer1 + 4u, 12));        /* the layer's units as columns */
    DAMAGED(put_u32(damaged + layer1, 9));              /* rows (ky, kx) without the input channel */
    entries0 = damaged[80u + 32u] | (uint32_t)damaged[80u + 33u] << 8;
    DAMAGED(damaged[entries0] |= 7u);                   /* conv2d: column 7 of 6 (3 column bits) */
    bias1 = (uint32_t)plan.image_bytes - 8u;            /* room for 2 values (the columns), not 12 */
    DAMAGED(put_u32(damaged + layer1 + 40u, bias1));
#undef DAMAGED
    assert_int_equal(wg_image_attach(&m, &wg_test_crypto, image, plan.image_bytes), WG_OK);
    free(damaged);
    free(image);
    free(work);
    free(arena);
    free(bytes);
}

static int setup(void **state)
{
    (void)state;
    if (!test_vectors_load(&fx, "WG_FIXTURES")) {
        print_error("WG_FIXTURES is not set to the fixtures directory (firmware/test/fixtures)\n");
        return -1;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_every_model_opens_and_reports),
        cmocka_unit_test(test_plan_equals_formula),
        cmocka_unit_test(test_arena_boundary_is_exact),
        cmocka_unit_test(test_convolutional_arena_and_paths),
        cmocka_unit_test(test_plan_past_4_gib),
        cmocka_unit_test(test_bad_artifacts_give_the_readers_status),
        cmocka_unit_test(test_mutations_give_the_readers_status),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_forged_offsets_are_caught),
        cmocka_unit_test(test_segment_byte_is_a_hash_mismatch),
        cmocka_unit_test(test_wrong_key_is_a_bad_signature),
        cmocka_unit_test(test_unsigned_needs_permission),
        cmocka_unit_test(test_verified_skips_only_the_signature),
        cmocka_unit_test(test_held_intervals_and_tiers),
        cmocka_unit_test(test_misuse_is_refused),
        cmocka_unit_test(test_image_of_another_artifact_is_refused),
        cmocka_unit_test(test_convolutional_image_is_checked),
    };
    return cmocka_run_group_tests_name("open_" TEST_ARITH, tests, setup, NULL);
}

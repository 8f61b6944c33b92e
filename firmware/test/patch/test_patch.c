/*
 * test_patch.c: the C patch applier against formats' (device-sim's)
 * vectors (gen-patch-vectors.ts): byte-identical targets within the
 * working memory device-sim takes, the plan's numbers, damaged patches
 * refused with formats' status, the source untouched; the signature, the
 * rollback and the working-memory checks.
 *
 * WG_PATCH_VECTORS names the vector directory; without it (no node at
 * build time) the vector tests skip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"
#include "weightgate_patch.h"

#define WORK_MAX (64u * 1024u)

typedef struct buf_sink {
    uint8_t *bytes;
    uint32_t cap, len, announced, calls;
    int fail_after; /* refuse the n-th write (0: never) */
} buf_sink;

static int sink_begin(void *ctx, uint32_t total)
{
    buf_sink *s = (buf_sink *)ctx;
    s->announced = total;
    return total > s->cap ? -1 : 0;
}

static int sink_write(void *ctx, const uint8_t *data, size_t len)
{
    buf_sink *s = (buf_sink *)ctx;
    s->calls++;
    if (s->fail_after && (int)s->calls >= s->fail_after) return -1;
    if (len > s->cap - s->len) return -1;
    memcpy(s->bytes + s->len, data, len);
    s->len += (uint32_t)len;
    return 0;
}

static int have_vectors;
static const char *vectors_dir(void) { return have_vectors ? getenv("WG_PATCH_VECTORS") : NULL; }

static int status_by_name(const char *name)
{
    int s;
    for (s = 0; s <= (int)WG_E_ROLLBACK; s++) {
        if (strcmp(wg_status_str((wg_status)s), name) == 0) return s;
    }
    return -1;
}

static uint8_t key[32];
static test_record *records;
static int record_count;

static int setup(void **state)
{
    int i;
    (void)state;
    have_vectors = 1;
    if (!vectors_dir()) return 0;
    record_count = test_read_index(vectors_dir(), &records);
    have_vectors = record_count > 0;
    for (i = 0; i < record_count; i++) {
        if (strcmp(records[i].words[0], "key") == 0) test_hex(records[i].words[1], key, 32);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(records);
    return 0;
}

#define SKIP_WITHOUT_VECTORS()                                                                                         \
    do {                                                                                                               \
        if (!vectors_dir()) {                                                                                          \
            print_message("WG_PATCH_VECTORS not set (node unavailable at build time?): skipped\n");                    \
            skip();                                                                                                    \
        }                                                                                                              \
    } while (0)

/* Applies, with a sink over `out`; the source is checked untouched. */
static wg_status apply(const uint8_t *src, size_t src_len, const uint8_t *patch, size_t patch_len, const uint8_t *k,
                       uint8_t *work, size_t work_size, buf_sink *sink, wg_patch_info *info)
{
    wg_patch_sink ps = {sink_begin, sink_write, sink};
    uint8_t *copy = malloc(src_len);
    wg_status st;
    assert_non_null(copy);
    memcpy(copy, src, src_len);
    sink->len = 0;
    sink->calls = 0;
    st = wg_patch_apply(src, src_len, patch, patch_len, k, &wg_test_crypto, &ps, work, work_size, info);
    assert_memory_equal(copy, src, src_len);
    free(copy);
    return st;
}

static void test_targets(void **state)
{
    int i, n = 0;
    uint8_t *work;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    work = malloc(WORK_MAX);
    for (i = 0; i < record_count; i++) {
        test_record *r = &records[i];
        size_t src_len, patch_len, dst_len;
        uint8_t *src, *patch, *dst;
        uint32_t sim_work = (uint32_t)strtoul(r->words[5], NULL, 10);
        unsigned reused, whole, bd, ed;
        buf_sink sink;
        wg_patch_info plan, info;
        const uint8_t *k;
        wg_status st;
        if (strcmp(r->words[0], "patch") != 0) continue;
        src = test_read_file(vectors_dir(), r->words[2], &src_len);
        patch = test_read_file(vectors_dir(), r->words[3], &patch_len);
        dst = test_read_file(vectors_dir(), r->words[4], &dst_len);
        assert_non_null(src);
        assert_non_null(patch);
        assert_non_null(dst);
        sscanf(r->words[6], "%u,%u,%u,%u", &reused, &whole, &bd, &ed);

        /* without working memory: known at once, unless B's manifest is a
         * delta; then the plan says what rebuilding it needs */
        st = wg_patch_plan(src, src_len, patch, patch_len, &wg_test_crypto, NULL, 0, &plan);
        if (st == WG_E_ARENA_TOO_SMALL) {
            assert_int_equal(plan.manifest_mode & 3u, 1u);
            assert_true(plan.work_bytes > 0);
            assert_int_equal(wg_patch_plan(src, src_len, patch, patch_len, &wg_test_crypto, work, plan.work_bytes - 1u, &plan),
                             WG_E_ARENA_TOO_SMALL);
            st = wg_patch_plan(src, src_len, patch, patch_len, &wg_test_crypto, work, plan.work_bytes, &plan);
        }
        assert_int_equal(st, WG_OK);
        st = wg_patch_plan(src, src_len, patch, patch_len, &wg_test_crypto, work, WORK_MAX, &plan);
        if (st != WG_OK) print_message("%s: plan %s\n", r->words[1], wg_status_str(st));
        assert_int_equal(st, WG_OK);
        assert_int_equal(plan.target_bytes, dst_len);

        memset(&sink, 0, sizeof(sink));
        sink.cap = (uint32_t)dst_len + 64u;
        sink.bytes = malloc(sink.cap);
        /* exactly the planned working memory, at an odd place of the arena */
        memset(work, 0xa5, WORK_MAX);
        k = strstr(r->words[1], "unsigned") ? NULL : key;
        st = apply(src, src_len, patch, patch_len, k, work + 4, plan.work_bytes, &sink, &info);
        if (st != WG_OK) {
            uint32_t d = 0;
            while (d < sink.len && d < dst_len && sink.bytes[d] == dst[d]) d++;
            print_message("%s: %s after %u bytes, first difference at %u\n", r->words[1], wg_status_str(st), sink.len, d);
        }
        assert_int_equal(st, WG_OK);
        assert_int_equal(sink.announced, dst_len);
        assert_int_equal(sink.len, dst_len);
        assert_memory_equal(sink.bytes, dst, dst_len);
        /* the SHA-256 of what it wrote, for WG_OPEN_VERIFIED */
        {
            uint8_t digest[32];
            wg_sha256_ctx ctx;
            wg_test_crypto.sha256_init(&ctx);
            wg_test_crypto.sha256_update(&ctx, dst, dst_len);
            wg_test_crypto.sha256_final(&ctx, digest);
            assert_memory_equal(info.target_sha256, digest, 32);
        }
        assert_int_equal(info.reused, reused);
        assert_int_equal(info.whole, whole);
        assert_int_equal(info.byte_delta, bd);
        assert_int_equal(info.entry_delta, ed);
        assert_true(info.work_bytes <= plan.work_bytes);
        print_message("%-26s %6zu B patch -> %6zu B target  ops %u/%u/%u/%u  work %5u B (plan %5u, device-sim %5u)\n",
                      r->words[1], patch_len, dst_len, reused, whole, bd, ed, info.work_bytes, plan.work_bytes, sim_work);
        assert_true(plan.work_bytes <= sim_work);

        /* one byte less working memory: refused before anything is written */
        if (plan.work_bytes > 0) {
            st = apply(src, src_len, patch, patch_len, k, work, plan.work_bytes - 1u, &sink, &info);
            assert_int_equal(st, WG_E_ARENA_TOO_SMALL);
            assert_int_equal(sink.len, 0);
        }
        /* a sink that refuses a write */
        sink.fail_after = 2;
        assert_int_equal(apply(src, src_len, patch, patch_len, k, work, WORK_MAX, &sink, &info), WG_E_WRITE_FAILED);
        sink.fail_after = 0;
        free(sink.bytes);
        free(src);
        free(patch);
        free(dst);
        n++;
    }
    free(work);
    assert_true(n > 0);
}

static void test_damaged(void **state)
{
    int i, n = 0, ok = 0, wrong = 0;
    uint8_t *work;
    buf_sink sink;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    work = malloc(WORK_MAX);
    memset(&sink, 0, sizeof(sink));
    sink.cap = 1u << 20;
    sink.bytes = malloc(sink.cap);
    for (i = 0; i < record_count; i++) {
        test_record *r = &records[i];
        size_t src_len, patch_len;
        uint8_t *src, *patch;
        int want;
        wg_status st;
        if (strcmp(r->words[0], "bad") != 0) continue;
        src = test_read_file(vectors_dir(), r->words[2], &src_len);
        patch = test_read_file(vectors_dir(), r->words[3], &patch_len);
        assert_non_null(src);
        assert_non_null(patch);
        want = status_by_name(r->words[4]);
        assert_true(want >= 0);
        /* no key: formats' applier does not read the signature (the reader does, after) */
        st = apply(src, src_len, patch, patch_len, NULL, work, WORK_MAX, &sink, NULL);
        if ((int)st != want) {
            print_message("%s: %s, formats says %s\n", r->words[1], wg_status_str(st), r->words[4]);
            wrong++;
        }
        ok += st == WG_OK;
        free(src);
        free(patch);
        n++;
    }
    print_message("%d damaged patches: %d with the status formats gives (%d still apply)\n", n, n - wrong, ok);
    assert_int_equal(wrong, 0);
    free(sink.bytes);
    free(work);
    assert_true(n > 0);
}

/* Finds the vector `name` and reads its source and patch. */
static int load(const char *name, uint8_t **src, size_t *src_len, uint8_t **patch, size_t *patch_len)
{
    int i;
    for (i = 0; i < record_count; i++) {
        if (strcmp(records[i].words[0], "patch") == 0 && strcmp(records[i].words[1], name) == 0) {
            *src = test_read_file(vectors_dir(), records[i].words[2], src_len);
            *patch = test_read_file(vectors_dir(), records[i].words[3], patch_len);
            return *src && *patch;
        }
    }
    return 0;
}

static void test_signature_and_rollback(void **state)
{
    uint8_t *src, *patch, *work, other[32];
    size_t src_len, patch_len;
    buf_sink sink;
    (void)state;
    SKIP_WITHOUT_VECTORS();
    work = malloc(WORK_MAX);
    memset(&sink, 0, sizeof(sink));
    sink.cap = 1u << 20;
    sink.bytes = malloc(sink.cap);
    assert_true(load("codebook-version", &src, &src_len, &patch, &patch_len));
    /* the new manifest's signature, with the publisher's key and another */
    assert_int_equal(apply(src, src_len, patch, patch_len, key, work, WORK_MAX, &sink, NULL), WG_OK);
    memcpy(other, key, 32);
    other[0] ^= 1;
    assert_int_not_equal(apply(src, src_len, patch, patch_len, other, work, WORK_MAX, &sink, NULL), WG_OK);
    assert_int_equal(sink.len, 0);
    free(src);
    free(patch);
    /* an unsigned new manifest when a key is required */
    assert_true(load("codebook-version-unsigned", &src, &src_len, &patch, &patch_len));
    assert_int_equal(apply(src, src_len, patch, patch_len, key, work, WORK_MAX, &sink, NULL), WG_E_UNSIGNED);
    assert_int_equal(apply(src, src_len, patch, patch_len, NULL, work, WORK_MAX, &sink, NULL), WG_OK);
    free(src);
    free(patch);
    /* v2 -> v1: refused, nothing written (formats applies it: its caller decides) */
    {
        int i, n = 0;
        for (i = 0; i < record_count; i++) {
            if (strcmp(records[i].words[0], "rollback") != 0) continue;
            src = test_read_file(vectors_dir(), records[i].words[2], &src_len);
            patch = test_read_file(vectors_dir(), records[i].words[3], &patch_len);
            assert_non_null(src);
            assert_non_null(patch);
            assert_int_equal(apply(src, src_len, patch, patch_len, key, work, WORK_MAX, &sink, NULL), WG_E_ROLLBACK);
            assert_int_equal(sink.len, 0);
            free(src);
            free(patch);
            n++;
        }
        assert_true(n > 0);
    }
    free(sink.bytes);
    free(work);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_signature_and_rollback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

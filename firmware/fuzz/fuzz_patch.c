/*
 * libFuzzer harness over the streaming patch applier (weightgate_patch.h):
 * the fuzz input is a .wgp patch; the source artifacts are fixed, read once
 * from the directory WG_FUZZ_PATCH_SOURCES (every *.src.wgm in it: the patch
 * vectors' sources, gen-patch-vectors.ts). For each source, wg_patch_plan
 * (no working memory, then exactly the planned amount) and, when it plans,
 * wg_patch_apply into a heap sink of exactly the planned target size with
 * exactly the planned working memory, once without a key and once with the
 * vectors' key. Every buffer is on the heap so ASan sees any overrun.
 *
 *   cmake -S firmware -B firmware/build/fuzz -DWG_FUZZ=ON -DCMAKE_C_COMPILER=clang
 *   npx tsx firmware/test/patch/gen-patch-vectors.ts VECTORS
 *   WG_FUZZ_PATCH_SOURCES=VECTORS firmware/build/fuzz/fuzz/fuzz_patch CORPUS VECTORS
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weightgate.h"
#include "weightgate_patch.h"

extern const wg_crypto wg_test_crypto;

#define MAX_SOURCES 16
#define MAX_WORK (1u << 20)
#define MAX_TARGET (1u << 24)

typedef struct blob {
    uint8_t *bytes;
    size_t len;
} blob;

static blob sources[MAX_SOURCES];
static size_t source_count;
static uint8_t key[32];
static int have_key;

static blob read_all(const char *path)
{
    blob b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    long n;
    if (!f) return b;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        b.bytes = malloc((size_t)n);
        if (b.bytes && fread(b.bytes, 1, (size_t)n, f) == (size_t)n) b.len = (size_t)n;
        else {
            free(b.bytes);
            b.bytes = NULL;
        }
    }
    fclose(f);
    return b;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("WG_FUZZ_PATCH_SOURCES");
    char path[4096];
    DIR *d;
    struct dirent *e;
    blob index;
    (void)argc;
    (void)argv;
    if (!dir || !(d = opendir(dir))) {
        fprintf(stderr, "fuzz_patch: set WG_FUZZ_PATCH_SOURCES to a directory of gen-patch-vectors.ts output\n");
        exit(2);
    }
    while ((e = readdir(d)) != NULL && source_count < MAX_SOURCES) {
        size_t n = strlen(e->d_name);
        if (n < 8 || strcmp(e->d_name + n - 8, ".src.wgm") != 0) continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        sources[source_count] = read_all(path);
        if (sources[source_count].len) source_count++;
    }
    closedir(d);
    /* the vectors' publisher key: the first line of index.txt, "key HEX" */
    snprintf(path, sizeof(path), "%s/index.txt", dir);
    index = read_all(path);
    if (index.len >= 4 + 64 && memcmp(index.bytes, "key ", 4) == 0) {
        int i, ok = 1;
        for (i = 0; i < 32; i++) {
            int hi = hex_nibble((char)index.bytes[4 + 2 * i]), lo = hex_nibble((char)index.bytes[5 + 2 * i]);
            if (hi < 0 || lo < 0) ok = 0;
            key[i] = (uint8_t)((hi << 4) | lo);
        }
        have_key = ok;
    }
    free(index.bytes);
    if (!source_count) {
        fprintf(stderr, "fuzz_patch: no *.src.wgm in %s\n", dir);
        exit(2);
    }
    return 0;
}

typedef struct heap_sink {
    uint8_t *bytes;
    uint32_t cap, len;
    int begun;
} heap_sink;

static int sink_begin(void *ctx, uint32_t total)
{
    heap_sink *s = ctx;
    if (s->begun || total != s->cap) abort(); /* once, with the planned size */
    s->begun = 1;
    return 0;
}

static int sink_write(void *ctx, const uint8_t *data, size_t len)
{
    heap_sink *s = ctx;
    if (!s->begun || len > s->cap - s->len) abort(); /* past the planned size */
    memcpy(s->bytes + s->len, data, len);
    s->len += (uint32_t)len;
    return 0;
}

static void apply(const blob *src, const uint8_t *patch, size_t patch_len, const wg_patch_info *plan, const uint8_t *k)
{
    heap_sink s = {NULL, plan->target_bytes, 0, 0};
    wg_patch_sink sink = {sink_begin, sink_write, &s};
    uint8_t *work = malloc(plan->work_bytes ? plan->work_bytes : 1u);
    wg_patch_info info;
    wg_status st;
    s.bytes = malloc(plan->target_bytes ? plan->target_bytes : 1u);
    st = wg_patch_apply(src->bytes, src->len, patch, patch_len, k, &wg_test_crypto, &sink, work, plan->work_bytes, &info);
    if (st == WG_OK) {
        /* the whole planned target, within the planned memory */
        if (s.len != plan->target_bytes || info.work_bytes > plan->work_bytes) abort();
    }
    free(s.bytes);
    free(work);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *patch = malloc(size ? size : 1u);
    size_t i;
    memcpy(patch, data, size); /* exactly `size` bytes: reads past them are caught */
    for (i = 0; i < source_count; i++) {
        const blob *src = &sources[i];
        wg_patch_info plan;
        uint8_t *work;
        wg_status st = wg_patch_plan(src->bytes, src->len, patch, size, &wg_test_crypto, NULL, 0, &plan);
        if (st == WG_E_WRONG_BASE) continue;
        if (st != WG_OK && st != WG_E_ARENA_TOO_SMALL) continue;
        if (plan.work_bytes > MAX_WORK || plan.target_bytes > MAX_TARGET) continue;
        work = malloc(plan.work_bytes ? plan.work_bytes : 1u);
        st = wg_patch_plan(src->bytes, src->len, patch, size, &wg_test_crypto, work, plan.work_bytes, &plan);
        free(work);
        if (st != WG_OK || plan.work_bytes > MAX_WORK || plan.target_bytes > MAX_TARGET) continue;
        apply(src, patch, size, &plan, NULL);
        if (have_key) apply(src, patch, size, &plan, key);
    }
    free(patch);
    return 0;
}

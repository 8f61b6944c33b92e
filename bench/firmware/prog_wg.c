/*
 * prog_wg.c: the weightgate library as a bench program (bench_program.h),
 * on one of its two paths:
 *
 *   WG_BENCH_IMAGE=1  execution image: open, build the image into a RAM
 *                     buffer (a device writes it to flash), open again with
 *                     WG_OPEN_IMAGE and attach the image;
 *   WG_BENCH_IMAGE=0  coded: open, and wg_invoke decodes the segments while
 *                     it computes.
 *
 * bench_setup does all of that (counted apart); bench_classify is one
 * wg_invoke. The artifact is the header count.ts writes (exportC of the same
 * bytes the dense reference was exported from); unsigned artifacts open
 * with WG_OPEN_ALLOW_UNSIGNED. WG_BENCH_CRYPTO names the wg_crypto (the
 * host build uses bench_crypto_sodium.c's).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bench_program.h"
#include "weightgate.h"
#include WG_BENCH_ARTIFACT_HEADER

#ifndef WG_BENCH_IMAGE
#define WG_BENCH_IMAGE 1
#endif
#ifndef WG_BENCH_CRYPTO
#define WG_BENCH_CRYPTO wg_bench_crypto
#endif
extern const wg_crypto WG_BENCH_CRYPTO;

#ifndef WG_BENCH_ARENA_BYTES
#define WG_BENCH_ARENA_BYTES (64u * 1024u)
#endif
#ifndef WG_BENCH_IMAGE_BYTES
#define WG_BENCH_IMAGE_BYTES (256u * 1024u)
#endif

static wg_model model;
static uint32_t arena[WG_BENCH_ARENA_BYTES / 4];

#if WG_BENCH_IMAGE
static uint32_t image[WG_BENCH_IMAGE_BYTES / 4];
static uint32_t build_work[WG_BENCH_ARENA_BYTES / 4];

static int write_image(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (offset > sizeof image || len > sizeof image - offset) {
        return 1;
    }
    memcpy((uint8_t *)image + offset, data, len);
    return 0;
}
#endif

int bench_setup(void)
{
    const uint8_t *bytes = wg_bench_artifact;
    const size_t len = wg_bench_artifact_len;
    wg_plan_info plan;
#if WG_BENCH_IMAGE
    wg_status st = wg_plan_image(bytes, len, &plan);
    if (st != WG_OK) {
        return 100 + (int)st;
    }
    if (plan.arena_coded > sizeof arena || plan.arena_image > sizeof arena || plan.image_bytes > sizeof image ||
        plan.image_build_arena > sizeof build_work) {
        return 99;
    }
    st = wg_open(&model, bytes, len, NULL, &WG_BENCH_CRYPTO, WG_OPEN_ALLOW_UNSIGNED, (uint8_t *)arena, sizeof arena);
    if (st != WG_OK) {
        return 200 + (int)st;
    }
    st = wg_image_build(&model, &WG_BENCH_CRYPTO, write_image, NULL, (uint8_t *)build_work, sizeof build_work);
    if (st != WG_OK) {
        return 300 + (int)st;
    }
    st = wg_open(&model, bytes, len, NULL, &WG_BENCH_CRYPTO, WG_OPEN_ALLOW_UNSIGNED | WG_OPEN_IMAGE, (uint8_t *)arena,
                 sizeof arena);
    if (st != WG_OK) {
        return 400 + (int)st;
    }
    st = wg_image_attach(&model, &WG_BENCH_CRYPTO, (const uint8_t *)image, plan.image_bytes);
    if (st != WG_OK) {
        return 500 + (int)st;
    }
#else
    wg_status st = wg_plan(bytes, len, &plan);
    if (st != WG_OK) {
        return 100 + (int)st;
    }
    if (plan.arena_coded > sizeof arena) {
        return 99;
    }
    st = wg_open(&model, bytes, len, NULL, &WG_BENCH_CRYPTO, WG_OPEN_ALLOW_UNSIGNED, (uint8_t *)arena, sizeof arena);
    if (st != WG_OK) {
        return 200 + (int)st;
    }
#endif
    return 0;
}

int bench_classify(const unsigned char *raw)
{
    wg_result result;
    wg_status st = wg_invoke(&model, raw, NULL, &result);
    return st == WG_OK ? (int)result.class_index : -(int)st;
}

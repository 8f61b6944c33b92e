/*
 * classify: the firmware a product starts from. A signed model in flash, the
 * publisher's public key, MNIST test digits; verify the model, run every
 * digit, report the accuracy, and check it is what device-sim computes for
 * the same artifact, samples and arithmetic path (docs/arithmetic.md: the
 * same bits).
 *
 *   1. wg_plan_image: the arena and image sizes, from the artifact alone;
 *   2. wg_open with the key and wg_crypto_portable: structure, license,
 *      every held segment's SHA-256, the manifest's Ed25519 signature;
 *   3. the model's name, version, licensed tier and its manifest accuracy;
 *   4. wg_invoke on every sample with the coded kernels (they range-decode
 *      the segments as they compute: nothing but the artifact in flash);
 *   5. the execution image: built into RAM with wg_image_build (and
 *      compared with device-sim's bytes) where RAM allows, or the image
 *      device-sim built, linked into flash (CLASSIFY_IMAGE_IN_FLASH, for
 *      the 16 KiB micro:bit); open again with WG_OPEN_IMAGE, attach it, run
 *      every sample with the image kernels.
 *
 * Exit status: 0 when both accuracies equal device-sim's, otherwise one of
 * the EXIT_* below (the first failure ends the run).
 *
 * Generated at build time (CMakeLists.txt): classify_model.h (weightgate
 * export-c), classify_key.h, classify_samples.h and classify_image.h
 * (gen-model.ts).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "weightgate.h"
#include "wg_board.h"

#include "classify_key.h"
#include "classify_model.h"
#include "classify_samples.h"
#include "classify_image.h"
#include "../common/score.h"

enum {
    EXIT_OK = 0,
    EXIT_PLAN_FAILED = 1,      /* wg_plan_image refused the artifact */
    EXIT_PLAN_MISMATCH = 2,    /* the plan differs from device-sim's, or a buffer here is too small */
    EXIT_OPEN_FAILED = 3,      /* wg_open: verification failed */
    EXIT_INVOKE_FAILED = 4,    /* wg_invoke returned an error */
    EXIT_ACCURACY_CODED = 5,   /* coded kernels: accuracy differs from device-sim's */
    EXIT_IMAGE_BUILD = 6,      /* wg_image_build failed */
    EXIT_IMAGE_BYTES = 7,      /* the built image differs from device-sim's */
    EXIT_IMAGE_OPEN = 8,       /* wg_open (WG_OPEN_IMAGE) or wg_image_attach failed */
    EXIT_ACCURACY_IMAGE = 9    /* image kernels: accuracy differs from device-sim's */
};

#ifdef WG_ARITH_INT
#define PATH_NAME "int"
#define EXPECT_CODED CLASSIFY_EXPECT_INT_CODED
#define EXPECT_IMAGE CLASSIFY_EXPECT_INT_IMAGE
#else
#define PATH_NAME "f32"
#define EXPECT_CODED CLASSIFY_EXPECT_F32_CODED
#define EXPECT_IMAGE CLASSIFY_EXPECT_F32_IMAGE
#endif

/* The arena, sized at build time from device-sim's plan of this artifact
 * (the coded kernels' plan; the image kernels' is never larger). */
static uint32_t arena[(CLASSIFY_ARENA_CODED + 3u) / 4u];
static wg_model model;

#ifndef CLASSIFY_IMAGE_IN_FLASH
/* The image's "flash": RAM here. A product programs real flash in write(). */
static uint32_t image_ram[(CLASSIFY_IMAGE_BYTES + 3u) / 4u];
#ifndef CLASSIFY_BUILD_WORK_BYTES
#define CLASSIFY_BUILD_WORK_BYTES 4096u /* wg_plan_image says how much; checked below */
#endif
static void *build_work[CLASSIFY_BUILD_WORK_BYTES / sizeof(void *)]; /* pointer-aligned */

static int write_image(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (offset > sizeof image_ram || len > sizeof image_ram - offset) {
        return 1;
    }
    memcpy((uint8_t *)image_ram + offset, data, len);
    return 0;
}
#endif

static void put_str(wg_str s) { board_putn(s.ptr, s.len); }

static void put_status(const char *what, wg_status st)
{
    board_puts(what);
    board_puts(": ");
    board_puts(wg_status_str(st));
    board_puts("\n");
}

/* Instructions only under QEMU -icount shift=0 (run-qemu.sh ICOUNT=1);
 * otherwise the board counter follows host time and this is a guess. */
static void put_instructions(const char *what, uint64_t ticks)
{
    board_puts("  ");
    board_puts(what);
    board_puts(": ");
    board_put_u64(board_ticks_to_instructions(ticks));
    board_puts(" instructions\n");
}

/* Runs every sample; prints "<label>: accuracy P % (C/N), device-sim P %". */
static int run_samples(const char *label, uint32_t expected, uint32_t *correct_out)
{
    wg_status failed = WG_OK;
    board_counter_start();
    uint64_t t0 = board_ticks();
    int32_t correct = score_samples(&model, &failed);
    uint64_t t1 = board_ticks();
    if (correct < 0) {
        put_status("wg_invoke", failed);
        return EXIT_INVOKE_FAILED;
    }
    board_puts(label);
    board_puts(": ");
    put_accuracy((uint32_t)correct, expected);
    board_puts("  ");
    board_put_u64(board_ticks_to_instructions(t1 - t0) / CLASSIFY_SAMPLES);
    board_puts(" instructions per sample\n");
    *correct_out = (uint32_t)correct;
    return EXIT_OK;
}

int main(void)
{
    board_stack_paint();
    board_puts("weightgate classify on ");
    board_puts(board_name());
    board_puts(", " PATH_NAME " path\n");

    /* 1. The plan: what the artifact needs, before anything is verified. */
    wg_plan_info plan;
    wg_status st = wg_plan_image(classify_model, classify_model_len, &plan);
    if (st != WG_OK) {
        put_status("wg_plan_image", st);
        return EXIT_PLAN_FAILED;
    }
    board_puts("plan: ");
    board_put_u32(plan.inputs);
    board_puts(" inputs, ");
    board_put_u32(plan.outputs);
    board_puts(" outputs; arena ");
    board_put_u32(plan.arena_coded);
    board_puts(" B coded, ");
    board_put_u32(plan.arena_image);
    board_puts(" B image; image ");
    board_put_u32(plan.image_bytes);
    board_puts(" B, built with ");
    board_put_u32(plan.image_build_arena);
    board_puts(" B\n");
    if (plan.arena_coded != CLASSIFY_ARENA_CODED || plan.image_bytes != CLASSIFY_IMAGE_BYTES ||
        plan.inputs != CLASSIFY_FEATURES || plan.arena_image > sizeof arena) {
        board_puts("plan differs from device-sim's\n");
        return EXIT_PLAN_MISMATCH;
    }

    /* 2. Verify and open: the arena is exactly the plan. */
    board_counter_start();
    uint64_t t0 = board_ticks();
    st = wg_open(&model, classify_model, classify_model_len, classify_public_key, &wg_crypto_portable, 0,
                 (uint8_t *)arena, plan.arena_coded);
    if (st != WG_OK) {
        put_status("wg_open", st);
        return EXIT_OPEN_FAILED;
    }
    put_instructions("wg_open (verify, signature)", board_ticks() - t0);

    /* 3. What it is. */
    board_puts("model ");
    put_str(wg_model_name(&model));
    board_puts(" v");
    board_put_u32(wg_model_version(&model));
    int32_t tier = wg_held_tier(&model);
    if (tier >= 0) {
        board_puts(", tier ");
        put_str(wg_tier_name(&model, (uint32_t)tier));
        board_puts(" (manifest accuracy ");
        board_put_fixed((int32_t)(wg_tier_accuracy(&model, (uint32_t)tier) * 10000.0f + 0.5f), 2);
        board_puts(" %)\n");
    } else {
        board_puts(", a license that is no tier\n");
    }
    board_puts("arena: ");
    board_put_u32(plan.arena_coded);
    board_puts(" B\n");

    /* 4. Every sample, coded kernels. */
    uint32_t correct;
    int status = run_samples("coded kernels", EXPECT_CODED, &correct);
    if (status != EXIT_OK) {
        return status;
    }
    if (correct != EXPECT_CODED) {
        return EXIT_ACCURACY_CODED;
    }

    /* 5. The execution image. */
#ifdef CLASSIFY_IMAGE_IN_FLASH
    const uint8_t *image = classify_image;
    board_puts("image: ");
    board_put_u32(plan.image_bytes);
    board_puts(" B in flash, built by device-sim\n");
#else
    if (plan.image_build_arena > sizeof build_work) {
        board_puts("image build needs more work memory\n");
        return EXIT_PLAN_MISMATCH;
    }
    board_counter_start();
    t0 = board_ticks();
    st = wg_image_build(&model, &wg_crypto_portable, write_image, NULL, (uint8_t *)build_work, sizeof build_work);
    if (st != WG_OK) {
        put_status("wg_image_build", st);
        return EXIT_IMAGE_BUILD;
    }
    uint64_t build_ticks = board_ticks() - t0;
    const uint8_t *image = (const uint8_t *)image_ram;
    board_puts("image: ");
    board_put_u32(plan.image_bytes);
    board_puts(" B built in RAM, ");
    if (memcmp(image, classify_image, plan.image_bytes) != 0) {
        board_puts("not device-sim's bytes\n");
        return EXIT_IMAGE_BYTES;
    }
    board_puts("device-sim's bytes\n");
    put_instructions("wg_image_build", build_ticks);
#endif
    /* What a product does at every boot once the image is in flash. */
    board_counter_start();
    t0 = board_ticks();
    st = wg_open(&model, classify_model, classify_model_len, classify_public_key, &wg_crypto_portable, WG_OPEN_IMAGE,
                 (uint8_t *)arena, plan.arena_image);
    if (st != WG_OK) {
        put_status("wg_open (image)", st);
        return EXIT_IMAGE_OPEN;
    }
    st = wg_image_attach(&model, &wg_crypto_portable, image, plan.image_bytes);
    if (st != WG_OK) {
        put_status("wg_image_attach", st);
        return EXIT_IMAGE_OPEN;
    }
    put_instructions("wg_open + wg_image_attach", board_ticks() - t0);
    board_puts("arena: ");
    board_put_u32(plan.arena_image);
    board_puts(" B\n");
    status = run_samples("image kernels", EXPECT_IMAGE, &correct);
    if (status != EXIT_OK) {
        return status;
    }
    if (correct != EXPECT_IMAGE) {
        return EXIT_ACCURACY_IMAGE;
    }
    board_puts("stack: ");
    board_put_u32(board_stack_used());
    board_puts(" B of ");
    board_put_u32(board_stack_size());
    board_puts(" B at the deepest\n");
    board_puts("ok\n");
    return EXIT_OK;
}

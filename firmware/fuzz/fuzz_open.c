/*
 * libFuzzer harness: wg_plan, wg_open (unsigned allowed, and with a key),
 * then wg_invoke on a zero and a bright sample, the execution image build
 * into a buffer, attach and invoke on it. Every buffer is exactly the size
 * the plan asks for, on the heap, so ASan sees any overrun.
 *
 *   cmake -S firmware -B firmware/build/fuzz -DWG_FUZZ=ON -DCMAKE_C_COMPILER=clang
 *   firmware/build/fuzz/fuzz/fuzz_open_f32 CORPUS_DIR
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "weightgate.h"

extern const wg_crypto wg_test_crypto;

#define MAX_ARENA (1u << 20)

typedef struct flash {
    uint8_t *bytes;
    size_t len;
} flash;

static int write_flash(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    flash *f = ctx;
    if ((size_t)offset + len > f->len) abort(); /* the plan sized it */
    memcpy(f->bytes + offset, data, len);
    return 0;
}

static void run(const uint8_t *data, size_t size, const wg_plan_info *plan, unsigned flags)
{
    static const uint8_t key[32] = {1};
    uint32_t need = (flags & WG_OPEN_IMAGE) ? plan->arena_image : plan->arena_coded;
    uint8_t *arena = malloc(need ? need : 1u), *input = calloc(plan->inputs ? plan->inputs : 1u, 1);
    wg_logit *logits = malloc(sizeof(wg_logit) * (plan->outputs ? plan->outputs : 1u));
    wg_model m;
    wg_result result;
    if (wg_open(&m, data, size, (flags & 4u) ? key : NULL, &wg_test_crypto, (flags & 3u) | WG_OPEN_ALLOW_UNSIGNED, arena,
                need) == WG_OK) {
        flash f = {NULL, 0};
        if (flags & WG_OPEN_IMAGE) {
            uint8_t *work = malloc(plan->image_build_arena ? plan->image_build_arena : 1u);
            f.bytes = calloc(plan->image_bytes, 1);
            f.len = plan->image_bytes;
            if (wg_image_build(&m, &wg_test_crypto, write_flash, &f, work, plan->image_build_arena) == WG_OK) {
                /* we built it: it is valid (the int path may still find the
                 * model's values do not fit it: WG_E_UNSUPPORTED) */
                wg_status st = wg_image_attach(&m, &wg_test_crypto, f.bytes, f.len);
                if (st != WG_OK && st != WG_E_UNSUPPORTED) abort();
            }
            free(work);
        }
        if (!(flags & WG_OPEN_IMAGE) || m.image_ready) {
            (void)wg_invoke(&m, input, logits, &result);
            memset(input, 255, plan->inputs);
            (void)wg_invoke(&m, input, logits, &result);
        }
        free(f.bytes);
    }
    free(logits);
    free(input);
    free(arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wg_plan_info plan;
    uint8_t *copy = malloc(size ? size : 1u);
    memcpy(copy, data, size); /* exactly `size` bytes: reads past them are caught */
    if (wg_plan_image(copy, size, &plan) == WG_OK && plan.arena_coded <= MAX_ARENA && plan.image_build_arena <= MAX_ARENA &&
        plan.image_bytes <= (1u << 24) && plan.inputs <= (1u << 20)) {
        run(copy, size, &plan, 0);
        run(copy, size, &plan, WG_OPEN_IMAGE);
        run(copy, size, &plan, 4u);
    }
    free(copy);
    return 0;
}

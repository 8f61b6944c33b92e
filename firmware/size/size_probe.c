/*
 * What a firmware links to verify and run a model: wg_plan, wg_open
 * (structure, hashes and signature through the caller's crypto table, not
 * counted here) and wg_invoke. Built twice: with WG_PROBE_EMPTY the
 * baseline (startup, and the three libc functions the library may call,
 * memcpy, memset and memcmp, which every firmware already links), without
 * it the library on top; the difference is the library's own code.
 */
#include <string.h>

#include "weightgate.h"

extern const wg_crypto *volatile probe_crypto;
const wg_crypto *volatile probe_crypto;
static uint8_t arena[4096];
static uint8_t artifact[16];
static uint8_t sample[784];
volatile uint32_t probe_out;

static uint8_t scratch[32];

int main(void)
{
    /* the firmware's own use of libc: linked in both builds */
    memset(scratch, (int)probe_out, sizeof(scratch));
    memcpy(scratch + 16, sample, 16);
    probe_out = (uint32_t)memcmp(scratch, artifact, 16);
#ifndef WG_PROBE_EMPTY
    wg_model m;
    wg_plan_info plan;
    wg_result result;
    wg_logit logits[10];
    if (wg_plan(artifact, sizeof(artifact), &plan) == WG_OK &&
        wg_open(&m, artifact, sizeof(artifact), artifact, probe_crypto, 0, arena, sizeof(arena)) == WG_OK &&
        wg_invoke(&m, sample, logits, &result) == WG_OK) {
        probe_out = result.class_index;
    }
#endif
    return 0;
}

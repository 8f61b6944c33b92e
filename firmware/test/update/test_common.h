/*
 * test_common.h: what the update tests share: stand-in artifacts that check
 * themselves, the verify and self-test hooks, and a whole install.
 *
 * A stand-in artifact of `bytes` (>= 16): "FAKE", u32 version, u32 bytes,
 * bytes from a generator seeded by the version, u32 FNV-1a of all before.
 */
#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <stdint.h>

#include "sim_flash.h"
#include "weightgate_update.h"

#define FAKE_MIN_BYTES 16u
#define TEST_MAX_ARTIFACT (64u * 1024u)

void fake_artifact(uint32_t version, uint32_t bytes, uint8_t *out);
/* 1 when the bytes are a whole stand-in artifact. */
int fake_artifact_ok(const uint8_t *bytes, uint32_t len);

/* A small xorshift generator for chunk sizes. */
uint32_t test_rand(uint32_t *state);

typedef struct test_hooks_ctx {
    const sim_flash *flash;
    const wg_update_layout *layout;
    uint32_t fail_self_test_version; /* 0: every self-test passes */
    uint32_t verify_calls, self_test_calls;
} test_hooks_ctx;

/* wg_update_hooks over test_hooks_ctx: verify checks the stand-in artifact
 * (read through the mapped pointer or from the sim flash); the self-test
 * fails for fail_self_test_version. Resets ctx. */
void test_hooks(wg_update_hooks *hooks, test_hooks_ctx *ctx, const sim_flash *flash, const wg_update_layout *layout);

/* Writes `artifact` into the inactive slot in chunks of 1..max_chunk bytes
 * (seeded), checks its SHA-256, switches and, when `confirm`, confirms.
 * Returns the first status that is not OK. */
wg_update_status test_install(wg_updater *u, const uint8_t *artifact, uint32_t bytes, uint32_t version,
                              uint32_t seed, uint32_t max_chunk, int confirm);

#endif

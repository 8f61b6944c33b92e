/* test_common.c: see test_common.h. */
#include "test_common.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t test_rand(uint32_t *state) {
    uint32_t x = *state ? *state : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* FNV-1a: a cheap whole-artifact check (the power-cut test runs it ~10^5 times). */
static uint32_t fnv1a(const uint8_t *p, uint32_t len) {
    uint32_t h = 2166136261u, i;
    for (i = 0; i < len; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

void fake_artifact(uint32_t version, uint32_t bytes, uint8_t *out) {
    uint32_t i, state = version * 2654435761u + 1;
    memcpy(out, "FAKE", 4);
    put32(out + 4, version);
    put32(out + 8, bytes);
    for (i = 12; i < bytes - 4; i++) out[i] = (uint8_t)(test_rand(&state) >> 24);
    put32(out + bytes - 4, fnv1a(out, bytes - 4));
}

int fake_artifact_ok(const uint8_t *bytes, uint32_t len) {
    return len >= FAKE_MIN_BYTES && memcmp(bytes, "FAKE", 4) == 0 && get32(bytes + 8) == len &&
           get32(bytes + len - 4) == fnv1a(bytes, len - 4);
}

/* The artifact's bytes: the mapped pointer, else a copy read from the sim. */
static const uint8_t *artifact_bytes(test_hooks_ctx *t, unsigned slot, const uint8_t *artifact, uint32_t bytes) {
    static uint8_t copy[TEST_MAX_ARTIFACT];
    if (artifact) return artifact;
    if (bytes > sizeof copy) return NULL;
    if (t->flash->driver.read(t->flash->driver.ctx, t->layout->slot_offset[slot], copy, bytes) != 0) return NULL;
    return copy;
}

static int verify_hook(void *ctx, unsigned slot, const uint8_t *artifact, uint32_t bytes, const uint8_t sha256[32]) {
    test_hooks_ctx *t = ctx;
    (void)sha256;
    t->verify_calls++;
    artifact = artifact_bytes(t, slot, artifact, bytes);
    return artifact && fake_artifact_ok(artifact, bytes) ? 0 : -1;
}

static int self_test_hook(void *ctx, unsigned slot, const uint8_t *artifact, uint32_t bytes) {
    test_hooks_ctx *t = ctx;
    t->self_test_calls++;
    artifact = artifact_bytes(t, slot, artifact, bytes);
    if (!artifact || bytes < FAKE_MIN_BYTES) return -1;
    return get32(artifact + 4) == t->fail_self_test_version ? -1 : 0;
}

void test_hooks(wg_update_hooks *hooks, test_hooks_ctx *ctx, const sim_flash *flash, const wg_update_layout *layout) {
    memset(ctx, 0, sizeof *ctx);
    ctx->flash = flash;
    ctx->layout = layout;
    hooks->ctx = ctx;
    hooks->verify = verify_hook;
    hooks->self_test = self_test_hook;
}

wg_update_status test_install(wg_updater *u, const uint8_t *artifact, uint32_t bytes, uint32_t version,
                              uint32_t seed, uint32_t max_chunk, int confirm) {
    wg_flash_writer w;
    wg_slot_entry entry;
    uint32_t at = 0;
    unsigned slot = wg_update_inactive_slot(u);
    wg_update_status status = wg_update_begin_slot(u, &w, bytes);
    if (status != WG_UPDATE_OK) return status;
    while (at < bytes) {
        uint32_t n = 1 + test_rand(&seed) % max_chunk;
        if (n > bytes - at) n = bytes - at;
        status = wg_flash_write(&w, artifact + at, n);
        if (status != WG_UPDATE_OK) return status;
        at += n;
    }
    status = wg_flash_finish(&w, entry.sha256);
    if (status != WG_UPDATE_OK) return status;
    entry.version = version;
    entry.bytes = bytes;
    if (wg_update_check_slot(u, slot, &entry, NULL) != WG_SLOT_OK) return WG_UPDATE_E_SLOT;
    status = wg_update_switch(u, slot, &entry);
    if (status != WG_UPDATE_OK || !confirm) return status;
    return wg_update_confirm(u);
}

/*
 * test_patch_power_cut.c: wg_patch_apply programs its target straight into
 * the update half's inactive slot (wg_patch_flash_sink into wg_flash_write)
 * on the simulated flash of test/update, then wg_flash_finish, the slot
 * check, switch and confirm. A power cut at every erase and program (each
 * of the tear modes), then a reboot: the device runs the old version or the
 * new one, whole and verified by wg_open with the publisher's key, and its
 * logits on the vector's samples are bit for bit what device-sim computes
 * for that version; never a mix, never nothing. Vectors:
 * gen-patch-vectors.ts (WG_PATCH_VECTORS). Crypto: libsodium's
 * (wg_test_crypto): each cut run verifies several signatures, and the
 * portable Ed25519 has its own vector tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_common.h"
#include "test_support.h"
#include "weightgate_update.h"

#include "weightgate_patch.h"

#define FLASH_BYTES (8192u + 2u * 49152u)
#define ARENA_BYTES (256u * 1024u)
#define WORK_BYTES (8u * 1024u)

static uint8_t mem[FLASH_BYTES], base_mem[FLASH_BYTES];
static uint8_t arena[ARENA_BYTES];
static uint8_t work[WORK_BYTES];
static uint8_t key[32];

typedef struct rig {
    sim_flash flash;
    wg_update_layout layout;
    uint8_t *src, *patch, *dst;
    size_t src_len, patch_len, dst_len;
    uint8_t *samples, *out[2]; /* out[0]: the source's outputs, out[1]: the target's */
    size_t samples_len, out_len[2];
    uint32_t sample_count;
    uint32_t src_version, dst_version;
} rig;

/* Verifies a slot as a device does: wg_open with the publisher's key. */
static int verify_open(void *ctx, unsigned slot, const uint8_t *artifact, uint32_t bytes, const uint8_t sha256[32])
{
    wg_model m;
    (void)ctx;
    (void)slot;
    (void)sha256;
    if (!artifact) return 1;
    return wg_open(&m, artifact, bytes, key, &wg_test_crypto, 0, arena, sizeof arena) == WG_OK ? 0 : 1;
}

static void hooks_of(wg_update_hooks *h)
{
    memset(h, 0, sizeof *h);
    h->verify = verify_open;
}

/* Boot, apply the patch into the inactive slot, finish, check, switch,
 * confirm; stops at the first failure (the power is gone). */
static void run_update(rig *r)
{
    wg_updater u;
    wg_update_hooks hooks;
    wg_boot_result boot;
    wg_patch_flash f;
    wg_patch_sink sink;
    wg_patch_info info;
    wg_slot_entry entry;
    wg_flash_writer staged;
    wg_status st;
    unsigned slot;
    hooks_of(&hooks);
    if (wg_update_init(&u, &r->flash.driver, &r->layout, &wg_test_crypto) != WG_UPDATE_OK) return;
    if (wg_update_boot(&u, &hooks, &boot) != WG_UPDATE_OK) return;
    assert_int_equal(boot.version, r->src_version);
    slot = wg_update_inactive_slot(&u);
    /* where the download sits (the same place for the same size; erases nothing) */
    assert_int_equal(wg_update_begin_staging(&u, &staged, (uint32_t)r->patch_len), WG_UPDATE_OK);
    sink = wg_patch_flash_sink(&f, &u);
    st = wg_patch_apply(r->flash.mem + r->layout.slot_offset[boot.slot], boot.bytes, r->flash.mem + u.staged_offset,
                        u.staged_bytes, key, &wg_test_crypto, &sink, work, sizeof work, &info);
    if (st != WG_OK) {
        assert_int_equal(st, WG_E_WRITE_FAILED); /* only the flash can fail here */
        assert_true(r->flash.dead);
        return;
    }
    if (wg_flash_finish(&f.writer, entry.sha256) != WG_UPDATE_OK) return;
    entry.version = info.to_version;
    entry.bytes = info.target_bytes;
    if (wg_update_check_slot(&u, slot, &entry, &hooks) != WG_SLOT_OK) return;
    if (wg_update_switch(&u, slot, &entry) != WG_UPDATE_OK) return;
    (void)wg_update_confirm(&u);
}

/*
 * Runs the version in the slot on every sample and compares the logits (bit
 * for bit) and the class with what device-sim computes for version `which`
 * (0: the source, 1: the target).
 */
static void check_outputs(const rig *r, const uint8_t *artifact, uint32_t bytes, int which)
{
    wg_model m;
    wg_plan_info p;
    wg_logit logits[64];
    wg_result result;
    const uint8_t *expect = r->out[which];
    uint32_t s, record;
    assert_int_equal(wg_open(&m, artifact, bytes, key, &wg_test_crypto, 0, arena, sizeof arena), WG_OK);
    assert_int_equal(wg_plan(artifact, bytes, &p), WG_OK);
    assert_true(p.outputs <= 64);
    record = (p.outputs + 1u) * 4u;
    assert_int_equal(r->samples_len, (size_t)r->sample_count * p.inputs);
    assert_int_equal(r->out_len[which], (size_t)r->sample_count * record);
    for (s = 0; s < r->sample_count; s++) {
        uint32_t cls;
        assert_int_equal(wg_invoke(&m, r->samples + (size_t)s * p.inputs, logits, &result), WG_OK);
        assert_memory_equal(logits, expect + (size_t)s * record, p.outputs * 4u);
        memcpy(&cls, expect + (size_t)s * record + p.outputs * 4u, 4);
        assert_int_equal(result.class_index, cls);
    }
}

/* Boots the flash as it is: 0 when it runs the old version, 1 the new. */
static int boot_and_check(rig *r)
{
    wg_updater u;
    wg_update_hooks hooks;
    wg_boot_result boot;
    const uint8_t *in_slot;
    hooks_of(&hooks);
    assert_int_equal(wg_update_init(&u, &r->flash.driver, &r->layout, &wg_test_crypto), WG_UPDATE_OK);
    assert_int_equal(wg_update_boot(&u, &hooks, &boot), WG_UPDATE_OK);
    assert_int_not_equal(boot.slot, WG_NO_SLOT);
    in_slot = r->flash.mem + r->layout.slot_offset[boot.slot];
    assert_int_equal(verify_open(NULL, boot.slot, in_slot, boot.bytes, NULL), 0);
    assert_true(u.state.confirmed);
    if (boot.bytes == r->src_len && memcmp(in_slot, r->src, r->src_len) == 0) {
        assert_int_equal(boot.version, r->src_version);
        check_outputs(r, in_slot, boot.bytes, 0);
        return 0;
    }
    assert_int_equal(boot.bytes, r->dst_len);
    assert_memory_equal(in_slot, r->dst, r->dst_len);
    assert_int_equal(boot.version, r->dst_version);
    check_outputs(r, in_slot, boot.bytes, 1);
    return 1;
}

/* The `outputs NAME COUNT SAMPLES SRC DST` record of index.txt. */
static int read_outputs(rig *r, const char *dir, const char *name)
{
    char path[1024], line[1024], n[256], samples[256], src[256], dst[256];
    unsigned count;
    int found = 0;
    FILE *f;
    snprintf(path, sizeof path, "%s/index.txt", dir);
    f = fopen(path, "r");
    while (f && !found && fgets(line, sizeof line, f)) {
        if (sscanf(line, "outputs %255s %u %255s %255s %255s", n, &count, samples, src, dst) == 5 && strcmp(n, name) == 0)
            found = 1;
    }
    if (f) fclose(f);
    if (!found) return 0;
    r->sample_count = count;
    r->samples = test_read_file(dir, samples, &r->samples_len);
    r->out[0] = test_read_file(dir, src, &r->out_len[0]);
    r->out[1] = test_read_file(dir, dst, &r->out_len[1]);
    return r->samples && r->out[0] && r->out[1];
}

static void free_rig(rig *r)
{
    free(r->src);
    free(r->patch);
    free(r->dst);
    free(r->samples);
    free(r->out[0]);
    free(r->out[1]);
}

static int setup_rig(rig *r, const char *name)
{
    const char *dir = getenv("WG_PATCH_VECTORS");
    char file[256];
    wg_updater u;
    wg_patch_info info;
    memset(r, 0, sizeof *r);
    if (!dir) return 0;
    snprintf(file, sizeof file, "%s.src.wgm", name);
    r->src = test_read_file(dir, file, &r->src_len);
    snprintf(file, sizeof file, "%s.wgp", name);
    r->patch = test_read_file(dir, file, &r->patch_len);
    snprintf(file, sizeof file, "%s.dst.wgm", name);
    r->dst = test_read_file(dir, file, &r->dst_len);
    if (!r->src || !r->patch || !r->dst) return 0;
    if (!read_outputs(r, dir, name)) return 0;
    assert_int_equal(wg_patch_plan(r->src, r->src_len, r->patch, r->patch_len, &wg_test_crypto, work, sizeof work,
                                   &info),
                     WG_OK);
    r->src_version = info.from_version;
    r->dst_version = info.to_version;
    sim_flash_init(&r->flash, mem, FLASH_BYTES, 4096, 8, 1);
    assert_int_equal(wg_update_layout_default(FLASH_BYTES, 4096, 0, &r->layout), WG_UPDATE_OK);
    assert_int_equal(wg_update_init(&u, &r->flash.driver, &r->layout, &wg_test_crypto), WG_UPDATE_OK);
    assert_int_equal(test_install(&u, r->src, (uint32_t)r->src_len, r->src_version, 11, 200, 1), WG_UPDATE_OK);
    /* the download */
    {
        wg_flash_writer w;
        assert_int_equal(wg_update_begin_staging(&u, &w, (uint32_t)r->patch_len), WG_UPDATE_OK);
        assert_int_equal(wg_flash_write(&w, r->patch, (uint32_t)r->patch_len), WG_UPDATE_OK);
        assert_int_equal(wg_flash_finish(&w, NULL), WG_UPDATE_OK);
        assert_memory_equal(mem + u.staged_offset, r->patch, r->patch_len);
    }
    memcpy(base_mem, mem, FLASH_BYTES);
    return 1;
}

static void cut_everywhere(const char *name)
{
    rig r;
    uint32_t total, k, runs = 0, news = 0;
    unsigned tear;
    if (!setup_rig(&r, name)) {
        free_rig(&r);
        print_message("WG_PATCH_VECTORS not set or without %s (node unavailable at build time?): skipped\n", name);
        skip();
    }
    sim_flash_plan(&r.flash, SIM_NO_CUT, SIM_TEAR_NOTHING);
    run_update(&r);
    total = r.flash.ops;
    assert_int_equal(boot_and_check(&r), 1);
    assert_int_equal(r.flash.violations, 0);
    for (k = 0; k < total; k++) {
        for (tear = 0; tear < SIM_TEAR_MODES; tear++) {
            int which;
            memcpy(mem, base_mem, FLASH_BYTES);
            sim_flash_plan(&r.flash, k, (enum sim_tear)tear);
            run_update(&r);
            assert_true(r.flash.dead);
            sim_flash_plan(&r.flash, SIM_NO_CUT, SIM_TEAR_NOTHING);
            which = boot_and_check(&r);
            assert_int_equal(boot_and_check(&r), which); /* a second boot: the same */
            assert_int_equal(r.flash.violations, 0);
            news += (uint32_t)which;
            runs++;
        }
    }
    print_message("%s: %u flash operations, %u cuts: %u boot the old version, %u the new, all verified, "
                  "their outputs device-sim's\n",
                  name, total, runs, runs - news, news);
    free_rig(&r);
}

/* One test per signed patch of the vectors (each kind: license upgrades,
 * downgrades, new versions with and without a license change, in every
 * encoding, and the large retrained model). */
static void test_cut(void **state)
{
    cut_everywhere((const char *)*state);
}

#define MAX_PATCHES 64

int main(void)
{
    const char *dir = getenv("WG_PATCH_VECTORS");
    static char names[MAX_PATCHES][128];
    struct CMUnitTest tests[MAX_PATCHES];
    size_t count = 0;
    char line[512];
    FILE *f = NULL;
    if (dir) {
        snprintf(line, sizeof line, "%s/index.txt", dir);
        f = fopen(line, "r");
    }
    while (f && fgets(line, sizeof line, f)) {
        char name[128];
        if (strncmp(line, "key ", 4) == 0) {
            unsigned i;
            for (i = 0; i < 32; i++) {
                unsigned byte;
                if (sscanf(line + 4 + 2 * i, "%2x", &byte) == 1) key[i] = (uint8_t)byte;
            }
        } else if (sscanf(line, "patch %127s", name) == 1 && !strstr(name, "-unsigned") && count < MAX_PATCHES) {
            /* the unsigned ones do not open with the key, which this test's device demands */
            memcpy(names[count], name, sizeof name);
            tests[count].name = names[count];
            tests[count].test_func = test_cut;
            tests[count].setup_func = NULL;
            tests[count].teardown_func = NULL;
            tests[count].initial_state = names[count];
            count++;
        }
    }
    if (f) fclose(f);
    if (count == 0) {
        /* without vectors, one test that says so and skips */
        tests[0] = (struct CMUnitTest)cmocka_unit_test_prestate(test_cut, (void *)"int8-upgrade");
        count = 1;
    }
    return _cmocka_run_group_tests("patch_power_cut", tests, count, NULL, NULL);
}

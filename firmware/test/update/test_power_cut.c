/*
 * test_power_cut.c: a power cut at every erase and program call of a whole
 * update (stage a download, write the slot, finish and hash, check, switch,
 * self-test, confirm), one run per cut position and tear mode, for several
 * flash geometries and update sizes. After each cut the device reboots and
 * must run exactly the old or the new version, verified: never a mix, never
 * nothing. A cut during that recovery boot is tried too. One scenario's
 * new version fails its self-test, so the update rolls back: there every
 * cut must leave the old version; another is a first install on a blank
 * device, where "the old version" is no model. Prints the count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_common.h"

/* The crypto the updater hashes slots with (tests.cmake: libsodium's when it is there). */
#ifdef WG_POWER_CUT_CRYPTO
extern const wg_crypto WG_POWER_CUT_CRYPTO;
#define POWER_CUT_CRYPTO (&WG_POWER_CUT_CRYPTO)
#else
#define POWER_CUT_CRYPTO (&wg_crypto_portable)
#endif

typedef struct scenario {
    const char *name;
    uint32_t sector, program;
    int mapped;
    uint32_t flash_bytes, staging_bytes; /* staging 0: the inactive slot's tail */
    int via_staging;                     /* download into staging, then copy it into the slot
                                            (where the patch applier will sit) */
    uint32_t start_sequence;
    int old_in_b;                        /* the old version runs from slot B */
    int hash_only;                       /* no verify hook: the SHA-256 alone must do */
    int self_test_fails;                 /* the new version fails: roll back instead of confirm */
    int blank;                           /* first install: no old version, "nothing" is then right */
} scenario;

static const scenario SCENARIOS[] = {
    {"4 KiB sectors, 8-byte units, mapped, staged in the slot's tail", 4096, 8, 1, 8192 + 2 * 49152, 0, 1, 0, 0, 0, 0, 0},
    {"1 KiB sectors, 1-byte units, read through the driver, direct, SHA-256 only", 1024, 1, 0, 2048 + 2 * 24576, 0, 0, 0, 1, 1, 0, 0},
    {"2 KiB sectors, 32-byte units, mapped, staging region", 2048, 32, 1, 4096 + 2 * 24576 + 24576, 24576, 1, 0, 0, 0, 0, 0},
    {"4 KiB sectors, 8-byte units, sequence wraps at 2^32", 4096, 8, 1, 8192 + 2 * 49152, 0, 1, 0xFFFFFFFBu, 1, 0, 0, 0},
    {"4 KiB sectors, 8-byte units, the new version fails its self-test", 4096, 8, 1, 8192 + 2 * 49152, 0, 1, 0, 1, 0, 1, 0},
    {"2 KiB sectors, 16-byte units, mapped, first install on a blank device", 2048, 16, 1, 4096 + 2 * 24576, 0, 0, 0, 0, 0, 0, 1},
};

/* Tiny, under a sector, one sector exactly and one byte over, several sectors
 * unaligned, the largest a slot takes. */
static const uint32_t SIZES[] = {16, 1000, 4096, 4097, 12000, 24576};

#define MAX_FLASH (8192u + 2u * 49152u + 24576u)
static uint8_t mem[MAX_FLASH], base[MAX_FLASH];
static uint8_t old_art[TEST_MAX_ARTIFACT], new_art[TEST_MAX_ARTIFACT];
static unsigned long cut_positions, cut_runs, nested_runs, scenarios_run;

typedef struct rig {
    const scenario *sc;
    sim_flash flash;
    wg_update_layout layout;
    uint32_t old_version, old_bytes, new_version, new_bytes;
    uint8_t new_sha256[32]; /* of new_art, hashed once: run_update runs tens of thousands of times */
} rig;

static uint32_t sha_seed(uint32_t size) {
    return size * 7919u + 17u;
}

/* Copies what sits in staging into the slot writer, in uneven chunks read
 * through the driver: a stand-in for the patch applier. */
static wg_update_status copy_staged(rig *r, wg_updater *u, wg_flash_writer *w, uint32_t bytes, uint32_t seed) {
    uint8_t chunk[97];
    uint32_t at = 0;
    while (at < bytes) {
        uint32_t n = 1 + test_rand(&seed) % sizeof chunk;
        wg_update_status status;
        if (n > bytes - at) n = bytes - at;
        if (r->flash.driver.read(r->flash.driver.ctx, u->staged_offset + at, chunk, n) != 0) return WG_UPDATE_E_FLASH;
        status = wg_flash_write(w, chunk, n);
        if (status != WG_UPDATE_OK) return status;
        at += n;
    }
    return WG_UPDATE_OK;
}

static wg_update_status feed(wg_flash_writer *w, const uint8_t *bytes, uint32_t len, uint32_t seed) {
    uint32_t at = 0;
    while (at < len) {
        uint32_t n = 1 + test_rand(&seed) % 97;
        wg_update_status status;
        if (n > len - at) n = len - at;
        status = wg_flash_write(w, bytes + at, n);
        if (status != WG_UPDATE_OK) return status;
        at += n;
    }
    return WG_UPDATE_OK;
}

/* The whole update on the flash as it is; stops at the first failure (the
 * power is gone). *trial_program is the call number of the trial record's
 * program. */
static void run_update(rig *r, uint32_t *trial_program) {
    wg_updater u;
    wg_update_hooks hooks;
    test_hooks_ctx ctx;
    wg_boot_result boot;
    wg_flash_writer w;
    wg_slot_entry entry;
    uint8_t sha[32];
    const uint8_t *want = r->new_sha256;
    unsigned slot;
    test_hooks(&hooks, &ctx, &r->flash, &r->layout);
    if (wg_update_init(&u, &r->flash.driver, &r->layout, POWER_CUT_CRYPTO) != WG_UPDATE_OK) return;
    if (wg_update_boot(&u, &hooks, &boot) != WG_UPDATE_OK) return;
    assert_int_equal(boot.slot, u.state.active);
    slot = wg_update_inactive_slot(&u);
    if (r->sc->via_staging) {
        if (wg_update_begin_staging(&u, &w, r->new_bytes) != WG_UPDATE_OK) return;
        if (feed(&w, new_art, r->new_bytes, sha_seed(r->new_bytes)) != WG_UPDATE_OK) return;
        if (wg_flash_finish(&w, sha) != WG_UPDATE_OK) return;
        assert_memory_equal(sha, want, 32);
        assert_int_equal(wg_update_begin_slot(&u, &w, r->new_bytes), WG_UPDATE_OK);
        if (copy_staged(r, &u, &w, r->new_bytes, sha_seed(r->new_bytes) + 1) != WG_UPDATE_OK) return;
    } else {
        assert_int_equal(wg_update_begin_slot(&u, &w, r->new_bytes), WG_UPDATE_OK);
        if (feed(&w, new_art, r->new_bytes, sha_seed(r->new_bytes)) != WG_UPDATE_OK) return;
    }
    if (wg_flash_finish(&w, sha) != WG_UPDATE_OK) return;
    assert_memory_equal(sha, want, 32);
    entry.version = r->new_version;
    entry.bytes = r->new_bytes;
    memcpy(entry.sha256, sha, 32);
    assert_int_equal(wg_update_check_slot(&u, slot, &entry, &hooks), WG_SLOT_OK);
    if (trial_program) *trial_program = r->flash.ops + 1; /* erase, then program */
    if (wg_update_switch(&u, slot, &entry) != WG_UPDATE_OK) return;
    ctx.fail_self_test_version = r->sc->self_test_fails ? r->new_version : 0;
    if (hooks.self_test(hooks.ctx, slot, NULL, entry.bytes) == 0) (void)wg_update_confirm(&u);
    else (void)wg_update_rollback(&u);
}

/* Boots the flash as it is; returns 0 when it runs the old version, 1 the
 * new; fails the test for anything else. */
static int boot_and_check(rig *r) {
    wg_updater u;
    wg_update_hooks hooks;
    test_hooks_ctx ctx;
    wg_boot_result boot;
    const uint8_t *in_slot;
    int which;
    test_hooks(&hooks, &ctx, &r->flash, &r->layout);
    if (r->sc->hash_only) hooks.verify = NULL;
    if (r->sc->self_test_fails) ctx.fail_self_test_version = r->new_version;
    assert_int_equal(wg_update_init(&u, &r->flash.driver, &r->layout, POWER_CUT_CRYPTO), WG_UPDATE_OK);
    assert_int_equal(wg_update_boot(&u, &hooks, &boot), WG_UPDATE_OK);
    if (r->sc->blank && boot.slot == WG_NO_SLOT) return 0; /* the old "version" is none */
    assert_int_not_equal(boot.slot, WG_NO_SLOT); /* never nothing */
    in_slot = r->flash.mem + r->layout.slot_offset[boot.slot];
    if (!r->sc->blank && boot.bytes == r->old_bytes && memcmp(in_slot, old_art, r->old_bytes) == 0) {
        which = 0;
        assert_int_equal(boot.version, r->old_version);
    } else {
        assert_int_equal(boot.bytes, r->new_bytes); /* never a mix */
        assert_memory_equal(in_slot, new_art, r->new_bytes);
        assert_int_equal(boot.version, r->new_version);
        which = 1;
    }
    assert_true(u.state.confirmed);
    assert_int_equal(u.state.active, boot.slot);
    if (!r->sc->hash_only) assert_true(ctx.verify_calls >= 1); /* verified, not only hashed */
    return which;
}

/* A second boot changes nothing and runs the same slot. */
static void boot_again_is_stable(rig *r, int which) {
    uint32_t erases = r->flash.erases, programs = r->flash.programs;
    assert_int_equal(boot_and_check(r), which);
    assert_int_equal(r->flash.erases, erases);
    assert_int_equal(r->flash.programs, programs);
}

static void setup_rig(rig *r, const scenario *sc, uint32_t new_bytes) {
    wg_updater u;
    uint32_t v1_bytes = 3000 + new_bytes % 777, v2_bytes = 5000 + new_bytes % 333;
    memset(r, 0, sizeof *r);
    r->sc = sc;
    sim_flash_init(&r->flash, mem, sc->flash_bytes, sc->sector, sc->program, sc->mapped);
    assert_int_equal(wg_update_layout_default(sc->flash_bytes, sc->sector, sc->staging_bytes, &r->layout),
                     WG_UPDATE_OK);
    assert_int_equal(wg_update_init(&u, &r->flash.driver, &r->layout, POWER_CUT_CRYPTO), WG_UPDATE_OK);
    u.state.sequence = sc->start_sequence;
    fake_artifact(1, v1_bytes, old_art);
    r->old_version = 0;
    if (!sc->blank) {
        assert_int_equal(test_install(&u, old_art, v1_bytes, 1, 11, 200, 1), WG_UPDATE_OK);
        r->old_version = 1;
        r->old_bytes = v1_bytes;
    }
    if (sc->old_in_b) {
        fake_artifact(2, v2_bytes, old_art);
        assert_int_equal(test_install(&u, old_art, v2_bytes, 2, 12, 200, 1), WG_UPDATE_OK);
        r->old_version = 2;
        r->old_bytes = v2_bytes;
    }
    assert_int_equal(u.state.active, sc->blank ? WG_NO_SLOT : sc->old_in_b ? 1 : 0);
    r->new_version = r->old_version + 1;
    r->new_bytes = new_bytes;
    fake_artifact(r->new_version, new_bytes, new_art);
    wg_sha256(POWER_CUT_CRYPTO, new_art, new_bytes, r->new_sha256);
    assert_int_equal(r->flash.violations, 0);
    memcpy(base, mem, sc->flash_bytes);
}

static int fits(const scenario *sc, const wg_update_layout *l, uint32_t bytes) {
    uint32_t sectors = (bytes + sc->sector - 1) / sc->sector * sc->sector;
    if (bytes > l->slot_bytes) return 0;
    if (sc->via_staging && !sc->staging_bytes) return 2 * sectors <= l->slot_bytes;
    if (sc->via_staging) return bytes <= l->staging_bytes;
    return 1;
}

static void run_scenario(const scenario *sc) {
    unsigned s;
    for (s = 0; s < sizeof SIZES / sizeof SIZES[0]; s++) {
        rig r;
        uint32_t total, trial_program = 0, k;
        unsigned tear;
        wg_update_layout l;
        assert_int_equal(wg_update_layout_default(sc->flash_bytes, sc->sector, sc->staging_bytes, &l), WG_UPDATE_OK);
        if (!fits(sc, &l, SIZES[s])) continue;
        setup_rig(&r, sc, SIZES[s]);
        /* No cut: count the calls, and the update must land. */
        sim_flash_plan(&r.flash, SIM_NO_CUT, SIM_TEAR_NOTHING);
        run_update(&r, &trial_program);
        total = r.flash.ops;
        assert_int_equal(boot_and_check(&r), sc->self_test_fails ? 0 : 1);
        assert_int_equal(r.flash.violations, 0);
        scenarios_run++;
        cut_positions += total;
        for (k = 0; k < total; k++) {
            for (tear = 0; tear < SIM_TEAR_MODES; tear++) {
                uint32_t j;
                int which;
                memcpy(mem, base, sc->flash_bytes);
                sim_flash_plan(&r.flash, k, (enum sim_tear)tear);
                run_update(&r, NULL);
                assert_true(r.flash.dead);
                sim_flash_plan(&r.flash, SIM_NO_CUT, SIM_TEAR_NOTHING);
                which = boot_and_check(&r);
                if (k < trial_program) assert_int_equal(which, 0);
                if (k > trial_program) assert_int_equal(which, sc->self_test_fails ? 0 : 1);
                boot_again_is_stable(&r, which);
                assert_int_equal(r.flash.violations, 0);
                cut_runs++;
                /* A second cut, during the recovery boot: replay the first cut,
                 * then cut each call the recovery boot makes. */
                for (j = 0; j < 4; j++) {
                    int again;
                    memcpy(mem, base, sc->flash_bytes);
                    sim_flash_plan(&r.flash, k, (enum sim_tear)tear);
                    run_update(&r, NULL);
                    sim_flash_plan(&r.flash, j, SIM_TEAR_HALF);
                    {
                        wg_updater u;
                        wg_update_hooks hooks;
                        test_hooks_ctx ctx;
                        wg_boot_result boot;
                        test_hooks(&hooks, &ctx, &r.flash, &r.layout);
                        if (sc->self_test_fails) ctx.fail_self_test_version = r.new_version;
                        assert_int_equal(wg_update_init(&u, &r.flash.driver, &r.layout, POWER_CUT_CRYPTO),
                                         WG_UPDATE_OK);
                        (void)wg_update_boot(&u, &hooks, &boot);
                    }
                    if (!r.flash.dead) break; /* the recovery boot made fewer calls */
                    sim_flash_plan(&r.flash, SIM_NO_CUT, SIM_TEAR_NOTHING);
                    again = boot_and_check(&r);
                    if (k < trial_program || sc->self_test_fails) assert_int_equal(again, 0);
                    boot_again_is_stable(&r, again);
                    assert_int_equal(r.flash.violations, 0);
                    nested_runs++;
                }
            }
        }
    }
}

static void test_scenario_0(void **state) {
    (void)state;
    run_scenario(&SCENARIOS[0]);
}
static void test_scenario_1(void **state) {
    (void)state;
    run_scenario(&SCENARIOS[1]);
}
static void test_scenario_2(void **state) {
    (void)state;
    run_scenario(&SCENARIOS[2]);
}
static void test_scenario_3(void **state) {
    (void)state;
    run_scenario(&SCENARIOS[3]);
}
static void test_scenario_4(void **state) {
    (void)state;
    run_scenario(&SCENARIOS[4]);
}
static void test_scenario_5(void **state) {
    (void)state;
    run_scenario(&SCENARIOS[5]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_0),
        cmocka_unit_test(test_scenario_1),
        cmocka_unit_test(test_scenario_2),
        cmocka_unit_test(test_scenario_3),
        cmocka_unit_test(test_scenario_4),
        cmocka_unit_test(test_scenario_5),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    printf("power cut: %lu cut positions (every erase and program call) in %lu updates; %lu runs with "
           "%d tear modes, %lu more with a second cut in the recovery boot\n",
           cut_positions, scenarios_run, cut_runs, SIM_TEAR_MODES, nested_runs);
    return failed;
}

/*
 * test_update.c: the update half piece by piece: CRC-32, the record's bytes,
 * sequence order, layout checks, the flash writer, the two copies, boot's
 * decisions (rollback, fallback, damaged records), switch / confirm rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_common.h"

#define SECTOR 4096u
#define SLOT (8u * SECTOR)
#define FLASH (2u * SECTOR + 2u * SLOT)

static uint8_t mem[FLASH + 4u * SECTOR];
static uint8_t art[3][TEST_MAX_ARTIFACT];

typedef struct dev {
    sim_flash flash;
    wg_update_layout layout;
    wg_updater u;
    wg_update_hooks hooks;
    test_hooks_ctx ctx;
    wg_boot_result boot;
} dev;

static void dev_init(dev *d, uint32_t program_bytes, int mapped) {
    memset(d, 0, sizeof *d);
    sim_flash_init(&d->flash, mem, FLASH, SECTOR, program_bytes, mapped);
    assert_int_equal(wg_update_layout_default(FLASH, SECTOR, 0, &d->layout), WG_UPDATE_OK);
    assert_int_equal(wg_update_init(&d->u, &d->flash.driver, &d->layout, &wg_crypto_portable), WG_UPDATE_OK);
    test_hooks(&d->hooks, &d->ctx, &d->flash, &d->layout);
}

/* Power off and on: a fresh updater over the same flash, then boot. */
static wg_update_status dev_reboot(dev *d) {
    assert_int_equal(wg_update_init(&d->u, &d->flash.driver, &d->layout, &wg_crypto_portable), WG_UPDATE_OK);
    return wg_update_boot(&d->u, &d->hooks, &d->boot);
}

static void install(dev *d, unsigned k, uint32_t version, uint32_t bytes, int confirm) {
    fake_artifact(version, bytes, art[k]);
    assert_int_equal(test_install(&d->u, art[k], bytes, version, version, 77, confirm), WG_UPDATE_OK);
}

/* v1 in A, v2 in B, B active and confirmed. */
static void two_versions(dev *d) {
    dev_init(d, 8, 1);
    install(d, 0, 1, 5000, 1);
    install(d, 1, 2, 9000, 1);
    assert_int_equal(d->u.state.active, 1);
}

static void test_crc32(void **state) {
    (void)state;
    assert_int_equal(wg_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u); /* the CRC-32 check value */
    assert_int_equal(wg_crc32(0, NULL, 0), 0);
    assert_int_equal(wg_crc32(wg_crc32(0, (const uint8_t *)"1234", 4), (const uint8_t *)"56789", 5), 0xCBF43926u);
}

static void test_record_round_trip(void **state) {
    wg_state_record r, back;
    uint8_t bytes[WG_STATE_RECORD_BYTES];
    (void)state;
    memset(&r, 0, sizeof r);
    r.sequence = 0x01020304u;
    r.active = 1;
    r.confirmed = 0;
    r.previous = 0;
    r.slots[0].version = 7;
    r.slots[0].bytes = 0x00ABCDEFu;
    memset(r.slots[0].sha256, 0x5A, 32);
    wg_state_encode(&r, bytes);
    assert_memory_equal(bytes, "WGSR\x01\x00\x01\x00\x04\x03\x02\x01\x00\x00\x00\x00\x07\x00\x00\x00\xEF\xCD\xAB\x00", 24);
    assert_true(wg_state_decode(bytes, &back));
    assert_memory_equal(&back, &r, sizeof r);
    bytes[50] ^= 1; /* any bit: the CRC fails */
    assert_false(wg_state_decode(bytes, &back));
    memset(bytes, 0xFF, sizeof bytes); /* an erased sector is no record */
    assert_false(wg_state_decode(bytes, &back));
}

static void test_sequence_order(void **state) {
    (void)state;
    assert_true(wg_sequence_newer(2, 1));
    assert_false(wg_sequence_newer(1, 2));
    assert_false(wg_sequence_newer(5, 5));
    assert_true(wg_sequence_newer(0, 0xFFFFFFFFu)); /* the wrap */
    assert_true(wg_sequence_newer(1, 0xFFFFFFFEu));
    assert_false(wg_sequence_newer(0xFFFFFFFFu, 0));
}

static void test_layout(void **state) {
    wg_update_layout l;
    dev d;
    (void)state;
    /* device-sim's m4-256k profile: 1 MiB, 4 KiB state sectors, slots of (F - 8 KiB) / 2. */
    assert_int_equal(wg_update_layout_default(1024u * 1024u, 4096, 0, &l), WG_UPDATE_OK);
    assert_int_equal(l.slot_bytes, (1024u * 1024u - 8192u) / 2u);
    assert_int_equal(l.slot_offset[0], 8192);
    assert_int_equal(l.staging_bytes, 0);
    assert_int_equal(wg_update_layout_default(256u * 1024u, 4096, 10000, &l), WG_UPDATE_OK);
    assert_int_equal(l.staging_bytes, 3u * 4096u);
    assert_int_equal(l.staging_offset + l.staging_bytes, 2u * 4096u + 2u * l.slot_bytes + 3u * 4096u);
    assert_int_equal(wg_update_layout_default(3u * 4096u, 4096, 0, &l), WG_UPDATE_E_LAYOUT);
    dev_init(&d, 8, 1);
    l = d.layout;
    l.slot_offset[1] = l.slot_offset[0] + SECTOR; /* overlapping slots */
    assert_int_equal(wg_update_init(&d.u, &d.flash.driver, &l, &wg_crypto_portable), WG_UPDATE_E_LAYOUT);
    l = d.layout;
    l.state_offset[1] = 100; /* not on a sector */
    assert_int_equal(wg_update_init(&d.u, &d.flash.driver, &l, &wg_crypto_portable), WG_UPDATE_E_LAYOUT);
    l = d.layout;
    l.staging_offset = l.slot_offset[1];
    l.staging_bytes = SECTOR; /* staging inside slot B */
    assert_int_equal(wg_update_init(&d.u, &d.flash.driver, &l, &wg_crypto_portable), WG_UPDATE_E_LAYOUT);
    d.flash.driver.program_bytes = 64; /* over WG_UPDATE_PROGRAM_MAX */
    assert_int_equal(wg_update_init(&d.u, &d.flash.driver, &d.layout, &wg_crypto_portable), WG_UPDATE_E_ARGUMENT);
}

static void test_blank_device(void **state) {
    dev d;
    (void)state;
    dev_init(&d, 8, 1);
    assert_int_equal(d.u.copy, 2);
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.boot.slot, WG_NO_SLOT);
    assert_int_equal(d.boot.events, WG_BOOT_NO_MODEL);
    assert_int_equal(wg_update_inactive_slot(&d.u), 0);
    assert_int_equal(d.flash.erases + d.flash.programs, 0);
}

static void test_writer_shapes(void **state) {
    static const uint32_t sizes[] = {0, 1, 7, 8, 9, 4095, 4096, 4097, SLOT};
    static const uint32_t units[] = {1, 4, 8, 32};
    unsigned s, p;
    (void)state;
    for (p = 0; p < 4; p++) {
        for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            dev d;
            if (sizes[s] > 0) { /* one byte short: finish refuses */
                wg_flash_writer w;
                dev_init(&d, units[p], p & 1);
                assert_int_equal(wg_update_begin_slot(&d.u, &w, sizes[s]), WG_UPDATE_OK);
                assert_int_equal(wg_flash_write(&w, art[0], sizes[s] - 1), WG_UPDATE_OK);
                assert_int_equal(wg_flash_finish(&w, NULL), WG_UPDATE_E_LENGTH);
            }
            wg_flash_writer w;
            uint8_t sha[32], want[32];
            uint32_t i, seed = s * 31 + p, at = 0;
            dev_init(&d, units[p], p & 1);
            for (i = 0; i < sizes[s]; i++) art[0][i] = (uint8_t)(i * 7 + s);
            assert_int_equal(wg_update_begin_slot(&d.u, &w, sizes[s]), WG_UPDATE_OK);
            while (at < sizes[s]) {
                uint32_t n = 1 + test_rand(&seed) % 300;
                if (n > sizes[s] - at) n = sizes[s] - at;
                assert_int_equal(wg_flash_write(&w, art[0] + at, n), WG_UPDATE_OK);
                at += n;
            }
            assert_int_equal(wg_flash_write(&w, art[0], 1), WG_UPDATE_E_LENGTH); /* one byte too many */
            assert_int_equal(wg_flash_finish(&w, sha), WG_UPDATE_OK);
            wg_sha256(&wg_crypto_portable, art[0], sizes[s], want);
            assert_memory_equal(sha, want, 32);
            assert_memory_equal(mem + d.layout.slot_offset[0], art[0], sizes[s]);
            assert_int_equal(d.flash.violations, 0);
            assert_int_equal(wg_flash_write(&w, art[0], 1), WG_UPDATE_E_ARGUMENT); /* finished */
        }
    }
}

static void test_writer_exact(void **state) {
    static const uint32_t sizes[] = {0, 1, 7, 8, 9, 4095, 4096, 4097, 20000};
    unsigned s;
    (void)state;
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        dev d;
        wg_flash_writer w;
        uint8_t sha[32], want[32];
        uint32_t i;
        dev_init(&d, 8, 0);
        for (i = 0; i < sizes[s]; i++) art[0][i] = (uint8_t)(i * 13 + 1);
        assert_int_equal(wg_update_begin_slot(&d.u, &w, sizes[s]), WG_UPDATE_OK);
        assert_int_equal(wg_flash_write(&w, art[0], sizes[s]), WG_UPDATE_OK);
        assert_int_equal(wg_flash_finish(&w, sha), WG_UPDATE_OK);
        wg_sha256(&wg_crypto_portable, art[0], sizes[s], want);
        assert_memory_equal(sha, want, 32);
        /* Erased as it went: exactly the sectors the bytes cover. */
        assert_int_equal(d.flash.erases, (sizes[s] + SECTOR - 1) / SECTOR);
        /* The unit past the end is padded with 0xFF. */
        if (sizes[s] % 8) assert_int_equal(mem[d.layout.slot_offset[0] + sizes[s]], 0xFF);
        assert_int_equal(d.flash.violations, 0);
    }
}

static void test_writer_limits(void **state) {
    dev d;
    wg_flash_writer w, stage;
    (void)state;
    dev_init(&d, 8, 1);
    assert_int_equal(wg_update_begin_slot(&d.u, &w, SLOT + 1), WG_UPDATE_E_TOO_LARGE);
    /* Staged in the tail of the inactive slot (A): 3 sectors. */
    assert_int_equal(wg_update_begin_staging(&d.u, &stage, 2 * SECTOR + 1), WG_UPDATE_OK);
    assert_int_equal(d.u.staged_offset, d.layout.slot_offset[0] + SLOT - 3 * SECTOR);
    assert_int_equal(wg_update_begin_slot(&d.u, &w, 5 * SECTOR + 1), WG_UPDATE_E_OVERLAP);
    assert_int_equal(wg_update_begin_slot(&d.u, &w, 5 * SECTOR), WG_UPDATE_OK);
    assert_int_equal(wg_update_begin_staging(&d.u, &stage, SLOT + 1), WG_UPDATE_E_TOO_LARGE);
    /* While a trial is pending the inactive slot is the rollback target. */
    install(&d, 0, 1, 1000, 1);
    install(&d, 1, 2, 1000, 0);
    assert_int_equal(wg_update_begin_slot(&d.u, &w, 10), WG_UPDATE_E_STATE);
    assert_int_equal(wg_update_begin_staging(&d.u, &w, 10), WG_UPDATE_E_STATE);
}

static void test_copies_alternate(void **state) {
    dev d;
    wg_state_record r, c0, c1;
    unsigned i;
    (void)state;
    dev_init(&d, 8, 1);
    r = d.u.state;
    for (i = 1; i <= 5; i++) {
        r.slots[0].version = i;
        assert_int_equal(wg_update_write_state(&d.u, &r), WG_UPDATE_OK);
        assert_int_equal(d.u.state.sequence, i);
        assert_int_equal(d.u.copy, i % 2); /* sequence mod 2, as device-sim */
    }
    assert_true(wg_state_decode(mem + d.layout.state_offset[0], &c0));
    assert_true(wg_state_decode(mem + d.layout.state_offset[1], &c1));
    assert_int_equal(c0.sequence, 4);
    assert_int_equal(c1.sequence, 5);
    /* The newer copy torn: the older is in force. */
    mem[d.layout.state_offset[1] + 30] ^= 0x04;
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.u.state.sequence, 4);
    assert_int_equal(d.u.copy, 0);
    /* The next write goes to the torn copy, never over the one in force. */
    assert_int_equal(wg_update_write_state(&d.u, &d.u.state), WG_UPDATE_OK);
    assert_int_equal(d.u.copy, 1);
    assert_int_equal(d.u.state.sequence, 5);
    /* Both damaged: a blank device. */
    mem[d.layout.state_offset[0] + 99] ^= 0x80;
    mem[d.layout.state_offset[1] + 0] ^= 0x01;
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.u.copy, 2);
    assert_int_equal(d.boot.slot, WG_NO_SLOT);
}

static void test_wrong_copy_not_overwritten(void **state) {
    dev d;
    wg_state_record r;
    uint8_t bytes[WG_STATE_RECORD_BYTES];
    (void)state;
    dev_init(&d, 8, 1);
    /* A record with an odd sequence in copy 0 (device-sim never writes one). */
    r = d.u.state;
    r.sequence = 7;
    wg_state_encode(&r, bytes);
    memcpy(mem + d.layout.state_offset[0], bytes, sizeof bytes);
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.u.copy, 0);
    assert_int_equal(wg_update_write_state(&d.u, &r), WG_UPDATE_OK);
    assert_int_equal(d.u.copy, 1); /* not copy 8 mod 2 = 0, which held the record in force */
}

static void test_sequence_wraps_on_flash(void **state) {
    dev d;
    unsigned i;
    (void)state;
    dev_init(&d, 8, 1);
    d.u.state.sequence = 0xFFFFFFFDu;
    for (i = 0; i < 3; i++) {
        install(&d, i % 2, 10 + i, 3000 + i, 1);
        assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
        assert_int_equal(d.boot.version, 10 + i);
    }
    assert_int_equal(d.u.state.sequence, 0xFFFFFFFDu + 6u);
}

static void test_update_and_confirm(void **state) {
    dev d;
    (void)state;
    two_versions(&d);
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.boot.slot, 1);
    assert_int_equal(d.boot.version, 2);
    assert_int_equal(d.boot.events, 0);
    assert_int_equal(d.u.state.previous, WG_NO_SLOT);
    assert_int_equal(d.ctx.self_test_calls, 0);
    assert_int_equal(wg_update_confirm(&d.u), WG_UPDATE_E_STATE); /* nothing on trial */
    assert_int_equal(wg_update_rollback(&d.u), WG_UPDATE_E_STATE);
}

static void test_self_test_fails_rollback(void **state) {
    dev d;
    (void)state;
    two_versions(&d);
    install(&d, 2, 3, 7000, 0); /* into A, on trial */
    assert_int_equal(d.u.state.active, 0);
    assert_int_equal(d.u.state.previous, 1);
    assert_int_equal(wg_update_switch(&d.u, 1, &d.u.state.slots[1]), WG_UPDATE_E_STATE);
    assert_int_equal(wg_update_rollback(&d.u), WG_UPDATE_OK);
    assert_int_equal(d.u.state.active, 1);
    assert_true(d.u.state.confirmed);
    assert_int_equal(d.u.state.slots[0].bytes, 0); /* the failed slot's entry emptied */
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.boot.version, 2);
}

static void test_interrupted_trial(void **state) {
    dev d;
    (void)state;
    /* Passing: boot confirms. */
    two_versions(&d);
    install(&d, 2, 3, 7000, 0);
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.boot.slot, 0);
    assert_int_equal(d.boot.version, 3);
    assert_int_equal(d.boot.events, WG_BOOT_CONFIRMED_TRIAL | WG_BOOT_WROTE_RECORD);
    assert_int_equal(d.ctx.self_test_calls, 1);
    assert_true(d.u.state.confirmed);
    assert_int_equal(d.u.state.previous, WG_NO_SLOT);
    /* Failing: boot rolls back to previous. */
    two_versions(&d);
    install(&d, 2, 3, 7000, 0);
    d.ctx.fail_self_test_version = 3;
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.boot.slot, 1);
    assert_int_equal(d.boot.version, 2);
    assert_int_equal(d.boot.refused, WG_SLOT_SELF_TEST_FAILED);
    assert_int_equal(d.boot.events, WG_BOOT_FELL_BACK | WG_BOOT_WROTE_RECORD);
    assert_int_equal(d.u.state.slots[0].bytes, 0);
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.boot.events, 0); /* settled */
}

static void test_damaged_active_falls_back(void **state) {
    dev d;
    (void)state;
    two_versions(&d);
    mem[d.layout.slot_offset[1] + 4321] ^= 0x01;
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.boot.slot, 0);
    assert_int_equal(d.boot.version, 1);
    assert_int_equal(d.boot.refused, WG_SLOT_HASH_MISMATCH);
    assert_int_equal(d.boot.events, WG_BOOT_FELL_BACK | WG_BOOT_WROTE_RECORD);
    assert_int_equal(d.u.state.active, 0);
    assert_int_equal(d.u.state.slots[1].bytes, 0);
    /* The next update goes into the damaged slot. */
    assert_int_equal(wg_update_inactive_slot(&d.u), 1);
    install(&d, 2, 3, 2000, 1);
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.boot.version, 3);
}

static void test_verify_hook_refuses(void **state) {
    dev d;
    (void)state;
    two_versions(&d);
    /* Same bytes hash right in the record, but the verifier refuses the
     * artifact (for instance a signature by another key): fall back too. */
    memset(mem + d.layout.slot_offset[1], 0, 4); /* breaks "FAKE" */
    wg_sha256(&wg_crypto_portable, mem + d.layout.slot_offset[1], 9000, d.u.state.slots[1].sha256);
    assert_int_equal(wg_update_write_state(&d.u, &d.u.state), WG_UPDATE_OK);
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.boot.refused, WG_SLOT_VERIFY_FAILED);
    assert_int_equal(d.boot.slot, 0);
}

static void test_both_damaged_no_model(void **state) {
    dev d;
    (void)state;
    two_versions(&d);
    mem[d.layout.slot_offset[0] + 10] ^= 0x01;
    mem[d.layout.slot_offset[1] + 10] ^= 0x01;
    assert_int_equal(dev_reboot(&d), WG_UPDATE_OK);
    assert_int_equal(d.boot.slot, WG_NO_SLOT);
    assert_int_equal(d.boot.refused, WG_SLOT_HASH_MISMATCH);
    assert_int_equal(d.boot.fallback, WG_SLOT_HASH_MISMATCH);
    assert_int_equal(d.boot.events, WG_BOOT_NO_MODEL | WG_BOOT_WROTE_RECORD);
    assert_int_equal(d.u.state.active, WG_NO_SLOT);
}

static void test_flash_failure_reported(void **state) {
    dev d;
    (void)state;
    two_versions(&d);
    install(&d, 2, 3, 7000, 0);
    sim_flash_plan(&d.flash, 0, SIM_TEAR_NOTHING); /* the next erase fails */
    assert_int_equal(dev_reboot(&d), WG_UPDATE_E_FLASH);
    assert_int_equal(d.boot.slot, 0); /* still says what to run */
    assert_int_equal(d.boot.version, 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_record_round_trip),
        cmocka_unit_test(test_sequence_order),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_blank_device),
        cmocka_unit_test(test_writer_shapes),
        cmocka_unit_test(test_writer_exact),
        cmocka_unit_test(test_writer_limits),
        cmocka_unit_test(test_copies_alternate),
        cmocka_unit_test(test_wrong_copy_not_overwritten),
        cmocka_unit_test(test_sequence_wraps_on_flash),
        cmocka_unit_test(test_update_and_confirm),
        cmocka_unit_test(test_self_test_fails_rollback),
        cmocka_unit_test(test_interrupted_trial),
        cmocka_unit_test(test_damaged_active_falls_back),
        cmocka_unit_test(test_verify_hook_refuses),
        cmocka_unit_test(test_both_damaged_no_model),
        cmocka_unit_test(test_flash_failure_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * update_cost_board.c: what an update costs the device's CPU, on a
 * Cortex-M under QEMU -icount (run-qemu.sh with ICOUNT=1: the board
 * counter then counts guest instructions).
 *
 * For each case of update_cost_gen.h (bench/firmware/update-cost.ts writes
 * it: the source artifact, the patch, the target's manifest and signature,
 * the publisher's key), on a blank RAM flash with the update half's default
 * layout, the source provisioned into slot A, the whole install as a
 * firmware runs it, phase by phase:
 *
 *   stage    the downloaded patch programmed into the staging area
 *   apply    wg_patch_apply into slot B with the key (wg_patch_flash_sink),
 *            wg_flash_finish (the slot's SHA-256, read back)
 *   check    wg_update_check_slot: the slot's SHA-256 against the entry,
 *            then the verify hook (wg_open)
 *   switch   the trial record
 *   boot     wg_update_boot: the slot on trial checked again, the
 *            self-test (wg_open, one inference), the confirm record
 *
 * and, in the same run, the floor: one SHA-256 over the target artifact
 * and one Ed25519 verification of its manifest (wg_crypto_portable).
 *
 * The verify and self-test hooks open the slot with WG_OPEN_VERIFIED when
 * the device verified exactly these bytes since it started (VERIFIED_CACHE=1,
 * the default; docs/firmware.md, "Verify once"): the apply verified the new
 * manifest's signature and the slot's SHA-256 read back equals
 * info.target_sha256, so an open of the same SHA-256 needs no second
 * signature check (wg_open still checks the structure and every segment's
 * hash). VERIFIED_CACHE=0 verifies the signature at every open, for
 * comparison.
 *
 * Prints, per case:
 *   update-cost: CASE stage I apply I check I switch I boot I total I floor I
 * then "update-cost: ok". Exit status 0, or 1 + the step that failed.
 */
#include <stdint.h>
#include <string.h>

#include "weightgate.h"
#include "weightgate_crypto.h"
#include "weightgate_update.h"
#include "weightgate_patch.h"
#include "wg_board.h"

#include "update_cost_gen.h"

#ifndef VERIFIED_CACHE
#define VERIFIED_CACHE 1
#endif

#define SECTOR_BYTES 4096u
#define PROGRAM_BYTES 8u
#define SLOT_BYTES (4u * SECTOR_BYTES)
#define STAGING_BYTES SECTOR_BYTES
#define FLASH_BYTES (2u * SECTOR_BYTES + 2u * SLOT_BYTES + STAGING_BYTES)

static uint64_t flash_mem[FLASH_BYTES / 8u];

static int ram_erase(void *ctx, uint32_t offset)
{
    (void)ctx;
    if (offset % SECTOR_BYTES != 0 || offset >= FLASH_BYTES) return 1;
    memset((uint8_t *)flash_mem + offset, 0xFF, SECTOR_BYTES);
    return 0;
}

static int ram_program(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len)
{
    (void)ctx;
    if (offset % PROGRAM_BYTES != 0 || len % PROGRAM_BYTES != 0 || offset > FLASH_BYTES || len > FLASH_BYTES - offset) return 1;
    uint8_t *p = (uint8_t *)flash_mem + offset;
    for (uint32_t i = 0; i < len; ++i) p[i] &= data[i]; /* NOR: programming only clears bits */
    return 0;
}

static int ram_read(void *ctx, uint32_t offset, uint8_t *out, uint32_t len)
{
    (void)ctx;
    if (offset > FLASH_BYTES || len > FLASH_BYTES - offset) return 1;
    memcpy(out, (const uint8_t *)flash_mem + offset, len);
    return 0;
}

static const wg_flash flash = {
    NULL, SECTOR_BYTES, PROGRAM_BYTES, (const uint8_t *)flash_mem, ram_erase, ram_program, ram_read,
};

static uint32_t arena[16384u / 4u];
static uint32_t patch_work[8192u / 4u];
static wg_model model;

/* The SHA-256 of the artifact this device verified with the key since it
 * started (all zero: none). */
static uint8_t verified_sha[32];
static int verified_valid;

static int open_slot(const uint8_t *artifact, uint32_t bytes, const uint8_t sha256[32])
{
    int known = VERIFIED_CACHE && verified_valid && sha256 != NULL && memcmp(sha256, verified_sha, 32) == 0;
    return wg_open(&model, artifact, bytes, cost_public_key, &wg_crypto_portable, known ? WG_OPEN_VERIFIED : 0u,
                   (uint8_t *)arena, sizeof arena) == WG_OK
               ? 0
               : 1;
}

static int verify_hook(void *ctx, unsigned slot, const uint8_t *artifact, uint32_t bytes, const uint8_t sha256[32])
{
    (void)ctx;
    (void)slot;
    return artifact != NULL && open_slot(artifact, bytes, sha256) == 0 ? 0 : 1;
}

/* The self-test: the slot opens and one inference on a mid-grey probe
 * (device-sim's) gives a class. */
static const uint8_t *trial_sha;
static int self_test_hook(void *ctx, unsigned slot, const uint8_t *artifact, uint32_t bytes)
{
    static uint8_t probe[4096];
    wg_logit logits[64];
    wg_result result;
    (void)ctx;
    (void)slot;
    if (artifact == NULL || open_slot(artifact, bytes, trial_sha) != 0) return 1;
    if (wg_input_size(&model) > sizeof probe || wg_output_size(&model) > 64u) return 1;
    memset(probe, 127, wg_input_size(&model));
    return wg_invoke(&model, probe, logits, &result) == WG_OK ? 0 : 1;
}

static uint64_t instructions_since(uint64_t t0) { return board_ticks_to_instructions(board_ticks() - t0); }

static void put_phase(const char *name, uint64_t instructions)
{
    board_puts(" ");
    board_puts(name);
    board_puts(" ");
    board_put_u64(instructions);
}

static int fail(const char *what)
{
    board_puts("update-cost: failed: ");
    board_puts(what);
    board_puts("\n");
    return 1;
}

static int run_case(const cost_case *c)
{
    wg_update_layout layout;
    wg_updater u;
    wg_flash_writer w;
    wg_state_record rec;
    wg_update_hooks hooks = { NULL, verify_hook, self_test_hook };
    uint64_t t, stage, apply, check, sw, boot_cost, floor_cost;

    memset(flash_mem, 0xFF, sizeof flash_mem);
    verified_valid = 0;
    if (wg_update_layout_default(FLASH_BYTES, SECTOR_BYTES, STAGING_BYTES, &layout) != WG_UPDATE_OK ||
        wg_update_init(&u, &flash, &layout, &wg_crypto_portable) != WG_UPDATE_OK) {
        return fail("layout");
    }
    /* The source, as installed before: slot A, confirmed. */
    memset(&rec, 0, sizeof rec);
    if (wg_update_begin_slot(&u, &w, c->source_len) != WG_UPDATE_OK || wg_flash_write(&w, c->source, c->source_len) != WG_UPDATE_OK ||
        wg_flash_finish(&w, rec.slots[0].sha256) != WG_UPDATE_OK) {
        return fail("provisioning slot A");
    }
    rec.active = 0;
    rec.confirmed = 1;
    rec.previous = WG_NO_SLOT;
    rec.slots[0].bytes = c->source_len;
    rec.slots[0].version = c->source_version;
    if (wg_update_write_state(&u, &rec) != WG_UPDATE_OK) return fail("the first state record");
    const uint8_t *running = flash.mapped + layout.slot_offset[0];

    board_counter_start();
    /* stage: the download, programmed as it arrives. */
    t = board_ticks();
    wg_flash_writer staged;
    if (wg_update_begin_staging(&u, &staged, c->patch_len) != WG_UPDATE_OK || wg_flash_write(&staged, c->patch, c->patch_len) != WG_UPDATE_OK ||
        wg_flash_finish(&staged, NULL) != WG_UPDATE_OK) {
        return fail("staging");
    }
    stage = instructions_since(t);

    /* apply: into the inactive slot, the new manifest's signature checked. */
    t = board_ticks();
    unsigned slot = wg_update_inactive_slot(&u);
    wg_patch_flash f;
    wg_patch_sink sink = wg_patch_flash_sink(&f, &u);
    wg_patch_info info;
    wg_slot_entry entry;
    memset(&entry, 0, sizeof entry);
    if (wg_patch_apply(running, c->source_len, flash.mapped + u.staged_offset, u.staged_bytes, cost_public_key, &wg_crypto_portable, &sink,
                       (uint8_t *)patch_work, sizeof patch_work, &info) != WG_OK ||
        wg_flash_finish(&f.writer, entry.sha256) != WG_UPDATE_OK) {
        return fail("wg_patch_apply");
    }
    entry.version = info.to_version;
    entry.bytes = info.target_bytes;
    /* The slot reads back as exactly what the applier wrote: a manifest it
     * verified with the key (or the running one's, verified at boot). */
    if (memcmp(info.target_sha256, entry.sha256, 32) != 0) return fail("the slot does not read back as written");
    memcpy(verified_sha, entry.sha256, 32);
    verified_valid = 1;
    apply = instructions_since(t);

    t = board_ticks();
    if (wg_update_check_slot(&u, slot, &entry, &hooks) != WG_SLOT_OK) return fail("wg_update_check_slot");
    check = instructions_since(t);

    t = board_ticks();
    if (wg_update_switch(&u, slot, &entry) != WG_UPDATE_OK) return fail("wg_update_switch");
    sw = instructions_since(t);

    t = board_ticks();
    wg_boot_result boot;
    trial_sha = entry.sha256;
    if (wg_update_boot(&u, &hooks, &boot) != WG_UPDATE_OK || boot.slot != slot || !(boot.events & WG_BOOT_CONFIRMED_TRIAL)) {
        return fail("boot did not confirm the new slot");
    }
    boot_cost = instructions_since(t);

    /* The floor: one SHA-256 over the target, one Ed25519 verification. */
    t = board_ticks();
    uint8_t digest[32];
    wg_sha256(&wg_crypto_portable, flash.mapped + layout.slot_offset[slot], info.target_bytes, digest);
    if (wg_crypto_portable.ed25519_verify(c->signature, c->manifest, c->manifest_len, cost_public_key) != 0) {
        return fail("the target's signature");
    }
    floor_cost = instructions_since(t);
    if (memcmp(digest, entry.sha256, 32) != 0) return fail("the target's SHA-256");

    board_puts("update-cost: ");
    board_puts(c->name);
    put_phase("stage", stage);
    put_phase("apply", apply);
    put_phase("check", check);
    put_phase("switch", sw);
    put_phase("boot", boot_cost);
    put_phase("total", stage + apply + check + sw + boot_cost);
    put_phase("floor", floor_cost);
    board_puts("\n");
    return 0;
}

int main(void)
{
    for (unsigned i = 0; i < COST_CASES; ++i) {
        if (run_case(&cost_cases[i]) != 0) return 1 + (int)i;
    }
    board_puts("update-cost: ok\n");
    return 0;
}

/*
 * update: the classify model's license upgrade, over the air, on the
 * update half (weightgate_update.h) and the streaming patch applier
 * (weightgate_patch.h).
 *
 *   1. the flash: a RAM region with a wg_flash driver over it (QEMU's MPS2
 *      flash is RAM too); blank at power-on (all 0xFF), so the first boot
 *      provisions it: the `basic` artifact into slot A and a state record
 *      naming it, as a factory would;
 *   2. boot (wg_update_boot with wg_open as the verify hook), open slot A,
 *      print version, tier and the accuracy on the samples;
 *   3. the update: stage the license-upgrade patch (basic -> full, made at
 *      build time by formats' diffArtifacts), wg_patch_apply it into slot B
 *      through wg_patch_flash_sink, check the slot (SHA-256 + wg_open:
 *      with WG_OPEN_VERIFIED, as the slot reads back as exactly what the
 *      applier wrote and verified), switch (a trial record);
 *   4. reboot: with UPDATE_RESET a system reset (SYSRESETREQ), and the
 *      next run boots from the state record the flash kept (the slots are
 *      then the nRF51's flash, or spare RAM outside the image, which a
 *      reset keeps: UPDATE_FLASH_AT); without it the boot path again,
 *      in-process (the region is .bss, which startup clears). Boot runs
 *      the self-test on the slot on trial and confirms it;
 *   5. print the new tier and accuracy, the patch size, the working memory
 *      the apply took, and the flash operations against a full download.
 *
 * Exit status: 0 when both accuracies equal device-sim's and boot confirmed
 * the new slot; otherwise one of the EXIT_* below.
 *
 * Generated at build time (CMakeLists.txt): update_gen.h (gen-update.ts)
 * and classify's samples header (the same digits).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "weightgate.h"
#include "weightgate_update.h"
#include "weightgate_patch.h"
#include "wg_board.h"

#include "update_gen.h"
#include "classify_samples.h"
#include "../common/score.h"

enum {
    EXIT_OK = 0,
    EXIT_FLASH = 1,       /* the update half refused the layout or the flash */
    EXIT_PROVISION = 2,   /* writing slot A or the first record failed */
    EXIT_BOOT = 3,        /* boot found no model, or not the slot expected */
    EXIT_OPEN = 4,        /* wg_open refused the running slot */
    EXIT_ACCURACY = 5,    /* an accuracy differs from device-sim's */
    EXIT_PATCH = 6,       /* staging or wg_patch_apply failed */
    EXIT_CHECK = 7,       /* the new slot failed wg_update_check_slot */
    EXIT_SWITCH = 8,      /* wg_update_switch failed */
    EXIT_CONFIRM = 9      /* boot after the switch did not confirm slot B */
};

#ifdef WG_ARITH_INT
#define PATH_NAME "int"
#define EXPECT_BASIC UPDATE_EXPECT_BASIC_INT
#define EXPECT_FULL UPDATE_EXPECT_FULL_INT
#else
#define PATH_NAME "f32"
#define EXPECT_BASIC UPDATE_EXPECT_BASIC_F32
#define EXPECT_FULL UPDATE_EXPECT_FULL_F32
#endif

#if UPDATE_SAMPLES != CLASSIFY_SAMPLES
#error "update_gen.h and classify_samples.h count different samples"
#endif

#ifdef UPDATE_NRF51_FLASH
/* ---- The nRF51's own flash, through its NVMC: 1 KiB pages, word programs.
 * The last 16 KiB of the 256 KiB (the linker script keeps the image below:
 * checked at start): state 0 | state 1 | slot A (6 KiB) | slot B (6 KiB) |
 * staging (1 KiB). */
#define SECTOR_BYTES 1024u
#define PROGRAM_BYTES 4u
#define SLOT_BYTES (6u * SECTOR_BYTES)
#define STAGING_BYTES SECTOR_BYTES
#define FLASH_BYTES (2u * SECTOR_BYTES + 2u * SLOT_BYTES + STAGING_BYTES)
#define FLASH_BASE 0x3C000u
#define NVMC_READY (*(volatile uint32_t *)0x4001E400u)
#define NVMC_CONFIG (*(volatile uint32_t *)0x4001E504u)
#define NVMC_ERASEPAGE (*(volatile uint32_t *)0x4001E508u)
#define FLASH_AT(offset) ((volatile uint32_t *)(uintptr_t)(FLASH_BASE + (offset)))
extern const uint8_t __flash_used[];
#else
/* ---- The simulated flash: a RAM region, 4 KiB sectors, 8-byte programs --
 * state 0 | state 1 | slot A (8 KiB) | slot B (8 KiB) | staging (4 KiB) */
#define SECTOR_BYTES 4096u
#define PROGRAM_BYTES 8u
#define SLOT_BYTES (2u * SECTOR_BYTES)
#define STAGING_BYTES SECTOR_BYTES
#define FLASH_BYTES (2u * SECTOR_BYTES + 2u * SLOT_BYTES + STAGING_BYTES)

#ifdef UPDATE_FLASH_AT
/* RAM outside the firmware's image and sections (the board's spare RAM,
 * UPDATE_FLASH_AT): nothing reloads or clears it on a system reset, so it
 * keeps what the run before the reset wrote, as flash would. QEMU starts
 * it all zero: no valid state record. */
#define flash_mem ((uint8_t *)(uintptr_t)(UPDATE_FLASH_AT))
#define FLASH_BASE ((uintptr_t)(UPDATE_FLASH_AT))
#else
static uint64_t flash_mem[FLASH_BYTES / 8u];
#define FLASH_BASE ((uintptr_t)flash_mem)
#endif
#endif

typedef struct flash_counts {
    uint32_t erases, programs, programmed;
} flash_counts;
static flash_counts counts;

static int sim_erase(void *ctx, uint32_t offset)
{
    (void)ctx;
    if (offset % SECTOR_BYTES != 0 || offset >= FLASH_BYTES) {
        return 1;
    }
#ifdef UPDATE_NRF51_FLASH
    NVMC_CONFIG = 2u; /* erase enabled */
    while (NVMC_READY == 0u) {
    }
    NVMC_ERASEPAGE = FLASH_BASE + offset;
    while (NVMC_READY == 0u) {
    }
    NVMC_CONFIG = 0u;
#else
    memset((uint8_t *)flash_mem + offset, 0xFF, SECTOR_BYTES);
#endif
    counts.erases++;
    return 0;
}

static int sim_program(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len)
{
    (void)ctx;
    if (offset % PROGRAM_BYTES != 0 || len % PROGRAM_BYTES != 0 || offset > FLASH_BYTES || len > FLASH_BYTES - offset ||
        offset / SECTOR_BYTES != (offset + len - 1u) / SECTOR_BYTES) {
        return 1;
    }
#ifdef UPDATE_NRF51_FLASH
    NVMC_CONFIG = 1u; /* write enabled */
    for (uint32_t i = 0; i < len; i += 4u) {
        uint32_t word;
        memcpy(&word, data + i, 4u);
        *FLASH_AT(offset + i) = word;
        while (NVMC_READY == 0u) {
        }
    }
    NVMC_CONFIG = 0u;
#else
    uint8_t *p = (uint8_t *)flash_mem + offset;
    for (uint32_t i = 0; i < len; ++i) {
        p[i] &= data[i]; /* NOR: programming only clears bits */
    }
#endif
    counts.programs++;
    counts.programmed += len;
    return 0;
}

static int sim_read(void *ctx, uint32_t offset, uint8_t *out, uint32_t len)
{
    (void)ctx;
    if (offset > FLASH_BYTES || len > FLASH_BYTES - offset) {
        return 1;
    }
    memcpy(out, (const uint8_t *)FLASH_BASE + offset, len);
    return 0;
}

static const wg_flash flash = {
    NULL, SECTOR_BYTES, PROGRAM_BYTES, (const uint8_t *)FLASH_BASE, sim_erase, sim_program, sim_read,
};

/* ---- The model ------------------------------------------------------------ */
static uint32_t arena[(UPDATE_ARENA_CODED + 3u) / 4u];
static wg_model model;

/* Working memory of wg_patch_apply (wg_patch_plan says how much). */
#ifndef PATCH_WORK_BYTES
#define PATCH_WORK_BYTES 1024u
#endif
static uint32_t patch_work[PATCH_WORK_BYTES / 4u];

static void put_str(wg_str s) { board_putn(s.ptr, s.len); }

static void put_status(const char *what, const char *status)
{
    board_puts(what);
    board_puts(": ");
    board_puts(status);
    board_puts("\n");
}

static void put_u32_line(const char *before, uint32_t v, const char *after)
{
    board_puts(before);
    board_put_u32(v);
    board_puts(after);
}

/* The SHA-256 of the artifact this run verified with the key (RAM: a reset
 * forgets it, as it must): the slot wg_patch_apply wrote, read back
 * unchanged. Opening it again skips only the signature (WG_OPEN_VERIFIED,
 * docs/firmware.md "Verify once"). */
static uint8_t verified_sha[32];
static int verified_valid;
static const uint8_t *opening_sha; /* the SHA-256 of the slot being opened, or NULL */

static wg_status open_model(const uint8_t *artifact, uint32_t bytes)
{
    wg_plan_info plan;
    unsigned flags = verified_valid && opening_sha != NULL && memcmp(opening_sha, verified_sha, 32) == 0 ? WG_OPEN_VERIFIED : 0u;
    wg_status st = wg_plan_image(artifact, bytes, &plan);
    if (st != WG_OK) {
        return st;
    }
    if (plan.arena_coded > sizeof arena) {
        return WG_E_ARENA_TOO_SMALL;
    }
    return wg_open(&model, artifact, bytes, update_public_key, &wg_crypto_portable, flags, (uint8_t *)arena,
                   plan.arena_coded);
}

/* The verify hook: the slot opens with the publisher's key. */
static int verify_hook(void *ctx, unsigned slot, const uint8_t *artifact, uint32_t bytes, const uint8_t sha256[32])
{
    int ok;
    (void)ctx;
    (void)slot;
    opening_sha = sha256;
    ok = artifact != NULL && open_model(artifact, bytes) == WG_OK;
    opening_sha = NULL;
    return ok ? 0 : 1;
}

static uint32_t count_correct(int *failed)
{
    wg_status status = WG_OK;
    int32_t correct = score_samples(&model, &status);
    *failed = correct < 0;
    return correct < 0 ? 0u : (uint32_t)correct;
}

/* The self-test boot runs on a slot on trial: it opens, and its accuracy
 * on the samples is what device-sim gets for the full tier. */
static uint32_t self_test_correct;
static int self_test_hook(void *ctx, unsigned slot, const uint8_t *artifact, uint32_t bytes)
{
    int failed;
    board_puts("self-test of slot ");
    board_putc((char)('A' + slot));
    board_puts("\n");
    /* the slot on trial: its SHA-256 is the record's, which boot checked just before */
    opening_sha = ((const wg_updater *)ctx)->state.slots[slot].sha256;
    if (artifact == NULL || open_model(artifact, bytes) != WG_OK) {
        opening_sha = NULL;
        return 1;
    }
    opening_sha = NULL;
    self_test_correct = count_correct(&failed);
    return failed || self_test_correct != EXPECT_FULL;
}

/* Prints "model M vV, tier T" of the open model. */
static void put_model(void)
{
    board_puts("model ");
    put_str(wg_model_name(&model));
    board_puts(" v");
    board_put_u32(wg_model_version(&model));
    int32_t tier = wg_held_tier(&model);
    if (tier >= 0) {
        board_puts(", tier ");
        put_str(wg_tier_name(&model, (uint32_t)tier));
    } else {
        board_puts(", a license that is no tier");
    }
    board_puts("\n");
}


static void put_counts(const char *what, const flash_counts *c)
{
    board_puts("  ");
    board_puts(what);
    board_puts(": ");
    board_put_u32(c->erases);
    board_puts(" erases, ");
    board_put_u32(c->programs);
    board_puts(" programs (");
    board_put_u32(c->programmed);
    board_puts(" B)\n");
}

static flash_counts counts_since(const flash_counts *start)
{
    flash_counts d;
    d.erases = counts.erases - start->erases;
    d.programs = counts.programs - start->programs;
    d.programmed = counts.programmed - start->programmed;
    return d;
}

/* The first boot of a blank device: slot A gets the basic artifact, and a
 * confirmed record names it. */
static int provision(wg_updater *u)
{
    wg_flash_writer w;
    wg_state_record rec;
    memset(&rec, 0, sizeof rec);
    if (wg_update_begin_slot(u, &w, sizeof update_basic) != WG_UPDATE_OK ||
        wg_flash_write(&w, update_basic, sizeof update_basic) != WG_UPDATE_OK ||
        wg_flash_finish(&w, rec.slots[0].sha256) != WG_UPDATE_OK) {
        return EXIT_PROVISION;
    }
    rec.active = 0;
    rec.confirmed = 1;
    rec.previous = WG_NO_SLOT;
    rec.slots[0].bytes = sizeof update_basic;
    /* the manifest's version: open it to read it */
    if (open_model(flash.mapped + u->layout.slot_offset[0], sizeof update_basic) != WG_OK) {
        return EXIT_PROVISION;
    }
    rec.slots[0].version = wg_model_version(&model);
    if (wg_update_write_state(u, &rec) != WG_UPDATE_OK) {
        return EXIT_PROVISION;
    }
    board_puts("blank flash: slot A provisioned with the basic artifact, state record written\n");
    return EXIT_OK;
}

/* 4.-5. Boot after the switch (a reset, or in-process): boot must run the
 * self-test on slot B and confirm it; then the new tier and accuracy. */
static int boot_new_slot(wg_updater *u, const wg_update_layout *layout, const wg_update_hooks *hooks, wg_boot_result *boot)
{
    if (wg_update_init(u, &flash, layout, &wg_crypto_portable) != WG_UPDATE_OK) {
        return EXIT_FLASH;
    }
    if (wg_update_boot(u, hooks, boot) != WG_UPDATE_OK) {
        board_puts("boot failed\n");
        return EXIT_BOOT;
    }
    if (boot->slot != 1u || !(boot->events & WG_BOOT_CONFIRMED_TRIAL) || !u->state.confirmed) {
        put_u32_line("boot did not confirm slot B: events ", boot->events, "\n");
        return EXIT_CONFIRM;
    }
    board_puts("boot: slot B passed its self-test, confirmed\n");
    if (open_model(flash.mapped + layout->slot_offset[boot->slot], boot->bytes) != WG_OK) {
        return EXIT_OPEN;
    }
    board_puts("running: slot B, ");
    put_model();
    put_accuracy(self_test_correct, EXPECT_FULL);
    if (self_test_correct != EXPECT_FULL) {
        return EXIT_ACCURACY;
    }
    return EXIT_OK;
}

static void put_ram(void)
{
    put_u32_line("RAM: ", (uint32_t)(sizeof arena + sizeof model + sizeof patch_work), " B static (arena, model, patch work), ");
    put_u32_line("stack ", board_stack_used(), " B at the deepest\n");
}

int main(void)
{
    board_stack_paint();
    board_puts("weightgate update on ");
    board_puts(board_name());
    board_puts(", " PATH_NAME " path\n");

#ifdef UPDATE_NRF51_FLASH
    /* 1. Power-on: the region past the firmware image (QEMU starts it all
     * zero: no valid state record either way), or after a reset what the
     * run before it wrote. */
    if ((uintptr_t)__flash_used > FLASH_BASE) {
        board_puts("the firmware reaches the update region\n");
        return EXIT_FLASH;
    }
#elif !defined(UPDATE_FLASH_AT)
    /* 1. Power-on: the flash is blank (erased). */
    memset(flash_mem, 0xFF, sizeof flash_mem);
#endif
    wg_update_layout layout;
    wg_updater u;
    if (wg_update_layout_default(FLASH_BYTES, SECTOR_BYTES, STAGING_BYTES, &layout) != WG_UPDATE_OK ||
        wg_update_init(&u, &flash, &layout, &wg_crypto_portable) != WG_UPDATE_OK) {
        board_puts("flash layout refused\n");
        return EXIT_FLASH;
    }
    if (u.state.active == WG_NO_SLOT) {
        int status = provision(&u);
        if (status != EXIT_OK) {
            board_puts("provisioning failed\n");
            return status;
        }
    }

    /* 2. Boot from the state record. */
    wg_update_hooks hooks = { &u, verify_hook, self_test_hook };
    wg_boot_result boot;
#ifdef UPDATE_RESET
    if (u.state.active == 1u && !u.state.confirmed) {
        /* After the reset: slot B on trial. */
        board_puts("after the reset: slot B on trial in the state record\n");
        flash_counts start = counts;
        int status = boot_new_slot(&u, &layout, &hooks, &boot);
        if (status != EXIT_OK) {
            return status;
        }
        flash_counts confirm = counts_since(&start);
        put_counts("confirm record", &confirm);
        put_ram();
        board_puts("ok\n");
        return EXIT_OK;
    }
#endif
    if (wg_update_boot(&u, &hooks, &boot) != WG_UPDATE_OK || boot.slot != 0) {
        board_puts("boot: not slot A\n");
        return EXIT_BOOT;
    }
    const uint8_t *running = flash.mapped + layout.slot_offset[boot.slot];
    if (open_model(running, boot.bytes) != WG_OK) {
        return EXIT_OPEN;
    }
    board_puts("boot: slot A, ");
    put_model();
    int failed;
    uint32_t correct = count_correct(&failed);
    put_accuracy(correct, EXPECT_BASIC);
    if (failed || correct != EXPECT_BASIC) {
        return EXIT_ACCURACY;
    }

    /* 3. The update: stage the patch, apply it into the inactive slot. */
    flash_counts start = counts;
    put_u32_line("patch: ", sizeof update_patch, " B (basic -> full), staged; ");
    wg_flash_writer staged;
    if (wg_update_begin_staging(&u, &staged, sizeof update_patch) != WG_UPDATE_OK ||
        wg_flash_write(&staged, update_patch, sizeof update_patch) != WG_UPDATE_OK ||
        wg_flash_finish(&staged, NULL) != WG_UPDATE_OK) {
        board_puts("staging failed\n");
        return EXIT_PATCH;
    }
    flash_counts staging = counts_since(&start);
    const uint8_t *patch = flash.mapped + u.staged_offset;

    wg_patch_info plan;
    wg_status st = wg_patch_plan(running, boot.bytes, patch, u.staged_bytes, &wg_crypto_portable,
                                 (uint8_t *)patch_work, sizeof patch_work, &plan);
    if (st != WG_OK) {
        put_status("wg_patch_plan", wg_status_str(st));
        return EXIT_PATCH;
    }
    put_u32_line("plan: target ", plan.target_bytes, " B, ");
    put_u32_line("work ", plan.work_bytes, " B\n");

    unsigned slot = wg_update_inactive_slot(&u);
    flash_counts before_slot = counts;
    wg_patch_flash f;
    wg_patch_sink sink = wg_patch_flash_sink(&f, &u);
    wg_patch_info info;
    st = wg_patch_apply(running, boot.bytes, patch, u.staged_bytes, update_public_key, &wg_crypto_portable, &sink,
                        (uint8_t *)patch_work, sizeof patch_work, &info);
    if (st != WG_OK) {
        put_status("wg_patch_apply", wg_status_str(st));
        return EXIT_PATCH;
    }
    wg_slot_entry entry;
    memset(&entry, 0, sizeof entry);
    if (wg_flash_finish(&f.writer, entry.sha256) != WG_UPDATE_OK) {
        board_puts("wg_flash_finish failed\n");
        return EXIT_PATCH;
    }
    entry.version = info.to_version;
    entry.bytes = info.target_bytes;
    /* The slot reads back as exactly what the applier wrote and verified. */
    if (memcmp(info.target_sha256, entry.sha256, 32) == 0) {
        memcpy(verified_sha, entry.sha256, 32);
        verified_valid = 1;
    }
    flash_counts slot_write = counts_since(&before_slot);
    board_puts("applied into slot ");
    board_putc((char)('A' + slot));
    put_u32_line(": ", info.target_bytes, " B, ");
    put_u32_line("working memory ", info.work_bytes, " B (peak)\n");

    wg_slot_check check = wg_update_check_slot(&u, slot, &entry, &hooks);
    if (check != WG_SLOT_OK) {
        put_u32_line("check of the new slot failed: ", (uint32_t)check, "\n");
        return EXIT_CHECK;
    }
    flash_counts before_switch = counts;
    if (wg_update_switch(&u, slot, &entry) != WG_UPDATE_OK) {
        board_puts("switch failed\n");
        return EXIT_SWITCH;
    }
    board_puts("checked (SHA-256, wg_open), switched: slot B on trial\n");

#ifdef UPDATE_RESET
    /* 4. A system reset: this run ends here, the next starts at main with
     * slot B on trial in the record. The figures so far first. */
    {
        flash_counts sw = counts_since(&before_switch);
        board_puts("flash operations before the reset:\n");
        put_counts("staging the patch", &staging);
        put_counts("writing slot B", &slot_write);
        put_counts("switch record", &sw);
        flash_counts whole;
        whole.erases = (info.target_bytes + SECTOR_BYTES - 1u) / SECTOR_BYTES;
        whole.programmed = (info.target_bytes + PROGRAM_BYTES - 1u) / PROGRAM_BYTES * PROGRAM_BYTES;
        whole.programs = slot_write.programs;
        put_counts("a full download writes slot B with", &whole);
        put_u32_line("downloaded: ", sizeof update_patch, " B patch");
        put_u32_line(" against ", info.target_bytes, " B artifact\n");
        put_ram();
        board_puts("system reset (SYSRESETREQ)\n");
        *(volatile uint32_t *)0xE000ED0Cu = 0x05FA0004u; /* AIRCR: VECTKEY | SYSRESETREQ */
        for (;;) {
        }
    }
#endif
    /* 4. "Reboot": everything again from the flash (in-process). */
    board_puts("reboot (boot path re-run in-process)\n");
    memset(&u, 0, sizeof u);
    memset(&model, 0, sizeof model);
    verified_valid = 0; /* RAM a real reset would lose */
    int status = boot_new_slot(&u, &layout, &hooks, &boot);
    if (status != EXIT_OK) {
        return status;
    }
    flash_counts records = counts_since(&before_switch);

    board_puts("flash operations of the update:\n");
    put_counts("staging the patch", &staging);
    put_counts("writing slot B", &slot_write);
    put_counts("switch + confirm records", &records);
    flash_counts total = counts_since(&start);
    put_counts("total", &total);
    flash_counts whole;
    whole.erases = (info.target_bytes + SECTOR_BYTES - 1u) / SECTOR_BYTES + records.erases;
    whole.programmed = (info.target_bytes + PROGRAM_BYTES - 1u) / PROGRAM_BYTES * PROGRAM_BYTES + records.programmed;
    whole.programs = slot_write.programs + records.programs;
    put_counts("a full download instead", &whole);
    put_u32_line("downloaded: ", sizeof update_patch, " B patch");
    put_u32_line(" against ", info.target_bytes, " B artifact\n");
    put_ram();
    board_puts("ok\n");
    return EXIT_OK;
}

/*
 * weightgate_update.h: the update half of weightgate on a microcontroller:
 * two flash slots (A and B), the state record that says which one runs,
 * boot, and trial / confirm / roll back, such that a power cut at any flash
 * operation leaves the device running a complete verified artifact, the old
 * one or the new one, never a mix and never nothing.
 * C99, freestanding: no malloc, no printf, no recursion; from libc only
 * memcpy, memset and memcmp. Byte layout: docs/format.md section 10, the
 * same as device-sim/state-record.ts.
 *
 * Flash, as this library sees it (offsets in the wg_flash driver's space,
 * every region a whole number of erase sectors; docs/format.md 10.6):
 *
 *   ┌─────────┬─────────┬──────────────┬──────────────┬───────────────┐
 *   │ state 0 │ state 1 │ slot A       │ slot B       │ staging       │
 *   │ 1 sector│ 1 sector│ slot_bytes   │ slot_bytes   │ (optional)    │
 *   └─────────┴─────────┴──────────────┴──────────────┴───────────────┘
 *
 * A downloaded patch is staged in the staging region, or, when the layout
 * has none, in the last sectors of the inactive slot (the target artifact
 * is then written into the sectors before it: wg_update_begin_slot refuses
 * an overlap).
 *
 * The life of an update (the updater, a wg_updater the caller declares):
 *
 *   wg_update_init(&u, &flash, &layout, crypto)  reads the state record
 *   wg_update_boot(&u, &hooks, &boot)            picks the slot to run: ends
 *                                                an interrupted trial, falls
 *                                                back from a damaged slot
 *   wg_update_begin_staging(&u, &w, n)           (a patch) a writer over the
 *     wg_flash_write(&w, ...) ... wg_flash_finish   staging area
 *   wg_update_begin_slot(&u, &w, n)              a writer over the inactive
 *     wg_flash_write(&w, ...) ... wg_flash_finish   slot: the patch applier
 *                                                (or a full download) feeds it
 *   wg_update_check_slot(&u, slot, &entry, &hooks)   SHA-256 + verify hook
 *   wg_update_switch(&u, slot, &entry)           trial record
 *   ... the caller runs its self-test on the new slot ...
 *   wg_update_confirm(&u)  or  wg_update_rollback(&u)
 *
 * A patch applier reads the running artifact at
 * layout.slot_offset[u.state.active] (u.state.slots[..].bytes long) and the
 * staged patch at u.staged_offset (u.staged_bytes long), through
 * flash->mapped or flash->read, and feeds the target to wg_flash_write in
 * order. A download cut by a power loss starts again (no resume yet).
 *
 * Memory: everything lives in caller-declared structs (on a 32-bit MCU
 * wg_updater is 136 bytes, wg_flash_writer 24 + WG_UPDATE_PROGRAM_MAX).
 * Stack: at most ~0.7 KiB on Cortex-M0+ (boot falling back and writing a
 * record: two records, a padded record, its read-back), plus the SHA-256
 * implementation's own while hashing a slot. Every loop is bounded by a
 * region size or a byte count given by the caller and checked against the
 * layout. No function keeps a pointer to caller memory past its return,
 * except wg_updater (flash, crypto) and wg_flash_writer (the updater).
 */
#ifndef WEIGHTGATE_UPDATE_H
#define WEIGHTGATE_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "weightgate_crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest program granularity the library supports (bytes, a power of
 * two): the flash writer buffers one such unit. 32 covers STM32H7's flash
 * word; override with -DWG_UPDATE_PROGRAM_MAX=... */
#ifndef WG_UPDATE_PROGRAM_MAX
#define WG_UPDATE_PROGRAM_MAX 32
#endif

#define WG_STATE_RECORD_BYTES 100 /* docs/format.md 10.2 */
#define WG_NO_SLOT 0xFFu          /* "no slot" in active / previous */

typedef enum wg_update_status {
    WG_UPDATE_OK = 0,
    WG_UPDATE_E_ARGUMENT, /* NULL pointer, slot out of range, writer misuse */
    WG_UPDATE_E_LAYOUT,   /* regions misaligned, overlapping or outside */
    WG_UPDATE_E_FLASH,    /* a driver call failed, or a read-back differs */
    WG_UPDATE_E_TOO_LARGE,/* bytes do not fit the slot or staging area */
    WG_UPDATE_E_OVERLAP,  /* the target would overwrite the staged download */
    WG_UPDATE_E_STATE,    /* wrong state: switch to the active slot, confirm
                             or roll back when not on trial */
    WG_UPDATE_E_LENGTH,   /* more or fewer bytes written than announced */
    WG_UPDATE_E_SLOT      /* the slot failed wg_update_check_slot */
} wg_update_status;

/* ---- Flash driver (the firmware provides it) ------------------------------
 * Offsets are in the driver's own space (typically 0 = the first byte of
 * the flash given to weightgate). Sectors are uniform: a part with mixed
 * sector sizes presents the largest as its unit, or gives weightgate a
 * uniform area. NOR semantics are assumed: erase sets a sector to 0xFF,
 * program only clears bits, and a cut power leaves the operation in flight
 * partly done (that is all this library relies on).
 * Each function returns 0 on success, non-zero on failure. */
typedef struct wg_flash {
    void *ctx;
    uint32_t sector_bytes;  /* erase unit: a power of two */
    uint32_t program_bytes; /* program granularity: a power of two,
                               <= WG_UPDATE_PROGRAM_MAX, <= sector_bytes */
    const uint8_t *mapped;  /* the flash as memory (offset 0), or NULL:
                               then reads go through read() */
    /* Erase the sector at `offset` (a multiple of sector_bytes). */
    int (*erase)(void *ctx, uint32_t offset);
    /* Program `len` bytes at `offset`; both multiples of program_bytes,
     * never crossing a sector; `data` may be unaligned. */
    int (*program)(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len);
    /* Read `len` bytes at `offset` (any alignment) into `out`. */
    int (*read)(void *ctx, uint32_t offset, uint8_t *out, uint32_t len);
} wg_flash;

/* ---- Layout ---------------------------------------------------------------- */
typedef struct wg_update_layout {
    uint32_t state_offset[2]; /* one sector each: state copies 0 and 1 */
    uint32_t slot_offset[2];  /* slots A and B */
    uint32_t slot_bytes;      /* each slot's size, a multiple of sector_bytes */
    uint32_t staging_offset;  /* staging region, or 0 with staging_bytes 0: */
    uint32_t staging_bytes;   /* stage in the inactive slot's tail */
} wg_update_layout;

/* The default layout of `flash_bytes` (docs/format.md 10.6): state 0,
 * state 1, slot A, slot B (equal, as large as fits), then `staging_bytes`
 * (rounded up to sectors; 0 = stage in the inactive slot's tail). With
 * 4 KiB sectors and no staging it is device-sim's layout. No memory. */
wg_update_status wg_update_layout_default(uint32_t flash_bytes, uint32_t sector_bytes,
                                          uint32_t staging_bytes, wg_update_layout *layout);

/* ---- State record (docs/format.md 10.2) ----------------------------------- */
typedef struct wg_slot_entry {
    uint32_t version;
    uint32_t bytes;     /* artifact bytes from the slot's first byte */
    uint8_t sha256[32]; /* all zero: the slot holds nothing */
} wg_slot_entry;

typedef struct wg_state_record {
    uint32_t sequence;
    uint8_t active;    /* 0 = A, 1 = B, WG_NO_SLOT */
    uint8_t confirmed; /* 1 confirmed, 0 on trial */
    uint8_t previous;  /* where a failed trial goes back to, or WG_NO_SLOT */
    wg_slot_entry slots[2];
} wg_state_record;

/* CRC-32 (IEEE 802.3, zlib's crc32) of data[0..len), continuing from `crc`
 * (0 to start). Bitwise, no table. */
uint32_t wg_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* Encodes `record` into 100 bytes (confirmed written as 1 or 0). */
void wg_state_encode(const wg_state_record *record, uint8_t out[WG_STATE_RECORD_BYTES]);

/* 1 and fills `record` when the 100 bytes are a valid copy (magic, layout
 * version, CRC, active and previous each 0, 1 or 0xFF); 0 otherwise. */
int wg_state_decode(const uint8_t in[WG_STATE_RECORD_BYTES], wg_state_record *record);

/* 1 when sequence `a` is newer than `b`: (a - b) mod 2^32 in [1, 2^31).
 * Equal to a > b for all copies device-sim writes (they differ by 1), and
 * still right when the sequence wraps at 2^32. */
int wg_sequence_newer(uint32_t a, uint32_t b);

/* ---- The updater ------------------------------------------------------------ */
typedef struct wg_updater {
    /* read-only for the caller */
    const wg_flash *flash;
    const wg_crypto *crypto;
    wg_update_layout layout;
    wg_state_record state; /* the record in force (an empty one on a blank device) */
    uint8_t copy;          /* the copy holding it (0, 1; 2 = none valid) */
    uint32_t staged_offset, staged_bytes; /* staging area in use */
} wg_updater;

/* Checks the flash geometry and the layout, then reads both state copies
 * and keeps the newer valid one (none: an empty record, sequence 0, no
 * active slot). `flash` and `crypto` must outlive `u`. Reads 200 bytes. */
wg_update_status wg_update_init(wg_updater *u, const wg_flash *flash, const wg_update_layout *layout,
                                const wg_crypto *crypto);

/* The slot an update writes: not the active one (A when none is). */
unsigned wg_update_inactive_slot(const wg_updater *u);

/* Writes `next` as the new record: sequence = the one in force + 1, into the
 * copy that does not hold the record in force (so a torn write leaves that
 * one in force); erases that copy's sector, programs the record padded with
 * 0xFF to program_bytes, reads it back. On success u->state = next. */
wg_update_status wg_update_write_state(wg_updater *u, const wg_state_record *next);

/* ---- Hooks ------------------------------------------------------------------ */
/* Why a slot is not usable (wg_update_check_slot, wg_boot_result). */
typedef enum wg_slot_check {
    WG_SLOT_OK = 0,
    WG_SLOT_EMPTY,         /* the record names no SHA-256 for it */
    WG_SLOT_TOO_LARGE,     /* its bytes exceed the slot */
    WG_SLOT_READ_FAILED,   /* the driver could not read it */
    WG_SLOT_HASH_MISMATCH, /* its bytes do not hash to the record's SHA-256 */
    WG_SLOT_VERIFY_FAILED, /* the verify hook refused it */
    WG_SLOT_SELF_TEST_FAILED
} wg_slot_check;

typedef struct wg_update_hooks {
    void *ctx;
    /* 0 when the artifact in `slot` verifies (the core library's wg_open
     * with the publisher's key). `artifact` is the slot's first byte when
     * the flash is mapped, else NULL (read it through the driver). Called
     * after the SHA-256 matched. NULL: no check beyond the SHA-256. */
    int (*verify)(void *ctx, unsigned slot, const uint8_t *artifact, uint32_t bytes,
                  const uint8_t sha256[32]);
    /* 0 when the artifact in `slot` passes the device's self-test; called
     * by boot for a slot on trial. NULL: passes. */
    int (*self_test)(void *ctx, unsigned slot, const uint8_t *artifact, uint32_t bytes);
} wg_update_hooks;

/* Checks `slot` against `entry`: named, fits, SHA-256 of its first
 * entry->bytes bytes equals entry->sha256, then hooks->verify. Reads the
 * artifact once (hashing, 64 bytes at a time when not mapped). */
wg_slot_check wg_update_check_slot(const wg_updater *u, unsigned slot, const wg_slot_entry *entry,
                                   const wg_update_hooks *hooks);

/* ---- Boot ------------------------------------------------------------------- */
#define WG_BOOT_CONFIRMED_TRIAL 0x01u /* an interrupted trial passed: confirmed */
#define WG_BOOT_FELL_BACK       0x02u /* the active slot was refused: other slot */
#define WG_BOOT_NO_MODEL        0x04u /* nothing usable (or a blank device) */
#define WG_BOOT_WROTE_RECORD    0x08u /* boot wrote a new state record */

typedef struct wg_boot_result {
    uint8_t slot;     /* the slot to run, or WG_NO_SLOT */
    uint8_t events;   /* WG_BOOT_* bits */
    uint8_t refused;  /* wg_slot_check of the active slot when it was refused */
    uint8_t fallback; /* wg_slot_check of the slot fallen back to */
    uint32_t version; /* of the slot to run */
    uint32_t bytes;
} wg_boot_result;

/* Boot exactly as device-sim/boot.ts (docs/format.md 10.4): check the
 * active slot; refused -> fall back to `previous` (or the other slot) and
 * write a record naming it, or none; on trial -> self-test, then confirm
 * (write a record) or fall back. `boot` is filled even when a record write
 * fails (then WG_UPDATE_E_FLASH: run boot->slot, the record is unchanged
 * and the next boot decides again). At most two slot checks, one self-test,
 * one record write. */
wg_update_status wg_update_boot(wg_updater *u, const wg_update_hooks *hooks, wg_boot_result *boot);

/* ---- Writing a region in order --------------------------------------------- */
typedef struct wg_flash_writer {
    wg_updater *u;
    uint32_t base;      /* region start (flash offset) */
    uint32_t total;     /* bytes announced */
    uint32_t written;   /* bytes taken so far */
    uint32_t erased;    /* bytes from base erased so far (whole sectors) */
    uint32_t pending;   /* bytes in unit[] not yet programmed */
    uint8_t unit[WG_UPDATE_PROGRAM_MAX];
} wg_flash_writer;

/* A writer over the inactive slot for an artifact of `total_bytes`:
 * WG_UPDATE_E_TOO_LARGE when it does not fit the slot,
 * WG_UPDATE_E_OVERLAP when its sectors would reach the staged download.
 * Erases nothing yet. */
wg_update_status wg_update_begin_slot(wg_updater *u, wg_flash_writer *w, uint32_t total_bytes);

/* A writer over the staging area for a download of `total_bytes`: the
 * staging region, or the last sectors of the inactive slot that hold it;
 * sets u->staged_offset / staged_bytes (where the applier reads the patch).
 * The same `total_bytes` after a reboot gives the same place. */
wg_update_status wg_update_begin_staging(wg_updater *u, wg_flash_writer *w, uint32_t total_bytes);

/* Takes data[0..len) after the bytes already written: erases each sector
 * just before its first byte is programmed, programs whole units straight
 * from `data` and buffers at most one partial unit. WG_UPDATE_E_LENGTH past
 * total_bytes. No allocation; O(len) work. */
wg_update_status wg_flash_write(wg_flash_writer *w, const uint8_t *data, uint32_t len);

/* Programs the last partial unit (padded with 0xFF), checks that exactly
 * total_bytes were written, and puts the SHA-256 of the region's bytes as
 * read back from flash into sha256 (NULL: skip). */
wg_update_status wg_flash_finish(wg_flash_writer *w, uint8_t sha256[32]);

/* ---- Switch, confirm, roll back (device-sim/updater.ts) ------------------- */
/* After the inactive `slot` holds `entry`'s artifact and
 * wg_update_check_slot passed: writes {active: slot, on trial, previous:
 * the active slot, slots[slot]: entry}. WG_UPDATE_E_STATE when `slot` is
 * the active one or a trial is pending. (A slot that does not match is
 * still safe: boot refuses it and falls back.) */
wg_update_status wg_update_switch(wg_updater *u, unsigned slot, const wg_slot_entry *entry);

/* The self-test passed: {active, confirmed, previous: none}. */
wg_update_status wg_update_confirm(wg_updater *u);

/* The self-test failed: {active: previous, confirmed, previous: none, the
 * failed slot's entry emptied}. */
wg_update_status wg_update_rollback(wg_updater *u);

#ifdef __cplusplus
}
#endif

#endif /* WEIGHTGATE_UPDATE_H */

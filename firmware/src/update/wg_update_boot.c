/*
 * wg_update_boot.c: checking a slot, boot (device-sim/boot.ts), and the
 * record writes of an update (device-sim/updater.ts: switch, confirm, roll
 * back). Each decision is the simulator's; docs/format.md 10.4 and 10.5.
 */
#include <string.h>

#include "wg_update_internal.h"

static int sha_is_empty(const uint8_t sha256[32]) {
    unsigned i;
    uint8_t any = 0;
    for (i = 0; i < 32; i++) any |= sha256[i];
    return any == 0;
}

wg_slot_check wg_update_check_slot(const wg_updater *u, unsigned slot, const wg_slot_entry *entry,
                                   const wg_update_hooks *hooks) {
    uint8_t digest[32];
    uint32_t offset;
    if (!u || !entry || slot > 1 || sha_is_empty(entry->sha256)) return WG_SLOT_EMPTY;
    if (entry->bytes > u->layout.slot_bytes) return WG_SLOT_TOO_LARGE;
    offset = u->layout.slot_offset[slot];
    if (wg_update_hash(u, offset, entry->bytes, digest) != 0) return WG_SLOT_READ_FAILED;
    if (memcmp(digest, entry->sha256, 32) != 0) return WG_SLOT_HASH_MISMATCH;
    if (hooks && hooks->verify &&
        hooks->verify(hooks->ctx, slot, u->flash->mapped ? u->flash->mapped + offset : NULL, entry->bytes,
                      entry->sha256) != 0)
        return WG_SLOT_VERIFY_FAILED;
    return WG_SLOT_OK;
}

static void boot_runs(wg_boot_result *boot, const wg_state_record *s, unsigned slot) {
    boot->slot = (uint8_t)slot;
    boot->version = s->slots[slot].version;
    boot->bytes = s->slots[slot].bytes;
}

/* boot.ts fallBack: the refused active slot's entry is emptied; the other
 * slot is `previous` when that names the other slot, else 1 - active; it
 * runs (confirmed) if it checks, else nothing does. One record write. */
static wg_update_status fall_back(wg_updater *u, const wg_update_hooks *hooks, wg_boot_result *boot,
                                  wg_slot_check reason) {
    const wg_state_record s = u->state;
    wg_state_record next = s;
    unsigned other = s.previous != WG_NO_SLOT && s.previous != s.active ? s.previous : 1u - s.active;
    wg_slot_check check = wg_update_check_slot(u, other, &s.slots[other], hooks);
    boot->refused = (uint8_t)reason;
    memset(&next.slots[s.active], 0, sizeof next.slots[s.active]);
    next.confirmed = 1;
    next.previous = WG_NO_SLOT;
    if (check == WG_SLOT_OK) {
        next.active = (uint8_t)other;
        boot->events |= WG_BOOT_FELL_BACK;
        boot_runs(boot, &s, other);
    } else {
        next.active = WG_NO_SLOT;
        boot->fallback = (uint8_t)check;
        boot->events |= WG_BOOT_NO_MODEL;
    }
    if (wg_update_write_state(u, &next) != WG_UPDATE_OK) return WG_UPDATE_E_FLASH;
    boot->events |= WG_BOOT_WROTE_RECORD;
    return WG_UPDATE_OK;
}

wg_update_status wg_update_boot(wg_updater *u, const wg_update_hooks *hooks, wg_boot_result *boot) {
    wg_state_record s;
    wg_slot_check check;
    if (!u || !boot) return WG_UPDATE_E_ARGUMENT;
    memset(boot, 0, sizeof *boot);
    boot->slot = WG_NO_SLOT;
    s = u->state;
    if (s.active == WG_NO_SLOT) {
        boot->events = WG_BOOT_NO_MODEL;
        return WG_UPDATE_OK;
    }
    check = wg_update_check_slot(u, s.active, &s.slots[s.active], hooks);
    if (check != WG_SLOT_OK) return fall_back(u, hooks, boot, check);
    if (!s.confirmed) {
        /* The power went after the switch, before the confirm: finish the trial. */
        const uint8_t *mapped = u->flash->mapped;
        uint32_t offset = u->layout.slot_offset[s.active];
        if (hooks && hooks->self_test &&
            hooks->self_test(hooks->ctx, s.active, mapped ? mapped + offset : NULL, s.slots[s.active].bytes) != 0)
            return fall_back(u, hooks, boot, WG_SLOT_SELF_TEST_FAILED);
        s.confirmed = 1;
        s.previous = WG_NO_SLOT;
        boot->events |= WG_BOOT_CONFIRMED_TRIAL;
        boot_runs(boot, &s, s.active);
        if (wg_update_write_state(u, &s) != WG_UPDATE_OK) return WG_UPDATE_E_FLASH;
        boot->events |= WG_BOOT_WROTE_RECORD;
        return WG_UPDATE_OK;
    }
    boot_runs(boot, &s, s.active);
    return WG_UPDATE_OK;
}

wg_update_status wg_update_switch(wg_updater *u, unsigned slot, const wg_slot_entry *entry) {
    wg_state_record next;
    wg_update_status status;
    if (!u || !entry || slot > 1 || sha_is_empty(entry->sha256)) return WG_UPDATE_E_ARGUMENT;
    if (!u->state.confirmed || slot == u->state.active) return WG_UPDATE_E_STATE;
    if (entry->bytes > u->layout.slot_bytes) return WG_UPDATE_E_TOO_LARGE;
    next = u->state;
    next.slots[slot] = *entry;
    next.previous = u->state.active;
    next.active = (uint8_t)slot;
    next.confirmed = 0;
    status = wg_update_write_state(u, &next);
    if (status == WG_UPDATE_OK) u->staged_bytes = 0; /* the download is spent (flash.clearDownload) */
    return status;
}

wg_update_status wg_update_confirm(wg_updater *u) {
    wg_state_record next;
    if (!u) return WG_UPDATE_E_ARGUMENT;
    if (u->state.confirmed || u->state.active == WG_NO_SLOT) return WG_UPDATE_E_STATE;
    next = u->state;
    next.confirmed = 1;
    next.previous = WG_NO_SLOT;
    return wg_update_write_state(u, &next);
}

wg_update_status wg_update_rollback(wg_updater *u) {
    wg_state_record next;
    if (!u) return WG_UPDATE_E_ARGUMENT;
    if (u->state.confirmed || u->state.active == WG_NO_SLOT) return WG_UPDATE_E_STATE;
    next = u->state;
    memset(&next.slots[next.active], 0, sizeof next.slots[next.active]);
    next.active = u->state.previous;
    next.confirmed = 1;
    next.previous = WG_NO_SLOT;
    return wg_update_write_state(u, &next);
}

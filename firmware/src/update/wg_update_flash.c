/*
 * wg_update_flash.c: the layout, reading and writing the state record's two
 * copies (docs/format.md 10.3), and the flash writer that streams an
 * artifact or a download into a region in order.
 */
#include <string.h>

#include "wg_update_internal.h"

/* The record padded to whole program units of the largest granularity. */
#define RECORD_PADDED \
    (((WG_STATE_RECORD_BYTES + WG_UPDATE_PROGRAM_MAX - 1) / WG_UPDATE_PROGRAM_MAX) * WG_UPDATE_PROGRAM_MAX)
#define HASH_CHUNK 64u

static int power_of_two(uint32_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

/* v rounded up to a multiple of `unit` (a power of two); v + unit must not
 * overflow, which every caller has checked against a region size. */
static uint32_t round_up(uint32_t v, uint32_t unit) {
    return (v + unit - 1) & ~(unit - 1);
}

wg_update_status wg_update_layout_default(uint32_t flash_bytes, uint32_t sector_bytes,
                                          uint32_t staging_bytes, wg_update_layout *layout) {
    uint32_t sectors, staging_sectors, slot_sectors;
    if (!layout || !power_of_two(sector_bytes)) return WG_UPDATE_E_ARGUMENT;
    sectors = flash_bytes / sector_bytes;
    staging_sectors = staging_bytes / sector_bytes + (staging_bytes % sector_bytes != 0);
    if (sectors < 4 || staging_sectors > sectors - 4) return WG_UPDATE_E_LAYOUT;
    slot_sectors = (sectors - 2 - staging_sectors) / 2;
    layout->state_offset[0] = 0;
    layout->state_offset[1] = sector_bytes;
    layout->slot_bytes = slot_sectors * sector_bytes;
    layout->slot_offset[0] = 2 * sector_bytes;
    layout->slot_offset[1] = layout->slot_offset[0] + layout->slot_bytes;
    layout->staging_bytes = staging_sectors * sector_bytes;
    layout->staging_offset = staging_sectors ? layout->slot_offset[1] + layout->slot_bytes : 0;
    return WG_UPDATE_OK;
}

/* Regions: aligned to sectors, no wrap past 2^32, pairwise disjoint. */
static wg_update_status check_layout(const wg_flash *f, const wg_update_layout *l) {
    uint32_t start[5], size[5];
    unsigned n = 4, i, j;
    uint32_t s = f->sector_bytes;
    start[0] = l->state_offset[0];
    start[1] = l->state_offset[1];
    size[0] = size[1] = s;
    start[2] = l->slot_offset[0];
    start[3] = l->slot_offset[1];
    size[2] = size[3] = l->slot_bytes;
    if (l->staging_bytes) {
        start[4] = l->staging_offset;
        size[4] = l->staging_bytes;
        n = 5;
    }
    if (l->slot_bytes == 0) return WG_UPDATE_E_LAYOUT;
    for (i = 0; i < n; i++) {
        if ((start[i] | size[i]) & (s - 1)) return WG_UPDATE_E_LAYOUT;
        if (start[i] > 0xFFFFFFFFu - size[i]) return WG_UPDATE_E_LAYOUT;
    }
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            if (start[i] < start[j] + size[j] && start[j] < start[i] + size[i]) return WG_UPDATE_E_LAYOUT;
    return WG_UPDATE_OK;
}

int wg_update_read(const wg_updater *u, uint32_t offset, uint8_t *out, uint32_t len) {
    if (u->flash->mapped) {
        memcpy(out, u->flash->mapped + offset, len);
        return 0;
    }
    return u->flash->read(u->flash->ctx, offset, out, len);
}

int wg_update_hash(const wg_updater *u, uint32_t offset, uint32_t len, uint8_t digest[32]) {
    wg_sha256_ctx ctx;
    uint8_t chunk[HASH_CHUNK];
    uint32_t done = 0;
    if (u->flash->mapped) {
        wg_sha256(u->crypto, u->flash->mapped + offset, len, digest);
        return 0;
    }
    u->crypto->sha256_init(&ctx);
    while (done < len) {
        uint32_t n = len - done < HASH_CHUNK ? len - done : HASH_CHUNK;
        if (u->flash->read(u->flash->ctx, offset + done, chunk, n) != 0) return -1;
        u->crypto->sha256_update(&ctx, chunk, n);
        done += n;
    }
    u->crypto->sha256_final(&ctx, digest);
    return 0;
}

static void empty_state(wg_state_record *r) {
    memset(r, 0, sizeof *r);
    r->active = WG_NO_SLOT;
    r->confirmed = 1;
    r->previous = WG_NO_SLOT;
}

wg_update_status wg_update_init(wg_updater *u, const wg_flash *flash, const wg_update_layout *layout,
                                const wg_crypto *crypto) {
    uint8_t bytes[WG_STATE_RECORD_BYTES];
    wg_state_record copy;
    unsigned i;
    wg_update_status status;
    if (!u || !flash || !layout || !crypto || !flash->erase || !flash->program) return WG_UPDATE_E_ARGUMENT;
    if (!flash->mapped && !flash->read) return WG_UPDATE_E_ARGUMENT;
    if (!power_of_two(flash->sector_bytes) || !power_of_two(flash->program_bytes) ||
        flash->program_bytes > WG_UPDATE_PROGRAM_MAX || flash->sector_bytes < RECORD_PADDED)
        return WG_UPDATE_E_ARGUMENT;
    status = check_layout(flash, layout);
    if (status != WG_UPDATE_OK) return status;
    memset(u, 0, sizeof *u);
    u->flash = flash;
    u->crypto = crypto;
    u->layout = *layout;
    empty_state(&u->state);
    u->copy = 2;
    /* The newer valid copy; on a tie copy 0, as device-sim's pickStateRecord. */
    for (i = 0; i < 2; i++) {
        if (wg_update_read(u, layout->state_offset[i], bytes, sizeof bytes) != 0) return WG_UPDATE_E_FLASH;
        if (!wg_state_decode(bytes, &copy)) continue;
        if (u->copy == 2 || wg_sequence_newer(copy.sequence, u->state.sequence)) {
            u->state = copy;
            u->copy = (uint8_t)i;
        }
    }
    return WG_UPDATE_OK;
}

unsigned wg_update_inactive_slot(const wg_updater *u) {
    return u->state.active == WG_NO_SLOT ? 0u : 1u - u->state.active;
}

wg_update_status wg_update_write_state(wg_updater *u, const wg_state_record *next) {
    uint8_t bytes[RECORD_PADDED];
    uint8_t back[WG_STATE_RECORD_BYTES];
    wg_state_record record;
    const wg_flash *f;
    uint32_t offset;
    unsigned copy;
    if (!u || !next) return WG_UPDATE_E_ARGUMENT;
    f = u->flash;
    record = *next;
    record.sequence = u->state.sequence + 1; /* wraps at 2^32: wg_sequence_newer */
    /* The copy not holding the record in force: sequence mod 2 for every
     * record written by this library or device-sim. */
    copy = u->copy == 2 ? (record.sequence & 1u) : 1u - u->copy;
    offset = u->layout.state_offset[copy];
    memset(bytes, 0xFF, sizeof bytes);
    wg_state_encode(&record, bytes);
    if (f->erase(f->ctx, offset) != 0) return WG_UPDATE_E_FLASH;
    if (f->program(f->ctx, offset, bytes, round_up(WG_STATE_RECORD_BYTES, f->program_bytes)) != 0)
        return WG_UPDATE_E_FLASH;
    if (wg_update_read(u, offset, back, sizeof back) != 0 || memcmp(back, bytes, sizeof back) != 0)
        return WG_UPDATE_E_FLASH;
    u->state = record;
    u->copy = (uint8_t)copy;
    return WG_UPDATE_OK;
}

/* ---- flash writer ---------------------------------------------------------- */

static void writer_open(wg_flash_writer *w, wg_updater *u, uint32_t base, uint32_t total) {
    memset(w, 0, sizeof *w);
    w->u = u;
    w->base = base;
    w->total = total;
}

wg_update_status wg_update_begin_slot(wg_updater *u, wg_flash_writer *w, uint32_t total_bytes) {
    uint32_t base, end, s;
    if (!u || !w) return WG_UPDATE_E_ARGUMENT;
    if (!u->state.confirmed) return WG_UPDATE_E_STATE; /* the inactive slot is the rollback target */
    if (total_bytes > u->layout.slot_bytes) return WG_UPDATE_E_TOO_LARGE;
    s = u->flash->sector_bytes;
    base = u->layout.slot_offset[wg_update_inactive_slot(u)];
    end = base + round_up(total_bytes, s);
    if (u->staged_bytes && base < u->staged_offset + round_up(u->staged_bytes, s) && u->staged_offset < end)
        return WG_UPDATE_E_OVERLAP;
    writer_open(w, u, base, total_bytes);
    return WG_UPDATE_OK;
}

wg_update_status wg_update_begin_staging(wg_updater *u, wg_flash_writer *w, uint32_t total_bytes) {
    const wg_update_layout *l;
    uint32_t base;
    if (!u || !w) return WG_UPDATE_E_ARGUMENT;
    l = &u->layout;
    if (l->staging_bytes) {
        if (total_bytes > l->staging_bytes) return WG_UPDATE_E_TOO_LARGE;
        base = l->staging_offset;
    } else {
        /* The inactive slot's last sectors; a trial pending keeps that slot. */
        if (!u->state.confirmed) return WG_UPDATE_E_STATE;
        if (total_bytes > l->slot_bytes) return WG_UPDATE_E_TOO_LARGE;
        base = l->slot_offset[wg_update_inactive_slot(u)] + l->slot_bytes -
               round_up(total_bytes, u->flash->sector_bytes);
    }
    u->staged_offset = base;
    u->staged_bytes = total_bytes;
    writer_open(w, u, base, total_bytes);
    return WG_UPDATE_OK;
}

/* Programs data[0..len) at region offset `at`: erases the sector first when
 * the writer has not yet reached it. The caller keeps [at, at+len) inside
 * one sector. */
static wg_update_status program_at(wg_flash_writer *w, uint32_t at, const uint8_t *data, uint32_t len) {
    const wg_flash *f = w->u->flash;
    if (at >= w->erased) { /* sequential: `at` is in the next sector */
        if (f->erase(f->ctx, w->base + w->erased) != 0) return WG_UPDATE_E_FLASH;
        w->erased += f->sector_bytes;
    }
    if (f->program(f->ctx, w->base + at, data, len) != 0) return WG_UPDATE_E_FLASH;
    return WG_UPDATE_OK;
}

wg_update_status wg_flash_write(wg_flash_writer *w, const uint8_t *data, uint32_t len) {
    uint32_t p, s;
    wg_update_status status;
    if (!w || !w->u || (!data && len)) return WG_UPDATE_E_ARGUMENT;
    if (len > w->total - w->written) return WG_UPDATE_E_LENGTH;
    p = w->u->flash->program_bytes;
    s = w->u->flash->sector_bytes;
    while (len > 0) { /* each pass takes at least one byte */
        uint32_t n;
        if (w->pending > 0 || len < p) {
            n = p - w->pending < len ? p - w->pending : len;
            memcpy(w->unit + w->pending, data, n);
            w->pending += n;
            if (w->pending == p) {
                status = program_at(w, w->written + n - p, w->unit, p);
                if (status != WG_UPDATE_OK) return status;
                w->pending = 0;
            }
        } else {
            /* Whole units straight from `data`, up to the sector's end. */
            uint32_t to_sector_end = s - (w->written & (s - 1));
            n = len - (len & (p - 1));
            if (n > to_sector_end) n = to_sector_end;
            status = program_at(w, w->written, data, n);
            if (status != WG_UPDATE_OK) return status;
        }
        w->written += n;
        data += n;
        len -= n;
    }
    return WG_UPDATE_OK;
}

wg_update_status wg_flash_finish(wg_flash_writer *w, uint8_t sha256[32]) {
    wg_update_status status;
    if (!w || !w->u) return WG_UPDATE_E_ARGUMENT;
    if (w->written != w->total) return WG_UPDATE_E_LENGTH;
    if (w->pending > 0) {
        uint32_t p = w->u->flash->program_bytes;
        memset(w->unit + w->pending, 0xFF, p - w->pending);
        status = program_at(w, w->written - w->pending, w->unit, p);
        if (status != WG_UPDATE_OK) return status;
        w->pending = 0;
    }
    if (sha256 && wg_update_hash(w->u, w->base, w->total, sha256) != 0) return WG_UPDATE_E_FLASH;
    w->u = NULL; /* finished: further writes are refused */
    return WG_UPDATE_OK;
}

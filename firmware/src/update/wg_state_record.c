/*
 * wg_state_record.c: the state record's bytes (docs/format.md 10.2), the
 * same as device-sim/state-record.ts, and the CRC-32 that guards them.
 *
 *    0  u32  magic "WGSR" (0x52534757 little-endian)
 *    4  u16  layout version (1)
 *    6  u8   active slot (0, 1, 0xFF)
 *    7  u8   confirmed (1) or on trial (0)
 *    8  u32  sequence
 *   12  u8   previous slot (0, 1, 0xFF)
 *   13  3 bytes zero (not checked when read)
 *   16  slot A: u32 version, u32 bytes, 32 bytes SHA-256
 *   56  slot B: the same
 *   96  u32  CRC-32 of bytes 0..95
 */
#include <string.h>

#include "weightgate_update.h"

#define MAGIC 0x52534757u
#define LAYOUT_VERSION 1u
#define CRC_AT 96u

/* Reflected CRC-32, polynomial 0xEDB88320, initial value and final XOR
 * 0xFFFFFFFF: zlib's crc32 and node:zlib's (IEEE 802.3). One bit at a time:
 * a 100-byte record costs ~800 steps, not worth a 1 KiB table. */
uint32_t wg_crc32(uint32_t crc, const uint8_t *data, size_t len) {
    size_t i;
    unsigned bit;
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        for (bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void wg_state_encode(const wg_state_record *record, uint8_t out[WG_STATE_RECORD_BYTES]) {
    unsigned i;
    memset(out, 0, WG_STATE_RECORD_BYTES);
    put32(out, MAGIC);
    out[4] = (uint8_t)LAYOUT_VERSION;
    out[5] = 0;
    out[6] = record->active;
    out[7] = record->confirmed == 1 ? 1 : 0;
    put32(out + 8, record->sequence);
    out[12] = record->previous;
    for (i = 0; i < 2; i++) {
        uint8_t *at = out + 16 + 40 * i;
        put32(at, record->slots[i].version);
        put32(at + 4, record->slots[i].bytes);
        memcpy(at + 8, record->slots[i].sha256, 32);
    }
    put32(out + CRC_AT, wg_crc32(0, out, CRC_AT));
}

static int slot_byte_ok(uint8_t b) {
    return b == 0 || b == 1 || b == WG_NO_SLOT;
}

int wg_state_decode(const uint8_t in[WG_STATE_RECORD_BYTES], wg_state_record *record) {
    unsigned i;
    if (get32(in) != MAGIC || (in[4] | (in[5] << 8)) != LAYOUT_VERSION) return 0;
    if (get32(in + CRC_AT) != wg_crc32(0, in, CRC_AT)) return 0;
    if (!slot_byte_ok(in[6]) || !slot_byte_ok(in[12])) return 0;
    record->sequence = get32(in + 8);
    record->active = in[6];
    record->confirmed = in[7] == 1 ? 1 : 0;
    record->previous = in[12];
    for (i = 0; i < 2; i++) {
        const uint8_t *at = in + 16 + 40 * i;
        record->slots[i].version = get32(at);
        record->slots[i].bytes = get32(at + 4);
        memcpy(record->slots[i].sha256, at + 8, 32);
    }
    return 1;
}

/* Serial-number comparison (RFC 1982 style) over 2^32. The two copies in
 * flash differ by exactly 1 (each write is the one in force + 1), so this
 * agrees with device-sim's `a > b` except across the wrap from 0xFFFFFFFF
 * to 0, where a plain comparison would pick the older copy. */
int wg_sequence_newer(uint32_t a, uint32_t b) {
    uint32_t d = a - b;
    return d != 0 && d < 0x80000000u;
}

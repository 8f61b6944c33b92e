/*
 * wg_patch_coder.h: the range coder of docs/format.md 5.2 as the patch
 * applier needs it: a decoder over a byte range of the patch (manifest and
 * entry deltas), and a streaming encoder whose bytes go to a callback
 * (the entry delta's re-encoded segment); and the Rice writer (5.10) for a
 * target segment of a Rice-coded tensor. Not installed.
 */
#ifndef WG_PATCH_CODER_H
#define WG_PATCH_CODER_H

#include <stdint.h>

#define WG_PROB_BITS 11u
#define WG_PROB_INIT (1u << (WG_PROB_BITS - 1u))

/* A decoder over data[0 .. end), started at some offset; up to 4 bytes
 * past `end` read as 0. Every decode returns -1 once a fifth is needed. */
typedef struct wg_rdec {
    const uint8_t *data;
    uint32_t end, at, range, code;
} wg_rdec;

/* 0, or -1 when the first 4 bytes are FF FF FF FF (code >= range: a
 * stream no encoder makes; docs/format.md 5.2 lets a C decoder refuse it). */
int wg_rdec_init(wg_rdec *d, const uint8_t *data, uint32_t start, uint32_t end);
int32_t wg_rdec_bit(wg_rdec *d, uint16_t *probs, uint32_t index);
int32_t wg_rdec_direct(wg_rdec *d);
/* The gap code (5.3) over models at `base` with bound `max_e`: v >= 1, or -1. */
int32_t wg_rdec_gap(wg_rdec *d, uint16_t *probs, uint32_t base, uint32_t max_e);
/* A code tree (5.4) of `bits` bits at `base`, or -1. */
int32_t wg_rdec_tree(wg_rdec *d, uint16_t *probs, uint32_t base, uint32_t bits);

/* The encoder; emit(ctx, byte) takes each final byte. */
typedef struct wg_renc {
    uint64_t low;
    uint32_t range, cache, cache_size, shifted, zeros;
    void (*emit)(void *ctx, uint32_t byte);
    void *ctx;
} wg_renc;

void wg_renc_init(wg_renc *e, void (*emit)(void *ctx, uint32_t byte), void *ctx);
void wg_renc_bit(wg_renc *e, uint16_t *probs, uint32_t index, uint32_t bit);
void wg_renc_direct(wg_renc *e, uint32_t bit);
void wg_renc_gap(wg_renc *e, uint16_t *probs, uint32_t base, uint32_t max_e, uint32_t v);
void wg_renc_tree(wg_renc *e, uint16_t *probs, uint32_t base, uint32_t bits, uint32_t value);
void wg_renc_finish(wg_renc *e);

/* The Rice stream's writer (docs/format.md 5.10), for an entry delta whose
 * target tensor is Rice-coded: bits most significant first, each byte to
 * emit(ctx, byte) once complete, the last one padded with zero bits. */
typedef struct wg_rice_enc {
    uint32_t acc, bits, k; /* `bits` pending bits, the low ones of acc */
    void (*emit)(void *ctx, uint32_t byte);
    void *ctx;
} wg_rice_enc;

void wg_rice_enc_init(wg_rice_enc *e, uint32_t k, void (*emit)(void *ctx, uint32_t byte), void *ctx);
/* One entry: its gap v >= 1, then `code_bits` (<= 8) bits of `code`. */
void wg_rice_enc_entry(wg_rice_enc *e, uint32_t v, uint32_t code, uint32_t code_bits);
void wg_rice_enc_finish(wg_rice_enc *e);

/* floor(log2(max(1, n))) */
uint32_t wg_log2_floor(uint32_t n);

#endif /* WG_PATCH_CODER_H */

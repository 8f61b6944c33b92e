/*
 * weightgate_patch.h: apply a .wgp patch (docs/format.md section 8) on the
 * device, streaming. C99, freestanding: no malloc, no printf, no
 * recursion; from libc only memcpy, memset and memcmp.
 *
 * The source artifact A (the running slot) and the patch (where it was
 * downloaded) are read in place, e.g. memory-mapped flash. The target
 * artifact B is produced once, in ascending file order, through a sink
 * (wg_patch_sink: a callback, or wg_flash_write of the update half through
 * wg_patch_flash_sink), exactly the bytes formats' streamPatchToArtifact
 * writes. Nothing else is written: on any error A is untouched and the sink
 * holds a partial B, to be discarded.
 *
 *   wg_patch_plan(A, patch, ...)    B's size and the working memory the
 *                                   apply needs (a manifest delta is rebuilt
 *                                   in `work` to know them)
 *   sink->begin(B's size)           e.g. wg_update_begin_slot
 *   wg_patch_apply(A, patch, ...)   B through sink->write, checked
 *   then read B where the sink put it (wg_open with the publisher's key)
 *
 * Checks, in the order of formats/patch/patch-stream.ts: the patch's frame and
 * head (canonical form), its base (the first 4 bytes of A's SHA-256:
 * WG_E_WRONG_BASE), B's version against A's (older: WG_E_ROLLBACK), B's
 * manifest (rebuilt from a delta, or carried whole) as the reader checks a
 * manifest, its Ed25519 signature when a new manifest travels and a key is
 * given, every rebuilt segment's length and SHA-256 against B's manifest,
 * the payload used up exactly, and the first 4 bytes of B's SHA-256.
 * Status codes are formats' FormatError codes (WG_E_<CODE>) where the
 * TypeScript applier refuses the same patch, plus WG_E_ROLLBACK,
 * WG_E_ARENA_TOO_SMALL (working memory below the plan) and
 * WG_E_WRITE_FAILED (the sink refused).
 *
 * Memory: `work` (4-byte aligned) of at least plan.work_bytes: a page of
 * output, B's manifest when it travels as a delta, and the models of the
 * one segment being rebuilt by an entry delta. Stack: about 1.4 KiB in
 * wg_patch_apply's own frame on Cortex-M (A's and B's model descriptions,
 * B's held intervals, two SHA-256 contexts, the entry delta's cursor),
 * about 1.8 KiB with its callees, plus the crypto's (Ed25519 verify).
 */
#ifndef WEIGHTGATE_PATCH_H
#define WEIGHTGATE_PATCH_H

#include <stddef.h>
#include <stdint.h>

#include "weightgate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of output gathered before the sink is called (range-coded bytes);
 * bytes that live in flash (reused segments, payloads, copies) go to the
 * sink as they are. */
#ifndef WG_PATCH_PAGE_BYTES
#define WG_PATCH_PAGE_BYTES 64u
#endif

/* Where B goes. begin (may be NULL) is told B's exact size once, before
 * any write; write takes the next `len` bytes. Non-zero: refused
 * (WG_E_WRITE_FAILED). `data` is only valid during the call. */
typedef struct wg_patch_sink {
    int (*begin)(void *ctx, uint32_t total_bytes);
    int (*write)(void *ctx, const uint8_t *data, size_t len);
    void *ctx;
} wg_patch_sink;

/* What a patch does to A. */
typedef struct wg_patch_info {
    uint32_t target_bytes;   /* B's size */
    uint32_t work_bytes;     /* working memory wg_patch_apply needs */
    uint32_t from_version;   /* A's manifest version */
    uint32_t to_version;     /* B's */
    uint32_t manifest_mode;  /* 0 same, 1 delta, 2 whole (+4 signed) */
    uint32_t reused, whole, byte_delta, entry_delta; /* B's segments by op */
    /* wg_patch_apply: the SHA-256 of the bytes it wrote (B). With a key, a
     * slot whose SHA-256 read back equals it holds a manifest whose
     * signature the apply verified (or A's, when B keeps it): open it with
     * WG_OPEN_VERIFIED. All zero from wg_patch_plan or a failed apply. */
    uint8_t target_sha256[32];
} wg_patch_info;

/*
 * Reads the patch's frame and head, checks its base against A (by A's
 * SHA-256, with `crypto`; NULL: not checked) and the version, reads B's
 * manifest (a delta is rebuilt in `work`; without enough `work` the status
 * is WG_E_ARENA_TOO_SMALL and info->work_bytes says how much that needs)
 * and fills `info`. `source` is a verified artifact (it was opened when it was
 * installed).
 */
wg_status wg_patch_plan(const uint8_t *source, size_t source_len, const uint8_t *patch, size_t patch_len,
                        const wg_crypto *crypto, uint8_t *work, size_t work_size, wg_patch_info *info);

/*
 * Applies `patch` to `source` into `sink` (see the top of this file).
 * `public_key` (32 bytes, may be NULL): when the patch carries a new
 * manifest, its signature must verify with it (WG_E_BAD_SIGNATURE), and an
 * unsigned one is refused (WG_E_UNSIGNED). `info` (may be NULL) is filled;
 * its work_bytes is the peak the apply took.
 */
wg_status wg_patch_apply(const uint8_t *source, size_t source_len, const uint8_t *patch, size_t patch_len,
                         const uint8_t *public_key, const wg_crypto *crypto, const wg_patch_sink *sink,
                         uint8_t *work, size_t work_size, wg_patch_info *info);

/* ---- into the update half's inactive slot (include weightgate_update.h
 * first; link wg_patch_flash) ----
 *
 *   wg_patch_flash f;
 *   wg_patch_sink sink = wg_patch_flash_sink(&f, &updater);
 *   st = wg_patch_apply(running, running_len, patch, patch_len, key, crypto, &sink, work, size, &info);
 *   then wg_flash_finish(&f.writer, sha256), wg_update_check_slot, wg_update_switch
 * (f.status: the update half's status when the sink refused). */
#ifdef WEIGHTGATE_UPDATE_H
typedef struct wg_patch_flash {
    wg_updater *updater;
    wg_flash_writer writer;
    wg_update_status status;
} wg_patch_flash;

wg_patch_sink wg_patch_flash_sink(wg_patch_flash *f, wg_updater *u);
#endif

#ifdef __cplusplus
}
#endif

#endif /* WEIGHTGATE_PATCH_H */

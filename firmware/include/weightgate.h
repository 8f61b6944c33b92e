/*
 * weightgate.h: verify and run a weightgate model (.wgm artifact) on a
 * microcontroller. C99, freestanding: no malloc, no printf, no recursion;
 * from libc only memcpy, memset and memcmp.
 *
 * The life of a model:
 *
 *   wg_plan(bytes, len, &plan)        structure only, no memory: how much
 *                                     arena the model needs (docs/arithmetic.md;
 *                                     wg_plan_image adds the image's numbers)
 *   wg_open(&m, bytes, len, key, crypto, flags, arena, size)
 *                                     verifies everything (structure, every
 *                                     held segment's SHA-256 and encoding, the
 *                                     Ed25519 signature of the manifest) and
 *                                     prepares the kernels; the artifact
 *                                     bytes must stay readable (flash) and
 *                                     unchanged while the model is used
 *   wg_invoke(&m, input, logits, &r)  raw uint8 sample in, logits and class out;
 *                                     no allocation, any number of times
 *
 * Execution image (optional, faster): once after wg_open, wg_image_build()
 * transcodes the segments into a byte-aligned sparse form ('WGX1') that a
 * caller-supplied callback programs into flash; from then on open the model
 * with WG_OPEN_IMAGE and pass the image to wg_image_attach(), which checks
 * it in place, and wg_invoke runs the image kernels.
 *
 * Arithmetic, chosen at build time: WG_ARITH_F32 (default) gives float32
 * logits; WG_ARITH_INT gives int32 logits with an exponent
 * (logit ~ value * 2^-exponent). Both are exactly docs/arithmetic.md.
 * Convolutional models (format version 2) run on the f32 path with the
 * coded kernels in a WG_SPATIAL build (docs/firmware.md); without it a
 * version-2 artifact is WG_E_UNSUPPORTED_VERSION.
 *
 * Memory: every buffer comes from the caller's arena (4-byte aligned);
 * wg_model is a struct the caller declares (not in the arena). Stack use is
 * bounded (no recursion; about 1 KiB at the deepest, in wg_open). Untrusted
 * bytes are checked before they are read, and every loop over them is
 * bounded by a checked count.
 */
#ifndef WEIGHTGATE_H
#define WEIGHTGATE_H

#include <stddef.h>
#include <stdint.h>

#include "weightgate_crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(WG_ARITH_F32) && !defined(WG_ARITH_INT)
#define WG_ARITH_F32 1
#endif
#if defined(WG_ARITH_F32) && defined(WG_ARITH_INT)
#error "define one of WG_ARITH_F32 and WG_ARITH_INT"
#endif

/* Status codes. The first ten mean what formats/' FormatError codes of the
 * same name mean; a bad artifact gives the code the TypeScript reader gives
 * (same checks, same order), except where noted in docs/firmware.md. */
typedef enum wg_status {
    WG_OK = 0,
    WG_E_TRUNCATED,           /* bytes end before the structure does */
    WG_E_BAD_IDENTIFIER,      /* not a 'WGM1' artifact / 'WGMM' manifest */
    WG_E_OUT_OF_BOUNDS,       /* an offset, vtable or length points outside */
    WG_E_TOO_LARGE,           /* over a cap (file size, counts, nesting) */
    WG_E_BAD_VALUE,           /* structurally sound, semantically invalid */
    WG_E_HASH_MISMATCH,       /* a held segment does not match its SHA-256 */
    WG_E_BAD_SIGNATURE,       /* the manifest signature does not verify */
    WG_E_UNSIGNED,            /* no signature and unsigned not allowed */
    WG_E_UNSUPPORTED_VERSION, /* format version this library does not read */
    WG_E_MISSING_SEGMENT,     /* a segment the held intervals need is absent */
    WG_E_ARENA_TOO_SMALL,     /* arena below the plan */
    WG_E_UNSUPPORTED,         /* valid model this library cannot run */
    WG_E_BAD_ARGUMENT,        /* NULL pointer, wrong size, wrong state */
    WG_E_BAD_IMAGE,           /* execution image invalid or not this artifact's */
    WG_E_WRITE_FAILED,        /* the image write callback returned non-zero */
    WG_E_WRONG_BASE,          /* a patch made for another artifact (weightgate_patch.h) */
    WG_E_ROLLBACK             /* a patch to an older version than the source's */
} wg_status;

/* A constant name for a status, e.g. "WG_E_HASH_MISMATCH". */
const char *wg_status_str(wg_status status);

/* The arena sizes of docs/arithmetic.md, in bytes. */
typedef struct wg_plan_info {
    uint32_t arena_coded;       /* wg_open without WG_OPEN_IMAGE (0xffffffff: 4 GiB or more, */
    uint32_t arena_image;       /* wg_open with WG_OPEN_IMAGE     which no arena meets) */
    uint32_t image_bytes;       /* flash the execution image takes (wg_plan_image);
                                   0xffffffff: 2 GiB or more, not buildable;
                                   its weighted layers, a convolutional model's too */
    uint32_t image_build_arena; /* working memory of wg_image_build (wg_plan_image) */
    uint32_t inputs;            /* raw bytes per sample */
    uint32_t outputs;           /* logits per sample (a feature map's values when the last layer writes one) */
} wg_plan_info;

/*
 * Checks the artifact's structure, manifest and held intervals (not segments,
 * hashes nor signature) and fills `plan`'s arena sizes, inputs and outputs
 * (image_bytes and image_build_arena are 0). Memory: stack only (about
 * 1 KiB, the canonical-form check's builder state).
 */
wg_status wg_plan(const uint8_t *artifact, size_t len, wg_plan_info *plan);

/* wg_plan, and the execution image's numbers too (links the image code). */
wg_status wg_plan_image(const uint8_t *artifact, size_t len, wg_plan_info *plan);

/* wg_open flags. */
#define WG_OPEN_ALLOW_UNSIGNED 1u /* an unsigned artifact opens (key may be NULL) */
#define WG_OPEN_IMAGE 2u          /* run the image kernels (needs wg_image_attach) */
/* The caller verified these exact bytes' manifest signature with
 * public_key already (still required): wg_open does not verify it again.
 * Only for bytes whose SHA-256 the caller computed and matched, e.g. a slot
 * wg_patch_apply wrote with the key, whose SHA-256 read back equals
 * info.target_sha256 (docs/firmware.md, "Verify once"). */
#define WG_OPEN_VERIFIED 4u

/* An opened model: declare one, let wg_open fill it; do not touch its fields. */
typedef struct wg_model wg_model;
struct wg_model {
    const uint8_t *artifact; /* the whole .wgm */
    uint32_t artifact_len;
    const uint8_t *manifest; /* nested manifest FlatBuffer */
    uint32_t manifest_len;
    uint32_t held_at;     /* artifact offset of the held_intervals vector (length word) */
    const uint8_t *segment_data;
    uint32_t segment_data_len;
    uint32_t layers_at;      /* manifest offsets of the vectors (length words) */
    uint32_t tensors_at;
    uint32_t tiers_at;
    uint32_t bounds_at;
    uint32_t ids_at;         /* 0: ids are 0..k-1 */
    uint32_t table_at;       /* segment table bytes */
    uint32_t table_len;
    uint32_t segment_count;
    uint32_t layer_count;
    uint32_t interval_count;
    uint8_t interval_edges;
    uint8_t open_flags;
    uint8_t image_ready;
    uint8_t signed_;
    uint8_t table_padded;    /* a segment table varint is longer than needed */
    uint8_t graph;           /* version 2 manifest, spatial layers (WG_SPATIAL builds) */
    float scale, offset;     /* preprocess */
    uint8_t *arena;
    uint32_t arena_size;
    uint32_t act_at[2];      /* arena offsets of the two activation regions */
    uint32_t decoder_at;     /* arena offset of the segment decoder region */
    uint32_t inputs, outputs;
    int32_t in_scale, in_offset; /* int path: S and O */
    int32_t in_exp;              /* int path: fx */
    const uint8_t *image;        /* attached execution image */
    uint32_t image_len;
    wg_status (*image_kernel)(const wg_model *m, uint32_t layer, const void *io);
};

/*
 * Verifies `artifact` and prepares `m` to run it, in the order of the
 * TypeScript reader: FlatBuffers structure (every offset, vtable, length and
 * count against the buffer and the caps), the manifest's values, the
 * held intervals, every held segment (SHA-256, then decoded once to check it), then
 * the signature: `public_key` (32 bytes) must verify the manifest's Ed25519
 * signature. key == NULL is only allowed with WG_OPEN_ALLOW_UNSIGNED, which
 * also lets an unsigned artifact open.
 *
 * With a key (f32 path), the held segments are hashed but not decoded: the
 * signed manifest pins their bytes to the publisher's encoder, and the
 * kernels bound every position and centroid as they decode (the int path
 * decodes them once for its exponents). Without one they are decoded once.
 *
 * With WG_OPEN_IMAGE the held segments are hashed but not decoded: the
 * execution image, built (and its segments checked) by wg_image_build and
 * naming this artifact's SHA-256, stands for them; attach it next.
 *
 * Memory: `arena` (4-byte aligned) of at least plan.arena_coded bytes, or
 * plan.arena_image with WG_OPEN_IMAGE; the model keeps it until it is no
 * longer used. Stack: about 1 KiB, plus the crypto's verify.
 */
wg_status wg_open(wg_model *m, const uint8_t *artifact, size_t len, const uint8_t *public_key,
                  const wg_crypto *crypto, unsigned flags, uint8_t *arena, size_t arena_size);

/* The result of one inference. */
typedef struct wg_result {
    uint32_t class_index; /* argmax of the logits, the first on ties */
#ifdef WG_ARITH_INT
    int32_t exponent;     /* logit[j] ~ logits[j] * 2^-exponent */
#endif
} wg_result;

#ifdef WG_ARITH_INT
typedef int32_t wg_logit;
#else
typedef float wg_logit;
#endif

/*
 * Runs one sample: `input` holds plan.inputs raw bytes; `logits` (may be
 * NULL) receives plan.outputs values. Memory: the model's arena only.
 * Returns WG_E_BAD_ARGUMENT before wg_open succeeded (or, with
 * WG_OPEN_IMAGE, before wg_image_attach succeeded).
 */
wg_status wg_invoke(wg_model *m, const uint8_t *input, wg_logit *logits, wg_result *result);

/* ---- execution image ---------------------------------------------------- */

/* Writes `len` bytes at `offset` of the image's flash; 0 on success. Each
 * byte is written once; the body comes in ascending order, the 80-byte
 * header last. */
typedef int (*wg_write_fn)(void *ctx, uint32_t offset, const uint8_t *data, size_t len);

/*
 * Transcodes the opened model's segments into its execution image
 * (plan.image_bytes, from wg_plan_image) through `write`, byte for byte
 * what device-sim builds, checking every segment as wg_open does (a status
 * of formats' when one is bad). `work` (pointer-aligned) of at least
 * plan.image_build_arena bytes is the working memory: every held segment
 * of one tensor is open at once; the model's arena is not touched.
 * `crypto` hashes the artifact and the image body.
 */
wg_status wg_image_build(const wg_model *m, const wg_crypto *crypto, wg_write_fn write, void *ctx,
                         uint8_t *work, size_t work_size);

/*
 * Checks an image read in place (e.g. memory-mapped flash) against the
 * opened model as device-sim's openExecImage does (WG_E_BAD_IMAGE: rebuild
 * it), and makes wg_invoke run from it. On the int path it also takes each
 * layer's exponents from the image (WG_E_UNSUPPORTED when the values do not
 * fit the int path). Memory: the model's arena (layer state); the image
 * must stay readable.
 */
wg_status wg_image_attach(wg_model *m, const wg_crypto *crypto, const uint8_t *image, size_t len);

/* ---- accessors (after wg_open) ------------------------------------------ */

/* A string inside the artifact: not NUL-terminated in general. */
typedef struct wg_str {
    const char *ptr;
    uint32_t len;
} wg_str;

wg_str wg_model_name(const wg_model *m);
uint32_t wg_model_version(const wg_model *m);
uint32_t wg_input_size(const wg_model *m);
uint32_t wg_output_size(const wg_model *m);
/* The held intervals: the interval ids whose segments the artifact holds
 * (docs/architecture.md, glossary), ascending. */
uint32_t wg_held_interval_count(const wg_model *m);
uint16_t wg_held_interval(const wg_model *m, uint32_t i);
uint32_t wg_tier_count(const wg_model *m);
wg_str wg_tier_name(const wg_model *m, uint32_t tier);
float wg_tier_accuracy(const wg_model *m, uint32_t tier);
uint32_t wg_tier_interval_count(const wg_model *m, uint32_t tier);
uint16_t wg_tier_interval(const wg_model *m, uint32_t tier, uint32_t i);
/* The tier whose intervals equal the held intervals, or -1. */
int32_t wg_held_tier(const wg_model *m);

#ifdef __cplusplus
}
#endif

#endif /* WEIGHTGATE_H */

/*
 * wg_internal.h: what the library's source files share. Not installed.
 */
#ifndef WG_INTERNAL_H
#define WG_INTERNAL_H

#include <string.h>

#include "weightgate.h"
#include "wg_arith.h"

/* No fused multiply-add on the f32 path (also -ffp-contract=off; gcc
 * ignores the pragma). */
#if defined(WG_ARITH_F32) && defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Caps of formats/caps.ts. */
/* A function kept out of its caller (a hot loop whose registers its rare
 * cases would otherwise crowd). */
#if defined(__GNUC__)
#define WG_NOINLINE __attribute__((noinline))
#else
#define WG_NOINLINE
#endif

#define WG_MAX_FILE_BYTES (64u * 1024u * 1024u)
#define WG_MAX_TENSORS 1024u
#define WG_MAX_LAYERS 1024u
#define WG_MAX_TENSOR_ELEMENTS (1u << 24)
#define WG_MAX_RANK 8u
#define WG_MAX_INTERVALS 1024u
#define WG_MAX_TIERS 256u
#define WG_MAX_SEGMENTS 65536u
#define WG_MAX_STRING_BYTES 256u
#define WG_MAX_CODEBOOK 256u
#define WG_MAX_DEPTH 8u
#define WG_FORMAT_VERSION 1u
#define WG_BASE_INTERVAL 0xffffu

#define WG_ALIGN4(n) (((n) + 3u) & ~3u)

/* The segment codings a build decodes (CMake WG_CODING_RANGE / WG_CODING_RICE,
 * docs/firmware.md): a model whose tensor uses one left out is refused with
 * WG_E_UNSUPPORTED. Public definitions of the library target, so the patch
 * applier built over it agrees. */
#ifndef WG_CODING_RANGE
#define WG_CODING_RANGE 1
#endif
#ifndef WG_CODING_RICE
#define WG_CODING_RICE 1
#endif
#if !WG_CODING_RANGE && !WG_CODING_RICE
#error "a build decodes at least one segment coding: WG_CODING_RANGE or WG_CODING_RICE"
#endif

/* Convolutional models (format version 2; CMake WG_SPATIAL, docs/firmware.md):
 * a build without them reads version-1 manifests only and refuses a
 * version-2 one with WG_E_UNSUPPORTED_VERSION, as a reader that predates
 * version 2 does. They run on both paths, with the coded kernels or the image. */
#ifndef WG_SPATIAL
#define WG_SPATIAL 1
#endif
#if WG_SPATIAL && defined(WG_ARITH_F32)
#define WG_SPATIAL_F32 1
#else
#define WG_SPATIAL_F32 0
#endif
#if WG_SPATIAL && defined(WG_ARITH_INT)
#define WG_SPATIAL_INT 1
#else
#define WG_SPATIAL_INT 0
#endif

/* Little-endian reads at any alignment (flash may hand us odd offsets).
 * On a little-endian GNU target this is one (unaligned-capable) load where
 * the core allows it, byte loads where it does not (armv6-m). */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline uint32_t wg_u16(const uint8_t *p)
{
    uint16_t v;
    __builtin_memcpy(&v, p, 2);
    return v;
}
static inline uint32_t wg_u32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}
#else
static inline uint32_t wg_u16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
static inline uint32_t wg_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
#endif

/* Bit casts through a union (C99 TC3), so no memcpy call even when a
 * freestanding build does not expand memcpy as a builtin. */
typedef union wg_f32_bits {
    float f;
    uint32_t u;
} wg_f32_bits;
static inline float wg_f32_of_bits(uint32_t bits)
{
    wg_f32_bits v;
    v.u = bits;
    return v.f;
}
static inline uint32_t wg_bits_of_f32(float f)
{
    wg_f32_bits v;
    v.f = f;
    return v.u;
}
/* Finite binary32 (not NaN, not infinity), on the bits. */
static inline int wg_finite_bits(uint32_t bits) { return (bits & 0x7f800000u) != 0x7f800000u; }

/* ---- FlatBuffers (wg_flatbuffer.c) ---- */

/* Table ids of the schemas (formats/container/schema-specs.ts). */
enum { WG_T_PREPROCESS, WG_T_LAYER, WG_T_TENSOR, WG_T_TIER, WG_T_MANIFEST, WG_T_ARTIFACT };

/* One field of a table (formats/container/schema-specs.ts), with the writer's
 * default for scalars (the builder leaves a field out when it equals it). */
enum { K_SCALAR, K_STRING, K_VECTOR, K_TABLE, K_TABLES };
#define WG_F_FLOAT 1u /* compare with the default as binary32 (so -0 == 0) */
#define WG_F_BOOL 2u  /* the writer stores 0 or 1 */
typedef struct wg_field_spec {
    uint8_t kind;
    uint8_t size;  /* scalar bytes, or vector element bytes */
    uint8_t table; /* K_TABLE / K_TABLES: the child's table id */
    uint8_t flags; /* scalars: WG_F_* */
    uint32_t max;  /* strings: bytes; vectors: elements; scalars: default bits */
} wg_field_spec;

/* The fields of a table id, in slot order, as the writer writes them (the
 * canonical replay): a Layer's 12 in a WG_SPATIAL build, where the
 * verifier checks its first 7, as formats' does. */
const wg_field_spec *wg_fb_spec(int table, uint32_t *count);

/* Checks a whole buffer as formats' verifyBuffer does. Stack only. */
wg_status wg_fb_verify(const uint8_t *buf, uint32_t len, const char identifier[4], int table);

/* Offset of field `slot` of the table at `table`, 0 when absent (verified buffer). */
uint32_t wg_fb_field(const uint8_t *buf, uint32_t table, uint32_t slot);
/* Offset of the length word of a vector/string/table field, 0 when absent. */
uint32_t wg_fb_ref(const uint8_t *buf, uint32_t table, uint32_t slot);
/* Length of the vector at `ref` (0 when ref is 0). */
static inline uint32_t wg_fb_len(const uint8_t *buf, uint32_t ref) { return ref ? wg_u32(buf + ref) : 0; }
/* Root table offset. */
static inline uint32_t wg_fb_root(const uint8_t *buf) { return wg_u32(buf); }
/* Table i of a vector of tables at `ref`. */
static inline uint32_t wg_fb_table_at(const uint8_t *buf, uint32_t ref, uint32_t i)
{
    uint32_t slot = ref + 4u + 4u * i;
    return slot + wg_u32(buf + slot);
}
uint32_t wg_fb_u32(const uint8_t *buf, uint32_t table, uint32_t slot, uint32_t dflt);
uint32_t wg_fb_u16(const uint8_t *buf, uint32_t table, uint32_t slot, uint32_t dflt);
uint32_t wg_fb_u8(const uint8_t *buf, uint32_t table, uint32_t slot, uint32_t dflt);

/* ---- manifest fields (slots of formats/manifest.fbs) ---- */
enum { M_FORMAT_VERSION, M_MODEL, M_VERSION, M_PREPROCESS, M_LAYERS, M_TENSORS, M_BOUNDS, M_TIERS,
       M_SEGMENT_TABLE, M_HASHES, M_INTERVAL_IDS, M_INTERVAL_EDGES };
enum { P_INPUT_SHAPE, P_SCALE, P_OFFSET };
enum { L_KIND, L_NAME, L_INPUTS, L_UNITS, L_ACTIVATION, L_KERNEL, L_BIAS, L_WINDOW_H, L_WINDOW_W, L_STRIDE_H,
       L_STRIDE_W, L_PADDING };
enum { T_NAME, T_SHAPE, T_ENCODING, T_BITS, T_CODEBOOK, T_SCALES, T_LICENSED, T_CODING };
enum { TI_NAME, TI_INTERVALS, TI_ACCURACY };
enum { A_FORMAT_VERSION, A_MANIFEST, A_SIGNATURE, A_HELD_INTERVALS, A_SEGMENT_DATA };
enum { ENC_DENSE_F32, ENC_INT8, ENC_CODEBOOK };
enum { CODING_RANGE, CODING_RICE };
enum { ACT_LINEAR, ACT_RELU, ACT_SOFTMAX, ACT_SIGMOID, ACT_TANH, ACT_RELU6 };
enum { KIND_DENSE, KIND_CONV, KIND_DEPTHWISE, KIND_MAX_POOL, KIND_AVG_POOL, KIND_GLOBAL_AVG_POOL };

/* wg_model.graph (WG_SPATIAL builds): a format version 2 manifest; its
 * first layer reads a feature map (so every layer but the trailing Dense
 * ones is spatial, and the preprocessed input is kept in the arena). */
#define WG_GRAPH_V2 1u
#define WG_GRAPH_MAP 2u

/* ---- the manifest, read (wg_manifest.c) ---- */

/* The interval table, as wg_model holds it. */
typedef struct wg_intervals {
    const uint8_t *buf;
    uint32_t bounds_at, ids_at, count;
    uint8_t edges;
} wg_intervals;

/* Walks the segment table: one record per call. */
typedef struct wg_seg_iter {
    const uint8_t *table;
    uint32_t at, len;
    uint32_t index;   /* segment number of the record just read */
    uint32_t tensor;  /* its tensor */
    uint32_t code;    /* interval code: 0 base, else 1 + index in the interval table */
    uint32_t count;   /* entries */
    uint32_t bytes;   /* byte length */
} wg_seg_iter;

/* Starts a walk over a read model's segment table. */
void wg_seg_begin(wg_seg_iter *it, const wg_model *m);
/* Reads the next record of a checked table; 0 at the end. */
int wg_seg_next(wg_seg_iter *it);

/* readManifest's checks; fills the manifest part of `m`. Stack only. */
wg_status wg_manifest_read(wg_model *m, const uint8_t *manifest, uint32_t len);

/* The tensor table at index t, its element count, shape rank, last dimension. */
uint32_t wg_tensor(const wg_model *m, uint32_t t);
uint32_t wg_tensor_elements(const wg_model *m, uint32_t t);
uint32_t wg_tensor_channels(const wg_model *m, uint32_t t);
/* The layer table at index l. */
uint32_t wg_layer(const wg_model *m, uint32_t l);
/* Interval bounds of interval index i. */
float wg_interval_lower(const wg_model *m, uint32_t i);
float wg_interval_upper(const wg_model *m, uint32_t i);
uint32_t wg_interval_id(const wg_model *m, uint32_t i);
/* Whether the held intervals include interval code `code` (0 = base: always). */
int wg_holds(const wg_model *m, uint32_t code);

/* ---- segment decoding (wg_segment.c) ---- */

/* The encoder of a segment in compare mode (validation). */
typedef struct wg_reencoder {
    uint64_t low;
    uint32_t range, cache, cache_size, shifted, zeros, at;
    uint8_t mismatch;
} wg_reencoder;

/* One open segment: decoder registers and where its models live. */
typedef struct wg_cursor {
    const uint8_t *data;
    uint32_t len;
    uint32_t byte_index; /* next stream byte; range: may pass len by up to 4 */
    uint32_t range, code; /* range coder; Rice: the next stream bits (first in
                             the top bit) in `code`, how many in `range` */
    uint16_t *probs;
    const float *centroids; /* local centroids (codebook segments) */
    const uint8_t *scales;  /* int8: the tensor's scales (f32 LE) */
    uint32_t centroid_count;
    uint32_t code_bits, max_exponent, code_at;
    uint32_t kind, channels, elements, remaining, value_index;
    uint32_t value_index_end; /* where the stream starts (after the value block) */
    uint32_t count;
    int32_t previous;
    uint8_t coding;      /* CODING_RANGE or CODING_RICE */
    uint8_t rice_k;      /* Rice: the parameter k (docs/format.md 5.10) */
    /* validation: re-encode every decoded bit and compare (NULL at inference) */
    wg_reencoder *check;
    uint32_t pending; /* a bad value seen in the current 64-entry chunk */
} wg_cursor;


/* Decoder bytes of one segment: align4(2 * models) + 4 * centroids, where
 * a Rice segment has no models. */
uint32_t wg_segment_decoder_bytes(const wg_model *m, uint32_t tensor, uint32_t code);
/* The local centroids of segment (tensor, code): 0 unless codebook-sparse. */
uint32_t wg_segment_centroids(const wg_model *m, uint32_t tensor, uint32_t code);
/* Bits of a local code for n centroids: 0 for n <= 1, else ceil(log2 n). */
uint32_t wg_code_bits(uint32_t n);
/* The tensor's segment coding (CODING_RANGE unless the manifest says rice). */
uint32_t wg_tensor_coding(const wg_model *m, uint32_t tensor);
/* Whether this build decodes `coding` (WG_CODING_RANGE, WG_CODING_RICE). */
static inline int wg_coding_built(uint32_t coding)
{
    return coding == CODING_RICE ? WG_CODING_RICE : coding == CODING_RANGE ? WG_CODING_RANGE : 0;
}
/* The Rice parameter of `count` >= 1 entries among `elements`: k =
 * floor(log2(m)) for m = floor(elements / count) >= 2, else 0. */
uint32_t wg_rice_k(uint32_t elements, uint32_t count);

/* Opens segment (tensor, code) over data[0..len) with its state at `mem`.
 * With `check` (validation) every entry is checked as formats'
 * validateSegment does, and the stream re-encoded and compared. */
wg_status wg_cursor_open(wg_cursor *c, const wg_model *m, uint32_t tensor, uint32_t code, uint32_t count,
                         const uint8_t *data, uint32_t len, uint8_t *mem, wg_reencoder *check);
/* Next entry: position and value; WG_OK, or the decode (or check) error. */
wg_status wg_cursor_next(wg_cursor *c, uint32_t *position, float *value, uint32_t *raw);

/* The writer's canonical form (wg_canonical.c): WG_E_BAD_VALUE otherwise. */
wg_status wg_manifest_canonical(const wg_model *m);
wg_status wg_artifact_canonical(const wg_model *m);

/* The SHA-256 of segment i in the manifest. */
const uint8_t *wg_segment_hash(const wg_model *m, uint32_t i);

/* ---- SHA-256 one-shot over the given crypto ---- */
void wg_hash(const wg_crypto *crypto, const uint8_t *data, size_t len, uint8_t digest[32]);

/* Per-layer state in the arena (16 bytes, docs/arithmetic.md "layers"). */
typedef struct wg_layer_state {
    int32_t fw, fb;         /* int path exponents (64 when nothing held) */
    uint32_t flags;         /* WG_LS_* */
    uint32_t reserved;
} wg_layer_state;
#define WG_LS_BIAS_HELD 1u   /* the layer holds bias entries */

/* ---- kernels (wg_invoke.c, wg_image.c) ---- */

#ifdef WG_ARITH_INT
typedef int32_t wg_acc;
#else
typedef float wg_acc;
#endif

/* One layer's evaluation: input (raw bytes for layer 0, else the previous
 * layer's outputs) and output, both in place in the arena. */
typedef struct wg_layer_io {
    const uint8_t *raw;  /* layer 0: the sample */
    const wg_acc *in;    /* later layers */
    wg_acc *out;
    uint32_t inputs, units;
    int32_t in_bound;    /* int: X_0 for the raw input */
    int32_t fw, fb, fa;  /* int: exponents (fa = accumulator's) */
    uint32_t bias_held;
#if WG_SPATIAL
    const struct wg_geom *geom; /* the layer's geometry (kind KIND_DENSE: a Dense layer); the image kernels' */
#endif
} wg_layer_io;

#define WG_OPEN_READY 0x80u

/* The input feature of row i. */
static inline wg_acc wg_input_at(const wg_model *m, const wg_layer_io *io, uint32_t i)
{
#ifdef WG_ARITH_INT
    int32_t x;
    if (!io->raw) return io->in[i];
    /* raw * S alone may pass 2^31 when the offset is large and negative;
     * raw * S + O does not (it lies between O and 255 S + O) */
    x = wg_rsh_in((int32_t)((int64_t)io->raw[i] * m->in_scale + m->in_offset), 15u);
    return x > io->in_bound ? io->in_bound : x < -io->in_bound ? -io->in_bound : x;
#else
    float x;
    if (!io->raw) return io->in[i];
    x = (float)io->raw[i] * m->scale;
    return x + m->offset;
#endif
}

/* out[col] += x * w, the path's way. */
static inline void wg_add_term(const wg_layer_io *io, uint32_t col, wg_acc x, float w)
{
#ifdef WG_ARITH_INT
    io->out[col] += x * (int32_t)wg_rnd_pow2_bits(w, io->fw);
#else
    float t = x * w;
    io->out[col] = io->out[col] + t;
#endif
}

/* out[j] += bias value b (a held bias entry), the path's way. */
static inline void wg_add_bias(const wg_layer_io *io, uint32_t j, float b)
{
#ifdef WG_ARITH_INT
    io->out[j] += wg_rsh((int32_t)wg_rnd_pow2_bits(b, io->fb), io->fb - io->fa);
#else
    io->out[j] = io->out[j] + b;
#endif
}

/* Inference (no check): decodes every entry of a segment just opened and
 * adds its terms to io->out, the path's way. Position p is row p / units,
 * column p % units (a bias: units = its elements, inputs = 1, and io's
 * input the constant 1); rows must stay below `inputs`. Not in a
 * WG_CODED_COMPACT build (CMake WG_CODED_FAST=OFF), whose coded kernel
 * reads an entry at a time through wg_cursor_next. */
wg_status wg_cursor_run(wg_cursor *c, const wg_model *m, const wg_layer_io *io, uint32_t units, uint32_t inputs,
                        int is_bias);

/* ---- execution image layout (wg_image.c) ---- */

/* Bytes a merged segment takes in the image build's working memory beside
 * its decoder: its cursor, its validation encoder, a one-entry look-ahead
 * and a flag, for any pointer width up to 64 bits. */
#define WG_MERGE_SLOT_BYTES 192u

typedef struct wg_image_layer_info {
    uint32_t inputs, units, kernel, entries;
#if WG_SPATIAL
    uint32_t outputs; /* bias values: units, or a convolution's output channels */
#endif
    int32_t bias;
    uint32_t count_bytes, entry_bytes, col_bits, table_length;
    uint32_t counts_at, entries_at, values_at, bias_at;
    uint32_t kernel_work, bias_work; /* merge working memory of each tensor */
    uint32_t packs;                  /* column and table index fit 32 bits */
} wg_image_layer_info;

/* Weighted layer l's sections from image offset `at`; returns the offset
 * after them. The image holds the model's weighted layers (Dense, conv2d,
 * depthwise-conv2d), pooling layers none. */
uint32_t wg_image_layout(const wg_model *m, uint32_t l, uint32_t at, wg_image_layer_info *info);

#ifdef WG_ARITH_INT
/* The input's exponent and integer preprocess, once every layer's
 * exponents are known (wg_open.c). */
wg_status wg_prepare_input(wg_model *m);
#endif

/* The image's flash bytes and build memory into `plan` (wg_image.c). */
void wg_image_plan_model(const wg_model *m, wg_plan_info *plan);

/* ---- convolutional models (wg_spatial.c, WG_SPATIAL builds) ---- */

/* One layer's geometry (docs/format.md 3.1.1): its input map [h, w, c]
 * (a vector of n values: 1 x 1 x n), window, strides, the zero rows above
 * and columns left of the input (TensorFlow's 'same'), and its output. */
typedef struct wg_geom {
    uint32_t kind;
    uint32_t h, w, c;
    uint32_t kh, kw, sh, sw;
    uint32_t pt, pl;
    uint32_t oh, ow, oc;
} wg_geom;

/* The output sides and padding before of a windowed layer from its input,
 * window and strides; padding 0 valid, 1 same. An output side is 0 when
 * the window does not fit ('valid'). */
void wg_geom_window(wg_geom *g, uint32_t padding);

/* format_version 2's layer rules (docs/format.md 3.3, rule 6) for a
 * manifest of `version` 1 or 2, in formats' order of checks (all
 * WG_E_BAD_VALUE); sets m->graph. */
wg_status wg_graph_check(wg_model *m, uint32_t version, uint32_t tensor_count);

/* Elements of the two activation regions (docs/arithmetic.md, "The arena
 * plan"): the largest output of the even and of the odd layers, the
 * preprocessed input counted as an odd one when it is a map; then the last
 * layer's output (a checked manifest; each below 2^56). */
void wg_graph_regions(const wg_model *m, uint64_t regions[3]);

/* The geometry of layer table `layer` reading g's output (a checked
 * chain): moves g's output to its input and fills the rest. `first`: the
 * layer reads the preprocessed input. */
void wg_geom_next(const wg_model *m, uint32_t layer, wg_geom *g, int first);

#if WG_SPATIAL
/* Runs a layer that is not Dense (io->in its input map, io->out its
 * output, every cell written) with the coded kernels, the path's way (int:
 * io's exponents, docs/arithmetic.md "Convolutional layers (int path)");
 * g is the geometry (wg_geom_next). io->units becomes its output's
 * element count. */
wg_status wg_spatial_layer(const wg_model *m, uint32_t layer, wg_layer_io *io, const wg_geom *g);

/* The operators (conv.ts), apart for the unit tests. */
typedef struct wg_conv {
    const wg_geom *g;
    uint32_t last_dim; /* the kernel's last dimension: outputs, or the depth multiplier */
    uint32_t per_tap;  /* entries of one tap (ky, kx): c x last_dim */
    uint32_t tap;      /* the tap of the last entry; 0xffffffff before the first */
    int32_t iy, ix;    /* its input row and column for output (0, 0) */
    uint32_t oy0, oy1, ox0, ox1; /* the outputs whose input cell of the tap is inside */
} wg_conv;
void wg_conv_begin(wg_conv *k, const wg_geom *g);
/* out[cell, o] += x * w for every output cell the kernel entry at
 * `position` reaches whose input x is not 0, cells row-major: fl32(x * w)
 * on the f32 path, on the int path w is the entry's wq (int8). */
void wg_conv_entry(wg_conv *k, const wg_acc *in, wg_acc *out, uint32_t position, wg_acc w);
/* Max or average pooling (g->kind), the global average pool; on the int
 * path an average is the exact sum (int64) rounded by wg_rdiv. */
void wg_pool(const wg_geom *g, const wg_acc *in, wg_acc *out);
void wg_global_pool(const wg_geom *g, const wg_acc *in, wg_acc *out);
#endif

#if WG_SPATIAL_INT
/* The first weighted layer (Dense, conv2d, depthwise) at or after layer
 * index `from`, or layer_count when only pooling follows; *bound gets its
 * X_l (from its terms), or 32767 when there is none (docs/arithmetic.md,
 * "The bound ahead"). */
uint32_t wg_weighted_ahead(const wg_model *m, uint32_t from, int32_t *bound);
/* rdiv(a, k) = sign(a) floor((2|a| + k) / (2k)): a / k rounded to the
 * nearest integer, halves away from zero (|a| < 2^39, 1 <= k <= 2^24). */
int32_t wg_rdiv(int64_t a, uint32_t k);
/* relu6 on accumulators at exponent fa: clamp to [0, floor(6 * 2^fa)]. */
void wg_relu6_int(wg_acc *out, uint32_t n, int32_t fa);
#endif

/* Structure, manifest and held intervals of an artifact into `m` (wg_open.c). */
wg_status wg_read_structure(wg_model *m, const uint8_t *artifact, size_t len);

/* The arena plan of a model read into `m` (no image numbers). */
void wg_plan_model(const wg_model *m, wg_plan_info *plan);

#endif /* WG_INTERNAL_H */

// Caps the verifier enforces on untrusted bytes before anything is decoded.
// They are far above what a microcontroller model needs (the 784-128-64-10
// MLP has 6 tensors, 109,386 elements, <= 100 segments) and far below what
// would let a forged count make a decoder allocate or loop for long.

/** .wgm / .wgp files larger than this are refused (64 MiB). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
export const MAX_TENSORS = 1024;
export const MAX_LAYERS = 1024;
/** Elements of one tensor (16 Mi float32 = 64 MiB dense). */
export const MAX_TENSOR_ELEMENTS = 1 << 24;
export const MAX_RANK = 8;
export const MAX_INTERVALS = 1024;
export const MAX_TIERS = 256;
export const MAX_SEGMENTS = 65536;
export const MAX_STRING_BYTES = 256;
/** A codebook has at most 2^8 centroids (bits = 1..8). */
export const MAX_CODEBOOK = 256;
/** FlatBuffers nesting depth (our schemas need 3: root, table, vector of tables). */
export const MAX_DEPTH = 8;

/** The container's version (artifact and patch tables) and a manifest of Dense layers only. */
export const FORMAT_VERSION = 1;
/** A manifest that uses anything added for convolutional models (layer kinds beyond Dense, relu6). */
export const GRAPH_FORMAT_VERSION = 2;
export const SHA256_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

// Constants of the .wgp patch format (docs/format.md §8).
/** A source segment with the same SHA-256 exists: no payload, and not named in the patch (implied). */
export const OP_REUSE = 0;
/** Payload: the segment's bytes (length from the manifest); implied for a segment the source does not hold and the patch names no delta for. */
export const OP_WHOLE = 1;
/** Payload: a byte delta (byte-delta.ts) against the source's same (tensor, interval) segment. */
export const OP_BYTE_DELTA = 2;
/** Payload: an entry delta (entry-delta.ts) against the source's same (tensor, interval) segment. */
export const OP_ENTRY_DELTA = 3;

export const PATCH_IDENTIFIER = 'WGP1';
/** The patch's own format_version; artifacts and manifests stay at caps.ts' FORMAT_VERSION. */
export const PATCH_FORMAT_VERSION = 2;
/** Bytes of A's and B's SHA-256 the body carries (the base and the check). */
export const PATCH_HASH_PREFIX_BYTES = 4;
/** The body's manifest byte: B's manifest is A's (and so is its signature), a delta against A's, or whole in the `manifest` field. */
export const MANIFEST_SAME = 0;
export const MANIFEST_DELTA = 1;
export const MANIFEST_WHOLE = 2;
/** Added to the manifest byte when a 64-byte signature of B's manifest follows. */
export const MANIFEST_SIGNED = 4;

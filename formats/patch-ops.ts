// The op byte of each target segment in a .wgp patch.

/** A source segment with the same SHA-256 exists: no payload. */
export const OP_REUSE = 0;
/** Payload: the segment's bytes (length from the manifest). */
export const OP_WHOLE = 1;
/** Payload: a byte delta (byte-delta.ts) against the source's same (tensor, interval) segment. */
export const OP_BYTE_DELTA = 2;
/** Payload: an entry delta (entry-delta.ts) against the source's same (tensor, interval) segment. */
export const OP_ENTRY_DELTA = 3;

export const PATCH_IDENTIFIER = 'WGP1';

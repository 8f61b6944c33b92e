// The body of a .wgp patch (docs/format.md §8.2): a head saying what B is in
// a few bytes, then the segment payloads.
//
//   4 bytes  base         SHA-256(A)[0..4): a patch for another artifact is refused early (WRONG_BASE)
//   4 bytes  check        SHA-256(B)[0..4): compared with what the applier wrote, last
//   varint   to_version   B's manifest's version
//   varint   m, m bytes   toggle mask over B's interval table (bit i of byte j: entry 8j + i);
//                         B holds an interval iff A holds it XOR its bit is set
//   u8       manifest     MANIFEST_SAME | MANIFEST_DELTA | MANIFEST_WHOLE, + MANIFEST_SIGNED
//   64 bytes              B's signature, if MANIFEST_SIGNED
//   varint   n, n bytes   B's manifest as a delta against A's, if MANIFEST_DELTA
//   varint   c, c varints 2 * gap + (op - OP_BYTE_DELTA): the segments rebuilt by a delta,
//                         gap = segments B holds passed since the previous one
//   the rest              data: the payloads, in B's segment order
//
// Every other segment B holds is OP_REUSE if A holds a segment with its
// SHA-256, else OP_WHOLE: neither is named.
import { FormatError } from '../errors.ts';
import { readBytes, readVarint, writeVarint, type ByteCursor } from '../container/varint.ts';
import { ED25519_SIGNATURE_BYTES, MAX_INTERVALS, MAX_SEGMENTS } from '../caps.ts';
import { MANIFEST_DELTA, MANIFEST_SAME, MANIFEST_SIGNED, MANIFEST_WHOLE, OP_BYTE_DELTA, PATCH_HASH_PREFIX_BYTES } from './patch-ops.ts';

/** A target segment rebuilt by a delta: its index among the segments B holds, and its op. */
export interface PatchChange {
  at: number;
  op: number;
}

/** Everything a .wgp holds; buildPatchBytes (patch-writer.ts) is its one writer. */
export interface PatchFields {
  /** SHA-256(A)[0..4). */
  base: Uint8Array;
  /** SHA-256(B)[0..4). */
  check: Uint8Array;
  toVersion: number;
  /** Toggle mask over B's interval table; canonical: no trailing zero byte. */
  toggles: Uint8Array;
  /** B's manifest whole or as a delta against A's (at most one); both null: A's manifest and signature. */
  manifest: Uint8Array | null;
  manifestDelta: Uint8Array | null;
  /** B's signature, only with a manifest or a manifest delta. */
  signature: Uint8Array | null;
  /** The segments rebuilt by a delta, by ascending index. */
  changes: PatchChange[];
  /** The payloads. */
  data: Uint8Array;
}

/** The body's bytes before `data`. */
export function encodeHead(f: PatchFields): Uint8Array {
  const out: number[] = [...f.base, ...f.check];
  writeVarint(out, f.toVersion);
  writeVarint(out, f.toggles.length);
  out.push(...f.toggles);
  const mode = f.manifestDelta ? MANIFEST_DELTA : f.manifest ? MANIFEST_WHOLE : MANIFEST_SAME;
  out.push(mode + (f.signature ? MANIFEST_SIGNED : 0));
  if (f.signature) out.push(...f.signature);
  if (f.manifestDelta) {
    writeVarint(out, f.manifestDelta.length);
    for (const byte of f.manifestDelta) out.push(byte);
  }
  writeVarint(out, f.changes.length);
  let next = 0;
  for (const { at, op } of f.changes) {
    writeVarint(out, 2 * (at - next) + op - OP_BYTE_DELTA);
    next = at + 1;
  }
  return Uint8Array.from(out);
}

/**
 * Splits a body into fields; `manifest` is the patch's `manifest` field
 * (present iff the manifest byte says MANIFEST_WHOLE). Returns the fields
 * and the head's length (the body's bytes before data).
 */
export function decodeBody(body: Uint8Array, manifest: Uint8Array | null): { fields: PatchFields; headBytes: number } {
  const c: ByteCursor = { bytes: body, at: 0, end: body.length, what: 'patch body' };
  const base = readBytes(c, PATCH_HASH_PREFIX_BYTES);
  const check = readBytes(c, PATCH_HASH_PREFIX_BYTES);
  const toVersion = readVarint(c);
  const maskBytes = readVarint(c);
  if (maskBytes > MAX_INTERVALS / 8) throw new FormatError('BAD_VALUE', `patch: toggle mask of ${maskBytes} bytes, over ${MAX_INTERVALS / 8}`);
  const toggles = readBytes(c, maskBytes);
  if (maskBytes > 0 && toggles[maskBytes - 1] === 0) throw new FormatError('BAD_VALUE', 'patch: toggle mask ends in a zero byte');
  const byte = readBytes(c, 1)[0]!;
  const mode = byte & ~MANIFEST_SIGNED;
  const signed = (byte & MANIFEST_SIGNED) !== 0;
  if (mode > MANIFEST_WHOLE) throw new FormatError('BAD_VALUE', `patch: manifest byte ${byte}`);
  if (signed && mode === MANIFEST_SAME) throw new FormatError('BAD_SIGNATURE', 'patch: a signature without a new manifest');
  if ((mode === MANIFEST_WHOLE) !== (manifest !== null))
    throw new FormatError('BAD_VALUE', `patch: manifest byte ${byte} ${manifest ? 'with' : 'without'} a manifest field`);
  const signature = signed ? readBytes(c, ED25519_SIGNATURE_BYTES) : null;
  const manifestDelta = mode === MANIFEST_DELTA ? readBytes(c, readVarint(c)) : null;
  const count = readVarint(c);
  if (count > MAX_SEGMENTS) throw new FormatError('BAD_VALUE', `patch: ${count} delta ops, over ${MAX_SEGMENTS}`);
  const changes: PatchChange[] = [];
  let next = 0;
  for (let i = 0; i < count; i++) {
    const v = readVarint(c);
    const at = next + Math.floor(v / 2);
    if (at >= MAX_SEGMENTS) throw new FormatError('BAD_VALUE', `patch: delta op for segment ${at}, over ${MAX_SEGMENTS}`);
    changes.push({ at, op: OP_BYTE_DELTA + (v % 2) });
    next = at + 1;
  }
  const fields: PatchFields = { base, check, toVersion, toggles, manifest, manifestDelta, signature, changes, data: body.subarray(c.at) };
  return { fields, headBytes: c.at };
}

/** B's held intervals: an interval of B's table is held iff A holds it XOR its toggle bit is set; ascending. */
export function heldFromToggles(intervalIds: number[], sourceLicense: readonly number[], toggles: Uint8Array): number[] {
  for (let k = intervalIds.length; k < 8 * toggles.length; k++) {
    if ((toggles[k >> 3]! >> (k & 7)) & 1) throw new FormatError('BAD_VALUE', `patch: toggle bit ${k} past the target's ${intervalIds.length} intervals`);
  }
  const held = new Set(sourceLicense);
  const out: number[] = [];
  intervalIds.forEach((id, k) => {
    const bit = k < 8 * toggles.length ? (toggles[k >> 3]! >> (k & 7)) & 1 : 0;
    if (held.has(id) !== (bit === 1)) out.push(id);
  });
  return out.sort((x, y) => x - y);
}

/** The toggle mask that turns `sourceLicense` into `targetLicense` over B's interval table. */
export function togglesOf(intervalIds: number[], sourceLicense: readonly number[], targetLicense: readonly number[]): Uint8Array {
  const a = new Set(sourceLicense);
  const b = new Set(targetLicense);
  const mask = new Uint8Array(Math.ceil(intervalIds.length / 8));
  intervalIds.forEach((id, k) => {
    if (a.has(id) !== b.has(id)) mask[k >> 3]! |= 1 << (k & 7);
  });
  let m = mask.length;
  while (m > 0 && mask[m - 1] === 0) m--;
  return mask.slice(0, m);
}

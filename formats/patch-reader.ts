// Reads .wgp patches: readPatchFields (verifier, then canonical form),
// readPatch (what a patch changes), and the pieces the applier
// (patch-stream.ts) shares: the manifest rebuilt from a delta, the
// wrong-base error.
import * as flatbuffers from 'flatbuffers';
import { Patch as FbPatch } from './gen/weightgate/fb/patch.ts';
import { verifyBuffer } from './flatbuffer-verifier.ts';
import { patchSpec } from './schema-specs.ts';
import { buildPatchBytes, type PatchFields } from './patch-writer.ts';
import { applyByteDelta, streamByteDelta } from './byte-delta.ts';
import { sha256Hex } from './signing.ts';
import { bytesEqual, toHex } from './bytes.ts';
import { FormatError } from './errors.ts';
import { ED25519_SIGNATURE_BYTES, FORMAT_VERSION, MAX_FILE_BYTES, SHA256_BYTES } from './caps.ts';
import { OP_BYTE_DELTA, OP_ENTRY_DELTA, OP_REUSE, OP_WHOLE, PATCH_IDENTIFIER } from './patch-ops.ts';
import type { PatchInfo } from './model.ts';
import { readVarint, type ByteCursor } from './varint.ts';

function readIds(length: number, at: (i: number) => number | null): number[] {
  const ids: number[] = [];
  for (let i = 0; i < length; i++) ids.push(at(i) ?? 0);
  return ids;
}

/** Verifies a .wgp and returns its fields; refuses anything buildPatchBytes would not write. */
export function readPatchFields(bytes: Uint8Array): PatchFields {
  verifyBuffer(bytes, PATCH_IDENTIFIER, patchSpec, 'patch');
  const fb = FbPatch.getRootAsPatch(new flatbuffers.ByteBuffer(bytes));
  if (fb.formatVersion() !== FORMAT_VERSION) {
    throw new FormatError('UNSUPPORTED_VERSION', `patch: format version ${fb.formatVersion()}; this build reads version ${FORMAT_VERSION}; upgrade weightgate`);
  }
  const fromSha256 = fb.fromSha256Array();
  const toSha256 = fb.toSha256Array();
  if (!fromSha256 || !toSha256 || fromSha256.length !== SHA256_BYTES || toSha256.length !== SHA256_BYTES) {
    throw new FormatError('BAD_VALUE', 'patch: from/to SHA-256 must be 32 bytes each');
  }
  const manifest = fb.manifestArray();
  const manifestDelta = fb.manifestDeltaArray();
  if (manifest && manifestDelta) throw new FormatError('BAD_VALUE', 'patch: carries both a manifest and a manifest delta');
  const signature = fb.signatureArray();
  if (signature && (signature.length !== ED25519_SIGNATURE_BYTES || !(manifest || manifestDelta))) {
    throw new FormatError('BAD_SIGNATURE', 'patch: signature must be 64 bytes and come with a manifest');
  }
  const fields: PatchFields = {
    model: fb.model() ?? '',
    fromVersion: fb.fromVersion(),
    toVersion: fb.toVersion(),
    fromLicense: readIds(fb.fromLicenseLength(), (i) => fb.fromLicense(i)),
    toLicense: readIds(fb.toLicenseLength(), (i) => fb.toLicense(i)),
    fromSha256,
    toSha256,
    manifest,
    manifestDelta,
    signature,
    ops: fb.opsArray() ?? new Uint8Array(0),
    data: fb.dataArray() ?? new Uint8Array(0),
  };
  for (const op of fields.ops) if (op > OP_ENTRY_DELTA) throw new FormatError('BAD_VALUE', `patch: unknown segment op ${op}`);
  if (!isCanonicalPatch(fields, bytes)) {
    throw new FormatError('BAD_VALUE', 'patch: bytes are not in canonical form (altered padding, layout or trailing bytes); the file is damaged');
  }
  return fields;
}

/**
 * Whether `bytes` are what buildPatchBytes writes for `f`, without copying
 * the payload (a device checks a patch where it was downloaded, in flash).
 * buildPatchBytes writes `data` first, so it ends the file as
 * [u32 length][data][zero padding to 4]; FlatBuffers offsets are relative and
 * laid out from the end, so every byte before it is the same for any payload
 * of the same length modulo 4: build with a 1..4-byte stand-in and compare
 * that prefix, the length and the padding.
 */
function isCanonicalPatch(f: PatchFields, bytes: Uint8Array): boolean {
  const length = f.data.length;
  if (length === 0) return bytesEqual(buildPatchBytes(f), bytes);
  const standIn = ((length - 1) & 3) + 1;
  const padding = -length & 3;
  const small = buildPatchBytes({ ...f, data: f.data.subarray(0, standIn) });
  const prefix = small.length - standIn - padding - 4;
  if (bytes.length !== prefix + 4 + length + padding) return false;
  if (!bytesEqual(small.subarray(0, prefix), bytes.subarray(0, prefix))) return false;
  if (new DataView(bytes.buffer, bytes.byteOffset + prefix, 4).getUint32(0, true) !== length) return false;
  for (let i = bytes.length - padding; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

export interface PatchDetails extends PatchInfo {
  /** Whether the patch carries the target's manifest (a new version), or reuses the source's. */
  carriesManifest: boolean;
  /** Target segments by how the patch rebuilds them. */
  reused: number;
  whole: number;
  delta: number;
  /** Payload bytes. */
  payloadBytes: number;
}

export function readPatch(bytes: Uint8Array): PatchDetails {
  const f = readPatchFields(bytes);
  const count = (wanted: number[]) => f.ops.reduce((n, op) => n + (wanted.includes(op) ? 1 : 0), 0);
  return {
    model: f.model,
    fromVersion: f.fromVersion,
    toVersion: f.toVersion,
    fromLicense: f.fromLicense,
    toLicense: f.toLicense,
    fromSha256: toHex(f.fromSha256),
    toSha256: toHex(f.toSha256),
    bytes: bytes.length,
    sha256: sha256Hex(bytes),
    carriesManifest: f.manifest !== null || f.manifestDelta !== null,
    reused: count([OP_REUSE]),
    whole: count([OP_WHOLE]),
    delta: count([OP_BYTE_DELTA, OP_ENTRY_DELTA]),
    payloadBytes: f.data.length,
  };
}

/**
 * The target manifest from a byte delta against the source's; its length is
 * what the delta makes. `allocate` gives the buffer it is rebuilt in (a
 * device: working memory; default: the heap).
 */
export function rebuildManifest(source: Uint8Array, delta: Uint8Array, allocate: (length: number) => Uint8Array = (length) => new Uint8Array(length)): Uint8Array {
  const c: ByteCursor = { bytes: delta, at: 0, end: delta.length, what: 'patch manifest delta' };
  const length = readVarint(c);
  if (length > MAX_FILE_BYTES) throw new FormatError('TOO_LARGE', `patch: manifest delta makes ${length} bytes`);
  // A dry run first: a damaged delta is refused before its length is allocated.
  const start = c.at;
  streamByteDelta(source, c, length, () => undefined);
  if (c.at !== c.end) throw new FormatError('BAD_VALUE', 'patch: trailing bytes after the manifest delta');
  c.at = start;
  return applyByteDelta(source, c, length, allocate(length));
}

export function wrongBase(expected: string, actual: string): FormatError {
  return new FormatError('WRONG_BASE', `patch starts from artifact ${expected.slice(0, 16)}…, but this artifact is ${actual.slice(0, 16)}…; fetch the patch for the artifact you hold`);
}

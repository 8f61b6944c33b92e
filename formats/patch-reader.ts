// readPatch and applyPatch. Applying rebuilds every segment the target holds,
// assembles the target canonically, and accepts it only when its SHA-256 is
// the one the patch names and it passes readArtifact (segment hashes against
// the manifest, and the signature when a public key is given).
import * as flatbuffers from 'flatbuffers';
import type { KeyObject } from 'node:crypto';
import { Patch as FbPatch } from './gen/weightgate/fb/patch.ts';
import { verifyBuffer } from './flatbuffer-verifier.ts';
import { patchSpec } from './schema-specs.ts';
import { readArtifact, readLicenseIds } from './artifact-reader.ts';
import { buildArtifactBytes } from './artifact-writer.ts';
import { buildPatchBytes, indexSegments, type PatchFields } from './patch-writer.ts';
import { readManifest, elementCount } from './manifest-reader.ts';
import { applyByteDelta } from './byte-delta.ts';
import { applyEntryDelta } from './entry-delta.ts';
import { decodeRawEntries, encodeRawEntries, rawBitsOf } from './segment-raw.ts';
import { sha256, sha256Hex } from './signing.ts';
import { licenseHolds } from './intervals.ts';
import { bytesEqual, toHex } from './bytes.ts';
import { FormatError } from './errors.ts';
import { ED25519_SIGNATURE_BYTES, FORMAT_VERSION, MAX_FILE_BYTES, SHA256_BYTES } from './caps.ts';
import { OP_BYTE_DELTA, OP_ENTRY_DELTA, OP_REUSE, OP_WHOLE, PATCH_IDENTIFIER } from './patch-ops.ts';
import type { Artifact, PatchInfo } from './model.ts';
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
export function rebuildManifest(source: Uint8Array, delta: Uint8Array, allocate = (length: number) => new Uint8Array(length)): Uint8Array {
  const c: ByteCursor = { bytes: delta, at: 0, end: delta.length, what: 'patch manifest delta' };
  const length = readVarint(c);
  if (length > MAX_FILE_BYTES) throw new FormatError('TOO_LARGE', `patch: manifest delta makes ${length} bytes`);
  const out = applyByteDelta(source, c, length, allocate(length));
  if (c.at !== c.end) throw new FormatError('BAD_VALUE', 'patch: trailing bytes after the manifest delta');
  return out;
}

export function applyPatch(from: Uint8Array, patch: Uint8Array, options: { publicKey?: KeyObject | string } = {}): Uint8Array {
  const fromSha = toHex(readPatchFields(patch).fromSha256);
  const actualFrom = sha256Hex(from);
  if (actualFrom !== fromSha) throw wrongBase(fromSha, actualFrom);
  return applyPatchToArtifact(readArtifact(from), patch, options).bytes;
}

export function wrongBase(expected: string, actual: string): FormatError {
  return new FormatError('WRONG_BASE', `patch starts from artifact ${expected.slice(0, 16)}…, but this artifact is ${actual.slice(0, 16)}…; fetch the patch for the artifact you hold`);
}

/**
 * applyPatch for a caller that already holds the source as a verified
 * Artifact (a device: its running model) and wants the result verified as an
 * Artifact: the source is not read again and the result is read once, so an
 * update costs one full verification instead of three (bench/device fleet).
 */
export function applyPatchToArtifact(source: Artifact, patch: Uint8Array, options: { publicKey?: KeyObject | string } = {}): Artifact {
  const f = readPatchFields(patch);
  const fromSha = toHex(f.fromSha256);
  if (source.sha256 !== fromSha) throw wrongBase(fromSha, source.sha256);
  const manifestBytes = f.manifest ?? (f.manifestDelta ? rebuildManifest(source.manifestBytes, f.manifestDelta) : source.manifestBytes);
  const newManifest = f.manifest !== null || f.manifestDelta !== null;
  const signature = newManifest ? f.signature : source.signature;
  const manifest = newManifest ? readManifest(manifestBytes) : source.manifest;
  const license = readLicenseIds(manifest, f.toLicense.length, (i) => f.toLicense[i]!, 'patch');
  const index = indexSegments(source);

  const cursor: ByteCursor = { bytes: f.data, at: 0, end: f.data.length, what: 'patch' };
  const held: Uint8Array[] = [];
  let op = 0;
  for (const ref of manifest.segments) {
    if (!licenseHolds(license, ref.interval)) continue;
    if (op >= f.ops.length) throw new FormatError('TRUNCATED', `patch: has ${f.ops.length} segment ops, the target holds more segments`);
    const kind = f.ops[op++]!;
    const where = `segment (tensor ${ref.tensor}, interval ${ref.interval})`;
    let segment: Uint8Array;
    if (kind === OP_REUSE) {
      const reused = index.byHash.get(toHex(ref.sha256));
      if (!reused) throw new FormatError('WRONG_BASE', `patch: reuses ${where}, which the source artifact does not hold`);
      segment = reused.data;
    } else if (kind === OP_WHOLE) {
      if (ref.bytes > cursor.end - cursor.at) throw new FormatError('TRUNCATED', `patch: data ends inside ${where}`);
      segment = f.data.subarray(cursor.at, cursor.at + ref.bytes);
      cursor.at += ref.bytes;
    } else {
      const base = index.byKey.get(ref.tensor * 0x10000 + ref.interval);
      if (!base) throw new FormatError('WRONG_BASE', `patch: has a delta against ${where}, which the source does not hold`);
      if (kind === OP_BYTE_DELTA) {
        segment = applyByteDelta(base.data, cursor, ref.bytes);
      } else {
        const sourceTensor = source.manifest.tensors[base.tensor]!;
        const tensor = manifest.tensors[ref.tensor]!;
        const elements = elementCount(tensor.shape);
        if (elementCount(sourceTensor.shape) !== elements) throw new FormatError('BAD_VALUE', `patch: entry delta for ${where} across tensors of different sizes`);
        const baseEntries = decodeRawEntries(base.tensor, sourceTensor, base.interval, source.manifest.intervals, base.count, base.data);
        const entries = applyEntryDelta(baseEntries, cursor, rawBitsOf(tensor, ref.interval, manifest.intervals), elements, ref.count);
        segment = encodeRawEntries(tensor, ref.interval, manifest.intervals, entries);
      }
    }
    if (segment.length !== ref.bytes || !bytesEqual(sha256(segment), ref.sha256)) {
      throw new FormatError('HASH_MISMATCH', `patch: rebuilt ${where} does not match the manifest's SHA-256; the patch is damaged`);
    }
    held.push(segment);
  }
  if (op !== f.ops.length || cursor.at !== cursor.end) {
    throw new FormatError('BAD_VALUE', `patch: ${f.ops.length - op} unused ops or ${cursor.end - cursor.at} unused data bytes`);
  }

  const result = buildArtifactBytes(manifestBytes, signature, license, held);
  if (!bytesEqual(sha256(result), f.toSha256)) {
    throw new FormatError('HASH_MISMATCH', `patch: the patched artifact's SHA-256 is not the ${toHex(f.toSha256).slice(0, 16)}… the patch promises; the patch is damaged`);
  }
  return readArtifact(result, options);
}

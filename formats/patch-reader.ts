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
import { readManifest, elementCount } from './manifest-reader.ts';
import { applyByteDelta } from './byte-delta.ts';
import { applyEntryDelta } from './entry-delta.ts';
import { decodeRawEntries, encodeRawEntries, rawBitsOf } from './segment-raw.ts';
import { sha256, sha256Hex } from './signing.ts';
import { licenseHolds } from './intervals.ts';
import { FormatError } from './errors.ts';
import { ED25519_SIGNATURE_BYTES, FORMAT_VERSION, SHA256_BYTES } from './caps.ts';
import { OP_BYTE_DELTA, OP_ENTRY_DELTA, OP_REUSE, OP_WHOLE, PATCH_IDENTIFIER } from './patch-ops.ts';
import type { PatchInfo, Segment } from './model.ts';
import type { ByteCursor } from './varint.ts';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function readIds(length: number, at: (i: number) => number | null): number[] {
  const ids: number[] = [];
  for (let i = 0; i < length; i++) ids.push(at(i) ?? 0);
  return ids;
}

function openPatch(bytes: Uint8Array): FbPatch {
  verifyBuffer(bytes, PATCH_IDENTIFIER, patchSpec, 'patch');
  const fb = FbPatch.getRootAsPatch(new flatbuffers.ByteBuffer(bytes));
  if (fb.formatVersion() !== FORMAT_VERSION) {
    throw new FormatError('UNSUPPORTED_VERSION', `patch: format version ${fb.formatVersion()}; this build reads version ${FORMAT_VERSION}; upgrade weightgate`);
  }
  if (fb.fromSha256Length() !== SHA256_BYTES || fb.toSha256Length() !== SHA256_BYTES) {
    throw new FormatError('BAD_VALUE', 'patch: from/to SHA-256 must be 32 bytes each');
  }
  const signature = fb.signatureArray();
  if (signature && (signature.length !== ED25519_SIGNATURE_BYTES || !fb.manifestArray())) {
    throw new FormatError('BAD_SIGNATURE', 'patch: signature must be 64 bytes and come with a manifest');
  }
  return fb;
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
  const fb = openPatch(bytes);
  const ops = fb.opsArray() ?? new Uint8Array(0);
  let reused = 0;
  let whole = 0;
  let delta = 0;
  for (const op of ops) {
    if (op === OP_REUSE) reused++;
    else if (op === OP_WHOLE) whole++;
    else if (op === OP_BYTE_DELTA || op === OP_ENTRY_DELTA) delta++;
    else throw new FormatError('BAD_VALUE', `patch: unknown segment op ${op}`);
  }
  return {
    model: fb.model() ?? '',
    fromVersion: fb.fromVersion(),
    toVersion: fb.toVersion(),
    fromLicense: readIds(fb.fromLicenseLength(), (i) => fb.fromLicense(i)),
    toLicense: readIds(fb.toLicenseLength(), (i) => fb.toLicense(i)),
    fromSha256: hex(fb.fromSha256Array()!),
    toSha256: hex(fb.toSha256Array()!),
    bytes: bytes.length,
    sha256: sha256Hex(bytes),
    carriesManifest: fb.manifestLength() > 0,
    reused,
    whole,
    delta,
    payloadBytes: fb.dataLength(),
  };
}

export function applyPatch(from: Uint8Array, patch: Uint8Array, options: { publicKey?: KeyObject | string } = {}): Uint8Array {
  const fb = openPatch(patch);
  const fromSha = hex(fb.fromSha256Array()!);
  const actualFrom = sha256Hex(from);
  if (actualFrom !== fromSha) {
    throw new FormatError('WRONG_BASE', `patch starts from artifact ${fromSha.slice(0, 16)}…, but this artifact is ${actualFrom.slice(0, 16)}…; fetch the patch for the artifact you hold`);
  }
  const source = readArtifact(from);
  const carried = fb.manifestArray();
  const manifestBytes = carried ?? source.manifestBytes;
  const signature = carried ? fb.signatureArray() : source.signature;
  const manifest = carried ? readManifest(manifestBytes) : source.manifest;
  const license = readLicenseIds(manifest, fb.toLicenseLength(), (i) => fb.toLicense(i), 'patch');

  const sourceByHash = new Map<string, Uint8Array>();
  const sourceByKey = new Map<number, Segment>();
  let i = 0;
  for (const ref of source.manifest.segments) {
    const held = source.segments[i];
    if (held && held.tensor === ref.tensor && held.interval === ref.interval) {
      sourceByHash.set(hex(ref.sha256), held.data);
      sourceByKey.set(ref.tensor * 0x10000 + ref.interval, held);
      i++;
    }
  }

  const ops = fb.opsArray() ?? new Uint8Array(0);
  const data = fb.dataArray() ?? new Uint8Array(0);
  const cursor: ByteCursor = { bytes: data, at: 0, end: data.length, what: 'patch' };
  const held: Uint8Array[] = [];
  let op = 0;
  for (const ref of manifest.segments) {
    if (!licenseHolds(license, ref.interval)) continue;
    if (op >= ops.length) throw new FormatError('TRUNCATED', `patch: has ${ops.length} segment ops, the target holds more segments`);
    const kind = ops[op++]!;
    const key = ref.tensor * 0x10000 + ref.interval;
    let segment: Uint8Array;
    if (kind === OP_REUSE) {
      const reused = sourceByHash.get(hex(ref.sha256));
      if (!reused) throw new FormatError('WRONG_BASE', `patch: reuses a segment (tensor ${ref.tensor}, interval ${ref.interval}) the source artifact does not hold`);
      segment = reused;
    } else if (kind === OP_WHOLE) {
      if (ref.bytes > cursor.end - cursor.at) throw new FormatError('TRUNCATED', `patch: segment data ends early`);
      segment = data.subarray(cursor.at, cursor.at + ref.bytes);
      cursor.at += ref.bytes;
    } else if (kind === OP_BYTE_DELTA || kind === OP_ENTRY_DELTA) {
      const base = sourceByKey.get(key);
      if (!base) throw new FormatError('WRONG_BASE', `patch: deltas against a segment (tensor ${ref.tensor}, interval ${ref.interval}) the source does not hold`);
      if (kind === OP_BYTE_DELTA) {
        segment = applyByteDelta(base.data, cursor, ref.bytes);
      } else {
        const sourceTensor = source.manifest.tensors[base.tensor]!;
        const tensor = manifest.tensors[ref.tensor]!;
        const elements = elementCount(tensor.shape);
        if (elementCount(sourceTensor.shape) !== elements) throw new FormatError('BAD_VALUE', `patch: entry delta across tensors of different sizes`);
        const baseEntries = decodeRawEntries(base.tensor, sourceTensor, base.interval, source.manifest.intervals, base.count, base.data);
        const entries = applyEntryDelta(baseEntries, cursor, rawBitsOf(tensor, ref.interval, manifest.intervals), elements, ref.count);
        segment = encodeRawEntries(tensor, ref.interval, manifest.intervals, entries);
      }
    } else {
      throw new FormatError('BAD_VALUE', `patch: unknown segment op ${kind}`);
    }
    const hash = sha256(segment);
    if (segment.length !== ref.bytes || !hash.every((v, j) => v === ref.sha256[j])) {
      throw new FormatError('HASH_MISMATCH', `patch: rebuilt segment (tensor ${ref.tensor}, interval ${ref.interval}) does not match the manifest's SHA-256; the patch is damaged`);
    }
    held.push(segment);
  }
  if (op !== ops.length || cursor.at !== cursor.end) {
    throw new FormatError('BAD_VALUE', `patch: ${ops.length - op} unused ops or ${cursor.end - cursor.at} unused data bytes`);
  }

  const result = buildArtifactBytes(manifestBytes, signature, license, held);
  const toSha = hex(fb.toSha256Array()!);
  if (sha256Hex(result) !== toSha) {
    throw new FormatError('HASH_MISMATCH', `patch: the patched artifact's SHA-256 is not the ${toSha.slice(0, 16)}… the patch promises; the patch is damaged`);
  }
  readArtifact(result, options);
  return result;
}

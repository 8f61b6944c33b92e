// diffArtifacts: a .wgp that turns artifact A into artifact B. Per segment B
// holds, the cheapest of: reuse a source segment with the same hash (free),
// a byte delta or an entry delta against A's same (tensor, interval)
// segment, or the whole bytes. B's manifest travels only when it differs
// from A's, so a license change of the same version carries almost nothing.
import * as flatbuffers from 'flatbuffers';
import { Patch as FbPatch } from './gen/weightgate/fb/patch.ts';
import { readArtifact } from './artifact-reader.ts';
import { diffBytes } from './byte-delta.ts';
import { diffEntries } from './entry-delta.ts';
import { decodeRawEntries, rawBitsOf } from './segment-raw.ts';
import { elementCount } from './manifest-reader.ts';
import { bytesEqual, concatBytes, toHex } from './bytes.ts';
import { writeVarint } from './varint.ts';
import { FORMAT_VERSION } from './caps.ts';
import { OP_BYTE_DELTA, OP_ENTRY_DELTA, OP_REUSE, OP_WHOLE, PATCH_IDENTIFIER } from './patch-ops.ts';
import type { Artifact, Segment } from './model.ts';

/** Everything a .wgp holds; buildPatchBytes is its one writer. */
export interface PatchFields {
  model: string;
  fromVersion: number;
  toVersion: number;
  fromLicense: number[];
  toLicense: number[];
  fromSha256: Uint8Array;
  toSha256: Uint8Array;
  /** The target's manifest, whole or as a byte delta against the source's; both null: the source's manifest and signature. */
  manifest: Uint8Array | null;
  manifestDelta: Uint8Array | null;
  signature: Uint8Array | null;
  ops: Uint8Array;
  data: Uint8Array;
}

export function buildPatchBytes(f: PatchFields): Uint8Array {
  const b = new flatbuffers.Builder(f.data.length + (f.manifest?.length ?? 0) + 512);
  // Empty vectors are left out (read back as empty): a downgrade patch has neither.
  const data = f.data.length ? b.createByteVector(f.data) : 0;
  const ops = f.ops.length ? b.createByteVector(f.ops) : 0;
  const signature = f.signature ? b.createByteVector(f.signature) : 0;
  const manifest = f.manifest ? b.createByteVector(f.manifest) : 0;
  const manifestDelta = f.manifestDelta ? b.createByteVector(f.manifestDelta) : 0;
  const toSha = b.createByteVector(f.toSha256);
  const fromSha = b.createByteVector(f.fromSha256);
  const toLicense = FbPatch.createToLicenseVector(b, f.toLicense);
  const fromLicense = FbPatch.createFromLicenseVector(b, f.fromLicense);
  const model = b.createString(f.model);
  FbPatch.startPatch(b);
  FbPatch.addFormatVersion(b, FORMAT_VERSION);
  FbPatch.addModel(b, model);
  FbPatch.addFromVersion(b, f.fromVersion);
  FbPatch.addToVersion(b, f.toVersion);
  FbPatch.addFromLicense(b, fromLicense);
  FbPatch.addToLicense(b, toLicense);
  FbPatch.addFromSha256(b, fromSha);
  FbPatch.addToSha256(b, toSha);
  if (manifest) FbPatch.addManifest(b, manifest);
  if (signature) FbPatch.addSignature(b, signature);
  if (ops) FbPatch.addOps(b, ops);
  if (data) FbPatch.addData(b, data);
  if (manifestDelta) FbPatch.addManifestDelta(b, manifestDelta);
  b.finish(FbPatch.endPatch(b), PATCH_IDENTIFIER);
  return b.asUint8Array().slice();
}

/** The held segments of an artifact keyed by (tensor, interval) and by SHA-256. */
export function indexSegments(artifact: Artifact): { byKey: Map<number, Segment>; byHash: Map<string, Segment> } {
  const byKey = new Map<number, Segment>();
  const byHash = new Map<string, Segment>();
  let i = 0;
  for (const ref of artifact.manifest.segments) {
    const held = artifact.segments[i];
    if (held && held.tensor === ref.tensor && held.interval === ref.interval) {
      byKey.set(ref.tensor * 0x10000 + ref.interval, held);
      byHash.set(toHex(ref.sha256), held);
      i++;
    }
  }
  return { byKey, byHash };
}

export function diffArtifacts(from: Uint8Array, to: Uint8Array): Uint8Array {
  const a = readArtifact(from);
  const b = readArtifact(to);
  const source = indexSegments(a);

  const ops: number[] = [];
  const payloads: Uint8Array[] = [];
  let s = 0;
  for (const ref of b.manifest.segments) {
    const segment = b.segments[s];
    if (!segment || segment.tensor !== ref.tensor || segment.interval !== ref.interval) continue;
    s++;
    if (source.byHash.has(toHex(ref.sha256))) {
      ops.push(OP_REUSE);
      continue;
    }
    let best = { op: OP_WHOLE, payload: segment.data };
    const base = source.byKey.get(ref.tensor * 0x10000 + ref.interval);
    if (base) {
      const byteDelta = diffBytes(base.data, segment.data);
      if (byteDelta.length < best.payload.length) best = { op: OP_BYTE_DELTA, payload: byteDelta };
      const entryDelta = entryDeltaOf(a, base, b, segment);
      if (entryDelta && entryDelta.length < best.payload.length) best = { op: OP_ENTRY_DELTA, payload: entryDelta };
    }
    ops.push(best.op);
    payloads.push(best.payload);
  }

  const sameManifest = bytesEqual(a.manifestBytes, b.manifestBytes) && sameSignature(a.signature, b.signature);
  const manifestDelta = sameManifest ? null : manifestDeltaOf(a.manifestBytes, b.manifestBytes);
  const deltaWins = manifestDelta !== null && manifestDelta.length < b.manifestBytes.length;
  return buildPatchBytes({
    model: b.manifest.model,
    fromVersion: a.manifest.version,
    toVersion: b.manifest.version,
    fromLicense: a.license,
    toLicense: b.license,
    fromSha256: Buffer.from(a.sha256, 'hex'),
    toSha256: Buffer.from(b.sha256, 'hex'),
    manifest: sameManifest || deltaWins ? null : b.manifestBytes,
    manifestDelta: deltaWins ? manifestDelta : null,
    signature: sameManifest ? null : b.signature,
    ops: Uint8Array.from(ops),
    data: concatBytes(payloads),
  });
}

/** varint target length + byte delta (the manifest's length is not known from elsewhere). */
function manifestDeltaOf(source: Uint8Array, target: Uint8Array): Uint8Array {
  const header: number[] = [];
  writeVarint(header, target.length);
  return concatBytes([Uint8Array.from(header), diffBytes(source, target)]);
}

function sameSignature(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : bytesEqual(a, b);
}

/** The entry delta, or null when the stored forms of the two segments are not comparable. */
function entryDeltaOf(a: Artifact, source: Segment, b: Artifact, target: Segment): Uint8Array | null {
  const ta = a.manifest.tensors[source.tensor]!;
  const tb = b.manifest.tensors[target.tensor]!;
  if (ta.encoding !== tb.encoding || ta.shape.join() !== tb.shape.join()) return null;
  const rawBits = rawBitsOf(tb, target.interval, b.manifest.intervals);
  if (rawBitsOf(ta, source.interval, a.manifest.intervals) !== rawBits) return null;
  const sourceRaw = decodeRawEntries(source.tensor, ta, source.interval, a.manifest.intervals, source.count, source.data);
  const targetRaw = decodeRawEntries(target.tensor, tb, target.interval, b.manifest.intervals, target.count, target.data);
  return diffEntries(sourceRaw, targetRaw, rawBits, elementCount(tb.shape));
}

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
import { FORMAT_VERSION } from './caps.ts';
import { OP_BYTE_DELTA, OP_ENTRY_DELTA, OP_REUSE, OP_WHOLE, PATCH_IDENTIFIER } from './patch-ops.ts';
import type { Artifact, Segment } from './model.ts';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function diffArtifacts(from: Uint8Array, to: Uint8Array): Uint8Array {
  const a = readArtifact(from);
  const b = readArtifact(to);

  const sourceByHash = new Set<string>();
  const sourceByKey = new Map<number, Segment>();
  const refOfSource = new Map<Segment, string>();
  let i = 0;
  for (const ref of a.manifest.segments) {
    const held = a.segments[i];
    if (held && held.tensor === ref.tensor && held.interval === ref.interval) {
      sourceByHash.add(hex(ref.sha256));
      sourceByKey.set(ref.tensor * 0x10000 + ref.interval, held);
      refOfSource.set(held, hex(ref.sha256));
      i++;
    }
  }

  const ops: number[] = [];
  const payloads: Uint8Array[] = [];
  let s = 0;
  for (const ref of b.manifest.segments) {
    const segment = b.segments[s];
    if (!segment || segment.tensor !== ref.tensor || segment.interval !== ref.interval) continue;
    s++;
    if (sourceByHash.has(hex(ref.sha256))) {
      ops.push(OP_REUSE);
      continue;
    }
    let best = { op: OP_WHOLE, payload: segment.data };
    const source = sourceByKey.get(ref.tensor * 0x10000 + ref.interval);
    if (source) {
      const byteDelta = diffBytes(source.data, segment.data);
      if (byteDelta.length < best.payload.length) best = { op: OP_BYTE_DELTA, payload: byteDelta };
      const entryDelta = entryDeltaOf(a, source, b, segment);
      if (entryDelta && entryDelta.length < best.payload.length) best = { op: OP_ENTRY_DELTA, payload: entryDelta };
    }
    ops.push(best.op);
    payloads.push(best.payload);
  }

  const sameManifest = sameBytes(a.manifestBytes, b.manifestBytes) && sameBytes(a.signature, b.signature);
  const builder = new flatbuffers.Builder(1024);
  let total = 0;
  for (const p of payloads) total += p.length;
  const data = new Uint8Array(total);
  let at = 0;
  for (const p of payloads) {
    data.set(p, at);
    at += p.length;
  }
  const dataVector = builder.createByteVector(data);
  const opsVector = builder.createByteVector(Uint8Array.from(ops));
  const signature = !sameManifest && b.signature ? builder.createByteVector(b.signature) : 0;
  const manifest = !sameManifest ? builder.createByteVector(b.manifestBytes) : 0;
  const toSha = builder.createByteVector(Buffer.from(b.sha256, 'hex'));
  const fromSha = builder.createByteVector(Buffer.from(a.sha256, 'hex'));
  const toLicense = FbPatch.createToLicenseVector(builder, b.license);
  const fromLicense = FbPatch.createFromLicenseVector(builder, a.license);
  const model = builder.createString(b.manifest.model);
  FbPatch.startPatch(builder);
  FbPatch.addFormatVersion(builder, FORMAT_VERSION);
  FbPatch.addModel(builder, model);
  FbPatch.addFromVersion(builder, a.manifest.version);
  FbPatch.addToVersion(builder, b.manifest.version);
  FbPatch.addFromLicense(builder, fromLicense);
  FbPatch.addToLicense(builder, toLicense);
  FbPatch.addFromSha256(builder, fromSha);
  FbPatch.addToSha256(builder, toSha);
  if (manifest) FbPatch.addManifest(builder, manifest);
  if (signature) FbPatch.addSignature(builder, signature);
  FbPatch.addOps(builder, opsVector);
  FbPatch.addData(builder, dataVector);
  builder.finish(FbPatch.endPatch(builder), PATCH_IDENTIFIER);
  return builder.asUint8Array().slice();
}

/** The entry delta, or null when the tensor's description changed (codebook, scales, encoding) and codes mean something else. */
function entryDeltaOf(a: Artifact, source: Segment, b: Artifact, target: Segment): Uint8Array | null {
  const ta = a.manifest.tensors[source.tensor]!;
  const tb = b.manifest.tensors[target.tensor]!;
  if (ta.encoding !== tb.encoding || ta.shape.join() !== tb.shape.join()) return null;
  const rawBits = rawBitsOf(tb, target.interval, b.manifest.intervals);
  if (rawBitsOf(ta, source.interval, a.manifest.intervals) !== rawBits) return null;
  const sourceRaw = decodeRawEntries(source.tensor, ta, source.interval, a.manifest.intervals, source.count, source.data);
  const targetRaw = decodeRawEntries(target.tensor, tb, target.interval, b.manifest.intervals, target.count, target.data);
  return diffEntries(sourceRaw, targetRaw, rawBits);
}

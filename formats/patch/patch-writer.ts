// diffArtifacts: a .wgp that turns artifact A into artifact B. Per segment B
// holds, the cheapest of: reuse a source segment with the same hash (free),
// a byte delta or an entry delta against A's same (tensor, interval)
// segment, or the whole bytes. B's manifest travels only when it differs
// from A's, so a set of held intervals change of the same version carries almost nothing:
// the head (patch-head.ts) and the added segments.
import * as flatbuffers from 'flatbuffers';
import { Patch as FbPatch } from '../gen/weightgate/fb/patch.ts';
import { readArtifact } from '../artifact/artifact-reader.ts';
import { diffBytes } from './byte-delta.ts';
import { diffEntries } from './entry-delta.ts';
import { decodeRawEntries, rawBitsOf } from '../coding/segment-raw.ts';
import { elementCount } from '../artifact/manifest-reader.ts';
import { bytesEqual, concatBytes, toHex } from '../container/bytes.ts';
import { diffManifest } from './patch-manifest-delta.ts';
import { OP_BYTE_DELTA, OP_ENTRY_DELTA, OP_WHOLE, PATCH_FORMAT_VERSION, PATCH_HASH_PREFIX_BYTES, PATCH_IDENTIFIER } from './patch-ops.ts';
import { encodeHead, togglesOf, type PatchChange, type PatchFields } from './patch-head.ts';
import type { Artifact, Segment } from '../model.ts';

export type { PatchChange, PatchFields } from './patch-head.ts';

export function buildPatchBytes(f: PatchFields): Uint8Array {
  return buildFrame(f, concatBytes([encodeHead(f), f.data]));
}

/**
 * The FlatBuffers frame of a patch around `body` (or, given a length, a
 * zero body of that length: the reader's canonical check).
 */
export function buildFrame(f: PatchFields, body: Uint8Array | number): Uint8Array {
  const bodyBytes = typeof body === 'number' ? new Uint8Array(body) : body;
  const b = new flatbuffers.Builder(bodyBytes.length + (f.manifest?.length ?? 0) + 64);
  // body first: the file ends [u32 length][body][padding], body ending in
  // data (the reader checks canonical form without copying data).
  const bodyVector = b.createByteVector(bodyBytes);
  const manifest = f.manifest ? b.createByteVector(f.manifest) : 0;
  FbPatch.startPatch(b);
  FbPatch.addFormatVersion(b, PATCH_FORMAT_VERSION);
  FbPatch.addBody(b, bodyVector);
  if (manifest) FbPatch.addManifest(b, manifest);
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
  return diffReadArtifacts(readArtifact(from), readArtifact(to));
}

/**
 * diffArtifacts on two artifacts already read (and verified) by the caller:
 * the work grows with the segments that differ (each one decoded for its
 * entry delta) and the manifests, not with the segments the two share.
 */
export function diffReadArtifacts(a: Artifact, b: Artifact): Uint8Array {
  const source = indexSegments(a);

  const changes: PatchChange[] = [];
  const payloads: Uint8Array[] = [];
  let s = 0;
  for (const ref of b.manifest.segments) {
    const segment = b.segments[s];
    if (!segment || segment.tensor !== ref.tensor || segment.interval !== ref.interval) continue;
    const at = s++;
    // Reused (implied) when A holds the same bytes.
    if (source.byHash.has(toHex(ref.sha256))) continue;
    let best = { op: OP_WHOLE, payload: segment.data };
    const sourceSegment = source.byKey.get(ref.tensor * 0x10000 + ref.interval);
    if (sourceSegment) {
      const byteDelta = diffBytes(sourceSegment.data, segment.data);
      if (byteDelta.length < best.payload.length) best = { op: OP_BYTE_DELTA, payload: byteDelta };
      const entryDelta = entryDeltaOf(a, sourceSegment, b, segment);
      if (entryDelta && entryDelta.length < best.payload.length) best = { op: OP_ENTRY_DELTA, payload: entryDelta };
    }
    // Whole is implied; a delta is named by its index.
    if (best.op !== OP_WHOLE) changes.push({ at, op: best.op });
    payloads.push(best.payload);
  }

  const sameManifest = bytesEqual(a.manifestBytes, b.manifestBytes) && sameSignature(a.signature, b.signature);
  const manifestDelta = sameManifest ? null : diffManifest(a.manifestBytes, b.manifestBytes);
  const deltaWins = manifestDelta !== null && manifestDelta.length < b.manifestBytes.length;
  return buildPatchBytes({
    base: Buffer.from(a.sha256, 'hex').subarray(0, PATCH_HASH_PREFIX_BYTES),
    check: Buffer.from(b.sha256, 'hex').subarray(0, PATCH_HASH_PREFIX_BYTES),
    toVersion: b.manifest.version,
    toggles: togglesOf(
      b.manifest.intervals.map((i) => i.id),
      a.heldIntervals,
      b.heldIntervals,
    ),
    changes,
    manifest: sameManifest || deltaWins ? null : b.manifestBytes,
    manifestDelta: deltaWins ? manifestDelta : null,
    signature: sameManifest ? null : b.signature,
    data: concatBytes(payloads),
  });
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

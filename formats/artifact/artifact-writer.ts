// Writes .wgm artifacts. Every path (encode, assemble, sign, patch) ends in
// buildArtifactBytes with the held segments in manifest order, so the bytes
// of a (version, held intervals) artifact are one canonical function of the
// manifest, signature, heldIntervals and segment bytes.
import * as flatbuffers from 'flatbuffers';
import type { KeyObject } from 'node:crypto';
import { Artifact as FbArtifact } from '../gen/weightgate/fb/artifact.ts';
import { FormatError } from '../errors.ts';
import { bytesEqual, concatBytes } from '../container/bytes.ts';
import { FORMAT_VERSION, GRAPH_FORMAT_VERSION } from '../caps.ts';
import { needsSpatialVersion } from './layer-graph.ts';
import { holdsInterval, normalizeHeldIntervals } from './intervals.ts';
import { writeManifest } from './manifest-writer.ts';
import { readManifest } from './manifest-reader.ts';
import { sha256, sha256Hex, signBytes } from './signing.ts';
import { encodeTensor } from '../coding/tensor-encoder.ts';
import { validateModelInput } from './input-validation.ts';
import { intervalLabel, type Artifact, type Manifest, type ModelInput, type ReleaseParts, type Segment, type SegmentRef } from '../model.ts';

export const ARTIFACT_IDENTIFIER = 'WGM1';

/** The one writer of .wgm bytes. `segmentData` are the held segments, in manifest order. */
export function buildArtifactBytes(
  manifestBytes: Uint8Array,
  signature: Uint8Array | null,
  held: readonly number[],
  segmentData: readonly Uint8Array[],
): Uint8Array {
  const joined = concatBytes(segmentData);
  const b = new flatbuffers.Builder(manifestBytes.length + joined.length + 256);
  const segments = b.createByteVector(joined);
  const heldVector = FbArtifact.createHeldIntervalsVector(b, [...held]);
  const signatureVector = signature ? b.createByteVector(signature) : 0;
  const manifest = b.createByteVector(manifestBytes);
  FbArtifact.startArtifact(b);
  FbArtifact.addFormatVersion(b, FORMAT_VERSION);
  FbArtifact.addManifest(b, manifest);
  if (signatureVector) FbArtifact.addSignature(b, signatureVector);
  FbArtifact.addHeldIntervals(b, heldVector);
  FbArtifact.addSegmentData(b, segments);
  b.finish(FbArtifact.endArtifact(b), ARTIFACT_IDENTIFIER);
  return b.asUint8Array().slice();
}

/** Checks a set of held intervals against the manifest's interval table; returns it sorted. */
export function checkHeldIntervals(manifest: Manifest, held: readonly number[]): number[] {
  const known = new Set(manifest.intervals.map((i) => i.id));
  for (const id of held) {
    if (!known.has(id))
      throw new FormatError(
        'BAD_INPUT',
        `held intervals name interval ${id}, which model "${manifest.model}" v${manifest.version} does not have (ids: ${[...known].join(', ')})`,
      );
  }
  return normalizeHeldIntervals(held);
}

export function encodeArtifact(input: ModelInput, options: { heldIntervals?: number[]; privateKey?: KeyObject | string } = {}): Uint8Array {
  validateModelInput(input);
  const intervals = input.intervals.map((i) => ({ id: i.id, lower: Math.fround(i.lower), upper: Math.fround(i.upper) }));
  const segments: SegmentRef[] = [];
  const data: Uint8Array[] = [];
  const tensors = input.tensors.map((tensor, t) => {
    const encoded = encodeTensor(tensor, intervals);
    for (const s of encoded.segments) {
      segments.push({ tensor: t, interval: s.interval, count: s.count, bytes: s.data.length, sha256: sha256(s.data) });
      data.push(s.data);
    }
    return encoded.info;
  });
  const manifest: Manifest = {
    formatVersion: needsSpatialVersion(input.layers) ? GRAPH_FORMAT_VERSION : FORMAT_VERSION,
    model: input.model,
    version: input.version,
    preprocess: { inputShape: [...input.preprocess.inputShape], scale: input.preprocess.scale, offset: input.preprocess.offset },
    layers: input.layers.map((l) => ({ ...l })),
    tensors,
    intervals,
    tiers: input.tiers.map((t) => ({ name: t.name, intervals: [...t.intervals], accuracy: t.accuracy })),
    segments,
  };
  const manifestBytes = writeManifest(manifest);
  const held = checkHeldIntervals(manifest, options.heldIntervals ?? intervals.map((i) => i.id));
  const signature = options.privateKey ? signBytes(manifestBytes, options.privateKey) : null;
  const heldData = data.filter((_, i) => holdsInterval(held, segments[i]!.interval));
  return buildArtifactBytes(manifestBytes, signature, held, heldData);
}

/**
 * The segments `held` (sorted) needs, from the parts, in manifest order.
 * `hashed`: each one's SHA-256 is checked against the manifest (input the
 * caller has not verified); else only its length.
 */
function heldSegments(parts: ReleaseParts, manifest: Manifest, held: readonly number[], hashed: boolean): Segment[] {
  const byKey = new Map<number, Uint8Array>();
  for (const s of parts.segments) byKey.set(s.tensor * 0x10000 + s.interval, s.data);
  const segments: Segment[] = [];
  for (const ref of manifest.segments) {
    if (!holdsInterval(held, ref.interval)) continue;
    const data = byKey.get(ref.tensor * 0x10000 + ref.interval);
    if (!data) {
      throw new FormatError(
        'MISSING_SEGMENT',
        `segment of tensor ${ref.tensor} (${manifest.tensors[ref.tensor]!.name}), ${intervalLabel(ref.interval)}, is needed for held intervals [${held}] but was not supplied`,
      );
    }
    if (data.length !== ref.bytes || (hashed && !bytesEqual(sha256(data), ref.sha256))) {
      throw new FormatError('HASH_MISMATCH', `segment of tensor ${ref.tensor}, ${intervalLabel(ref.interval)}: bytes do not match the manifest's SHA-256`);
    }
    segments.push({ tensor: ref.tensor, interval: ref.interval, count: ref.count, data });
  }
  return segments;
}

export function assembleArtifact(parts: ReleaseParts, held: number[]): Uint8Array {
  const manifest = readManifest(parts.manifestBytes);
  const sorted = checkHeldIntervals(manifest, held);
  const segments = heldSegments(parts, manifest, sorted, true);
  return buildArtifactBytes(
    parts.manifestBytes,
    parts.signature,
    sorted,
    segments.map((s) => s.data),
  );
}

/**
 * The Artifact of `held` over release parts the caller verified when it
 * stored them (a server checks every upload's signature, hashes and
 * segments at publish): the manifest is parsed (or taken from `manifest`,
 * parsed from the same bytes), nothing is hashed or decoded but the
 * assembled file's own SHA-256. For building patches from stored parts
 * without reading both artifacts back through readArtifact.
 */
export function artifactOfVerifiedParts(parts: ReleaseParts, held: number[], manifest: Manifest = readManifest(parts.manifestBytes)): Artifact {
  const sorted = checkHeldIntervals(manifest, held);
  const segments = heldSegments(parts, manifest, sorted, false);
  const bytes = buildArtifactBytes(
    parts.manifestBytes,
    parts.signature,
    sorted,
    segments.map((s) => s.data),
  );
  return { manifest, manifestBytes: parts.manifestBytes, signature: parts.signature, heldIntervals: sorted, segments, bytes, sha256: sha256Hex(bytes) };
}

// An artifact with its segments in another stream coding (range <-> rice),
// entry for entry the same weights: for a firmware team that runs the coded
// kernels from flash and wants the Rice build of a release it already has
// (docs/format.md §5.10). The manifest changes (each tensor's coding, each
// segment's length and SHA-256), so the result is signed anew or unsigned.
import type { KeyObject } from 'node:crypto';
import { FormatError } from '../errors.ts';
import { elementCount } from './manifest-reader.ts';
import { writeManifest } from './manifest-writer.ts';
import { buildArtifactBytes } from './artifact-writer.ts';
import { sha256, signBytes } from './signing.ts';
import { decodeRawEntries, rawBitsOf } from '../coding/segment-raw.ts';
import { SegmentWriter, valueKindOf } from '../coding/segment-encoder.ts';
import type { Artifact, Manifest, SegmentCoding, TensorInfo } from '../model.ts';

/**
 * `artifact` (read and verified by the caller) with every segment in
 * `coding`. It must hold every segment its manifest lists (a full tier):
 * the new manifest names each segment's SHA-256, which needs its bytes.
 */
export function recodeArtifact(artifact: Artifact, coding: SegmentCoding, options: { privateKey?: KeyObject | string } = {}): Uint8Array {
  const manifest = artifact.manifest;
  if (artifact.segments.length !== manifest.segments.length) {
    throw new FormatError(
      'BAD_INPUT',
      `recode: the artifact holds ${artifact.segments.length} of its model's ${manifest.segments.length} segments; recode the full tier (every interval held), then derive the others from it`,
    );
  }
  const tensors = manifest.tensors.map((t): TensorInfo => {
    const { coding: _old, ...rest } = t;
    return coding === 'rice' ? { ...rest, coding: 'rice' } : rest;
  });
  const data = artifact.segments.map((s) => {
    const source = manifest.tensors[s.tensor]!;
    const entries = decodeRawEntries(s.tensor, source, s.interval, manifest.intervals, s.count, s.data);
    const writer = new SegmentWriter(elementCount(source.shape), valueKindOf(source), rawBitsOf(source, s.interval, manifest.intervals), s.count, coding);
    for (let i = 0; i < entries.count; i++) writer.add(entries.positions[i]!, entries.raws[i]!);
    return writer.finish();
  });
  const recoded: Manifest = {
    ...manifest,
    tensors,
    segments: manifest.segments.map((ref, i) => ({ ...ref, bytes: data[i]!.length, sha256: sha256(data[i]!) })),
  };
  const manifestBytes = writeManifest(recoded);
  const signature = options.privateKey ? signBytes(manifestBytes, options.privateKey) : null;
  return buildArtifactBytes(manifestBytes, signature, artifact.heldIntervals, data);
}

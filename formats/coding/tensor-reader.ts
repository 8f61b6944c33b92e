// Reading weights out of a verified Artifact: the device's streaming cursor
// over one held segment, and a dense decode for tools and tests.
import { FormatError } from '../errors.ts';
import { elementCount } from '../artifact/manifest-reader.ts';
import { readEntries, SegmentCursor, type CursorMemory } from './segment-cursor.ts';
import type { Artifact } from '../model.ts';

export { SegmentCursor };

/**
 * A cursor over held segment `segmentIndex` (index into artifact.segments);
 * its models and centroids come from `memory` (default: the JS heap).
 */
export function openSegment(artifact: Artifact, segmentIndex: number, memory?: CursorMemory): SegmentCursor {
  const segment = artifact.segments[segmentIndex];
  if (!segment) throw new FormatError('OUT_OF_BOUNDS', `segment ${segmentIndex} does not exist; the artifact holds ${artifact.segments.length}`);
  const { manifest } = artifact;
  return new SegmentCursor(segment.tensor, manifest.tensors[segment.tensor]!, segment.interval, manifest.intervals, segment.count, segment.data, memory);
}

/**
 * Fills up to positions.length entries (flat position, dequantized value) in
 * ascending position order; returns how many, 0 at the end. Allocates nothing.
 */
export function readSegmentEntries(cursor: SegmentCursor, positions: Uint32Array, values: Float32Array): number {
  return readEntries(cursor, positions, values);
}

/** The whole tensor as float32; weights of segments the artifact does not hold read as 0. */
export function decodeTensor(artifact: Artifact, tensorIndex: number): Float32Array {
  const tensor = artifact.manifest.tensors[tensorIndex];
  if (!tensor) throw new FormatError('OUT_OF_BOUNDS', `tensor ${tensorIndex} does not exist; the model has ${artifact.manifest.tensors.length}`);
  const out = new Float32Array(elementCount(tensor.shape));
  const positions = new Uint32Array(256);
  const values = new Float32Array(256);
  artifact.segments.forEach((segment, i) => {
    if (segment.tensor !== tensorIndex) return;
    const cursor = openSegment(artifact, i);
    for (let n = readEntries(cursor, positions, values); n > 0; n = readEntries(cursor, positions, values)) {
      for (let j = 0; j < n; j++) out[positions[j]!] = values[j]!;
    }
  });
  return out;
}

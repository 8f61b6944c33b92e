// A segment as plain entry arrays (position + stored form), decoded through
// the device's cursor (diffing patches), and the canonical-form check of a
// segment: decode, re-encode through the encoder encodeArtifact uses, compare.
import { FormatError } from '../errors.ts';
import { elementCount } from '../artifact/manifest-reader.ts';
import { decodeEntries, SegmentCursor } from './segment-cursor.ts';
import { SegmentWriter, valueKindOf } from './segment-encoder.ts';
import { bytesEqual } from '../container/bytes.ts';
import { codeBitsFor, localCodebookIndices } from './segment-layout.ts';
import { intervalLabel, type Interval, type TensorInfo } from '../model.ts';

export interface RawEntries {
  count: number;
  positions: Uint32Array;
  /** Local code, int8 byte (0..255) or float32 bits. */
  raws: Uint32Array;
}

export function decodeRawEntries(
  tensorIndex: number,
  tensor: TensorInfo,
  intervalId: number,
  intervals: readonly Interval[],
  count: number,
  data: Uint8Array,
): RawEntries {
  const cursor = new SegmentCursor(tensorIndex, tensor, intervalId, intervals, count, data);
  const positions = new Uint32Array(count);
  const raws = new Uint32Array(count);
  decodeEntries(cursor, positions, new Float32Array(count), raws);
  return { count, positions, raws };
}

/** Bits of one entry's stored form. */
export function rawBitsOf(tensor: TensorInfo, intervalId: number, intervals: readonly Interval[]): number {
  if (tensor.encoding === 'dense-f32') return 32;
  if (tensor.encoding === 'int8') return 8;
  return codeBitsFor(localCodebookIndices(tensor, intervalId, intervals).length);
}

/**
 * Decodes a whole segment and checks it is canonical: every entry valid, no
 * zero or non-finite stored value, and re-encoding gives the same bytes (so
 * no trailing garbage, no alternative encoding of the same content). Streams
 * through 64-entry buffers: memory is bounded by the segment's own bytes, not
 * by the count the (untrusted) manifest claims.
 */
export function validateSegment(
  tensorIndex: number,
  tensor: TensorInfo,
  intervalId: number,
  intervals: readonly Interval[],
  count: number,
  data: Uint8Array,
): void {
  const where = `segment (tensor ${tensorIndex}, ${intervalLabel(intervalId)})`;
  const cursor = new SegmentCursor(tensorIndex, tensor, intervalId, intervals, count, data);
  const kind = valueKindOf(tensor);
  const writer = new SegmentWriter(elementCount(tensor.shape), kind, rawBitsOf(tensor, intervalId, intervals), count, tensor.coding);
  const positions = new Uint32Array(64);
  const values = new Float32Array(64);
  const raws = new Uint32Array(64);
  for (let n = decodeEntries(cursor, positions, values, raws); n > 0; n = decodeEntries(cursor, positions, values, raws)) {
    for (let i = 0; i < n; i++) {
      if (kind !== 'codebook' && (raws[i] === 0 || values[i] === 0 || !Number.isFinite(values[i]!))) {
        throw new FormatError('BAD_VALUE', `${where} stores a zero or non-finite value at position ${positions[i]}; the artifact is damaged`);
      }
      writer.add(positions[i]!, raws[i]!);
    }
  }
  if (!bytesEqual(writer.finish(), data)) {
    throw new FormatError('BAD_VALUE', `${where} is not in canonical form (trailing or altered bytes); the artifact is damaged`);
  }
}

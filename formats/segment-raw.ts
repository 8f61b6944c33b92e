// A segment as plain entry arrays (position + stored form), for patching:
// decode through the same cursor as the device, re-encode through the same
// encoder as encodeArtifact, so a rebuilt segment is byte-identical.
import { decodeEntries, SegmentCursor } from './segment-cursor.ts';
import { encodeSegment } from './segment-encoder.ts';
import { codeBitsFor, localCodebookIndices } from './segment-layout.ts';
import type { Interval, TensorInfo } from './model.ts';

export interface RawEntries {
  count: number;
  positions: Uint32Array;
  /** Local code, int8 byte (0..255) or float32 bits. */
  raws: Uint32Array;
}

export function decodeRawEntries(tensorIndex: number, tensor: TensorInfo, intervalId: number, intervals: readonly Interval[], count: number, data: Uint8Array): RawEntries {
  const cursor = new SegmentCursor(tensorIndex, tensor, intervalId, intervals, count, data);
  const positions = new Uint32Array(count);
  const raws = new Uint32Array(count);
  const values = new Float32Array(count);
  decodeEntries(cursor, positions, values, raws);
  return { count, positions, raws };
}

/** Bits of one entry's stored form. */
export function rawBitsOf(tensor: TensorInfo, intervalId: number, intervals: readonly Interval[]): number {
  if (tensor.encoding === 'dense-f32') return 32;
  if (tensor.encoding === 'int8') return 8;
  return codeBitsFor(localCodebookIndices(tensor, intervalId, intervals).length);
}

export function encodeRawEntries(tensor: TensorInfo, intervalId: number, intervals: readonly Interval[], entries: RawEntries): Uint8Array {
  const { count, positions, raws } = entries;
  if (tensor.encoding === 'int8') {
    const int8 = new Int8Array(count);
    for (let i = 0; i < count; i++) int8[i] = raws[i]! << 24 >> 24;
    return encodeSegment({ count, positions, int8 });
  }
  if (tensor.encoding === 'dense-f32') {
    const float32 = new Float32Array(Uint32Array.from(raws.subarray(0, count)).buffer);
    return encodeSegment({ count, positions, float32 });
  }
  const codeBits = rawBitsOf(tensor, intervalId, intervals);
  return encodeSegment({ count, positions, codes: Uint8Array.from(raws.subarray(0, count)), codeBits });
}

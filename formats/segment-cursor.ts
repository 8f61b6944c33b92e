// The device's streaming segment decoder: (flat position, dequantized value)
// pairs in ascending position order, into caller-owned buffers. All state is
// in the cursor, allocated once by openSegmentCursor; readEntries allocates
// nothing, so a device can decode with a 64-entry buffer from its arena.
import { FormatError } from './errors.ts';
import { elementCount } from './manifest-reader.ts';
import { codeBitsFor, localCodebookIndices, MAX_RICE_K, valueBytesPerEntry } from './segment-layout.ts';
import type { Interval, TensorInfo } from './model.ts';

const KIND_F32 = 0;
const KIND_INT8 = 1;
const KIND_CODEBOOK = 2;

/** Opaque decoder state of one segment. */
export class SegmentCursor {
  /** @internal */ data: Uint8Array;
  /** @internal */ view: DataView;
  /** @internal */ kind: number;
  /** @internal */ riceK: number;
  /** @internal */ codeBits: number;
  /** @internal */ localValues: Float32Array;
  /** @internal */ scales: Float32Array | null;
  /** @internal */ channels: number;
  /** @internal */ elements: number;
  /** @internal */ remaining: number;
  /** @internal */ previous = -1;
  /** @internal */ valueIndex = 1;
  /** @internal */ byteIndex: number;
  /** @internal */ bitBuffer = 0;
  /** @internal */ bitCount = 0;
  /** @internal */ readonly tensor: number;
  /** @internal */ readonly interval: number;

  constructor(tensorIndex: number, tensor: TensorInfo, intervalId: number, intervals: readonly Interval[], count: number, data: Uint8Array) {
    this.tensor = tensorIndex;
    this.interval = intervalId;
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.kind = tensor.encoding === 'dense-f32' ? KIND_F32 : tensor.encoding === 'int8' ? KIND_INT8 : KIND_CODEBOOK;
    this.elements = elementCount(tensor.shape);
    this.scales = tensor.scales;
    this.channels = tensor.shape[tensor.shape.length - 1]!;
    this.remaining = count;
    if (data.length < 1) throw segmentError(this, 'TRUNCATED', 'is empty (needs a header byte)');
    this.riceK = data[0]!;
    if (this.riceK > MAX_RICE_K) throw segmentError(this, 'BAD_VALUE', `has Rice parameter ${this.riceK} (max ${MAX_RICE_K})`);
    const local = localCodebookIndices(tensor, intervalId, intervals);
    this.localValues = new Float32Array(local.length);
    local.forEach((c, i) => (this.localValues[i] = tensor.codebook![c]!));
    this.codeBits = this.kind === KIND_CODEBOOK ? codeBitsFor(local.length) : 0;
    if (this.kind === KIND_CODEBOOK && local.length === 0) throw segmentError(this, 'BAD_VALUE', 'has no codebook centroid in its interval');
    this.byteIndex = 1 + count * valueBytesPerEntry(tensor);
    if (this.byteIndex > data.length) throw segmentError(this, 'TRUNCATED', `is ${data.length} bytes, too short for ${count} values`);
  }
}

function segmentError(cursor: { tensor: number; interval: number }, code: 'TRUNCATED' | 'BAD_VALUE' | 'OUT_OF_BOUNDS', detail: string): FormatError {
  return new FormatError(code, `segment (tensor ${cursor.tensor}, interval ${cursor.interval}) ${detail}; the artifact is damaged`);
}

/** Reads `n` <= 24 bits, least significant first. */
function readBits(c: SegmentCursor, n: number): number {
  while (c.bitCount < n) {
    if (c.byteIndex >= c.data.length) throw segmentError(c, 'TRUNCATED', 'bitstream ends early');
    c.bitBuffer |= c.data[c.byteIndex++]! << c.bitCount;
    c.bitCount += 8;
  }
  const value = c.bitBuffer & ((1 << n) - 1);
  c.bitBuffer >>>= n;
  c.bitCount -= n;
  return value;
}

/**
 * Fills positions/values with up to min(their lengths, entries left) entries
 * and returns how many; 0 once the segment is exhausted.
 */
export function readEntries(c: SegmentCursor, positions: Uint32Array, values: Float32Array): number {
  return decodeEntries(c, positions, values, null);
}

/**
 * readEntries that also yields each entry's stored form in `raws` (local
 * code, int8 byte as 0..255, or float32 bits), for patches.
 */
export function decodeEntries(c: SegmentCursor, positions: Uint32Array, values: Float32Array, raws: Uint32Array | null): number {
  let n = Math.min(positions.length, values.length, c.remaining);
  if (raws) n = Math.min(n, raws.length);
  const k = c.riceK;
  const step = 2 ** k;
  const data = c.data;
  for (let i = 0; i < n; i++) {
    // Unary quotient: ones then a zero. A quotient that would jump past the
    // tensor's end is rejected at once, so a forged stream cannot spin.
    let q = 0;
    for (;;) {
      if (c.bitCount === 0) {
        if (c.byteIndex >= data.length) throw segmentError(c, 'TRUNCATED', 'bitstream ends early');
        c.bitBuffer = data[c.byteIndex++]!;
        c.bitCount = 8;
      }
      const bit = c.bitBuffer & 1;
      c.bitBuffer >>>= 1;
      c.bitCount--;
      if (bit === 0) break;
      q++;
      if (c.previous + 1 + q * step >= c.elements) throw segmentError(c, 'OUT_OF_BOUNDS', `position past the tensor's ${c.elements} elements`);
    }
    const position = c.previous + 1 + q * step + (k > 0 ? readBits(c, k) : 0);
    if (position >= c.elements) throw segmentError(c, 'OUT_OF_BOUNDS', `position ${position} past the tensor's ${c.elements} elements`);
    let value: number;
    if (c.kind === KIND_CODEBOOK) {
      const code = c.codeBits > 0 ? readBits(c, c.codeBits) : 0;
      if (code >= c.localValues.length) throw segmentError(c, 'BAD_VALUE', `code ${code} outside its ${c.localValues.length} centroids`);
      value = c.localValues[code]!;
      if (raws) raws[i] = code;
    } else if (c.kind === KIND_INT8) {
      value = c.view.getInt8(c.valueIndex) * c.scales![position % c.channels]!;
      if (raws) raws[i] = c.data[c.valueIndex]!;
      c.valueIndex += 1;
    } else {
      value = c.view.getFloat32(c.valueIndex, true);
      if (raws) raws[i] = c.view.getUint32(c.valueIndex, true);
      c.valueIndex += 4;
    }
    positions[i] = position;
    values[i] = value;
    c.previous = position;
  }
  c.remaining -= n;
  return n;
}

/**
 * Decodes the whole segment once and checks it is canonical: every entry
 * valid, no zero or non-finite value, the bitstream exactly consumed with
 * zero padding. Run by readArtifact on every held segment.
 */
export function validateSegment(c: SegmentCursor): void {
  const positions = new Uint32Array(64);
  const values = new Float32Array(64);
  const kind = c.kind;
  let startValue = c.valueIndex;
  for (;;) {
    const n = readEntries(c, positions, values);
    if (n === 0) break;
    if (kind !== KIND_CODEBOOK) {
      for (let i = 0; i < n; i++) {
        const raw = kind === KIND_INT8 ? c.view.getInt8(startValue + i) : values[i]!;
        if (raw === 0 || !Number.isFinite(values[i]!)) throw segmentError(c, 'BAD_VALUE', `holds a zero or non-finite value at position ${positions[i]}`);
      }
      startValue = c.valueIndex;
    }
  }
  if (c.byteIndex !== c.data.length || c.bitBuffer !== 0) {
    throw segmentError(c, 'BAD_VALUE', `has ${c.data.length - c.byteIndex} trailing bytes or non-zero padding`);
  }
}

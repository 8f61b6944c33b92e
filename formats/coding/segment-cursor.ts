// The device's streaming segment decoder: (flat position, dequantized value)
// pairs in ascending position order, into caller-owned buffers. All state is
// in the cursor, allocated once by its constructor (a few hundred bytes of
// models); readEntries allocates nothing, so a device can decode with a
// 64-entry buffer from its arena.
import { FormatError } from '../errors.ts';
import { elementCount } from '../artifact/manifest-reader.ts';
import { initRangeDecoder, MAX_VIRTUAL_BYTES, MOVE_BITS, PROB_BITS, PROB_INIT, PROB_ONE, TOP, type RangeDecoderState } from './range-coder.ts';
import { codeBitsFor, localCodebookIndices, modelLayout, valueBytesPerEntry } from './segment-layout.ts';
import { MANTISSA_MODELLED, MANTISSA_TREE_NODES } from './gap-code.ts';
import { int8Channels } from './quantize.ts';
import { riceParameter } from './rice-code.ts';
import { intervalLabel, type Interval, type TensorInfo } from '../model.ts';

const KIND_F32 = 0;
const KIND_INT8 = 1;
const KIND_CODEBOOK = 2;

/**
 * Where a cursor takes its data-sized state (range-coder models, the
 * segment's centroids): the JS heap by default; a device passes its arena.
 * Buffers are owned by the cursor until the caller frees them (a device
 * rewinds its arena).
 */
export interface CursorMemory {
  uint16(length: number, what: string): Uint16Array;
  float32(length: number, what: string): Float32Array;
}

const HEAP_MEMORY: CursorMemory = {
  uint16: (length) => new Uint16Array(length),
  float32: (length) => new Float32Array(length),
};

/** Opaque decoder state of one segment. */
export class SegmentCursor implements RangeDecoderState {
  /** @internal */ data: Uint8Array;
  /** @internal */ view: DataView;
  /** @internal */ kind: number;
  /** @internal */ probs: Uint16Array;
  /** @internal */ maxExponent: number;
  /** @internal */ gapAt: number;
  /** @internal */ codeAt: number;
  /** @internal */ codeBits: number;
  /** @internal */ localValues: Float32Array;
  /** @internal */ scales: Float32Array | null;
  /** @internal */ channels: number;
  /** @internal */ elements: number;
  /** @internal */ count: number;
  /** @internal */ remaining: number;
  /** @internal */ previous = -1;
  /** @internal */ valueIndex = 0;
  /** @internal */ streamStart: number;
  /** @internal range decoder */ byteIndex = 0;
  /** @internal range decoder */ range = 0;
  /** @internal range decoder */ code = 0;
  /** @internal a Rice stream (§5.10): no models, its parameter, the next bit's index in data */ rice: boolean;
  /** @internal */ riceK = 0;
  /** @internal */ bit = 0;
  /** @internal */ readonly tensor: number;
  /** @internal */ readonly interval: number;

  constructor(
    tensorIndex: number,
    tensor: TensorInfo,
    intervalId: number,
    intervals: readonly Interval[],
    count: number,
    data: Uint8Array,
    memory: CursorMemory = HEAP_MEMORY,
  ) {
    segmentDecodeStats.opened++;
    this.tensor = tensorIndex;
    this.interval = intervalId;
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.kind = tensor.encoding === 'dense-f32' ? KIND_F32 : tensor.encoding === 'int8' ? KIND_INT8 : KIND_CODEBOOK;
    this.elements = elementCount(tensor.shape);
    this.scales = tensor.scales;
    this.channels = int8Channels(tensor.shape);
    this.count = count;
    this.remaining = count;
    const local = this.kind === KIND_CODEBOOK ? localCodebookIndices(tensor, intervalId, intervals) : [];
    if (this.kind === KIND_CODEBOOK && local.length === 0) throw segmentError(this, 'BAD_VALUE', 'has no codebook centroid in its interval');
    this.localValues = memory.float32(local.length, `centroids of segment (tensor ${tensorIndex}, ${intervalLabel(intervalId)})`);
    local.forEach((c, i) => (this.localValues[i] = tensor.codebook![c]!));
    this.codeBits = codeBitsFor(local.length);
    this.rice = tensor.coding === 'rice';
    const layout = modelLayout(this.elements, this.codeBits);
    const models = this.rice ? 0 : layout.total;
    this.probs = memory.uint16(models, `range-coder models of segment (tensor ${tensorIndex}, ${intervalLabel(intervalId)})`).fill(PROB_INIT);
    this.maxExponent = layout.maxExponent;
    this.gapAt = layout.gapAt;
    this.codeAt = layout.codeAt;
    this.streamStart = count * valueBytesPerEntry(tensor);
    if (this.streamStart > data.length) throw segmentError(this, 'TRUNCATED', `is ${data.length} bytes, too short for ${count} values`);
    if (this.rice) {
      this.riceK = riceParameter(this.elements, count);
      this.bit = 8 * this.streamStart;
      if (count === 0) checkRiceEnd(this);
    } else {
      initRangeDecoder(this, this.streamStart);
    }
  }
}

/**
 * How many segment decoders were opened in this process: tests use it to show
 * that a file was refused before any segment was decoded.
 */
export const segmentDecodeStats = { opened: 0 };

/** Bytes of decoder state a device must reserve for one open segment (models + registers). */
export function cursorStateBytes(cursor: SegmentCursor): number {
  return cursor.probs.byteLength + cursor.localValues.byteLength + 48;
}

function segmentError(cursor: { tensor: number; interval: number }, code: 'TRUNCATED' | 'BAD_VALUE' | 'OUT_OF_BOUNDS', detail: string): FormatError {
  return new FormatError(code, `segment (tensor ${cursor.tensor}, ${intervalLabel(cursor.interval)}) ${detail}; the artifact is damaged`);
}

function endOfStream(c: SegmentCursor): FormatError {
  return segmentError(c, 'TRUNCATED', 'stream ends early');
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
 *
 * This is the device's hottest loop (every install transcodes every held
 * segment), so the range decoder of range-coder.ts and the gap and tree
 * codes of gap-code.ts are inlined here with the coder's registers in
 * locals: about 1.3x faster than calling decodeBit per bit, which reads
 * and writes them on the cursor (220 -> 155-180 ns per entry decoding
 * paper-109k's segments in Node 20). The four bit sites below are the
 * same decodeBit, written out; gap-code.ts stays the reference the
 * encoder mirrors, and the format tests decode what it encodes.
 */
export function decodeEntries(c: SegmentCursor, positions: Uint32Array, values: Float32Array, raws: Uint32Array | null): number {
  if (c.rice) return decodeRiceEntries(c, positions, values, raws);
  let n = Math.min(positions.length, values.length, c.remaining);
  if (raws) n = Math.min(n, raws.length);
  const probs = c.probs;
  const data = c.data;
  const end = data.length;
  const limit = end + MAX_VIRTUAL_BYTES;
  const gapAt = c.gapAt;
  const maxExponent = c.maxExponent;
  const codeAt = c.codeAt;
  const codeBits = c.codeBits;
  const kind = c.kind;
  let range = c.range;
  let code = c.code;
  let at = c.byteIndex;
  let previous = c.previous;
  const elements = c.elements;
  const localValues = c.localValues;
  // A stream that ends early or names a bad value throws, and the cursor is
  // not read again; so its registers are written back once, at the end.
  for (let i = 0; i < n; i++) {
    // Gap exponent e in truncated unary (decodeGap).
    let e = 0;
    while (e < maxExponent) {
      const k = gapAt + e;
      const p = probs[k]!;
      const bound = (range >>> PROB_BITS) * p;
      let bit = 0;
      if (code < bound) {
        range = bound;
        probs[k] = p + ((PROB_ONE - p) >> MOVE_BITS);
      } else {
        code -= bound;
        range -= bound;
        probs[k] = p - (p >> MOVE_BITS);
        bit = 1;
      }
      while (range < TOP) {
        if (at >= limit) throw endOfStream(c);
        range *= 256;
        code = code * 256 + (at < end ? data[at]! : 0);
        at++;
      }
      if (bit === 0) break;
      e++;
    }
    // The modelled mantissa bits, then the direct ones.
    const tree = gapAt + maxExponent + 1 + e * MANTISSA_TREE_NODES;
    const modelled = e < MANTISSA_MODELLED ? e : MANTISSA_MODELLED;
    let v = 1;
    for (let j = 0; j < modelled; j++) {
      const k = tree + v; // the tree node: v so far, its leading 1 the root
      const p = probs[k]!;
      const bound = (range >>> PROB_BITS) * p;
      let bit = 0;
      if (code < bound) {
        range = bound;
        probs[k] = p + ((PROB_ONE - p) >> MOVE_BITS);
      } else {
        code -= bound;
        range -= bound;
        probs[k] = p - (p >> MOVE_BITS);
        bit = 1;
      }
      while (range < TOP) {
        if (at >= limit) throw endOfStream(c);
        range *= 256;
        code = code * 256 + (at < end ? data[at]! : 0);
        at++;
      }
      v = v * 2 + bit;
    }
    for (let j = e - modelled; j > 0; j--) {
      range = range >>> 1;
      let bit = 0;
      if (code >= range) {
        code -= range;
        bit = 1;
      }
      while (range < TOP) {
        if (at >= limit) throw endOfStream(c);
        range *= 256;
        code = code * 256 + (at < end ? data[at]! : 0);
        at++;
      }
      v = v * 2 + bit;
    }
    const position = previous + v;
    if (position >= elements) throw segmentError(c, 'OUT_OF_BOUNDS', `position ${position} past the tensor's ${elements} elements`);
    let value: number;
    if (kind === KIND_CODEBOOK) {
      // The local code through a binary tree of models (decodeTree).
      let local = 0;
      for (let j = 0; j < codeBits; j++) {
        const k = codeAt + ((1 << j) | local);
        const p = probs[k]!;
        const bound = (range >>> PROB_BITS) * p;
        let bit = 0;
        if (code < bound) {
          range = bound;
          probs[k] = p + ((PROB_ONE - p) >> MOVE_BITS);
        } else {
          code -= bound;
          range -= bound;
          probs[k] = p - (p >> MOVE_BITS);
          bit = 1;
        }
        while (range < TOP) {
          if (at >= limit) throw endOfStream(c);
          range *= 256;
          code = code * 256 + (at < end ? data[at]! : 0);
          at++;
        }
        local = local * 2 + bit;
      }
      if (local >= localValues.length) throw segmentError(c, 'BAD_VALUE', `code ${local} outside its ${localValues.length} centroids`);
      value = localValues[local]!;
      if (raws) raws[i] = local;
    } else {
      value = valueBlockEntry(c, position, raws, i);
    }
    positions[i] = position;
    values[i] = value;
    previous = position;
  }
  c.range = range;
  c.code = code;
  c.byteIndex = at;
  c.previous = previous;
  c.remaining -= n;
  return n;
}

/** The next int8 or dense-f32 entry's value from the value block (its stored form into raws[i]). */
function valueBlockEntry(c: SegmentCursor, position: number, raws: Uint32Array | null, i: number): number {
  const at = c.valueIndex;
  if (c.kind === KIND_INT8) {
    c.valueIndex = at + 1;
    if (raws) raws[i] = c.data[at]!;
    return c.view.getInt8(at) * c.scales![position % c.channels]!;
  }
  c.valueIndex = at + 4;
  if (raws) raws[i] = c.view.getUint32(at, true);
  return c.view.getFloat32(at, true);
}

/** decodeEntries for a Rice stream (docs/format.md §5.10); the last entry also checks the stream's end. */
function decodeRiceEntries(c: SegmentCursor, positions: Uint32Array, values: Float32Array, raws: Uint32Array | null): number {
  let n = Math.min(positions.length, values.length, c.remaining);
  if (raws) n = Math.min(n, raws.length);
  const data = c.data;
  const endBit = 8 * data.length;
  const k = c.riceK;
  const maxQ = c.elements >>> k;
  const codeBits = c.codeBits;
  const localValues = c.localValues;
  let bit = c.bit;
  let previous = c.previous;
  const read = (width: number): number => {
    if (bit + width > endBit) throw endOfStream(c);
    let v = 0;
    for (let j = 0; j < width; j++, bit++) v = v * 2 + ((data[bit >>> 3]! >>> (7 - (bit & 7))) & 1);
    return v;
  };
  for (let i = 0; i < n; i++) {
    let q = 0;
    while (read(1) === 0) {
      if (++q > maxQ) throw segmentError(c, 'OUT_OF_BOUNDS', `gap past the tensor's ${c.elements} elements`);
    }
    const position = previous + 1 + q * 2 ** k + read(k);
    if (position >= c.elements) throw segmentError(c, 'OUT_OF_BOUNDS', `position ${position} past the tensor's ${c.elements} elements`);
    let value: number;
    if (c.kind === KIND_CODEBOOK) {
      const local = read(codeBits);
      if (local >= localValues.length) throw segmentError(c, 'BAD_VALUE', `code ${local} outside its ${localValues.length} centroids`);
      value = localValues[local]!;
      if (raws) raws[i] = local;
    } else {
      value = valueBlockEntry(c, position, raws, i);
    }
    positions[i] = position;
    values[i] = value;
    previous = position;
  }
  c.bit = bit;
  c.previous = previous;
  c.remaining -= n;
  if (c.remaining === 0 && n > 0) checkRiceEnd(c);
  return n;
}

/** A Rice stream ends in its last entry's byte, padded with zero bits (the whole canonical rule for it). */
function checkRiceEnd(c: SegmentCursor): void {
  const usedBytes = Math.ceil(c.bit / 8);
  if (usedBytes !== c.data.length) {
    throw segmentError(c, 'BAD_VALUE', `has ${c.data.length - usedBytes} bytes after its last entry (not canonical)`);
  }
  const pad = c.bit & 7;
  if (pad !== 0 && (c.data[usedBytes - 1]! & (0xff >>> pad)) !== 0)
    throw segmentError(c, 'BAD_VALUE', 'has non-zero padding bits after its last entry (not canonical)');
}

// A binary adaptive range coder, the one of LZMA (Igor Pavlov, LZMA SDK;
// "lzma-specification.txt", section "The range decoder"): 11-bit
// probabilities adapted by 1/32 per bit, 32-bit range, carry via a cached
// byte. Two changes, both to save bytes per segment:
//   - the always-zero first output byte is not stored;
//   - the flush picks the value in [low, low + range) with the most trailing
//     zero bits and drops up to 4 trailing zero bytes; the decoder reads
//     bytes past the end as zero (at most 4 of them).
// Both sides are deterministic, so "decode, re-encode, compare" proves a
// stream canonical.
//
// The encoder either collects its bytes (finish() returns them) or hands
// each byte to a RangeOutput as soon as it is final, so a device can encode
// straight into flash through a small buffer: the dropped first byte is
// never handed out, and zero bytes are held back until a non-zero one
// follows, since up to 4 of them may end the stream and be dropped.

export const PROB_BITS = 11;
export const PROB_INIT = 1 << (PROB_BITS - 1);
/** Adaptation speed: 5 measured best on pruned MLP kernels (bench/formats). */
export const MOVE_BITS = 5;
/** The range is renormalised (a byte shifted in) whenever it falls below this. */
export const TOP = 1 << 24;
export const PROB_ONE = 1 << PROB_BITS;

/** Takes a streaming encoder's bytes, in order, as they become final. */
export interface RangeOutput {
  writeByte(byte: number): void;
}

export class RangeEncoder {
  private low = 0; // up to 33 bits: kept as a double, exact below 2^53
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private out: Uint8Array;
  private length = 0;
  /** Bytes shifted out so far: the first one is always 0 and is not stored. */
  private shifted = 0;
  /** Zero bytes held back: trailing ones are dropped by finish(). */
  private zeros = 0;

  /** Without `output` the bytes are collected and returned by finish(). */
  constructor(
    expectedBytes = 64,
    private readonly output: RangeOutput | null = null,
  ) {
    this.out = new Uint8Array(output ? 0 : Math.max(16, expectedBytes));
  }

  encodeBit(probs: Uint16Array, index: number, bit: number): void {
    const p = probs[index]!;
    const bound = (this.range >>> PROB_BITS) * p;
    if (bit === 0) {
      this.range = bound;
      probs[index] = p + ((PROB_ONE - p) >> MOVE_BITS);
    } else {
      this.low += bound;
      this.range -= bound;
      probs[index] = p - (p >> MOVE_BITS);
    }
    while (this.range < TOP) {
      this.range = this.range * 256;
      this.shiftLow();
    }
  }

  /** A bit with probability 1/2 and no model (LZMA's "direct bits"). */
  encodeDirect(bit: number): void {
    this.range = this.range >>> 1;
    if (bit) this.low += this.range;
    while (this.range < TOP) {
      this.range = this.range * 256;
      this.shiftLow();
    }
  }

  private push(byte: number): void {
    // Byte 0 is always 0 (no carry reaches it), so it is not stored.
    if (this.shifted++ === 0) return;
    if (byte === 0) {
      this.zeros++;
      return;
    }
    for (; this.zeros > 0; this.zeros--) this.emit(0);
    this.emit(byte);
  }

  private emit(byte: number): void {
    if (this.output) {
      this.output.writeByte(byte);
      return;
    }
    if (this.length === this.out.length) {
      const grown = new Uint8Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
    }
    this.out[this.length++] = byte;
  }

  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= 0x100000000) {
      const carry = this.low >= 0x100000000 ? 1 : 0;
      let temp = this.cache;
      do {
        this.push((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / 0x1000000) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % 0x1000000) * 256;
  }

  /** Flushes the stream; returns its bytes, or an empty array when they went to the output. */
  finish(): Uint8Array {
    // Any value in [low, low + range) decodes the same: take the roundest.
    for (let bits = 32; bits > 0; bits--) {
      const unit = 2 ** bits;
      const rounded = Math.ceil(this.low / unit) * unit;
      if (rounded < this.low + this.range) {
        this.low = rounded;
        break;
      }
    }
    for (let i = 0; i < 5; i++) this.shiftLow();
    // The decoder reads up to MAX_VIRTUAL_BYTES past the end as zeros.
    for (; this.zeros > MAX_VIRTUAL_BYTES; this.zeros--) this.emit(0);
    this.zeros = 0;
    return this.out.slice(0, this.length);
  }
}

/** Range decoder state, embedded in a segment cursor (no allocation per bit). */
export interface RangeDecoderState {
  data: Uint8Array;
  /** Next byte to read; may run up to MAX_VIRTUAL_BYTES past data.length. */
  byteIndex: number;
  range: number;
  code: number;
}

export const MAX_VIRTUAL_BYTES = 4;

/** The next stream byte, 0 past the end; -1 once the virtual-zero budget is spent. */
function nextByte(s: RangeDecoderState): number {
  const i = s.byteIndex++;
  if (i < s.data.length) return s.data[i]!;
  return i < s.data.length + MAX_VIRTUAL_BYTES ? 0 : -1;
}

/** Starts decoding the stream that begins at data[start]. */
export function initRangeDecoder(s: RangeDecoderState, start: number): void {
  s.byteIndex = start;
  s.range = 0xffffffff;
  s.code = 0;
  for (let i = 0; i < 4; i++) s.code = s.code * 256 + Math.max(0, nextByte(s));
}

/** Decodes one modelled bit; returns -1 when the stream ran out (the caller throws). */
export function decodeBit(s: RangeDecoderState, probs: Uint16Array, index: number): number {
  const p = probs[index]!;
  const bound = (s.range >>> PROB_BITS) * p;
  let bit: number;
  if (s.code < bound) {
    s.range = bound;
    probs[index] = p + ((PROB_ONE - p) >> MOVE_BITS);
    bit = 0;
  } else {
    s.code -= bound;
    s.range -= bound;
    probs[index] = p - (p >> MOVE_BITS);
    bit = 1;
  }
  while (s.range < TOP) {
    const byte = nextByte(s);
    if (byte < 0) return -1;
    s.range = s.range * 256;
    s.code = s.code * 256 + byte;
  }
  return bit;
}

/** Decodes one direct (probability 1/2) bit; -1 when the stream ran out. */
export function decodeDirect(s: RangeDecoderState): number {
  s.range = s.range >>> 1;
  let bit = 0;
  if (s.code >= s.range) {
    s.code -= s.range;
    bit = 1;
  }
  while (s.range < TOP) {
    const byte = nextByte(s);
    if (byte < 0) return -1;
    s.range = s.range * 256;
    s.code = s.code * 256 + byte;
  }
  return bit;
}

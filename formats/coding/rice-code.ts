// The Rice stream of a segment (docs/format.md §5.10), the alternative to
// the range-coded one for a tensor whose `coding` is 'rice'. Per entry: the
// gap v = position - previous as u = v - 1 in a Rice code of parameter k
// (u >> k zero bits, a one bit, the k low bits of u), then, codebook-sparse,
// the local code in codeBits bits; all most significant bit first, the last
// byte padded with zero bits.
//
// Why a second coding: the range coder spends ~12 adaptive binary decisions
// an entry, which is what makes decoding on every inference (a firmware's
// coded kernels) cost 3x a dense loop. A Rice entry decodes with a
// count-leading-zeros and a few shifts, for a few percent more bytes on
// magnitude-pruned weights, whose gaps are near-geometric (Rice codes are
// the optimal prefix codes for those). k is derived from the segment's
// density, not stored, so there is exactly one stream per entry list.
import type { RangeOutput } from './range-coder.ts';

/** The Rice parameter of a segment of `count` ≥ 1 entries in a tensor of `elements`. */
export function riceParameter(elements: number, count: number): number {
  const m = Math.floor(elements / Math.max(1, count));
  return m <= 1 ? 0 : 31 - Math.clz32(m);
}

/**
 * Writes one segment's Rice stream: to `output` byte by byte as each is
 * complete (the streaming patch applier), or collected for finish().
 */
export class RiceWriter {
  private readonly k: number;
  private previous = -1;
  private acc = 0;
  private accBits = 0;
  private out: Uint8Array;
  private length = 0;

  constructor(
    elements: number,
    count: number,
    private readonly codeBits: number,
    private readonly output: RangeOutput | null = null,
  ) {
    this.k = riceParameter(elements, count);
    // grows as needed: `count` may be an untrusted manifest's
    this.out = new Uint8Array(output ? 0 : 64);
  }

  /** Adds an entry: ascending `position`; `raw` the local code (codeBits > 0) or ignored. */
  add(position: number, raw: number): void {
    const u = position - this.previous - 1;
    this.previous = position;
    for (let q = Math.floor(u / 2 ** this.k); q > 0; q--) this.bit(0);
    this.bit(1);
    this.bits(u, this.k);
    this.bits(raw, this.codeBits);
  }

  /** Pads the last byte with zero bits; returns the stream when it was collected. */
  finish(): Uint8Array {
    if (this.accBits > 0) this.bits(0, 8 - this.accBits);
    return this.out.subarray(0, this.length);
  }

  /** The `n` low bits of `value`, most significant first. */
  private bits(value: number, n: number): void {
    for (let j = n - 1; j >= 0; j--) this.bit((value >>> j) & 1);
  }

  private bit(b: number): void {
    this.acc = (this.acc << 1) | b;
    if (++this.accBits < 8) return;
    if (this.output) {
      this.output.writeByte(this.acc);
    } else {
      if (this.length === this.out.length) {
        const grown = new Uint8Array(this.out.length * 2);
        grown.set(this.out);
        this.out = grown;
      }
      this.out[this.length++] = this.acc;
    }
    this.acc = 0;
    this.accBits = 0;
  }
}

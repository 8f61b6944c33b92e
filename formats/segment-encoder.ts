// Encodes one segment (see segment-layout.ts) from its entries: ascending
// flat positions plus, per entry, a local code, an int8 value or a float32.
import { BitWriter } from './bit-writer.ts';
import { MAX_RICE_K } from './segment-layout.ts';

export interface SegmentEntries {
  count: number;
  /** Ascending flat positions in the tensor. */
  positions: Uint32Array;
  /** codebook-sparse: local code per entry, `codeBits` wide. */
  codes?: Uint8Array;
  codeBits?: number;
  /** int8: quantized value per entry (never 0). */
  int8?: Int8Array;
  /** dense-f32: value per entry (never 0). */
  float32?: Float32Array;
}

/** The Rice parameter that makes the gaps' code shortest (ties: the smaller k). */
export function bestRiceParameter(positions: Uint32Array, count: number): number {
  let bestK = 0;
  let bestBits = Infinity;
  for (let k = 0; k <= MAX_RICE_K; k++) {
    let bits = 0;
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const gap = positions[i]! - previous - 1;
      bits += Math.floor(gap / 2 ** k) + 1 + k;
      previous = positions[i]!;
    }
    if (bits < bestBits) {
      bestBits = bits;
      bestK = k;
    }
    if (bits > bestBits) break; // total bits are convex in k
  }
  return bestK;
}

export function encodeSegment(entries: SegmentEntries): Uint8Array {
  const { count, positions } = entries;
  const k = bestRiceParameter(positions, count);
  const codeBits = entries.codes ? (entries.codeBits ?? 0) : 0;
  const valueBytes = entries.int8 ? count : entries.float32 ? 4 * count : 0;

  let maxBits = 0;
  let previous = -1;
  for (let i = 0; i < count; i++) {
    maxBits += Math.floor((positions[i]! - previous - 1) / 2 ** k) + 1 + k + codeBits;
    previous = positions[i]!;
  }
  const writer = new BitWriter(maxBits);
  previous = -1;
  for (let i = 0; i < count; i++) {
    const gap = positions[i]! - previous - 1;
    writer.writeUnary(Math.floor(gap / 2 ** k));
    writer.writeBits(gap % 2 ** k, k);
    if (codeBits > 0) writer.writeBits(entries.codes![i]!, codeBits);
    previous = positions[i]!;
  }
  const bitstream = writer.finish();

  const out = new Uint8Array(1 + valueBytes + bitstream.length);
  out[0] = k;
  if (entries.int8) out.set(new Uint8Array(entries.int8.buffer, entries.int8.byteOffset, count), 1);
  if (entries.float32) {
    const view = new DataView(out.buffer);
    for (let i = 0; i < count; i++) view.setFloat32(1 + 4 * i, entries.float32[i]!, true);
  }
  out.set(bitstream, 1 + valueBytes);
  return out;
}

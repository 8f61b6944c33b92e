// Encodes one segment (see segment-layout.ts) from its entries: ascending
// flat positions plus, per entry, a local code, an int8 value or a float32.
import { RangeEncoder, PROB_INIT } from './range-coder.ts';
import { MANTISSA_MODELLED, MANTISSA_TREE_NODES, modelLayout } from './segment-layout.ts';

export interface SegmentEntries {
  count: number;
  /** Ascending flat positions in the tensor. */
  positions: Uint32Array;
  /** Elements of the tensor (bounds the gap exponent). */
  elements: number;
  /** codebook-sparse: local code per entry, `codeBits` wide. */
  codes?: Uint8Array;
  codeBits?: number;
  /** int8: quantized value per entry (never 0). */
  int8?: Int8Array;
  /** dense-f32: value per entry (never 0). */
  float32?: Float32Array;
}

export function encodeSegment(entries: SegmentEntries): Uint8Array {
  const { count, positions } = entries;
  const codeBits = entries.codes ? (entries.codeBits ?? 0) : 0;
  const layout = modelLayout(entries.elements, codeBits);
  const probs = new Uint16Array(layout.total).fill(PROB_INIT);
  const rc = new RangeEncoder(count + 16);
  let previous = -1;
  for (let i = 0; i < count; i++) {
    const v = positions[i]! - previous;
    previous = positions[i]!;
    const e = 31 - Math.clz32(v);
    for (let j = 0; j < e; j++) rc.encodeBit(probs, layout.exponentAt + j, 1);
    if (e < layout.maxExponent) rc.encodeBit(probs, layout.exponentAt + e, 0);
    const modelled = Math.min(e, MANTISSA_MODELLED);
    let node = 1;
    for (let j = 1; j <= modelled; j++) {
      const bit = (v >>> (e - j)) & 1;
      rc.encodeBit(probs, layout.mantissaAt + e * MANTISSA_TREE_NODES + node, bit);
      node = node * 2 + bit;
    }
    for (let j = e - modelled - 1; j >= 0; j--) rc.encodeDirect((v >>> j) & 1);
    if (codeBits > 0) {
      const code = entries.codes![i]!;
      node = 1;
      for (let j = codeBits - 1; j >= 0; j--) {
        const bit = (code >>> j) & 1;
        rc.encodeBit(probs, layout.codeAt + node, bit);
        node = node * 2 + bit;
      }
    }
  }
  const stream = rc.finish();
  const valueBytes = entries.int8 ? count : entries.float32 ? 4 * count : 0;
  const out = new Uint8Array(valueBytes + stream.length);
  if (entries.int8) out.set(new Uint8Array(entries.int8.buffer, entries.int8.byteOffset, count), 0);
  if (entries.float32) {
    const view = new DataView(out.buffer);
    for (let i = 0; i < count; i++) view.setFloat32(4 * i, entries.float32[i]!, true);
  }
  out.set(stream, valueBytes);
  return out;
}

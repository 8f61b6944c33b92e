// The adaptive code of a positive integer v (a position gap, or a count of
// entries to skip) shared by segments and patch entry deltas:
//   e = floor(log2 v) in truncated unary (bit i modelled by probs[base + i],
//   no stop bit when e = maxExponent), then the MANTISSA_MODELLED bits below
//   v's leading 1 through a binary tree of models per e, then the remaining
//   low bits as direct bits.
import { decodeBit, decodeDirect, type RangeDecoderState, type RangeEncoder } from './range-coder.ts';

/** Mantissa bits coded with adaptive models; the rest are direct bits. */
export const MANTISSA_MODELLED = 2;
export const MANTISSA_TREE_NODES = 1 << MANTISSA_MODELLED;

/** Largest exponent e of a value v <= limit. */
export function maxExponentFor(limit: number): number {
  return 31 - Math.clz32(Math.max(1, limit));
}

/** Models a gap code needs: exponent bins, then a mantissa tree per exponent. */
export function gapModelCount(maxExponent: number): number {
  return (maxExponent + 1) * (1 + MANTISSA_TREE_NODES);
}

export function encodeGap(rc: RangeEncoder, probs: Uint16Array, base: number, maxExponent: number, v: number): void {
  const e = 31 - Math.clz32(v);
  for (let j = 0; j < e; j++) rc.encodeBit(probs, base + j, 1);
  if (e < maxExponent) rc.encodeBit(probs, base + e, 0);
  const tree = base + maxExponent + 1 + e * MANTISSA_TREE_NODES;
  const modelled = Math.min(e, MANTISSA_MODELLED);
  let node = 1;
  for (let j = 1; j <= modelled; j++) {
    const bit = (v >>> (e - j)) & 1;
    rc.encodeBit(probs, tree + node, bit);
    node = node * 2 + bit;
  }
  for (let j = e - modelled - 1; j >= 0; j--) rc.encodeDirect((v >>> j) & 1);
}

/** Decodes one gap; -1 when the stream ran out. Truncated unary: a forged stream cannot spin. */
export function decodeGap(s: RangeDecoderState, probs: Uint16Array, base: number, maxExponent: number): number {
  let e = 0;
  while (e < maxExponent) {
    const bit = decodeBit(s, probs, base + e);
    if (bit < 0) return -1;
    if (bit === 0) break;
    e++;
  }
  const tree = base + maxExponent + 1 + e * MANTISSA_TREE_NODES;
  const modelled = e < MANTISSA_MODELLED ? e : MANTISSA_MODELLED;
  let v = 1;
  let node = 1;
  for (let j = 0; j < modelled; j++) {
    const bit = decodeBit(s, probs, tree + node);
    if (bit < 0) return -1;
    node = node * 2 + bit;
    v = v * 2 + bit;
  }
  for (let j = e - modelled; j > 0; j--) {
    const bit = decodeDirect(s);
    if (bit < 0) return -1;
    v = v * 2 + bit;
  }
  return v;
}

/** Encodes `bits` bits of `value` MSB first through a binary tree of models at probs[base + 1 ..]. */
export function encodeTree(rc: RangeEncoder, probs: Uint16Array, base: number, bits: number, value: number): void {
  let node = 1;
  for (let j = bits - 1; j >= 0; j--) {
    const bit = (value >>> j) & 1;
    rc.encodeBit(probs, base + node, bit);
    node = node * 2 + bit;
  }
}

/** Decodes a tree-coded value; -1 when the stream ran out. */
export function decodeTree(s: RangeDecoderState, probs: Uint16Array, base: number, bits: number): number {
  let value = 0;
  for (let j = 0; j < bits; j++) {
    const bit = decodeBit(s, probs, base + ((1 << j) | value));
    if (bit < 0) return -1;
    value = value * 2 + bit;
  }
  return value;
}

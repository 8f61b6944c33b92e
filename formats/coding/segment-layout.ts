// The byte layout of one segment, shared by encoder and decoder.
//
//   value block   int8: one signed byte per entry; dense-f32: 4 bytes LE per
//                 entry; codebook-sparse: none (codes are in the stream)
//   stream        range-coded (range-coder.ts), per entry in ascending
//                 position order:
//                   v = position - previous (previous starts at -1), v >= 1,
//                       in the gap code of gap-code.ts (adaptive exponent,
//                       two modelled mantissa bits, direct low bits)
//                   codebook-sparse: the local code, codeBits bits, a binary
//                       tree of models (MSB first)
//
// Measured on magnitude-pruned kernels (bench/formats), this adaptive code
// spends 3-7 % fewer bits than per-segment Rice gaps + fixed-width codes,
// 6-30 % fewer than Deep Compression's 4-bit relative indices with filler
// entries (whole tensors; ~40 % fewer when those are split by interval too),
// and sits ~3 % above the order-0 entropy bound on i.i.d. weights (below it
// on real trained ones), while a device still decodes one entry at a time in
// ascending order from a few hundred bytes of model state.
//
// A codebook-sparse entry stores its index among the centroids lying in the
// segment's interval only ("local code"), so splitting by interval costs
// little: an interval holding one centroid spends 0 bits on codes.
import { intervalIndexOf } from '../artifact/intervals.ts';
import { BASE_INTERVAL, type Interval, type TensorInfo } from '../model.ts';
import { gapModelCount, maxExponentFor } from './gap-code.ts';

/** Value bytes per entry in the value block. */
export function valueBytesPerEntry(tensor: TensorInfo): number {
  return tensor.encoding === 'dense-f32' ? 4 : tensor.encoding === 'int8' ? 1 : 0;
}

/**
 * The centroids a segment's local codes index: those of the tensor's codebook
 * that lie in the segment's interval, in codebook order (the whole codebook
 * for a BASE_INTERVAL segment). Returns their codebook indices.
 */
export function localCodebookIndices(tensor: TensorInfo, intervalId: number, intervals: readonly Interval[]): number[] {
  const codebook = tensor.codebook;
  if (!codebook) return [];
  const all = Array.from(codebook.keys());
  if (intervalId === BASE_INTERVAL) return all;
  const target = intervals.findIndex((i) => i.id === intervalId);
  return all.filter((c) => intervalIndexOf(codebook[c]!, intervals) === target);
}

/** Bits of a local code for `n` local centroids: 0 for one centroid. */
export function codeBitsFor(n: number): number {
  return n <= 1 ? 0 : 32 - Math.clz32(n - 1);
}

/** Layout of one segment's adaptive models in a single Uint16Array. */
export interface ModelLayout {
  maxExponent: number;
  codeBits: number;
  /** Offsets into the probability array: the gap code's models, then the code tree's. */
  gapAt: number;
  codeAt: number;
  total: number;
}

export function modelLayout(elements: number, codeBits: number): ModelLayout {
  const maxExponent = maxExponentFor(elements);
  const codeAt = gapModelCount(maxExponent);
  return { maxExponent, codeBits, gapAt: 0, codeAt, total: codeAt + (1 << codeBits) };
}

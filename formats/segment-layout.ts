// The byte layout of one segment, shared by encoder and decoder.
//
//   byte 0          Rice parameter k of the position gaps (0..MAX_RICE_K)
//   value block     int8: one signed byte per entry; dense-f32: 4 bytes LE per
//                   entry; codebook-sparse: none (codes are in the bitstream)
//   bitstream       per entry, in ascending position order:
//                     gap = position - previous - 1 (previous starts at -1),
//                     Rice-coded: gap >> k in unary (ones, then a zero), then
//                     the low k bits; then, codebook-sparse only, the entry's
//                     local code in `codeBits` bits.
//                   Padding bits of the last byte are zero.
//
// Rice codes are near-optimal for the geometric gaps of magnitude-pruned
// weights and decode one entry at a time in ascending order, which is what a
// device streaming row by row needs. A codebook-sparse entry stores its index
// among the centroids lying in the segment's interval only ("local code"), so
// an interval holding one or two centroids costs 0 or 1 bit per weight.
import { intervalIndexOf } from './intervals.ts';
import { BASE_INTERVAL, type Interval, type TensorInfo } from './model.ts';

export const MAX_RICE_K = 24;

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

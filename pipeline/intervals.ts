// Algorithm 1's k equal intervals over the weight value range, and which
// interval each weight falls in. Which interval holds a weight is formats'
// rule (intervalIndexOf), used here as is, so the pipeline's cut sets are the
// segments the encoder writes.
import { intervalIndexOf, type Interval } from '../formats/index.ts';

/** k equal intervals over [min, max] of the non-zero kernel weights; ids 0..k-1 ascending by value. */
export function equalIntervals(kernels: Float32Array[], k: number): Interval[] {
  let min = Infinity;
  let max = -Infinity;
  for (const kernel of kernels) {
    for (let i = 0; i < kernel.length; i++) {
      const v = kernel[i];
      if (v === 0) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (min === Infinity) {
    min = 0;
    max = 0;
  }
  const width = (max - min) / k;
  const intervals: Interval[] = [];
  for (let i = 0; i < k; i++) {
    const lower = i === 0 ? min : min + i * width;
    const upper = i === k - 1 ? max : min + (i + 1) * width;
    intervals.push({ id: i, lower: Math.fround(lower), upper: Math.fround(upper) });
  }
  return intervals;
}

/** Per kernel, per weight: the position of its interval, or 255 for a pruned (zero) weight. */
export function intervalMaps(kernels: Float32Array[], intervals: readonly Interval[]): Uint8Array[] {
  return kernels.map((kernel) => {
    const map = new Uint8Array(kernel.length).fill(255);
    for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) map[i] = intervalIndexOf(kernel[i], intervals);
    return map;
  });
}

/** The kernels with every weight whose interval position is in `cut` zeroed (new arrays). */
export function cutKernels(kernels: Float32Array[], maps: Uint8Array[], cut: ReadonlySet<number>): Float32Array[] {
  const cutFlags = new Uint8Array(256);
  for (const position of cut) cutFlags[position] = 1;
  return kernels.map((kernel, l) => {
    const out = kernel.slice();
    const map = maps[l];
    for (let i = 0; i < out.length; i++) if (map[i] !== 255 && cutFlags[map[i]] === 1) out[i] = 0;
    return out;
  });
}

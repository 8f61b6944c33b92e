// Stage 3: weight sharing (Deep Compression, Han et al. 2016, section 3).
// Each layer's surviving kernel weights are clustered by 1-D k-means into 2^b
// centroids; every weight is replaced by its centroid and stored as a b-bit
// code. Linear initialisation over [min, max] is the paper's best choice: it
// keeps centroids for the rare large weights, which matter most.
import type { ModelWeights } from './model.ts';

export interface SharedLayer {
  /** Centroids, ascending; at most 2^bits of them. */
  codebook: Float32Array;
  /** Per kernel weight: its centroid index, or NO_CODE where pruned. */
  codes: Uint8Array;
}

/** Code of a pruned weight. Bits are at most 8, so real codes are 0..255 minus this one at b = 8. */
export const NO_CODE = 255;
const KMEANS_ITERATIONS = 30;

/** 1-D k-means of `values` (any order) into at most `k` centroids, ascending. */
export function kmeans1d(values: Float32Array, k: number): Float32Array {
  if (values.length === 0) return new Float32Array(0);
  const sorted = values.slice().sort();
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  const count = Math.min(k, sorted.length);
  const centroids = new Float64Array(count);
  for (let c = 0; c < count; c++) centroids[c] = count === 1 ? (min + max) / 2 : min + ((max - min) * c) / (count - 1);
  const sums = new Float64Array(count);
  const sizes = new Float64Array(count);
  for (let iter = 0; iter < KMEANS_ITERATIONS; iter++) {
    sums.fill(0);
    sizes.fill(0);
    // Sorted values and centroids: one sweep assigns each value to its nearest centroid.
    let c = 0;
    for (let i = 0; i < sorted.length; i++) {
      const v = sorted[i];
      while (c < count - 1 && Math.abs(centroids[c + 1] - v) <= Math.abs(centroids[c] - v)) c++;
      sums[c] += v;
      sizes[c]++;
    }
    let moved = false;
    for (let j = 0; j < count; j++) {
      if (sizes[j] === 0) continue;
      const next = sums[j] / sizes[j];
      if (next !== centroids[j]) moved = true;
      centroids[j] = next;
    }
    centroids.sort();
    if (!moved) break;
  }
  return Float32Array.from(centroids);
}

/** Index of the centroid nearest to v (codebook ascending); ties go to the lower index. */
export function nearestCode(codebook: Float32Array, v: number): number {
  let best = 0;
  let bestDistance = Math.abs(codebook[0] - v);
  for (let c = 1; c < codebook.length; c++) {
    const d = Math.abs(codebook[c] - v);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Clusters each layer's non-zero kernel weights into 2^bits centroids. */
export function shareWeights(weights: ModelWeights, bits: number): SharedLayer[] {
  const k = 1 << bits;
  return weights.kernels.map((kernel) => {
    let nonzero = 0;
    for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) nonzero++;
    const values = new Float32Array(nonzero);
    let at = 0;
    for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) values[at++] = kernel[i];
    const codebook = avoidZero(kmeans1d(values, Math.min(k, NO_CODE)));
    const codes = new Uint8Array(kernel.length).fill(NO_CODE);
    for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) codes[i] = nearestCode(codebook, kernel[i]);
    return { codebook, codes };
  });
}

/** A centroid of exactly 0 would read as "pruned"; move it to the smallest float32 step away. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * v in float32 with its mantissa's lowest byte rounded away (16 significant
 * bits, a relative change under 2^-16). A centroid fine-tuned for the next
 * version then changes two bytes of the manifest instead of three, which is
 * what its patch carries (patch-manifest-delta.ts codes each changed byte
 * as an XOR with the old one, and a zero XOR costs a fraction of a bit).
 */
export function roundCentroid(v: number): number {
  f32[0] = v;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000) return f32[0]!;
  u32[0] = ((bits & 0x80000000) | (((bits & 0x7fffffff) + 0x80) & 0x7fffff00)) >>> 0;
  return f32[0]!;
}

/** The codebook with every centroid rounded (roundCentroid), unless that would make one zero or change how two of them compare: then as it is. */
export function roundCodebook(codebook: Float32Array): Float32Array {
  const rounded = codebook.map(roundCentroid);
  for (let i = 0; i < rounded.length; i++) {
    if (rounded[i] === 0) return codebook;
    for (let j = 0; j < i; j++) {
      if (Math.sign(rounded[i]! - rounded[j]!) !== Math.sign(codebook[i]! - codebook[j]!)) return codebook;
    }
  }
  return rounded;
}

export function avoidZero(codebook: Float32Array): Float32Array {
  for (let c = 0; c < codebook.length; c++) if (codebook[c] === 0) codebook[c] = 1e-7;
  return codebook;
}

/** The kernels the shared layers stand for: codebook[code], 0 where pruned. */
export function sharedKernels(layers: SharedLayer[]): Float32Array[] {
  return layers.map(({ codebook, codes }) => {
    const kernel = new Float32Array(codes.length);
    for (let i = 0; i < codes.length; i++) if (codes[i] !== NO_CODE) kernel[i] = codebook[codes[i]];
    return kernel;
  });
}

export function withSharedKernels(weights: ModelWeights, layers: SharedLayer[]): ModelWeights {
  return { kernels: sharedKernels(layers), biases: weights.biases.map((b) => b.slice()) };
}

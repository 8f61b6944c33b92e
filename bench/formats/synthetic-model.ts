// Synthetic but realistic weights for format tests and the benchmark: a Dense
// MLP with Laplacian-distributed kernels (trained MLP weights are heavy-tailed
// around 0), magnitude-pruned to a sparsity, then weight-shared with 1-D
// k-means per tensor (Deep Compression, Han et al. 2016), and Algorithm 1's k
// equal intervals over the range of the non-zero kernel weights.
import { createRandom, type Interval, type Layer, type ModelInput, type TensorInput, type Tier } from '../../formats/index.ts';

export interface SyntheticOptions {
  sizes?: number[];
  sparsity?: number;
  bits?: number;
  intervals?: number;
  seed?: number;
  version?: number;
  /** Bias encoding; biases are never licensed. */
  biasEncoding?: 'dense-f32' | 'int8';
  kernelEncoding?: 'codebook-sparse' | 'int8' | 'dense-f32';
}

/** Deterministic PRNG: formats' seeded mulberry32, so benches and builds draw the same streams. */
export const rng = createRandom;

export function laplacian(random: () => number, scale: number): number {
  const u = random() - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

/** Zeroes the smallest-magnitude fraction `sparsity` of `values` in place. */
export function magnitudePrune(values: Float32Array, sparsity: number): void {
  const cut = Math.floor(values.length * sparsity);
  if (cut <= 0) return;
  const order = Array.from(values.keys()).sort((a, b) => Math.abs(values[a]!) - Math.abs(values[b]!));
  for (let i = 0; i < cut; i++) values[order[i]!] = 0;
}

/** 1-D k-means over the non-zero values; snaps them to their centroid in place; returns the codebook. */
export function shareWeights(values: Float32Array, bits: number, iterations = 12): Float32Array {
  const nonzero = Float32Array.from(values.filter((v) => v !== 0)).sort();
  const k = Math.min(1 << bits, Math.max(1, nonzero.length));
  const centroids = new Float64Array(k);
  for (let c = 0; c < k; c++) centroids[c] = nonzero[Math.floor(((c + 0.5) / k) * nonzero.length)] ?? 0;
  const sums = new Float64Array(k);
  const counts = new Uint32Array(k);
  const nearest = (v: number) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (Math.abs(v - centroids[c]!) < Math.abs(v - centroids[best]!)) best = c;
    return best;
  };
  for (let it = 0; it < iterations; it++) {
    sums.fill(0);
    counts.fill(0);
    for (const v of nonzero) {
      const c = nearest(v);
      sums[c]! += v;
      counts[c]!++;
    }
    for (let c = 0; c < k; c++) if (counts[c]! > 0) centroids[c] = sums[c]! / counts[c]!;
  }
  const codebook = Float32Array.from(centroids);
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) values[i] = codebook[nearest(values[i]!)]!;
  // A centroid that rounds to 0 would make its weights vanish: nudge it.
  for (let c = 0; c < codebook.length; c++) if (codebook[c] === 0) codebook[c] = 1e-6;
  return codebook;
}

/** k equal intervals over [min, max] of the given values (Algorithm 1), ids 0..k-1. */
export function equalIntervals(values: Float32Array[], k: number): Interval[] {
  let min = Infinity;
  let max = -Infinity;
  for (const vs of values) for (const v of vs) if (v !== 0) { min = Math.min(min, v); max = Math.max(max, v); }
  if (!Number.isFinite(min)) { min = -1; max = 1; }
  const width = (max - min) / k;
  return Array.from({ length: k }, (_, i) => ({ id: i, lower: min + i * width, upper: i === k - 1 ? max : min + (i + 1) * width }));
}

export function syntheticModel(options: SyntheticOptions = {}): ModelInput {
  const sizes = options.sizes ?? [784, 128, 64, 10];
  const sparsity = options.sparsity ?? 0.9;
  const bits = options.bits ?? 4;
  const random = rng(options.seed ?? 1);
  const kernelEncoding = options.kernelEncoding ?? 'codebook-sparse';
  const tensors: TensorInput[] = [];
  const layers: Layer[] = [];
  const kernels: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l]!;
    const units = sizes[l + 1]!;
    const kernel = new Float32Array(inputs * units);
    const scale = Math.sqrt(1 / inputs); // He-like spread
    for (let i = 0; i < kernel.length; i++) kernel[i] = laplacian(random, scale);
    magnitudePrune(kernel, sparsity);
    const codebook = kernelEncoding === 'codebook-sparse' ? shareWeights(kernel, bits) : undefined;
    kernels.push(kernel);
    const bias = new Float32Array(units);
    for (let i = 0; i < units; i++) bias[i] = laplacian(random, 0.05);
    const name = `dense_${l + 1}`;
    layers.push({ kind: 'dense', name, inputs, units, activation: l + 2 === sizes.length ? 'softmax' : 'relu', weight: tensors.length, bias: tensors.length + 1 });
    tensors.push({ name: `${name}/kernel`, shape: [inputs, units], encoding: kernelEncoding, values: kernel, codebook, bits: codebook ? bits : undefined, licensed: true });
    tensors.push({ name: `${name}/bias`, shape: [units], encoding: options.biasEncoding ?? 'dense-f32', values: bias, licensed: false });
  }
  const intervals = equalIntervals(kernels, options.intervals ?? 8);
  const ids = intervals.map((i) => i.id);
  const tiers: Tier[] = [
    { name: 'basic', intervals: ids.filter((id) => id % 2 === 0), accuracy: 0.61 },
    { name: 'full', intervals: ids, accuracy: 0.89 },
  ];
  return {
    model: 'synthetic-mlp',
    version: options.version ?? 1,
    preprocess: { inputShape: [sizes[0]!], scale: 1 / 255, offset: 0 },
    layers,
    tensors,
    intervals,
    tiers,
  };
}

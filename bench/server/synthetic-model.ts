// Synthetic model versions for the server's tests and benchmark: an MLP of
// given layer sizes whose kernels are codebook-sparse (k = 4 equal intervals
// over [-1, 1], 2^bits shared values spread evenly across them), biases dense.
// Deterministic for a seed. `changed` rewrites the weights of chosen
// (tensor, interval) segments, leaving every other segment byte-identical:
// how the incremental-storage measurement makes "a version that changes
// 10 % of the segments".
import type { ModelInput, TensorInput } from '../../formats/index.ts';
import { rng as mulberry32 } from '../formats/synthetic-model.ts';

export interface SyntheticModelOptions {
  model?: string;
  version: number;
  /** Layer widths, input first; default the paper's 784-128-64-10. */
  sizes?: number[];
  /** Fraction of kernel weights kept (the rest pruned); default 0.1. */
  density?: number;
  /** Codebook index width; default 4. */
  bits?: number;
  seed?: number;
  /** Segments to alter: kernel number (0-based, counting kernels only) and interval id. */
  changed?: Array<{ kernel: number; interval: number }>;
}

export const INTERVALS = [
  { id: 0, lower: -1, upper: -0.5 },
  { id: 1, lower: -0.5, upper: 0 },
  { id: 2, lower: 0, upper: 0.5 },
  { id: 3, lower: 0.5, upper: 1 },
];

export const TIERS = [
  { name: 'bronze', intervals: [1, 2], accuracy: 0.7 },
  { name: 'silver', intervals: [0, 1, 2], accuracy: 0.8 },
  { name: 'gold', intervals: [0, 1, 2, 3], accuracy: 0.9 },
];


/** 2^bits non-zero centroids, evenly spaced inside (-1, 1), the same count in each interval. */
function makeCodebook(bits: number): Float32Array {
  const n = 1 << bits;
  const codebook = new Float32Array(n);
  for (let i = 0; i < n; i++) codebook[i] = -1 + (2 * (i + 0.5)) / n;
  return codebook;
}

function intervalOf(value: number): number {
  return Math.min(3, Math.floor((value + 1) / 0.5));
}

export function syntheticModel(options: SyntheticModelOptions): ModelInput {
  const sizes = options.sizes ?? [784, 128, 64, 10];
  const density = options.density ?? 0.1;
  const bits = options.bits ?? 4;
  const random = mulberry32(options.seed ?? 1);
  const codebook = makeCodebook(bits);
  const perInterval = codebook.length / 4;
  const tensors: TensorInput[] = [];
  const layers: ModelInput['layers'] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l]!;
    const units = sizes[l + 1]!;
    const kernel = new Float32Array(inputs * units);
    for (let i = 0; i < kernel.length; i++) {
      if (random() < density) kernel[i] = codebook[Math.floor(random() * codebook.length)]!;
    }
    for (const change of options.changed ?? []) {
      if (change.kernel !== l) continue;
      // Move every weight of that interval to the next centroid of the same interval.
      for (let i = 0; i < kernel.length; i++) {
        const v = kernel[i]!;
        if (v === 0 || intervalOf(v) !== change.interval) continue;
        const index = codebook.indexOf(v);
        const first = change.interval * perInterval;
        kernel[i] = codebook[first + ((index - first + 1) % perInterval)]!;
      }
    }
    const bias = new Float32Array(units);
    for (let i = 0; i < units; i++) bias[i] = (random() - 0.5) * 0.1;
    const weight = tensors.push({ name: `dense_${l}/kernel`, shape: [inputs, units], encoding: 'codebook-sparse', values: kernel, codebook, bits, licensed: true }) - 1;
    const biasIndex = tensors.push({ name: `dense_${l}/bias`, shape: [units], encoding: 'dense-f32', values: bias, licensed: false }) - 1;
    const last = l + 2 === sizes.length;
    layers.push({ kind: 'dense', name: `dense_${l}`, inputs, units, activation: last ? 'softmax' : 'relu', weight, bias: biasIndex });
  }
  return {
    model: options.model ?? 'synthetic',
    version: options.version,
    preprocess: { inputShape: [sizes[0]!], scale: 1 / 255, offset: 0 },
    layers,
    tensors,
    intervals: INTERVALS,
    tiers: TIERS,
  };
}

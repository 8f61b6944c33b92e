// Synthetic models for device-sim tests: seeded random Dense chains with
// codebook-sparse (pruned, weight-shared) kernels, split into k intervals
// and nested tiers, encoded with formats' real encoder.
import {
  createRandom,
  encodeArtifact,
  generateKeyPair,
  type DenseModelInput,
  type TensorInput,
  type Interval,
  type Tier,
  type DenseLayer,
} from '../../formats/index.ts';

export interface SyntheticOptions {
  sizes?: number[];
  version?: number;
  seed?: number;
  /** Fraction of kernel weights pruned to zero. */
  pruned?: number;
  model?: string;
  encoding?: 'codebook-sparse' | 'int8' | 'dense-f32';
  /** Activation of the last layer (softmax unless told). */
  finalActivation?: 'softmax' | 'linear';
}

/** Four intervals over [-1, 1]; tiers nest small magnitudes inside the full set. */
export const INTERVALS: Interval[] = [
  { id: 0, lower: -1, upper: -0.5 },
  { id: 1, lower: -0.5, upper: 0 },
  { id: 2, lower: 0, upper: 0.5 },
  { id: 3, lower: 0.5, upper: 1 },
];
export const TIERS: Tier[] = [
  { name: 'basic', intervals: [1, 2], accuracy: 0.5 },
  { name: 'full', intervals: [0, 1, 2, 3], accuracy: 0.9 },
];

const CODEBOOK = Float32Array.from({ length: 16 }, (_, j) => -0.9375 + j * 0.125);

export function syntheticModel(options: SyntheticOptions = {}): DenseModelInput {
  const sizes = options.sizes ?? [784, 16, 10];
  const random = createRandom(options.seed ?? 1);
  const pruned = options.pruned ?? 0.5;
  const encoding = options.encoding ?? 'codebook-sparse';
  const tensors: TensorInput[] = [];
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l];
    const units = sizes[l + 1];
    const values = new Float32Array(inputs * units);
    for (let i = 0; i < values.length; i++) {
      if (random() < pruned) continue;
      const code = Math.floor(random() * CODEBOOK.length);
      values[i] = encoding === 'codebook-sparse' ? CODEBOOK[code] : CODEBOOK[code] * (0.5 + 0.5 * random()); // stays inside [-1, 1]
    }
    const kernel: TensorInput = {
      name: `dense_${l}/kernel`,
      shape: [inputs, units],
      encoding,
      values,
      licensed: true,
      ...(encoding === 'codebook-sparse' ? { codebook: CODEBOOK, bits: 4 } : {}),
    };
    const bias = Float32Array.from({ length: units }, () => (random() - 0.5) * 0.2);
    tensors.push(kernel, { name: `dense_${l}/bias`, shape: [units], encoding: 'dense-f32', values: bias, licensed: false });
    layers.push({
      kind: 'dense',
      name: `dense_${l}`,
      inputs,
      units,
      activation: l + 2 === sizes.length ? (options.finalActivation ?? 'softmax') : 'relu',
      kernel: 2 * l,
      bias: 2 * l + 1,
    });
  }
  return {
    model: options.model ?? 'synthetic',
    version: options.version ?? 1,
    preprocess: { inputShape: [sizes[0]], scale: 1 / 255 / Math.sqrt(sizes[0]), offset: 0 },
    layers,
    tensors,
    intervals: INTERVALS,
    tiers: TIERS,
  };
}

export const keys = generateKeyPair();

export function syntheticArtifact(options: SyntheticOptions & { license?: number[]; signed?: boolean } = {}): Uint8Array {
  return encodeArtifact(syntheticModel(options), {
    heldIntervals: options.license,
    privateKey: options.signed === false ? undefined : keys.privateKeyPem,
  });
}

/** Seeded random raw samples (0..255). */
export function randomSamples(count: number, size: number, seed = 7): Uint8Array {
  const random = createRandom(seed);
  return Uint8Array.from({ length: count * size }, () => Math.floor(random() * 256));
}

// A paper-109k-sized model (784-128-64-10, 109,386 parameters) synthesized
// the way the pipeline shapes one: 80 % of kernel weights pruned (the
// paper's pruning rate), the rest shared over a 16-entry codebook (4-bit
// indices), Algorithm 1's k = 8 equal intervals over the value range, biases
// dense float32. Weights are seeded random, so accuracy is meaningless here:
// the bench measures memory and speed, which depend on the sizes only.
import { encodeArtifact, type Interval, type Layer, type ModelInput, type TensorInput } from '../../formats/index.ts';
import { createRandom } from '../../formats/index.ts';

export const PAPER_SIZES = [784, 128, 64, 10];
const K = 8;
const CODEBOOK = Float32Array.from({ length: 16 }, (_, j) => (-0.9375 + j * 0.125) * 0.3);

export function paperModelInput(options: { version?: number; seed?: number; changed?: number; pruned?: number } = {}): ModelInput {
  const random = createRandom(options.seed ?? 109386);
  const pruned = options.pruned ?? 0.8;
  const tensors: TensorInput[] = [];
  const layers: Layer[] = [];
  for (let l = 0; l + 1 < PAPER_SIZES.length; l++) {
    const inputs = PAPER_SIZES[l];
    const units = PAPER_SIZES[l + 1];
    const values = new Float32Array(inputs * units);
    for (let i = 0; i < values.length; i++) {
      if (random() < pruned) continue;
      values[i] = CODEBOOK[Math.floor(random() * CODEBOOK.length)];
    }
    tensors.push({ name: `dense_${l}/kernel`, shape: [inputs, units], encoding: 'codebook-sparse', codebook: CODEBOOK, bits: 4, values, licensed: true });
    tensors.push({
      name: `dense_${l}/bias`,
      shape: [units],
      encoding: 'dense-f32',
      values: Float32Array.from({ length: units }, () => (random() - 0.5) * 0.1),
      licensed: false,
    });
    layers.push({
      kind: 'dense',
      name: `dense_${l}`,
      inputs,
      units,
      activation: l + 2 === PAPER_SIZES.length ? 'softmax' : 'relu',
      kernel: 2 * l,
      bias: 2 * l + 1,
    });
  }
  // A later version: fine-tuning moved a fraction of the kept weights to another centroid.
  const changed = options.changed ?? 0;
  if (changed > 0) {
    const moves = createRandom((options.seed ?? 109386) + (options.version ?? 1));
    for (const tensor of tensors) {
      if (!tensor.licensed) continue;
      for (let i = 0; i < tensor.values.length; i++) {
        if (tensor.values[i] !== 0 && moves() < changed) tensor.values[i] = CODEBOOK[Math.floor(moves() * CODEBOOK.length)];
      }
    }
  }
  const lower = CODEBOOK[0];
  const upper = CODEBOOK[CODEBOOK.length - 1];
  const width = (upper - lower) / K;
  const intervals: Interval[] = Array.from({ length: K }, (_, id) => ({
    id,
    lower: lower + id * width,
    upper: id === K - 1 ? upper : lower + (id + 1) * width,
  }));
  const all = intervals.map((interval) => interval.id);
  return {
    model: 'paper-109k',
    version: options.version ?? 1,
    preprocess: { inputShape: [784], scale: 1 / 255, offset: 0 },
    layers,
    tensors,
    intervals,
    tiers: [
      { name: 'basic', intervals: all.slice(2, 6), accuracy: 0 },
      { name: 'full', intervals: all, accuracy: 0 },
    ],
  };
}

export function paperArtifact(options: { version?: number; changed?: number; privateKey?: string; license?: number[]; pruned?: number } = {}): Uint8Array {
  return encodeArtifact(paperModelInput(options), { privateKey: options.privateKey, heldIntervals: options.license });
}

// Second versions of a synthetic model, as a retraining would make them:
// some weights moved to another centroid (possibly another interval), or
// only the centroids fine-tuned (positions and codes unchanged).
import { rng } from './synthetic-model.ts';
import { intervalIndexOf, type ModelInput } from '../../formats/index.ts';

/** Moves `fraction` of each codebook tensor's non-zero weights to a random other centroid. */
export function changeWeights(input: ModelInput, fraction: number, seed: number): ModelInput {
  const random = rng(seed);
  return {
    ...input,
    version: input.version + 1,
    tensors: input.tensors.map((t) => {
      if (!t.codebook) return t;
      const values = Float32Array.from(t.values);
      for (let p = 0; p < values.length; p++) {
        if (values[p] !== 0 && random() < fraction) values[p] = t.codebook[Math.floor(random() * t.codebook.length)]!;
      }
      return { ...t, values };
    }),
  };
}

/** Scales every centroid by (1 + delta) while keeping it in its interval's half-open range when possible. */
export function changeCentroids(input: ModelInput, delta: number): ModelInput {
  return {
    ...input,
    version: input.version + 1,
    tensors: input.tensors.map((t) => {
      if (!t.codebook) return t;
      const codebook = Float32Array.from(t.codebook);
      const moved = new Map<number, number>();
      codebook.forEach((c, i) => {
        const next = Math.fround(c * (1 + delta));
        const interval = intervalIndexOf(c, input.intervals);
        const inSame = interval !== -1 && intervalIndexOf(next, input.intervals) === interval;
        if (inSame) {
          codebook[i] = next;
          moved.set(c, next);
        }
      });
      const values = t.values.map((v) => (v === 0 ? 0 : moved.get(v) ?? v));
      return { ...t, codebook, values };
    }),
  };
}

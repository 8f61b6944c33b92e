// `build --from DIR`: version N+1 of an earlier codebook build. The masks,
// every weight's code, the intervals and the tiers stay; only the centroids
// are fine-tuned (Deep Compression's centroid fine-tuning) on the training
// split. Each centroid is kept inside the interval it started in, so every
// weight stays in its segment with the same local code: all segments stay
// byte-identical and only the manifest's codebooks change — the server's
// patch from N to N+1 is tiny.
import { intervalIndexOf, type Interval } from '../formats/index.ts';
import type { ResolvedOptions } from './build-options.ts';
import { fineTuneCentroids } from './centroid-tuning.ts';
import type { CompressedModel } from './compress.ts';
import type { Dataset } from './datasets.ts';
import { evaluateAccuracy } from './evaluate.ts';
import { substitutedKernelsNote } from './conv-ops.ts';
import { inputWidth } from './model.ts';
import type { ProgressSink } from './progress.ts';
import { avoidZero, NO_CODE, roundCentroid, withSharedKernels, type SharedLayer } from './share.ts';
import type { BuildState } from './state.ts';

/** v clamped into intervals[position] as formats tests it ([lower, upper), last closed), in float32. */
export function clampToInterval(v: number, intervals: readonly Interval[], position: number): number {
  if (position < 0) return v;
  const lower = Math.fround(intervals[position].lower);
  const upper = Math.fround(intervals[position].upper);
  let c = Math.fround(Math.min(Math.max(v, lower), upper));
  const last = position === intervals.length - 1;
  // Step down from upper by float32 ulps until it is inside [lower, upper).
  let step = Math.abs(upper) * 2 ** -23 || 2 ** -149;
  while (!last && c >= upper && c > lower) {
    c = Math.fround(upper - step);
    step *= 2;
  }
  return c;
}

export async function nextVersion(state: BuildState, options: ResolvedOptions, dataset: Dataset, progress: ProgressSink): Promise<CompressedModel> {
  const { spec } = state;
  const start = performance.now();
  const note = substitutedKernelsNote(spec.layers.map((l) => l.kind));
  if (note) progress.log(note);
  const tuned = await fineTuneCentroids(
    spec,
    { kernels: [], biases: state.biases },
    state.shared,
    dataset.train,
    dataset.classes,
    { epochs: Math.max(1, options.centroidEpochs), seed: options.seed + state.version, augment: options.augment },
    progress,
  );
  const shared: SharedLayer[] = tuned.map((layer, l) => {
    const original = state.shared[l].codebook;
    const codebook = layer.codebook.map((v, c) => {
      const position = intervalIndexOf(original[c], state.intervals);
      const clamped = clampToInterval(v, state.intervals, position);
      // 16 significant bits, as the first build's (roundCentroid), unless that leaves the interval
      const rounded = roundCentroid(clamped);
      return position >= 0 && rounded !== 0 && intervalIndexOf(rounded, state.intervals) === position ? rounded : clamped;
    });
    return { codebook: avoidZero(codebook), codes: layer.codes };
  });
  const weights = withSharedKernels({ kernels: [], biases: state.biases }, shared);
  const quantized = evaluateAccuracy(spec, weights, dataset.test, inputWidth(spec));
  progress.log(`centroids fine-tuned for v${state.version + 1}: test accuracy ${(quantized * 100).toFixed(2)} %`);
  const layerSparsity = shared.map(({ codes }) => {
    let pruned = 0;
    for (let i = 0; i < codes.length; i++) if (codes[i] === NO_CODE) pruned++;
    return pruned / codes.length;
  });
  return {
    spec,
    weights,
    shared,
    pruned: null,
    accuracy: { dense: null, pruned: null, quantized },
    inputValidationAccuracy: null,
    layerSparsity,
    seconds: { share: Math.round((performance.now() - start) / 10) / 100 },
  };
}

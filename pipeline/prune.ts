// Stage 2: iterative magnitude pruning with fine-tuning (Han et al., "Learning
// both Weights and Connections", 2015). Each round raises sparsity along a
// cubic schedule (Zhu & Gupta 2017: prune fast while many weights are
// redundant, slowly near the target), zeroes the smallest-magnitude kernel
// weights of each weighted layer (Dense, Conv2D, DepthwiseConv2D), then
// fine-tunes with the masks held fixed.
//
// Per-layer allocation: a layer's density (kept fraction) is proportional to
// size^-0.4. Large layers are the most redundant: on LeNet-300-100 Deep
// Compression kept 8 % / 9 % / 26 % of its three layers. For 784-128-64-10 at
// the default 95 % this keeps about 4 % / 12 % / 32 %. Measured on that model
// (bench/pipeline, seed 1): -0.4 lost 0.2 points against dense, -0.3 lost
// 0.95 and -0.5 0.85 at the same bytes.
import type { DatasetSplit } from './datasets.ts';
import { kernelSize, weightedLayers, type ModelSpec, type ModelWeights, type WeightedLayerSpec } from './model.ts';
import { silentProgress, type ProgressSink } from './progress.ts';
import { trainWeights } from './train.ts';

export const DENSITY_EXPONENT = -0.4;

/**
 * A convolution kernel whose every output reads at most this many weights
 * is left unpruned: a depthwise 3x3 (9 weights an output), a first 3x3
 * convolution over one channel. Such layers hold a few hundred weights and
 * nothing redundant: on dscnn-mnist, pruning its 3x3 layers by half (what
 * size^-0.4 gives them at 90 % overall) cost 6 points of accuracy. Dense
 * layers are all pruned, as before layer kinds.
 */
export const MIN_PRUNED_FAN_IN = 16;

/** Weights each output of the layer reads. */
export function fanIn(layer: WeightedLayerSpec): number {
  return kernelSize(layer) / layer.units;
}

/** Whether pruning may touch the layer's kernel (MIN_PRUNED_FAN_IN). */
export function isPrunable(layer: WeightedLayerSpec): boolean {
  return layer.kind === 'dense' || fanIn(layer) > MIN_PRUNED_FAN_IN;
}

/**
 * Per-layer sparsities whose weighted mean over `sizes` is `target` (each
 * 0..1). Layers with `fixed[i]` keep every weight (sparsity 0), and the
 * others share the target, unless the fixed ones alone hold more than it
 * allows: then every layer shares it.
 */
export function allocateSparsity(sizes: number[], target: number, exponent = DENSITY_EXPONENT, fixed: readonly boolean[] = []): number[] {
  if (target <= 0) return sizes.map(() => 0);
  const total = sizes.reduce((a, b) => a + b, 0);
  const keepTotal = (1 - target) * total;
  const fixedTotal = sizes.reduce((sum, n, i) => sum + (fixed[i] ? n : 0), 0);
  const held = fixedTotal > 0 && fixedTotal < keepTotal && fixedTotal < total;
  const shape = sizes.map((n, i) => (held && fixed[i] ? Infinity : Math.pow(n, exponent)));
  const kept = (scale: number) => sizes.reduce((sum, n, i) => sum + Math.min(1, scale * shape[i]) * n, 0);
  // kept(scale) is monotone: bisect for the scale that keeps keepTotal weights.
  let lo = 0;
  let hi = 1 / Math.min(...shape.filter((v) => v !== Infinity));
  for (let iter = 0; iter < 60; iter++) {
    const mid = (lo + hi) / 2;
    if (kept(mid) < keepTotal) lo = mid;
    else hi = mid;
  }
  return shape.map((s) => 1 - Math.min(1, hi * s));
}

/**
 * A mask keeping the `keep` largest-magnitude entries of `values` (1 = keep).
 * Ties at the threshold go to the lower index, so the mask is deterministic.
 */
export function magnitudeMask(values: Float32Array, keep: number): Uint8Array {
  const mask = new Uint8Array(values.length);
  if (keep <= 0) return mask;
  if (keep >= values.length) return mask.fill(1);
  const magnitudes = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) magnitudes[i] = Math.abs(values[i]);
  const sorted = magnitudes.slice().sort();
  const threshold = sorted[values.length - keep];
  let above = 0;
  for (let i = 0; i < values.length; i++) if (magnitudes[i] > threshold) above++;
  let tiesLeft = keep - above;
  for (let i = 0; i < values.length; i++) {
    if (magnitudes[i] > threshold) mask[i] = 1;
    else if (magnitudes[i] === threshold && tiesLeft > 0) {
      mask[i] = 1;
      tiesLeft--;
    }
  }
  return mask;
}

/** Zeroes kernel weights where the mask is 0, in place. */
export function applyMasks(weights: ModelWeights, masks: Uint8Array[]): void {
  for (let l = 0; l < masks.length; l++) {
    const kernel = weights.kernels[l];
    const mask = masks[l];
    for (let i = 0; i < kernel.length; i++) if (mask[i] === 0) kernel[i] = 0;
  }
}

export interface PruneOptions {
  /** Overall kernel sparsity, 0..1 (biases are never pruned). */
  sparsity: number;
  /** Prune + fine-tune rounds. */
  rounds: number;
  /** Fine-tuning epochs after each round. */
  epochsPerRound: number;
  seed: number;
  learningRate?: number;
  /** Per-layer allocation: density proportional to size^exponent (default DENSITY_EXPONENT). */
  densityExponent?: number;
  /** Fine-tuning shifts each sample by up to this many pixels (train.ts); default 0. */
  augment?: number;
}

export interface PruneResult {
  weights: ModelWeights;
  masks: Uint8Array[];
  /** The sparsity each layer reached. */
  layerSparsity: number[];
}

/** Prunes `weights` to `options.sparsity` in rounds, fine-tuning with fixed masks after each. */
export async function pruneIteratively(
  spec: ModelSpec,
  weights: ModelWeights,
  train: DatasetSplit,
  classes: number,
  options: PruneOptions,
  progress: ProgressSink = silentProgress,
): Promise<PruneResult> {
  const layers = weightedLayers(spec);
  const sizes = layers.map(kernelSize);
  const finalSparsity = allocateSparsity(
    sizes,
    options.sparsity,
    options.densityExponent,
    layers.map((l) => !isPrunable(l)),
  );
  let current: ModelWeights = { kernels: weights.kernels.map((k) => k.slice()), biases: weights.biases.map((b) => b.slice()) };
  let masks: Uint8Array[] = sizes.map((n) => new Uint8Array(n).fill(1));
  const rounds = Math.max(1, options.rounds);
  for (let round = 1; round <= rounds; round++) {
    const fraction = 1 - Math.pow(1 - round / rounds, 3);
    masks = current.kernels.map((kernel, l) => {
      const keep = Math.round(sizes[l] * (1 - finalSparsity[l] * fraction));
      return magnitudeMask(kernel, keep);
    });
    applyMasks(current, masks);
    progress.log(`prune round ${round}/${rounds}: sparsity ${(options.sparsity * fraction * 100).toFixed(1)} %`);
    if (options.epochsPerRound > 0) {
      current = await trainWeights(
        spec,
        current,
        train,
        classes,
        {
          epochs: options.epochsPerRound,
          seed: options.seed + round,
          masks,
          learningRate: options.learningRate,
          stage: `prune ${round}/${rounds}`,
          augment: options.augment,
        },
        progress,
      );
      applyMasks(current, masks);
    }
  }
  const layerSparsity = masks.map((mask) => {
    let zeros = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) zeros++;
    return zeros / mask.length;
  });
  return { weights: current, masks, layerSparsity };
}

// Stage 4 wired to real data: Algorithm 1 (algorithm1.ts) measuring
// validation accuracy of the compressed model with intervals cut, and the
// exact bytes each interval's segments take in the encoded artifact.
import { encodeArtifact, readArtifact, BASE_INTERVAL, type Interval, type ModelInput } from '../formats/index.ts';
import { selectTiers, type LicensingOrder, type SelectedTier, type TierTarget } from './algorithm1.ts';
import type { DatasetSplit } from './datasets.ts';
import { chunkSize, SplitEvaluator } from './evaluate.ts';
import { cutKernels, intervalMaps } from './intervals.ts';
import { inputWidth, type ModelSpec, type ModelWeights } from './model.ts';
import type { ProgressSink } from './progress.ts';

export interface LicensingOutcome {
  /** Tiers of the chosen order, highest target first. */
  chosen: SelectedTier[];
  /** Both orders' tiers, to report which reaches each target with fewer bytes. */
  comparison: Record<LicensingOrder, SelectedTier[]>;
  /** Encoded bytes of each interval's segments, by interval position. */
  intervalBytes: number[];
  fullValidationAccuracy: number;
}

/** Bytes of every interval's segments in the full artifact of `input`, by interval position. */
export function measureIntervalBytes(input: ModelInput): number[] {
  const artifact = readArtifact(encodeArtifact({ ...input, tiers: [] }));
  const position = new Map(input.intervals.map((iv, i) => [iv.id, i]));
  const bytes = new Array<number>(input.intervals.length).fill(0);
  for (const segment of artifact.manifest.segments) {
    if (segment.interval === BASE_INTERVAL) continue;
    const p = position.get(segment.interval);
    if (p !== undefined) bytes[p] += segment.bytes;
  }
  return bytes;
}

/** Accuracy on `split` of the weights with the given interval positions cut; one upload of the split. */
export function createCutEvaluator(spec: ModelSpec, weights: ModelWeights, intervals: Interval[], split: DatasetSplit) {
  const evaluator = new SplitEvaluator(split, inputWidth(spec), chunkSize(spec));
  const maps = intervalMaps(weights.kernels, intervals);
  return {
    accuracyWithout(cut: ReadonlySet<number>): number {
      const kernels = cut.size === 0 ? weights.kernels : cutKernels(weights.kernels, maps, cut);
      return evaluator.accuracy(spec, { kernels, biases: weights.biases });
    },
    /** Accuracy of a tier given by its interval ids. */
    accuracyOf(tierIntervals: readonly number[]): number {
      const keep = new Set(tierIntervals);
      const cut = new Set<number>();
      intervals.forEach((iv, p) => {
        if (!keep.has(iv.id)) cut.add(p);
      });
      return this.accuracyWithout(cut);
    },
    dispose: () => evaluator.dispose(),
  };
}

export function licenseModel(
  spec: ModelSpec,
  weights: ModelWeights,
  input: ModelInput,
  validation: DatasetSplit,
  targets: TierTarget[],
  order: LicensingOrder,
  tolerance: number,
  progress: ProgressSink,
): LicensingOutcome {
  const intervalBytes = measureIntervalBytes(input);
  const evaluator = createCutEvaluator(spec, weights, input.intervals, validation);
  try {
    const comparison = {} as Record<LicensingOrder, SelectedTier[]>;
    const k = input.intervals.length;
    for (const o of ['paper', 'greedy'] as const) {
      // Greedy tries every uncut interval per step: at most k(k+1)/2 evaluations per tier.
      progress.start(`license (${o})`, o === 'greedy' ? (targets.length * k * (k + 1)) / 2 : targets.length * k + 1);
      comparison[o] = selectTiers({
        intervalIds: input.intervals.map((iv) => iv.id),
        intervalBytes,
        accuracyWithout: (cut) => evaluator.accuracyWithout(cut),
        targets,
        order: o,
        tolerance,
        onEvaluation: (n) => progress.update(n),
      });
      progress.stop();
    }
    return { chosen: comparison[order], comparison, intervalBytes, fullValidationAccuracy: evaluator.accuracyWithout(new Set()) };
  } finally {
    evaluator.dispose();
  }
}

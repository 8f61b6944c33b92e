// Stage 4: licensing by Algorithm 1 (the paper's slides, "Weight Licensing"):
// intervals are cut off across all layers one after another until accuracy
// gets close to a target; the uncut intervals form the tier. Tiers are nested:
// the search for a lower target continues from the cuts of the higher one, so
// a lower tier's intervals are always a subset of a higher tier's.
//
// Orders:
//   paper   the intervals in index order (ascending value), as Algorithm 1's
//           "for all intervals": cut the next one while accuracy stays at or
//           above the target, stop once it is within `tolerance` of it or the
//           next cut would fall below it.
//   greedy  at each step, try every uncut interval and cut the one with the
//           least validation-accuracy loss per byte saved that keeps
//           accuracy at or above the target; stop when none does.
// Only the validation split is measured here; the caller reports test accuracy.
import { PipelineError } from './errors.ts';

export type LicensingOrder = 'paper' | 'greedy';

export interface TierTarget {
  name: string;
  /** Validation accuracy the tier must keep, 0..1. */
  target: number;
}

export interface LicensingInput {
  /** Interval ids, in index order. */
  intervalIds: readonly number[];
  /** Bytes the segments of each interval cost (same order as intervalIds). */
  intervalBytes: readonly number[];
  /** Validation accuracy with the intervals at these positions (into intervalIds) cut. */
  accuracyWithout: (cut: ReadonlySet<number>) => number;
  targets: readonly TierTarget[];
  order: LicensingOrder;
  /** paper order: "close to the target" means within this much above it. */
  tolerance: number;
  /** Called after each accuracy measurement (progress). */
  onEvaluation?: (evaluations: number) => void;
}

export interface SelectedTier {
  name: string;
  target: number;
  /** Uncut interval ids, ascending: the tier's license. */
  intervals: number[];
  /** Interval ids in the order they were cut (across all tiers so far). */
  cut: number[];
  validationAccuracy: number;
  /** false when even every interval stays below the target (the tier then holds them all). */
  met: boolean;
  /** Sum of intervalBytes over the tier's intervals. */
  intervalBytes: number;
}

/** Runs Algorithm 1 for every target, highest first; returns tiers from highest target to lowest. */
export function selectTiers(input: LicensingInput): SelectedTier[] {
  const n = input.intervalIds.length;
  const cut = new Set<number>();
  const cutOrder: number[] = [];
  let evaluations = 0;
  const measure = (set: ReadonlySet<number>) => {
    const accuracy = input.accuracyWithout(set);
    input.onEvaluation?.(++evaluations);
    return accuracy;
  };
  let accuracy = measure(cut);
  const tiers: SelectedTier[] = [];
  const targets = [...input.targets].sort((a, b) => b.target - a.target);
  for (const { name, target } of targets) {
    if (input.order === 'paper') {
      for (let position = 0; position < n; position++) {
        if (cut.has(position)) continue;
        if (accuracy - target <= input.tolerance && accuracy >= target) break;
        const trial = new Set(cut).add(position);
        const trialAccuracy = measure(trial);
        if (trialAccuracy < target) break;
        cut.add(position);
        cutOrder.push(position);
        accuracy = trialAccuracy;
      }
    } else {
      for (;;) {
        let best = -1;
        let bestScore = Infinity;
        let bestAccuracy = 0;
        for (let position = 0; position < n; position++) {
          if (cut.has(position)) continue;
          const bytes = input.intervalBytes[position];
          if (bytes <= 0) continue;
          const trialAccuracy = measure(new Set(cut).add(position));
          if (trialAccuracy < target) continue;
          const score = (accuracy - trialAccuracy) / bytes;
          if (score < bestScore || (score === bestScore && bytes > input.intervalBytes[best])) {
            best = position;
            bestScore = score;
            bestAccuracy = trialAccuracy;
          }
        }
        if (best < 0) break;
        cut.add(best);
        cutOrder.push(best);
        accuracy = bestAccuracy;
      }
    }
    const intervals: number[] = [];
    let bytes = 0;
    for (let position = 0; position < n; position++) {
      if (cut.has(position)) continue;
      intervals.push(input.intervalIds[position]);
      bytes += input.intervalBytes[position];
    }
    tiers.push({
      name,
      target,
      intervals,
      cut: cutOrder.map((p) => input.intervalIds[p]),
      validationAccuracy: accuracy,
      met: accuracy >= target,
      intervalBytes: bytes,
    });
  }
  return tiers;
}

/** Parses "basic:0.70,standard:0.90" into targets (0..1; "70" also reads as 0.70). */
export function parseTierTargets(text: string): TierTarget[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const [name, value] = part.split(':').map((s) => s.trim());
    let target = Number(value);
    if (target > 1 && target <= 100) target /= 100;
    if (!name || !/^[A-Za-z0-9_-]+$/.test(name) || name === 'full' || !Number.isFinite(target) || target < 0 || target > 1) {
      throw new PipelineError('BAD_OPTION', `--tiers: tier "${part}": write NAME:ACCURACY, e.g. basic:0.70 (a name other than "full", accuracy 0..1)`);
    }
    return { name, target };
  });
}

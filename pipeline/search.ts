// Stages 1–3 under an accuracy budget (`--max-drop POINTS`): instead of one
// fixed sparsity and codebook size, try a ladder of sparsities and, at each,
// the fewest codebook bits that stay within POINTS of the input model's
// validation accuracy; keep the setting whose full artifact is smallest.
//
// The reference is the input model as given: a loaded model before any
// change, or a preset once trained. Accuracy is measured on the validation
// split (what the search may look at); the test split stays for the report.
//
// The ladder (DEFAULTS.searchSparsities, or --search-sparsities) prunes in steps from the previous step's weights (one round and
// --prune-epochs of fine-tuning each), so the masks are nested and the whole
// search costs about one iterative pruning run with more rounds. It climbs
// while some codebook size meets the budget. A sparsity where none does
// first gets more fine-tuning at the same masks (--recovery-epochs, in
// rounds of --prune-epochs, each followed by the codebook sizes again): one
// round per step is too little near the top of the ladder, where each step
// removes a larger share of the weights left. On paper-109k, the default
// build stopped at 93 % with it; a fixed 4-round schedule reached 97 %
// within the budget. The search stops at the first sparsity where none does
// even after that: pruning further only loses more.
//
// The ladder's nested masks train worse than a schedule aimed at one
// sparsity: each step gets one round. So once it has chosen, the search
// rebuilds that sparsity from the dense model with the fixed schedule
// (--prune-rounds rounds of --prune-epochs, what `build --sparsity` runs),
// tries the codebook sizes again, and keeps the rebuild when it is within
// the budget in fewer bytes and no less accurate on validation than the
// ladder's choice: the rebuild is there to train the same sparsity better,
// not to take one more try at the budget's edge (with a 96 % step on the
// ladder, seed 2: the ladder chose 97 % and 4-bit at 0.50 points below on
// validation, 1.30 on test; its rebuild, smaller, was 0.80 and 2.50 below,
// and the first rule, any smaller rebuild within the budget, took it).
// Measured on paper-109k (bench/pipeline/seeds.ts, seeds 1-3): 95 % and
// 3-bit rebuilt at every seed, 8,016-8,180 B at 0.00-0.50 points below on
// validation and 0.05-0.80 on test, where the ladder alone chose
// 8,224-9,176 B at 0.90-1.00 and 0.90-1.25 below. When nothing on the
// ladder met the budget, the rebuild is of its first sparsity.
// --no-rebuild skips it.
//
// The 96 % step: without sample shifts (--augment 0) it made the search pick
// 96-97 % at 0.65-1.30 points below dense on test (seeds 1-3), so the
// default ladder went without it; a preset now trains on shifted samples
// (train.ts), with which the same ladder chose 96-97 % at seeds 1-3 and
// 0.35 above to 1.45 below dense on test.
//
// The half-point steps (96.5 and 97.5 %): between 96 and 98 % one step
// moves a full tier by about 600 bytes, and a seed whose 97 % missed the
// budget fell back to 96 % (seed 2: 7,364 B signed, over 64x), while one
// that passed 97 % at the budget's edge went 1.45 below dense on test
// (seed 3). With the two steps every one of seeds 1-4 chose 97-97.5 % with
// 3-bit codebooks, 5,520-6,280 B signed, 0.25 above to 0.75 below dense on
// test: a smaller step is a smaller fine-tuning shock, and each kept step
// trains the next. bench/pipeline/seeds.ts has the current numbers.
//
// Measured and not kept: climbing on from the rebuild, rebuilding the
// ladder's next sparsity while each rebuild met the budget. Seed 2 reached
// 97 % with 4-bit codebooks, 6,928 B at 0.80 points below on validation,
// but 2.50 below on test: one more try at the budget's edge, chosen on
// 1,000 validation digits, is one more chance to pass by luck.
//
// Measured and not kept (bench/pipeline/seeds.ts, seeds 1-3): recovery
// rounds also where only more than 3-bit codebooks met the budget, to try
// the fewer bits again. Seed 1 was unchanged; seed 2 reached 97 % but 2.1
// points below dense on test; seed 3 ended at 95 % with 6-bit codebooks,
// 1,900 bytes larger. More tries at the budget's edge pick settings that
// pass the 1,000 validation digits by luck.
import { encodeArtifact } from '../formats/index.ts';
import type { ResolvedOptions } from './build-options.ts';
import { prepareInputModel, shareAndTune, type CompressedModel } from './compress.ts';
import type { Dataset } from './datasets.ts';
import { equalIntervals } from './intervals.ts';
import type { ModelSpec, ModelWeights } from './model.ts';
import { toModelInput } from './model-input.ts';
import type { ProgressSink } from './progress.ts';
import { pruneIteratively } from './prune.ts';
import { sparsityPercent } from './report.ts';
import type { SharedLayer } from './share.ts';
import { trainWeights } from './train.ts';

/** Codebook bits tried at each sparsity, fewest first. */
export const BITS_TRIED = [3, 4, 5, 6];

/** How a trial's masks were reached: a step on the ladder, or the fixed schedule from the dense model. */
export type SearchSchedule = 'ladder' | 'rebuild';

export interface SearchTrial {
  sparsity: number;
  bits: number;
  schedule: SearchSchedule;
  /** Fine-tuning epochs at this sparsity's masks before this trial: on the ladder --prune-epochs plus any recovery rounds; a rebuild's, --prune-rounds x --prune-epochs. */
  fineTuneEpochs: number;
  validationAccuracy: number;
  /** On the test split: reported (report.svg plots it), never used to choose. */
  testAccuracy: number;
  /** Points below the reference (negative: above it). */
  drop: number;
  /** The full artifact's bytes, unsigned (a signature adds the same 64 + key id to every trial). */
  fullBytes: number;
  withinBudget: boolean;
}

export interface SearchReport {
  maxDrop: number;
  /** The input model's validation accuracy, the budget's reference. */
  reference: number;
  trials: SearchTrial[];
  chosen: { sparsity: number; bits: number; schedule: SearchSchedule };
  /** Whether the chosen setting is within the budget (else it is the best found). */
  met: boolean;
}

export interface SearchedModel extends CompressedModel {
  bits: number;
  search: SearchReport;
}

interface Candidate {
  trial: SearchTrial;
  pruned: ModelWeights;
  shared: SharedLayer[];
  final: ModelWeights;
  layerSparsity: number[];
}

/** drop <= maxDrop, up to float rounding: accuracies are counts over a split, and 0.956 - 0.946 is not exactly 0.01. */
export const withinBudget = (drop: number, maxDrop: number): boolean => drop <= maxDrop + 1e-9;

const elapsed = (since: number) => Math.round((performance.now() - since) / 10) / 100;
const pct = (a: number) => `${(a * 100).toFixed(2)} %`;

/** The full artifact's size for these weights, as build writes it (unsigned, no tiers). */
function fullBytes(spec: ModelSpec, final: ModelWeights, shared: SharedLayer[], bits: number, intervals: number): number {
  const encodable = { kernels: final.kernels, biases: final.biases, shared, bits };
  return encodeArtifact(toModelInput(spec, encodable, equalIntervals(final.kernels, intervals), [], 1)).length;
}

export async function searchCompression(options: ResolvedOptions, dataset: Dataset, maxDrop: number, progress: ProgressSink): Promise<SearchedModel> {
  const seconds: Record<string, number> = {};
  const { spec, dense, inputValidationAccuracy: reference, denseAccuracy, validate, test } = await prepareInputModel(options, dataset, progress, seconds);
  progress.log(`budget: the full tier at most ${maxDrop} points below the input model's validation accuracy ${pct(reference)} (--max-drop)`);

  const t = performance.now();
  const trials: SearchTrial[] = [];
  // Typed by their initializers so that assignments inside tryCodebooks keep them Candidate | null here.
  let best = null as Candidate | null; // smallest within budget
  let closest = null as Candidate | null; // highest validation accuracy, for when nothing is within budget
  // More bits only add bytes: from a size no smaller than the best on, none can be chosen.
  const cannotWin = (bytes: number): boolean => best !== null && bytes >= best.trial.fullBytes;
  const prune = (from: ModelWeights, sparsity: number, rounds: number) =>
    pruneIteratively(
      spec,
      from,
      dataset.train,
      dataset.classes,
      {
        sparsity,
        rounds,
        epochsPerRound: options.pruneEpochs,
        seed: options.seed,
        learningRate: options.pruneLearningRate,
        densityExponent: options.densityExponent,
        augment: options.augment,
      },
      progress,
    );

  /**
   * The codebook sizes at one sparsity's pruned weights, fewest bits first,
   * until one is within the budget or can no longer be the smallest; each
   * tried setting becomes a trial. `bytesBefore` (each size's bytes in an
   * earlier round at the same masks) skips sizes already too large. A
   * setting within the budget but under `atLeast` validation accuracy is
   * not chosen, and the next size is tried.
   */
  async function tryCodebooks(
    sparsity: number,
    schedule: SearchSchedule,
    epochs: number,
    weights: ModelWeights,
    layerSparsity: number[],
    bytesBefore: Map<number, number>,
    atLeast = -Infinity,
  ): Promise<boolean> {
    for (const bits of BITS_TRIED) {
      if (cannotWin(bytesBefore.get(bits) ?? 0)) return false;
      const { shared, final } = await shareAndTune(spec, weights, bits, options, dataset, progress);
      const validationAccuracy = validate(final);
      const drop = (reference - validationAccuracy) * 100;
      const trial: SearchTrial = {
        sparsity,
        bits,
        schedule,
        fineTuneEpochs: epochs,
        validationAccuracy,
        testAccuracy: test(final),
        drop,
        fullBytes: fullBytes(spec, final, shared, bits, options.intervals),
        withinBudget: withinBudget(drop, maxDrop),
      };
      trials.push(trial);
      progress.log(
        `search (${schedule}): sparsity ${sparsityPercent(sparsity)} %, ${bits}-bit codebooks, ${epochs} epochs: validation ${pct(validationAccuracy)} (${drop.toFixed(2)} points below), ${trial.fullBytes} B${trial.withinBudget ? '' : ' (over budget)'}`,
      );
      const candidate: Candidate = { trial, pruned: weights, shared, final, layerSparsity };
      if (!closest || validationAccuracy > closest.trial.validationAccuracy) closest = candidate;
      if (trial.withinBudget && validationAccuracy >= atLeast) {
        // More bits only add bytes at this sparsity.
        if (!best || trial.fullBytes < best.trial.fullBytes) best = candidate;
        return true;
      }
      bytesBefore.set(bits, trial.fullBytes);
      if (cannotWin(trial.fullBytes)) return false;
    }
    return false;
  }

  let current = dense;
  for (const sparsity of options.searchSparsities) {
    const pruned = await prune(current, sparsity, 1);
    let weights = pruned.weights;
    let epochs = options.pruneEpochs;
    const bytesBefore = new Map<number, number>();
    let levelMet = false;
    for (;;) {
      levelMet = await tryCodebooks(sparsity, 'ladder', epochs, weights, pruned.layerSparsity, bytesBefore);
      const round = Math.min(options.pruneEpochs, options.pruneEpochs + options.recoveryEpochs - epochs);
      if (levelMet || round <= 0) break;
      // Recovery: more fine-tuning at the same masks, then the codebook sizes again.
      progress.log(`search: sparsity ${sparsityPercent(sparsity)} % missed the budget; ${round} more fine-tuning epochs (--recovery-epochs)`);
      weights = await trainWeights(
        spec,
        weights,
        dataset.train,
        dataset.classes,
        {
          epochs: round,
          seed: options.seed + epochs,
          masks: pruned.masks,
          learningRate: options.pruneLearningRate,
          stage: 'recovery',
          augment: options.augment,
        },
        progress,
      );
      epochs += round;
    }
    current = weights;
    if (!levelMet) break;
  }

  if (options.rebuild) {
    // The ladder's choice (its first sparsity when nothing met), from the dense model.
    const sparsity = best ? best.trial.sparsity : options.searchSparsities[0];
    const rounds = options.pruneRounds;
    progress.log(`search: rebuilding sparsity ${sparsityPercent(sparsity)} % from the dense model in ${rounds} rounds (--prune-rounds)`);
    const pruned = await prune(dense, sparsity, rounds);
    // Chosen over the ladder's setting only when no less accurate on validation (and, as always, smaller).
    const atLeast = best ? best.trial.validationAccuracy : -Infinity;
    await tryCodebooks(sparsity, 'rebuild', rounds * options.pruneEpochs, pruned.weights, pruned.layerSparsity, new Map(), atLeast);
  }

  const chosen = (best ?? closest) as Candidate;
  seconds.search = elapsed(t);
  const what = `sparsity ${sparsityPercent(chosen.trial.sparsity)} %, ${chosen.trial.bits}-bit codebooks (${chosen.trial.schedule})`;
  progress.log(
    best
      ? `search: chose ${what}: ${chosen.trial.fullBytes} B, ${chosen.trial.drop.toFixed(2)} points below`
      : `search: no setting within ${maxDrop} points; the closest is ${what}, ${chosen.trial.drop.toFixed(2)} points below`,
  );

  return {
    spec,
    weights: chosen.final,
    shared: chosen.shared,
    pruned: chosen.pruned,
    accuracy: { dense: denseAccuracy, pruned: test(chosen.pruned), quantized: test(chosen.final) },
    inputValidationAccuracy: reference,
    layerSparsity: chosen.layerSparsity,
    seconds,
    bits: chosen.trial.bits,
    search: {
      maxDrop,
      reference,
      trials,
      chosen: { sparsity: chosen.trial.sparsity, bits: chosen.trial.bits, schedule: chosen.trial.schedule },
      met: best !== null,
    },
  };
}

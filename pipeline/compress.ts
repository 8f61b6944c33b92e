// Stages 1–3 in sequence: train (or load) the dense model, prune it with
// fine-tuning, share its weights (k-means codebooks + centroid fine-tuning)
// or quantize them to int8. Measures test accuracy after each stage.
import { quantizeInt8 } from '../formats/index.ts';
import { storedBiases } from './biases.ts';
import type { ResolvedOptions } from './build-options.ts';
import { fineTuneCentroids } from './centroid-tuning.ts';
import type { Dataset } from './datasets.ts';
import { PipelineError } from './errors.ts';
import { evaluateAccuracy } from './evaluate.ts';
import { substitutedKernelsNote } from './conv-ops.ts';
import { countNonzero, inputWidth, kernelShape, outputWidth, specShapes, weightedLayers, type ModelSpec, type ModelWeights } from './model.ts';
import { loadLayersModel } from './model-json.ts';
import { presetSpec } from './presets.ts';
import type { ProgressSink } from './progress.ts';
import { pruneIteratively } from './prune.ts';
import { roundCodebook, shareWeights, withSharedKernels, type SharedLayer } from './share.ts';
import { initialWeights, trainWeights } from './train.ts';

export interface CompressedModel {
  spec: ModelSpec;
  /** Final kernels (pruned, shared or int8-rounded) and biases. */
  weights: ModelWeights;
  shared: SharedLayer[] | null;
  /** The pruned float32 weights before sharing (for the report's "pruning" column). */
  pruned: ModelWeights | null;
  accuracy: { dense: number | null; pruned: number | null; quantized: number };
  /** The input model's validation accuracy (a loaded model before any change, a preset once trained): --max-drop's reference. */
  inputValidationAccuracy: number | null;
  layerSparsity: number[];
  seconds: Record<string, number>;
}

const elapsed = (since: number) => Math.round((performance.now() - since) / 10) / 100;

/** Loads the model the options name, checked against the dataset. */
export async function loadModel(options: ResolvedOptions, dataset: Dataset): Promise<{ spec: ModelSpec; weights: ModelWeights | null }> {
  const loaded = options.modelPath ? await loadLayersModel(options.modelPath) : { spec: presetSpec(options.preset ?? ''), weights: null };
  const { spec } = loaded;
  const where = options.modelPath ?? spec.name;
  const width = dataset.inputShape.reduce((a, b) => a * b, 1);
  const inputs = inputWidth(spec);
  if (inputs !== width) {
    throw new PipelineError(
      'SHAPE_MISMATCH',
      `${where}: the model takes ${inputs} inputs ([${spec.inputShape}]), the dataset ${dataset.name} has ${width} pixels per sample`,
    );
  }
  specShapes(spec, where);
  const outputs = outputWidth(spec);
  if (outputs !== dataset.classes) {
    throw new PipelineError('SHAPE_MISMATCH', `${where}: the model has ${outputs} outputs, the dataset ${dataset.name} has ${dataset.classes} classes`);
  }
  return loaded;
}

/** Stage 1, shared by compressModel and the search: the input model, trained when asked, and its accuracies. */
export interface InputModel {
  spec: ModelSpec;
  /** The weights to compress: as loaded, or trained. */
  dense: ModelWeights;
  /** The input model's validation accuracy (a loaded model before any change): the --max-drop reference. */
  inputValidationAccuracy: number;
  /** The dense weights' test accuracy. */
  denseAccuracy: number;
  validate(weights: ModelWeights): number;
  test(weights: ModelWeights): number;
}

export async function prepareInputModel(
  options: ResolvedOptions,
  dataset: Dataset,
  progress: ProgressSink,
  seconds: Record<string, number>,
): Promise<InputModel> {
  let t = performance.now();
  const { spec, weights: loaded } = await loadModel(options, dataset);
  const note = substitutedKernelsNote(spec.layers.map((l) => l.kind));
  if (note) progress.log(note);
  const width = inputWidth(spec);
  const validate = (w: ModelWeights) => evaluateAccuracy(spec, w, dataset.validation, width);
  const test = (w: ModelWeights) => evaluateAccuracy(spec, w, dataset.test, width);
  seconds.load = elapsed(t);

  t = performance.now();
  let dense = loaded ?? initialWeights(spec, options.seed);
  const loadedReference = loaded ? validate(loaded) : null;
  if (loaded) progress.log(`input model: validation accuracy ${(loadedReference! * 100).toFixed(2)} %, test ${(test(loaded) * 100).toFixed(2)} %`);
  if (options.epochs > 0) {
    dense = await trainWeights(
      spec,
      dense,
      dataset.train,
      dataset.classes,
      { epochs: options.epochs, seed: options.seed, learningRate: options.learningRate, stage: 'train', augment: options.augment },
      progress,
    );
  }
  const inputValidationAccuracy = loadedReference ?? validate(dense);
  const denseAccuracy = test(dense);
  progress.log(`dense: test accuracy ${(denseAccuracy * 100).toFixed(2)} %`);
  seconds.train = elapsed(t);
  return { spec, dense, inputValidationAccuracy, denseAccuracy, validate, test };
}

/** Stage 3 for codebooks: k-means to 2^bits centroids per layer, then centroid fine-tuning when asked; centroids to 16 significant bits (roundCodebook); the biases rounded to int8 unless --float-biases. */
export async function shareAndTune(
  spec: ModelSpec,
  pruned: ModelWeights,
  bits: number,
  options: ResolvedOptions,
  dataset: Dataset,
  progress: ProgressSink,
): Promise<{ shared: SharedLayer[]; final: ModelWeights }> {
  let shared = shareWeights(pruned, bits);
  if (options.centroidEpochs > 0) {
    shared = await fineTuneCentroids(
      spec,
      pruned,
      shared,
      dataset.train,
      dataset.classes,
      { epochs: options.centroidEpochs, seed: options.seed, augment: options.augment },
      progress,
    );
  }
  shared = shared.map((layer) => ({ codebook: roundCodebook(layer.codebook), codes: layer.codes }));
  const final = withSharedKernels(pruned, shared);
  return { shared, final: { ...final, biases: storedBiases(final.biases, options.floatBiases) } };
}

export async function compressModel(options: ResolvedOptions, dataset: Dataset, progress: ProgressSink): Promise<CompressedModel> {
  const seconds: Record<string, number> = {};
  const { spec, dense, inputValidationAccuracy, denseAccuracy, test } = await prepareInputModel(options, dataset, progress, seconds);

  let t = performance.now();
  const pruned = await pruneIteratively(
    spec,
    dense,
    dataset.train,
    dataset.classes,
    {
      sparsity: options.sparsity,
      rounds: options.pruneRounds,
      epochsPerRound: options.pruneEpochs,
      seed: options.seed,
      learningRate: options.pruneLearningRate,
      densityExponent: options.densityExponent,
      augment: options.augment,
    },
    progress,
  );
  const prunedAccuracy = test(pruned.weights);
  progress.log(
    `pruned to ${(options.sparsity * 100).toFixed(1)} %: ${countNonzero(pruned.weights.kernels)} weights, test accuracy ${(prunedAccuracy * 100).toFixed(2)} %`,
  );
  seconds.prune = elapsed(t);

  t = performance.now();
  let shared: SharedLayer[] | null = null;
  let final: ModelWeights;
  if (options.encoding === 'int8') {
    final = {
      kernels: pruned.weights.kernels.map((k, i) => quantizeInt8(k, kernelShape(weightedLayers(spec)[i])).dequantized),
      biases: storedBiases(pruned.weights.biases, options.floatBiases),
    };
  } else {
    ({ shared, final } = await shareAndTune(spec, pruned.weights, options.bits, options, dataset, progress));
  }
  const quantizedAccuracy = test(final);
  progress.log(`${options.encoding === 'int8' ? 'int8' : `${options.bits}-bit codebooks`}: test accuracy ${(quantizedAccuracy * 100).toFixed(2)} %`);
  seconds.share = elapsed(t);

  return {
    spec,
    weights: final,
    shared,
    pruned: pruned.weights,
    accuracy: { dense: denseAccuracy, pruned: prunedAccuracy, quantized: quantizedAccuracy },
    inputValidationAccuracy,
    layerSparsity: pruned.layerSparsity,
    seconds,
  };
}

// Deep Compression's centroid fine-tuning (section 3.1): the gradient of each
// shared weight is summed per cluster and the centroid moves by it, so every
// weight keeps its code and only codebooks change. Here TF.js gathers each
// kernel as onehot(codes) · codebook (a pruned weight's row is all zero), so
// autodiff of the matmul does the per-cluster sum. (A gather would be
// lighter, but its gradient, UnsortedSegmentSum, has no wasm kernel.) Biases stay fixed, so a new
// version changes only codebooks: segments (positions + codes) stay
// byte-identical and the patch between versions is tiny.
import * as tf from '@tensorflow/tfjs';
import type { DatasetSplit } from './datasets.ts';
import { forwardLogits } from './forward.ts';
import { inputWidth, kernelShape, weightedLayers, type ModelSpec, type ModelWeights } from './model.ts';
import { silentProgress, type ProgressSink } from './progress.ts';
import { createRandom } from './random.ts';
import { avoidZero, NO_CODE, type SharedLayer } from './share.ts';
import { augmentationFor, DEFAULT_BATCH_SIZE, forEachBatch } from './train.ts';

export interface CentroidTuningOptions {
  epochs: number;
  learningRate?: number;
  seed: number;
  batchSize?: number;
  /** Shift each sample by up to this many pixels (train.ts, shiftSamples); default 0. */
  augment?: number;
}

/** Returns new codebooks (same codes) fine-tuned on `split`. */
export async function fineTuneCentroids(
  spec: ModelSpec,
  weights: ModelWeights,
  shared: SharedLayer[],
  split: DatasetSplit,
  classes: number,
  options: CentroidTuningOptions,
  progress: ProgressSink = silentProgress,
): Promise<SharedLayer[]> {
  const width = inputWidth(spec);
  const layers = weightedLayers(spec);
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const codebooks = shared.map((layer) => tf.variable(tf.tensor1d(layer.codebook)));
  const selectors = shared.map((layer) => {
    const k = layer.codebook.length;
    const onehot = new Float32Array(layer.codes.length * k);
    for (let i = 0; i < layer.codes.length; i++) if (layer.codes[i] !== NO_CODE) onehot[i * k + layer.codes[i]] = 1;
    return tf.tensor2d(onehot, [layer.codes.length, k]);
  });
  const biases = weights.biases.map((b) => tf.tensor1d(b));
  const optimizer = tf.train.adam(options.learningRate ?? 0.0001);
  const random = createRandom(options.seed ^ 0xce47);
  const steps = Math.ceil(split.count / batchSize);
  const augmentation = augmentationFor(spec.inputShape, options.augment);
  progress.start('centroids', options.epochs * steps);
  let done = 0;
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      forEachBatch(split, width, classes, batchSize, random, augmentation, (x, y) => {
        const loss = optimizer.minimize(() => {
          const kernels = layers.map((l, i) => tf.reshape(tf.matMul(selectors[i], tf.reshape(codebooks[i], [-1, 1])), kernelShape(l)));
          return tf.losses.softmaxCrossEntropy(y, forwardLogits(spec, kernels, biases, x)) as tf.Scalar;
        }, false);
        loss?.dispose();
        if (++done % 25 === 0) progress.update(done);
      });
      progress.update(done, `epoch ${epoch + 1}/${options.epochs}`);
    }
    return shared.map((layer, i) => ({ codebook: avoidZero(codebooks[i].dataSync().slice() as Float32Array), codes: layer.codes }));
  } finally {
    progress.stop();
    optimizer.dispose();
    tf.dispose([...codebooks, ...selectors, ...biases]);
  }
}

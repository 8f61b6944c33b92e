// Accuracy of a model's weights on a split. The split's pixels are uploaded
// once and reused: Algorithm 1 evaluates the same validation split a hundred
// times. Large chunks, because wasm is slow at small batch sizes.
import * as tf from '@tensorflow/tfjs';
import type { DatasetSplit } from './datasets.ts';
import { fillBatch, forwardLogits, kernelTensors } from './forward.ts';
import { elementCount, specShapes, type ModelSpec, type ModelWeights } from './model.ts';

const CHUNK = 2500;
/** Activations (floats) one chunk may hold in its largest layer output; a CNN's feature maps take smaller chunks. */
const CHUNK_ACTIVATIONS = 8 * 1024 * 1024;

/** Samples per evaluation chunk for `spec`: CHUNK, fewer when its largest feature map would not fit CHUNK_ACTIVATIONS. */
export function chunkSize(spec: ModelSpec): number {
  const largest = Math.max(...specShapes(spec).map((s) => elementCount(s.output)));
  return Math.max(1, Math.min(CHUNK, Math.floor(CHUNK_ACTIVATIONS / largest)));
}

export class SplitEvaluator {
  private readonly chunks: tf.Tensor2D[] = [];
  private readonly labels: Uint8Array;

  /** `chunk`: samples per forward pass (chunkSize(spec) for the model it will evaluate). */
  constructor(split: DatasetSplit, width: number, chunk = CHUNK) {
    this.labels = split.labels;
    const order = new Uint32Array(split.count);
    for (let i = 0; i < split.count; i++) order[i] = i;
    for (let from = 0; from < split.count; from += chunk) {
      const to = Math.min(split.count, from + chunk);
      const buffer = new Float32Array((to - from) * width);
      fillBatch(split.samples, width, order, from, to, buffer);
      this.chunks.push(tf.tensor2d(buffer, [to - from, width]));
    }
  }

  /** Fraction of samples whose argmax matches the label, 0..1. */
  accuracy(spec: ModelSpec, weights: ModelWeights): number {
    if (this.labels.length === 0) return 0;
    const kernels = kernelTensors(spec, weights.kernels);
    const biases = weights.biases.map((b) => tf.tensor1d(b));
    let correct = 0;
    let at = 0;
    for (const x of this.chunks) {
      const predicted = tf.tidy(() => tf.argMax(forwardLogits(spec, kernels, biases, x), 1));
      const classes = predicted.dataSync();
      predicted.dispose();
      for (let i = 0; i < classes.length; i++) if (classes[i] === this.labels[at + i]) correct++;
      at += classes.length;
    }
    tf.dispose([...kernels, ...biases]);
    return correct / this.labels.length;
  }

  dispose(): void {
    tf.dispose(this.chunks);
  }
}

/** One-off accuracy of `weights` on `split`. */
export function evaluateAccuracy(spec: ModelSpec, weights: ModelWeights, split: DatasetSplit, width: number): number {
  const evaluator = new SplitEvaluator(split, width, chunkSize(spec));
  try {
    return evaluator.accuracy(spec, weights);
  } finally {
    evaluator.dispose();
  }
}

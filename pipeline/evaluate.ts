// Accuracy of an MLP's weights on a split. The split's pixels are uploaded
// once and reused: Algorithm 1 evaluates the same validation split a hundred
// times. Large chunks, because wasm is slow at small batch sizes.
import * as tf from '@tensorflow/tfjs';
import type { DatasetSplit } from './datasets.ts';
import { fillBatch, forwardLogits } from './forward.ts';
import type { MlpSpec, MlpWeights } from './mlp.ts';

const CHUNK = 2500;

export class SplitEvaluator {
  private readonly chunks: tf.Tensor2D[] = [];
  private readonly labels: Uint8Array;

  constructor(split: DatasetSplit, width: number) {
    this.labels = split.labels;
    const order = new Uint32Array(split.count);
    for (let i = 0; i < split.count; i++) order[i] = i;
    for (let from = 0; from < split.count; from += CHUNK) {
      const to = Math.min(split.count, from + CHUNK);
      const buffer = new Float32Array((to - from) * width);
      fillBatch(split.samples, width, order, from, to, buffer);
      this.chunks.push(tf.tensor2d(buffer, [to - from, width]));
    }
  }

  /** Fraction of samples whose argmax matches the label, 0..1. */
  accuracy(spec: MlpSpec, weights: MlpWeights): number {
    if (this.labels.length === 0) return 0;
    const kernels = spec.layers.map((l, i) => tf.tensor2d(weights.kernels[i], [l.inputs, l.units]));
    const biases = spec.layers.map((_, i) => tf.tensor1d(weights.biases[i]));
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
export function evaluateAccuracy(spec: MlpSpec, weights: MlpWeights, split: DatasetSplit, width: number): number {
  const evaluator = new SplitEvaluator(split, width);
  try {
    return evaluator.accuracy(spec, weights);
  } finally {
    evaluator.dispose();
  }
}

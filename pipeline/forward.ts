// The MLP's forward pass on tensors, shared by training and evaluation.
// Returns logits: the last layer's softmax is left to the loss (training) or
// skipped (argmax for accuracy is the same).
import * as tf from '@tensorflow/tfjs';
import type { MlpSpec } from './mlp.ts';

export function forwardLogits(spec: MlpSpec, kernels: tf.Tensor2D[], biases: tf.Tensor1D[], x: tf.Tensor2D): tf.Tensor2D {
  let h: tf.Tensor2D = x;
  const last = spec.layers.length - 1;
  for (let i = 0; i <= last; i++) {
    const z = tf.add(tf.matMul(h, kernels[i]), biases[i]) as tf.Tensor2D;
    if (i === last) return z;
    const activation = spec.layers[i].activation;
    h = activation === 'relu' ? tf.relu(z) : activation === 'sigmoid' ? tf.sigmoid(z) : activation === 'tanh' ? tf.tanh(z) : z;
  }
  return h;
}

/** Raw pixels of samples `order[from..to)` scaled by 1/255 into `out` (caller-owned, reused per batch). */
export function fillBatch(samples: Uint8Array, width: number, order: Uint32Array, from: number, to: number, out: Float32Array): void {
  const scale = 1 / 255;
  for (let i = from; i < to; i++) {
    const src = order[i] * width;
    const dst = (i - from) * width;
    for (let j = 0; j < width; j++) out[dst + j] = samples[src + j] * scale;
  }
}

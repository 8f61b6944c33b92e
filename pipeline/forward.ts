// The model's forward pass on tensors, shared by training, evaluation and
// centroid fine-tuning. Input: flat samples [n, width] (scaled pixels),
// reshaped to the model's input shape (NHWC; [h, w] read as [h, w, 1] by a
// spatial first layer). Returns logits [n, classes]: the last layer's
// activation (softmax) is left to the loss (training) or skipped (argmax for
// accuracy is the same).
import * as tf from '@tensorflow/tfjs';
import { featureMap, type Activation } from '../formats/index.ts';
import { conv2d, depthwiseConv2d } from './conv-ops.ts';
import { kernelShape, specShapes, weightedLayers, type ModelSpec } from './model.ts';

export function activate(z: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(z);
    case 'relu6':
      return tf.relu6(z);
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'tanh':
      return tf.tanh(z);
    case 'softmax':
      return tf.softmax(z);
    default:
      return z;
  }
}

/** Kernel tensors in their real shapes (kernelShape) from flat arrays; the caller disposes them. */
export function kernelTensors(spec: ModelSpec, kernels: Float32Array[]): tf.Tensor[] {
  return weightedLayers(spec).map((layer, i) => tf.tensor(kernels[i], kernelShape(layer)));
}

/**
 * Logits of `x` ([n, width]). `kernels[i]` (any shape with the kernel's
 * element count: it is reshaped to kernelShape) and `biases[i]` belong to
 * weighted layer i.
 */
export function forwardLogits(spec: ModelSpec, kernels: tf.Tensor[], biases: tf.Tensor[], x: tf.Tensor2D): tf.Tensor2D {
  const shapes = specShapes(spec);
  const n = x.shape[0];
  let h: tf.Tensor = x;
  let weighted = 0;
  const last = spec.layers.length - 1;
  spec.layers.forEach((layer, i) => {
    const input = shapes[i].input;
    let z: tf.Tensor;
    if (layer.kind === 'dense') {
      const flat = h.rank === 2 ? (h as tf.Tensor2D) : tf.reshape(h, [n, layer.inputs]);
      const k = kernels[weighted];
      z = tf.add(tf.matMul(flat, k.rank === 2 ? (k as tf.Tensor2D) : tf.reshape(k, [layer.inputs, layer.units])), biases[weighted]);
      weighted++;
    } else {
      // NHWC; a flat or [h, w] input becomes the map the layer reads.
      const map = featureMap(input)!;
      const x4 = (h.rank === 4 ? h : tf.reshape(h, [n, map[0], map[1], map[2]])) as tf.Tensor4D;
      switch (layer.kind) {
        case 'conv2d':
        case 'depthwise-conv2d': {
          const k = kernels[weighted];
          const k4 = (k.rank === 4 ? k : tf.reshape(k, kernelShape(layer) as [number, number, number, number])) as tf.Tensor4D;
          const op = layer.kind === 'conv2d' ? conv2d : depthwiseConv2d;
          z = tf.add(op(x4, k4, layer.strides, layer.padding, i === 0), biases[weighted]);
          weighted++;
          break;
        }
        case 'max-pool2d':
          z = tf.maxPool(x4, layer.window, layer.strides, layer.padding);
          break;
        case 'avg-pool2d':
          z = tf.avgPool(x4, layer.window, layer.strides, layer.padding);
          break;
        case 'global-avg-pool2d':
          z = tf.mean(x4, [1, 2]);
          break;
      }
    }
    h = i === last || !('activation' in layer) ? z : activate(z, layer.activation);
  });
  return (h.rank === 2 ? h : tf.reshape(h, [n, -1])) as tf.Tensor2D;
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

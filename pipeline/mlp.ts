// The pipeline's model: a chain of Dense layers over a flattened sample, held
// as plain typed arrays so every stage (prune, share, license, encode) works
// without TensorFlow and only training/evaluation touch tensors.
import type { Activation } from '../formats/index.ts';

export interface DenseSpec {
  name: string;
  inputs: number;
  units: number;
  activation: Activation;
}

export interface MlpSpec {
  /** Preset name or the model file's name. */
  name: string;
  /** Input shape without the batch dimension, as the model declares it (e.g. [28, 28]). */
  inputShape: number[];
  layers: DenseSpec[];
}

/** Kernels are [inputs, units] row-major (Keras layout); one bias per unit. */
export interface MlpWeights {
  kernels: Float32Array[];
  biases: Float32Array[];
}

export function parameterCount(spec: MlpSpec): number {
  let n = 0;
  for (const layer of spec.layers) n += layer.inputs * layer.units + layer.units;
  return n;
}

export function cloneWeights(weights: MlpWeights): MlpWeights {
  return { kernels: weights.kernels.map((k) => k.slice()), biases: weights.biases.map((b) => b.slice()) };
}

/** Number of non-zero kernel weights (biases are never pruned). */
export function countNonzero(kernels: Float32Array[]): number {
  let n = 0;
  for (const kernel of kernels) for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) n++;
  return n;
}

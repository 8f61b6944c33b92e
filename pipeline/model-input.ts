// Turns the pipeline's final weights into formats/' ModelInput: per layer a
// licensed kernel (codebook-sparse or int8, split into segments by interval)
// and an unlicensed dense float32 bias (one BASE_INTERVAL segment, held by
// every artifact).
import type { Interval, Layer, ModelInput, Preprocess, TensorInput, Tier } from '../formats/index.ts';
import type { MlpSpec } from './mlp.ts';
import type { SharedLayer } from './share.ts';

export interface EncodableWeights {
  kernels: Float32Array[];
  biases: Float32Array[];
  /** Codebook per layer for 'codebook-sparse'; null for int8. */
  shared: SharedLayer[] | null;
  bits: number;
}

/** A device feeds raw 0..255 pixels: x = raw / 255. */
export function pixelPreprocess(spec: MlpSpec): Preprocess {
  return { inputShape: [...spec.inputShape], scale: 1 / 255, offset: 0 };
}

export function toModelInput(spec: MlpSpec, weights: EncodableWeights, intervals: Interval[], tiers: Tier[], version: number): ModelInput {
  const tensors: TensorInput[] = [];
  const layers: Layer[] = [];
  spec.layers.forEach((layer, i) => {
    const shared = weights.shared?.[i];
    tensors.push({
      name: `${layer.name}/kernel`,
      shape: [layer.inputs, layer.units],
      encoding: shared ? 'codebook-sparse' : 'int8',
      values: weights.kernels[i],
      ...(shared ? { codebook: shared.codebook, bits: weights.bits } : {}),
      licensed: true,
    });
    tensors.push({ name: `${layer.name}/bias`, shape: [layer.units], encoding: 'dense-f32', values: weights.biases[i], licensed: false });
    layers.push({ kind: 'dense', name: layer.name, inputs: layer.inputs, units: layer.units, activation: layer.activation, kernel: 2 * i, bias: 2 * i + 1 });
  });
  return { model: spec.name, version, preprocess: pixelPreprocess(spec), layers, tensors, intervals, tiers };
}

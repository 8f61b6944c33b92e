// Turns the pipeline's final weights into formats/' ModelInput: per layer a
// licensed kernel (codebook-sparse or int8, split into segments by interval)
// and an unlicensed bias (one BASE_INTERVAL segment, held by every
// artifact): int8 when that stores it exactly, else float32 (biases.ts).
import { int8Exact } from './biases.ts';
import type { Interval, Layer, ModelInput, Preprocess, SegmentCoding, TensorInput, Tier } from '../formats/index.ts';
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

/** `coding` is every tensor's segment stream coding (formats' SegmentCoding). */
export function toModelInput(
  spec: MlpSpec,
  weights: EncodableWeights,
  intervals: Interval[],
  tiers: Tier[],
  version: number,
  coding: SegmentCoding = 'range',
): ModelInput {
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
    const bias = weights.biases[i];
    tensors.push({ name: `${layer.name}/bias`, shape: [layer.units], encoding: int8Exact(bias) ? 'int8' : 'dense-f32', values: bias, licensed: false });
    layers.push({ kind: 'dense', name: layer.name, inputs: layer.inputs, units: layer.units, activation: layer.activation, kernel: 2 * i, bias: 2 * i + 1 });
  });
  if (coding === 'rice') for (const tensor of tensors) tensor.coding = 'rice';
  return { model: spec.name, version, preprocess: pixelPreprocess(spec), layers, tensors, intervals, tiers };
}

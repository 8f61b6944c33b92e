// Turns the pipeline's final weights into formats/' ModelInput: per weighted
// layer a licensed kernel in its real shape (codebook-sparse or int8, split
// into segments by interval) and an unlicensed bias (one BASE_INTERVAL
// segment, held by every artifact): int8 when that stores it exactly, else
// float32 (biases.ts). Pooling layers have no tensors. Weighted layer i gets
// tensors 2i (kernel) and 2i + 1 (bias): model.ts' toFormatsLayers.
import { int8Exact } from './biases.ts';
import type { Interval, ModelInput, Preprocess, SegmentCoding, TensorInput, Tier } from '../formats/index.ts';
import { kernelShape, toFormatsLayers, weightedLayers, type ModelSpec } from './model.ts';
import type { SharedLayer } from './share.ts';

export interface EncodableWeights {
  kernels: Float32Array[];
  biases: Float32Array[];
  /** Codebook per weighted layer for 'codebook-sparse'; null for int8. */
  shared: SharedLayer[] | null;
  bits: number;
}

/** A device feeds raw 0..255 pixels in the model's input shape: x = raw / 255. */
export function pixelPreprocess(spec: ModelSpec): Preprocess {
  return { inputShape: [...spec.inputShape], scale: 1 / 255, offset: 0 };
}

/** `coding` is every tensor's segment stream coding (formats' SegmentCoding). */
export function toModelInput(
  spec: ModelSpec,
  weights: EncodableWeights,
  intervals: Interval[],
  tiers: Tier[],
  version: number,
  coding: SegmentCoding = 'range',
): ModelInput {
  const tensors: TensorInput[] = [];
  weightedLayers(spec).forEach((layer, i) => {
    const shared = weights.shared?.[i];
    tensors.push({
      name: `${layer.name}/kernel`,
      shape: kernelShape(layer),
      encoding: shared ? 'codebook-sparse' : 'int8',
      values: weights.kernels[i],
      ...(shared ? { codebook: shared.codebook, bits: weights.bits } : {}),
      licensed: true,
    });
    const bias = weights.biases[i];
    tensors.push({ name: `${layer.name}/bias`, shape: [layer.units], encoding: int8Exact(bias) ? 'int8' : 'dense-f32', values: bias, licensed: false });
  });
  if (coding === 'rice') for (const tensor of tensors) tensor.coding = 'rice';
  return { model: spec.name, version, preprocess: pixelPreprocess(spec), layers: toFormatsLayers(spec), tensors, intervals, tiers };
}

// What the C library (firmware/) will ask of a part for one artifact: the
// arena of docs/arithmetic.md's plan, for the coded kernels and for the
// execution image's, and the flash the model takes. The formula is the
// document's, not a measurement of this simulator (whose arena holds
// JavaScript-shaped buffers); `weightgate firmware plan` prints it and the
// conformance vectors carry it, so the C library's wg_plan can be checked
// against it byte for byte.
import type { Artifact } from '../formats/index.ts';
import { codeBitsFor, elementCount, localCodebookIndices, modelLayout } from '../formats/index.ts';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import { execImageBytes } from './exec-image.ts';

export type Arithmetic = 'f32' | 'int';
export const ARITHMETICS: readonly Arithmetic[] = ['f32', 'int'];

export interface FirmwarePlan {
  layers: number;
  /** 16 bytes of state per layer. */
  layerBytes: number;
  /** Two ping-pong regions of 4-byte outputs. */
  activationBytes: number;
  /** The largest held segment's decoder state (coded kernels only). */
  decoderBytes: number;
  arenaCodedBytes: number;
  arenaImageBytes: number;
  artifactBytes: number;
  /** The execution image device-sim builds for this artifact. */
  imageBytes: number;
  /** Flash with the coded kernels: the artifact alone. */
  flashCodedBytes: number;
  /** Flash with the image kernels: the artifact and its execution image. */
  flashImageBytes: number;
}

const align4 = (n: number): number => (n + 3) & ~3;

/**
 * Throws UNSUPPORTED_MODEL for what neither arithmetic path runs: only Dense
 * layers, activations linear or relu, and softmax on the last layer.
 */
export function checkFirmwareSupport(artifact: Artifact): void {
  const layers = artifact.manifest.layers;
  if (layers.length === 0) throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, 'the artifact has no layers');
  // A chain: each layer reads what the one before it wrote, the first the preprocessed input (as wg_open checks).
  let previous = artifact.manifest.preprocess.inputShape.reduce((n, d) => n * d, 1);
  layers.forEach((layer, l) => {
    if (layer.kind !== 'dense') throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, `layer kind "${layer.kind}" is not supported; only dense`);
    if (layer.inputs !== previous) {
      throw new DeviceError(
        DeviceErrorCode.UNSUPPORTED_MODEL,
        `layer "${layer.name}" reads ${layer.inputs} inputs where ${l === 0 ? 'the preprocessed input has' : 'the layer before writes'} ${previous}; the firmware library runs a chain of layers only`,
      );
    }
    previous = layer.units;
    const ok = layer.activation === 'linear' || layer.activation === 'relu' || (layer.activation === 'softmax' && l === layers.length - 1);
    if (!ok) {
      throw new DeviceError(
        DeviceErrorCode.UNSUPPORTED_MODEL,
        `layer "${layer.name}": activation ${layer.activation}${layer.activation === 'softmax' ? ' before the last layer' : ''} is not supported by the firmware library; only linear, relu, and softmax last`,
      );
    }
  });
}

/** Decoder state of one held segment: its range-coder models (u16; none for a Rice stream) and local centroids (f32). */
export function segmentDecoderBytes(artifact: Artifact, index: number): number {
  const segment = artifact.segments[index]!;
  const tensor = artifact.manifest.tensors[segment.tensor]!;
  const centroids = tensor.encoding === 'codebook-sparse' ? localCodebookIndices(tensor, segment.interval, artifact.manifest.intervals).length : 0;
  const models = tensor.coding === 'rice' ? 0 : modelLayout(elementCount(tensor.shape), codeBitsFor(centroids)).total;
  return align4(2 * models) + 4 * centroids;
}

/** docs/arithmetic.md's arena plan and the flash of `artifact` (both arithmetic paths plan the same bytes). */
export function firmwarePlan(artifact: Artifact): FirmwarePlan {
  checkFirmwareSupport(artifact);
  const layers = artifact.manifest.layers;
  let even = 0;
  let odd = 0;
  layers.forEach((layer, l) => {
    if (l % 2 === 0) even = Math.max(even, layer.units);
    else odd = Math.max(odd, layer.units);
  });
  let decoderBytes = 0;
  for (let s = 0; s < artifact.segments.length; s++) decoderBytes = Math.max(decoderBytes, segmentDecoderBytes(artifact, s));
  const layerBytes = 16 * layers.length;
  const activationBytes = 4 * (even + odd);
  const imageBytes = execImageBytes(artifact);
  const artifactBytes = artifact.bytes.length;
  return {
    layers: layers.length,
    layerBytes,
    activationBytes,
    decoderBytes,
    arenaCodedBytes: layerBytes + activationBytes + decoderBytes,
    arenaImageBytes: layerBytes + activationBytes,
    artifactBytes,
    imageBytes,
    flashCodedBytes: artifactBytes,
    flashImageBytes: artifactBytes + imageBytes,
  };
}

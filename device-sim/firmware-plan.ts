// What the C library (firmware/) will ask of a part for one artifact: the
// arena of docs/arithmetic.md's plan, for the coded kernels and for the
// execution image's, and the flash the model takes; and which models it
// runs on which arithmetic path and kernels. The formula is the
// document's, not a measurement of this simulator (whose arena holds
// JavaScript-shaped buffers); `weightgate firmware plan` prints it and the
// conformance vectors carry it, so the C library's wg_plan can be checked
// against it byte for byte, and its refusals (WG_E_UNSUPPORTED) against
// checkFirmwareSupport.
//
// The library as CMake builds it for a host (WG_SPATIAL on): a build
// without WG_SPATIAL (the cross builds' default) refuses every format
// version 2 manifest with WG_E_UNSUPPORTED_VERSION instead.
import type { Artifact } from '../formats/index.ts';
import { codeBitsFor, elementCount, layerShapes, localCodebookIndices, modelLayout } from '../formats/index.ts';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import { execImageBytes } from './exec-image.ts';

export type Arithmetic = 'f32' | 'int';
export const ARITHMETICS: readonly Arithmetic[] = ['f32', 'int'];
/** The C library's kernels: decode the segments on every inference, or read the execution image. */
export type FirmwareKernel = 'coded' | 'image';
export const FIRMWARE_KERNELS: readonly FirmwareKernel[] = ['coded', 'image'];

export interface FirmwarePlan {
  layers: number;
  /** 16 bytes of state per layer. */
  layerBytes: number;
  /**
   * Two ping-pong regions of 4-byte values: the largest output of the even
   * layers and of the odd ones, the preprocessed input counted as an odd
   * layer's output when the first layer reads a feature map.
   */
  activationBytes: number;
  /** The largest held segment's decoder state (coded kernels only). */
  decoderBytes: number;
  /** layerBytes + activationBytes + decoderBytes (0xffffffff when that reaches 2^32: no arena meets it). */
  arenaCodedBytes: number;
  /** layerBytes + activationBytes (likewise at most 0xffffffff). */
  arenaImageBytes: number;
  artifactBytes: number;
  /** The execution image device-sim (and wg_image_build) builds for this artifact: its weighted layers. */
  imageBytes: number;
  /** Flash with the coded kernels: the artifact alone. */
  flashCodedBytes: number;
  /** Flash with the image kernels: the artifact and its execution image. */
  flashImageBytes: number;
}

const align4 = (n: number): number => (n + 3) & ~3;
const unsupported = (message: string) => new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, message);
/** A plan's sums as wg_plan's uint32 gives them: 0xffffffff from 2^32 on (no arena is that large). */
const saturate = (n: number): number => Math.min(n, 0xffffffff);

/**
 * What wg_open refuses with WG_E_UNSUPPORTED after every format check
 * passed, the same on every arithmetic path and kernel kind.
 */
function checkModel(artifact: Artifact): void {
  const { layers, formatVersion } = artifact.manifest;
  if (layers.length === 0) throw unsupported('the artifact has no layers');
  // A chain: each layer reads what the one before it wrote, the first the
  // preprocessed input (as wg_open checks; a version-2 manifest's reader checked it).
  let previous = artifact.manifest.preprocess.inputShape.reduce((n, d) => n * d, 1);
  layers.forEach((layer, l) => {
    if (formatVersion !== 2 && layer.inputs !== previous) {
      throw unsupported(
        `layer "${layer.name}" reads ${layer.inputs} inputs where ${l === 0 ? 'the preprocessed input has' : 'the layer before writes'} ${previous}; the firmware library runs a chain of layers only`,
      );
    }
    previous = layer.units;
    if (!('activation' in layer)) return;
    const activation = layer.activation;
    const last = l === layers.length - 1;
    const ok = activation === 'linear' || activation === 'relu' || activation === 'relu6' || (activation === 'softmax' && last && layer.kind === 'dense');
    if (!ok) {
      const why = activation === 'softmax' ? (last ? ' over a feature map' : ' before the last layer') : '';
      throw unsupported(
        `layer "${layer.name}": activation ${activation}${why} is not supported by the firmware library; only linear, relu, relu6, and softmax on a last Dense layer`,
      );
    }
  });
}

/**
 * Throws UNSUPPORTED_MODEL for what the C library does not run: with an
 * arithmetic path, on that path with `kernel` (the coded kernels by
 * default); without one, on every path and both kernels. Every path and
 * kernel runs the same models today (the execution image holds every
 * weighted layer, and both paths run a convolutional model from it), so
 * the answer does not depend on them: Dense, conv2d, depthwise-conv2d and
 * the pooling layers, activations linear, relu or relu6, and softmax on a
 * last Dense layer.
 */
export function checkFirmwareSupport(artifact: Artifact, _arithmetic?: Arithmetic, _kernel: FirmwareKernel = 'coded'): void {
  checkModel(artifact);
}

/** Decoder state of one held segment: its range-coder models (u16; none for a Rice stream) and local centroids (f32). */
export function segmentDecoderBytes(artifact: Artifact, index: number): number {
  const segment = artifact.segments[index]!;
  const tensor = artifact.manifest.tensors[segment.tensor]!;
  const centroids = tensor.encoding === 'codebook-sparse' ? localCodebookIndices(tensor, segment.interval, artifact.manifest.intervals).length : 0;
  const models = tensor.coding === 'rice' ? 0 : modelLayout(elementCount(tensor.shape), codeBitsFor(centroids)).total;
  return align4(2 * models) + 4 * centroids;
}

/** Output elements of each layer (a Dense layer: its units; a feature map: height x width x channels). */
export function layerOutputs(artifact: Artifact): number[] {
  const { manifest } = artifact;
  const shapes = layerShapes(
    manifest.preprocess.inputShape,
    manifest.layers,
    (t) => manifest.tensors[t]?.shape,
    (detail) => {
      throw unsupported(detail);
    },
  );
  return shapes.map((s) => s.output.reduce((n, d) => n * d, 1));
}

/**
 * docs/arithmetic.md's arena plan and the flash of `artifact`: what wg_plan
 * (and wg_plan_image) give, the same on both arithmetic paths. Throws
 * UNSUPPORTED_MODEL for a model the library does not run on `arithmetic`
 * with the coded kernels (without it: on every path and kernel, as
 * checkFirmwareSupport).
 */
export function firmwarePlan(artifact: Artifact, arithmetic?: Arithmetic): FirmwarePlan {
  checkFirmwareSupport(artifact, arithmetic);
  const layers = artifact.manifest.layers;
  const outputs = layerOutputs(artifact);
  let even = 0;
  // The preprocessed input of a model that reads a feature map is kept, as binary32, in the odd region.
  let odd = layers[0]!.kind !== 'dense' ? elementCount(artifact.manifest.preprocess.inputShape) : 0;
  outputs.forEach((n, l) => {
    if (l % 2 === 0) even = Math.max(even, n);
    else odd = Math.max(odd, n);
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
    arenaCodedBytes: saturate(layerBytes + activationBytes + decoderBytes),
    arenaImageBytes: saturate(layerBytes + activationBytes),
    artifactBytes,
    imageBytes,
    flashCodedBytes: artifactBytes,
    flashImageBytes: artifactBytes + imageBytes,
  };
}

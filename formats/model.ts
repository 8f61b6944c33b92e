// Plain runtime structs of weightgate's formats: what the encoder takes in and
// what the reader gives back. No FlatBuffers types leak out of formats/.
//
// Vocabulary (docs/architecture.md): interval, tier, held intervals, segment,
// artifact (.wgm), patch (.wgp).

export type Activation = 'linear' | 'relu' | 'softmax' | 'sigmoid' | 'tanh' | 'relu6';
export type TensorEncoding = 'dense-f32' | 'int8' | 'codebook-sparse';
/**
 * How a tensor's segment streams are coded (docs/format.md §5): 'range'
 * (adaptive range coding, the smallest) or 'rice' (plain Rice bits, a few
 * percent larger, which a device's coded kernels decode in place at the
 * speed of a dense loop).
 */
export type SegmentCoding = 'range' | 'rice';

/**
 * Interval id of segments that no license cuts (biases, tensors encoded
 * unlicensed). Every artifact holds them; it never appears in a set of held intervals list.
 */
export const BASE_INTERVAL = 0xffff;

/** How messages name an interval: "base" for BASE_INTERVAL, else "interval ID". */
export function intervalLabel(id: number): string {
  return id === BASE_INTERVAL ? 'base' : `interval ${id}`;
}

/** How a device turns raw sensor values into model input: x = raw * scale + offset. */
export interface Preprocess {
  /** Input shape without the batch dimension, e.g. [28, 28, 1] or [784]. */
  inputShape: number[];
  scale: number;
  offset: number;
}

/**
 * A fully connected layer. The kernel tensor has shape [inputs, units] in
 * row-major order (Keras / TF.js layout): y = activation(x · K + b), so the
 * flat position p of a kernel weight is row = floor(p / units) (input index)
 * and col = p % units (output index). Its input may be a feature map: it is
 * read flat, in NHWC order (what Keras' Flatten gives).
 */
export interface DenseLayer {
  kind: 'dense';
  name: string;
  inputs: number;
  units: number;
  activation: Activation;
  /** Index of its kernel tensor in the tensor list. */
  kernel: number;
  /** Index into the tensor list, or -1 for no bias. */
  bias: number;
}

/** 'valid': no padding; 'same': zero padding (TensorFlow's rule), output size ceil(size / stride). */
export type Padding = 'valid' | 'same';

/**
 * What a layer that slides a window over a feature map ([height, width,
 * channels], NHWC, row-major) adds: the window, its steps and the padding.
 * Output height = floor((h - window) / stride) + 1 ('valid') or ceil(h /
 * stride) ('same', with floor(pad / 2) rows of zeros before and the rest
 * after, pad = max((out - 1) * stride + window - h, 0)); width likewise.
 */
export interface WindowFields {
  /** [height, width] of the kernel or pooling window. */
  window: [number, number];
  /** [height, width] steps. */
  strides: [number, number];
  padding: Padding;
}

/**
 * A 2-D convolution. Kernel shape [window h, window w, inputs, units]
 * (TF.js layout); viewed as a matrix of rows (ky, kx, input channel) and
 * columns (output channel), so its segments code like a Dense kernel's.
 */
export interface Conv2DLayer extends WindowFields {
  kind: 'conv2d';
  name: string;
  /** Input channels. */
  inputs: number;
  /** Output channels (filters). */
  units: number;
  activation: Activation;
  kernel: number;
  bias: number;
}

/**
 * A depthwise 2-D convolution: input channel c feeds output channels
 * c * m .. c * m + m - 1 (m = units / inputs, the depth multiplier). Kernel
 * shape [window h, window w, inputs, m] (TF.js layout).
 */
export interface DepthwiseConv2DLayer extends WindowFields {
  kind: 'depthwise-conv2d';
  name: string;
  inputs: number;
  /** inputs × depth multiplier. */
  units: number;
  activation: Activation;
  kernel: number;
  bias: number;
}

/** Max or average over a window, per channel (inputs = units = channels); an average counts only the cells inside the input. */
export interface Pool2DLayer extends WindowFields {
  kind: 'max-pool2d' | 'avg-pool2d';
  name: string;
  inputs: number;
  units: number;
}

/** The mean of each channel over the whole feature map: [h, w, c] -> [c]. */
export interface GlobalAvgPool2DLayer {
  kind: 'global-avg-pool2d';
  name: string;
  inputs: number;
  units: number;
}

/** A layer with a kernel tensor (and maybe a bias). */
export type WeightedLayer = DenseLayer | Conv2DLayer | DepthwiseConv2DLayer;
/** One step of the model's chain: each layer reads the output of the one before. */
export type Layer = WeightedLayer | Pool2DLayer | GlobalAvgPool2DLayer;
export type LayerKind = Layer['kind'];

export function isWeighted(layer: Layer): layer is WeightedLayer {
  return layer.kind === 'dense' || layer.kind === 'conv2d' || layer.kind === 'depthwise-conv2d';
}

/** The layers as Dense layers, for code that runs Dense chains only (the int path, the execution image); null when one is not. */
export function denseChain(layers: readonly Layer[]): DenseLayer[] | null {
  return layers.every((l): l is DenseLayer => l.kind === 'dense') ? (layers as DenseLayer[]) : null;
}

/** One of Algorithm 1's k equal value ranges: [lower, upper), the last one closed. */
export interface Interval {
  id: number;
  lower: number;
  upper: number;
}

/** A named, nested set of intervals with its measured accuracy (0..1). */
export interface Tier {
  name: string;
  intervals: number[];
  accuracy: number;
}

/** One tensor as the pipeline hands it to the encoder: final values, already pruned and shared/quantized. */
export interface TensorInput {
  name: string;
  shape: number[];
  encoding: TensorEncoding;
  /** Row-major values; 0 means pruned. */
  values: Float32Array;
  /** codebook-sparse only: every non-zero value equals one entry; at most 2^bits entries. */
  codebook?: Float32Array;
  /** codebook-sparse only: 1..8. */
  bits?: number;
  /**
   * true: the tensor's non-zero weights are split into one segment per
   * interval, by value. false: one BASE_INTERVAL segment (biases).
   */
  licensed: boolean;
  /** Its segments' stream coding; absent: 'range'. */
  coding?: SegmentCoding;
}

/** A ModelInput of Dense layers only (what the synthetic test models and the firmware fixtures build). */
export type DenseModelInput = ModelInput & { layers: DenseLayer[] };

/** Everything the encoder needs to write one model version. */
export interface ModelInput {
  model: string;
  /** Positive integer; devices refuse a version lower than the one they run. */
  version: number;
  preprocess: Preprocess;
  layers: Layer[];
  tensors: TensorInput[];
  intervals: Interval[];
  tiers: Tier[];
}

/** A tensor as the signed manifest describes it. */
export interface TensorInfo {
  name: string;
  shape: number[];
  encoding: TensorEncoding;
  /** Bits per codebook index (codebook-sparse), 8 for int8, 32 for dense-f32. */
  bits: number;
  /** codebook-sparse: the centroids; otherwise null. */
  codebook: Float32Array | null;
  /** int8: one scale per output channel (last dimension; one scale in all for a rank-1 tensor); otherwise null. */
  scales: Float32Array | null;
  /** Non-zero weights over all intervals. */
  nonzero: number;
  licensed: boolean;
  /** 'rice' when its segments are Rice-coded; absent for the default, 'range'. */
  coding?: 'rice';
}

/** What the signed manifest says of one segment: the device checks held segments against it. */
export interface SegmentRef {
  tensor: number;
  interval: number;
  /** Number of (position, value) entries. */
  count: number;
  /** Byte length of the encoded segment. */
  bytes: number;
  /** SHA-256 of the encoded segment bytes. */
  sha256: Uint8Array;
}

/** The version manifest: the part of a release that the publisher signs. */
export interface Manifest {
  formatVersion: number;
  model: string;
  version: number;
  preprocess: Preprocess;
  layers: Layer[];
  tensors: TensorInfo[];
  intervals: Interval[];
  tiers: Tier[];
  /** Every segment of every interval, held by this artifact or not. */
  segments: SegmentRef[];
}

/** A segment held by an artifact; `data` is a view into the artifact's bytes, never a copy. */
export interface Segment {
  tensor: number;
  interval: number;
  count: number;
  data: Uint8Array;
}

/** A verified, decoded .wgm artifact. */
export interface Artifact {
  manifest: Manifest;
  /** The exact bytes the signature covers. */
  manifestBytes: Uint8Array;
  /** Ed25519 signature over manifestBytes, or null when unsigned. */
  signature: Uint8Array | null;
  /** Interval ids this artifact holds (its held intervals), ascending; BASE_INTERVAL not listed. */
  heldIntervals: number[];
  segments: Segment[];
  /** The whole file. */
  bytes: Uint8Array;
  /** SHA-256 of the whole file, lowercase hex. */
  sha256: string;
}

/** The pieces a server stores and reassembles artifacts of any held intervals from. */
export interface ReleaseParts {
  manifestBytes: Uint8Array;
  signature: Uint8Array | null;
  segments: Array<{ tensor: number; interval: number; data: Uint8Array }>;
}

/** A decoded .wgp patch header. */
export interface PatchInfo {
  model: string;
  fromVersion: number;
  toVersion: number;
  fromHeldIntervals: number[];
  toHeldIntervals: number[];
  /** SHA-256 (hex) of the artifact the patch starts from and of the one it makes. */
  fromSha256: string;
  toSha256: string;
  bytes: number;
  sha256: string;
}

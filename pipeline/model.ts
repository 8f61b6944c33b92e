// The pipeline's model: a chain of layers (formats' layer kinds: Dense,
// Conv2D, DepthwiseConv2D, max / average pooling, global average pooling)
// over one sample, held as plain typed arrays so every stage (prune, share,
// license, encode) works without TensorFlow and only training and
// evaluation touch tensors.
//
// A LayerSpec is formats' Layer without its tensor indices: toModelInput
// (model-input.ts) gives them. Weights are per WEIGHTED layer, in chain
// order: kernels[i] and biases[i] belong to weightedLayers(spec)[i]. A
// kernel is flat, row-major, in formats' (TF.js') layout: Dense [inputs,
// units], Conv2D [kh, kw, inputs, units], DepthwiseConv2D [kh, kw, inputs,
// multiplier]; in all three the output channel of flat position p is
// p % units. Every weighted layer has a bias (a layer loaded without one
// gets zeros, which the artifact stores in no segment at all).
//
// Shapes follow formats' one geometry rule (formats/artifact/layer-graph.ts):
// feature maps are NHWC without the batch; an input shape [h, w] is read as
// [h, w, 1] by a spatial first layer; a Dense layer reads what comes before
// it flat.
import { kernelShape as formatsKernelShape, layerShapes, type Activation, type DenseLayer, type Layer, type LayerShape } from '../formats/index.ts';
import { PipelineError } from './errors.ts';

/** A formats layer type without its tensor indices. */
type WithoutTensors<T> = T extends unknown ? Omit<T, 'kernel' | 'bias'> : never;

export type LayerSpec = WithoutTensors<Layer>;
export type DenseSpec = WithoutTensors<DenseLayer>;
export type WeightedLayerSpec = Extract<LayerSpec, { kind: 'dense' | 'conv2d' | 'depthwise-conv2d' }>;

export interface ModelSpec {
  /** Preset name or the model file's folder name. */
  name: string;
  /** Input shape without the batch dimension, as the model declares it (e.g. [28, 28] or [28, 28, 1]); the artifact's preprocess shape. */
  inputShape: number[];
  layers: LayerSpec[];
}

/** Per weighted layer, in chain order: the flat kernel (layout above) and one bias per output. */
export interface ModelWeights {
  kernels: Float32Array[];
  biases: Float32Array[];
}

export const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'relu6', 'softmax', 'sigmoid', 'tanh'];

export function isWeightedSpec(layer: LayerSpec): layer is WeightedLayerSpec {
  return layer.kind === 'dense' || layer.kind === 'conv2d' || layer.kind === 'depthwise-conv2d';
}

/** The layers that carry a kernel and a bias, in chain order: what ModelWeights indexes. */
export function weightedLayers(spec: ModelSpec): WeightedLayerSpec[] {
  return spec.layers.filter(isWeightedSpec);
}

/** A weighted layer's kernel shape, by formats' rule. */
export function kernelShape(layer: WeightedLayerSpec): number[] {
  return formatsKernelShape({ ...layer, kernel: 0, bias: -1 } as Layer)!;
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function kernelSize(layer: WeightedLayerSpec): number {
  return elementCount(kernelShape(layer));
}

/** Values per sample the model reads: the product of its input shape. */
export function inputWidth(spec: ModelSpec): number {
  return elementCount(spec.inputShape);
}

/** Kernel weights over all weighted layers (what pruning's sparsity counts). */
export function kernelCount(spec: ModelSpec): number {
  return weightedLayers(spec).reduce((n, l) => n + kernelSize(l), 0);
}

/** Kernel weights and biases over all weighted layers. */
export function parameterCount(spec: ModelSpec): number {
  return weightedLayers(spec).reduce((n, l) => n + kernelSize(l) + l.units, 0);
}

/** The chain as formats' layers: weighted layer i gets kernel tensor 2i and bias tensor 2i + 1 (toModelInput's order). */
export function toFormatsLayers(spec: ModelSpec): Layer[] {
  let weighted = 0;
  return spec.layers.map((layer): Layer => {
    const { name, inputs, units } = layer;
    switch (layer.kind) {
      case 'dense': {
        const at = weighted++;
        return { kind: 'dense', name, inputs, units, activation: layer.activation, kernel: 2 * at, bias: 2 * at + 1 };
      }
      case 'conv2d':
      case 'depthwise-conv2d': {
        const at = weighted++;
        const { window, strides, padding, activation } = layer;
        return { kind: layer.kind, name, inputs, units, activation, window: [...window], strides: [...strides], padding, kernel: 2 * at, bias: 2 * at + 1 };
      }
      case 'max-pool2d':
      case 'avg-pool2d':
        return { kind: layer.kind, name, inputs, units, window: [...layer.window], strides: [...layer.strides], padding: layer.padding };
      case 'global-avg-pool2d':
        return { kind: 'global-avg-pool2d', name, inputs, units };
    }
  });
}

/**
 * What each layer reads and writes (formats' layerShapes), checking the
 * chain; a broken chain is a PipelineError (SHAPE_MISMATCH) naming `where`.
 */
export function specShapes(spec: ModelSpec, where: string = spec.name): LayerShape[] {
  const layers = toFormatsLayers(spec);
  const weighted = weightedLayers(spec);
  const shapeOf = (index: number) => {
    const layer = weighted[index >> 1];
    if (!layer) return undefined;
    return index % 2 === 0 ? kernelShape(layer) : [layer.units];
  };
  return layerShapes(spec.inputShape, layers, shapeOf, (detail) => {
    throw new PipelineError('SHAPE_MISMATCH', `${where}: ${detail}`);
  });
}

/** Values per sample the model writes (its classes). */
export function outputWidth(spec: ModelSpec): number {
  const shapes = specShapes(spec);
  return elementCount(shapes[shapes.length - 1].output);
}

export function cloneWeights(weights: ModelWeights): ModelWeights {
  return { kernels: weights.kernels.map((k) => k.slice()), biases: weights.biases.map((b) => b.slice()) };
}

/** Number of non-zero kernel weights (biases are never pruned). */
export function countNonzero(kernels: Float32Array[]): number {
  let n = 0;
  for (const kernel of kernels) for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) n++;
  return n;
}

/**
 * A spec as JSON holds it (state.json), checked; layers saved by builds
 * before layer kinds (Dense chains, no `kind`) read as Dense. Null when it
 * is not a spec.
 */
export function specFromJson(json: unknown): ModelSpec | null {
  if (typeof json !== 'object' || json === null) return null;
  const { name, inputShape, layers } = json as { name?: unknown; inputShape?: unknown; layers?: unknown };
  if (typeof name !== 'string' || !Array.isArray(inputShape) || !inputShape.every((d) => Number.isInteger(d) && d > 0)) return null;
  if (!Array.isArray(layers) || layers.length === 0) return null;
  const out: LayerSpec[] = [];
  for (const raw of layers) {
    if (typeof raw !== 'object' || raw === null) return null;
    const layer = { kind: 'dense', ...(raw as object) } as LayerSpec;
    if (!(['dense', 'conv2d', 'depthwise-conv2d', 'max-pool2d', 'avg-pool2d', 'global-avg-pool2d'] as string[]).includes(layer.kind)) return null;
    if (isWeightedSpec(layer) && !ACTIVATIONS.includes(layer.activation)) return null;
    out.push(layer);
  }
  return { name, inputShape: inputShape as number[], layers: out };
}

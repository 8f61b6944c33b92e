// Loader of TF.js Layers models (model.json + binary weight files): a plain
// chain of layers. Reads both layouts that exist in the wild:
//   tfjs-native      modelTopology = { class_name, config }
//   Keras converter  modelTopology = { model_config: { class_name, config }, ... }
// with class_name Sequential or Model / Functional (a functional graph that
// must be a plain chain: each layer's one input is the layer before it).
// Every size is checked against the files before use.
//
// Layers (channels_last only):
//   Dense, Conv2D (dilation 1, groups 1), DepthwiseConv2D (depth_multiplier),
//     with or without a bias: a layer without one (use_bias false) gets a zero
//     bias, which the artifact stores in no segment
//   MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D
//   Flatten; Reshape where it is a no-op on the flat NHWC data: at the input
//     (it sets the model's input shape: [784] -> [28, 28, 1]), before a Dense
//     layer, at the end, or to the shape it already has
//   BatchNormalization, folded into the Conv2D / DepthwiseConv2D / Dense
//     layer it directly follows while that layer is still linear:
//     W' = W · s, b' = (b - mean) · s + beta per output channel, with
//     s = gamma / sqrt(variance + epsilon); refused anywhere else (after an
//     activation, a pooling layer, a Flatten that mixed channels, the input)
//   Activation / ReLU (max_value 6: relu6) / Softmax layers: the activation
//     of the linear Conv2D / DepthwiseConv2D / Dense layer before them
//   Dropout, SpatialDropout2D, GaussianDropout, GaussianNoise, AlphaDropout:
//     dropped (they do nothing at inference)
//   InputLayer
// Anything else (a residual Add, a Concatenate, any multi-input layer) is
// UNSUPPORTED_LAYER naming the layer.
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { outputLength, type Activation, type Padding } from '../formats/index.ts';
import { PipelineError } from './errors.ts';
import { ACTIVATIONS, elementCount, kernelShape, specShapes, type LayerSpec, type ModelSpec, type ModelWeights, type WeightedLayerSpec } from './model.ts';

/** A weights file larger than this is not a model for a microcontroller. */
const MAX_WEIGHT_BYTES = 256 * 1024 * 1024;

interface LayerJson {
  class_name?: unknown;
  config?: Record<string, unknown>;
  inbound_nodes?: unknown;
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: unknown;
}

/** Where a weighted layer's values come from: its kernel, its bias (null: zeros) and the BatchNormalization layers folded into it, in order. */
interface WeightSource {
  kernel: string;
  bias: string | null;
  batchNorms: BatchNormSource[];
}

interface BatchNormSource {
  name: string;
  gamma: string | null;
  beta: string | null;
  mean: string;
  variance: string;
  epsilon: number;
}

/** The chain of a parsed model.json and where each weighted layer's values are. */
interface ParsedModel {
  spec: ModelSpec;
  sources: WeightSource[];
}

/** Loads model.json and its weight files. */
export async function loadLayersModel(modelPath: string): Promise<{ spec: ModelSpec; weights: ModelWeights }> {
  let text: string;
  try {
    text = await readFile(modelPath, 'utf8');
  } catch {
    throw new PipelineError('MODEL_NOT_FOUND', `${modelPath}: cannot read the model file; check the --model path`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PipelineError('BAD_MODEL_JSON', `${modelPath}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = parseChain(json, modelPath);
  const weights = await readWeights(json, parsed, modelPath);
  return { spec: parsed.spec, weights };
}

function bad(file: string, what: string): PipelineError {
  return new PipelineError('BAD_MODEL_JSON', `${file}: ${what}; expected a TF.js Layers model.json (tensorflowjs_converter output)`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SUPPORTED =
  'InputLayer, Dense, Conv2D, DepthwiseConv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Reshape, BatchNormalization, Activation, ReLU, Softmax, Dropout';
const NO_OPS = new Set(['Dropout', 'SpatialDropout2D', 'GaussianDropout', 'GaussianNoise', 'AlphaDropout']);
const MERGES = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot']);

const sameShape = (a: readonly number[] | null, b: readonly number[] | null) =>
  a !== null && b !== null && a.length === b.length && a.every((d, i) => d === b[i]);

/** Reads the layer chain of a parsed model.json into a ModelSpec. */
export function parseTopology(json: unknown, file: string): ModelSpec {
  return parseChain(json, file).spec;
}

function parseChain(json: unknown, file: string): ParsedModel {
  if (!isRecord(json) || !isRecord(json.modelTopology)) throw bad(file, 'no "modelTopology" object');
  const topology = json.modelTopology;
  const model = isRecord(topology.model_config) ? topology.model_config : topology;
  const className = model.class_name;
  if (className !== 'Sequential' && className !== 'Model' && className !== 'Functional') {
    throw bad(file, `model class "${String(className)}" is not Sequential or Model`);
  }
  const config = model.config;
  const layers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  if (!Array.isArray(layers) || layers.length === 0) throw bad(file, 'no layer list in the model config');

  const unsupported = (name: string, cls: string, why: string) => new PipelineError('UNSUPPORTED_LAYER', `${file}: layer "${name}" (${cls}) ${why}`);
  let inputShape: number[] | null = null;
  /** The shape Keras gives the next layer (no batch dimension). */
  let shape: number[] | null = null;
  /** The shape the last layer of the chain writes (what formats feeds the next one); null before the first. */
  let chainShape: number[] | null = null;
  let previousName: string | null = null;
  /** The last Reshape layer since the last layer of the chain. */
  let reshape: string | null = null;
  const out: LayerSpec[] = [];
  const sources: WeightSource[] = [];
  const lastWeighted = (): WeightedLayerSpec | null => {
    const last = out[out.length - 1];
    return last && (last.kind === 'dense' || last.kind === 'conv2d' || last.kind === 'depthwise-conv2d') ? last : null;
  };
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as LayerJson;
    const cls = String(layer?.class_name);
    const cfg = isRecord(layer?.config) ? layer.config : {};
    const name =
      typeof cfg.name === 'string' ? cfg.name : typeof (layer as { name?: unknown })?.name === 'string' ? (layer as { name: string }).name : `layer ${i}`;
    if (MERGES.has(cls)) {
      throw unsupported(name, cls, 'merges several inputs (a residual add or a concatenation); only a plain chain of layers is supported');
    }
    checkChain(layer, previousName, name, cls, file);
    previousName = name;
    const declared = cfg.batch_input_shape ?? cfg.batchInputShape ?? cfg.batch_shape;
    if (inputShape === null && Array.isArray(declared)) {
      const dims = declared.slice(1);
      if (dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
        throw bad(file, `layer "${name}" declares input shape ${JSON.stringify(declared)}; every dimension must be a positive integer`);
      }
      inputShape = dims as number[];
      shape = [...inputShape];
    }
    if (cls === 'InputLayer' || NO_OPS.has(cls)) continue;
    if (inputShape === null || shape === null) throw bad(file, `layer "${name}" comes before any input shape is declared`);
    const current: number[] = shape;
    checkChannelsLast(cfg, name, cls, file);

    if (cls === 'Flatten') {
      shape = [elementCount(current)];
      continue;
    }
    if (cls === 'Reshape') {
      shape = reshapeTarget(cfg.target_shape, current, name, file);
      reshape = name;
      continue;
    }
    if (cls === 'Activation' || cls === 'ReLU' || cls === 'Softmax') {
      const activation = activationLayer(cls, cfg, current, name, file);
      if (activation === 'linear') continue;
      const target = lastWeighted();
      if (target && target.activation === 'linear' && activation === 'softmax' && target.kind !== 'dense') {
        throw unsupported(name, cls, `applies softmax to the ${target.kind} layer "${target.name}"; softmax is supported on the last Dense layer only`);
      }
      if (!target || target.activation !== 'linear') {
        throw unsupported(
          name,
          cls,
          `applies ${activation} after ${target ? `"${target.name}", which already has activation ${target.activation}` : out.length ? `the ${out[out.length - 1].kind} layer "${out[out.length - 1].name}"` : 'the input'}; an activation layer must follow a Conv2D, DepthwiseConv2D or Dense layer with a linear activation`,
        );
      }
      target.activation = activation;
      continue;
    }
    if (cls === 'BatchNormalization') {
      const target = lastWeighted();
      const axis = Array.isArray(cfg.axis) && cfg.axis.length === 1 ? cfg.axis[0] : (cfg.axis ?? -1);
      const why = !target
        ? out.length
          ? `follows the ${out[out.length - 1].kind} layer "${out[out.length - 1].name}"`
          : 'normalizes the input'
        : target.activation !== 'linear'
          ? `follows "${target.name}" after its ${target.activation} activation`
          : !sameShape(current, chainShape)
            ? `follows a Flatten or Reshape of "${target.name}"`
            : axis !== -1 && axis !== current.length
              ? `normalizes axis ${JSON.stringify(cfg.axis)}, not the channels (-1)`
              : null;
      if (why !== null || !target) {
        throw unsupported(
          name,
          cls,
          `${why}; it can only be folded into the Conv2D, DepthwiseConv2D or Dense layer it directly follows, before any activation`,
        );
      }
      const epsilon = typeof cfg.epsilon === 'number' && cfg.epsilon >= 0 ? cfg.epsilon : 0.001;
      sources[sources.length - 1].batchNorms.push({
        name,
        gamma: cfg.scale === false ? null : `${name}/gamma`,
        beta: cfg.center === false ? null : `${name}/beta`,
        mean: `${name}/moving_mean`,
        variance: `${name}/moving_variance`,
        epsilon,
      });
      continue;
    }
    if (cls === 'Dense') {
      if (current.length !== 1) {
        throw unsupported(name, cls, `gets a [${current}] input, and Keras applies Dense to its last axis only; add a Flatten before it`);
      }
      const units = positiveInt(cfg.units, name, 'units', file);
      const activation = activationOf(cfg.activation, name, cls, file);
      out.push({ kind: 'dense', name, inputs: current[0], units, activation });
      sources.push({ kernel: `${name}/kernel`, bias: cfg.use_bias === false ? null : `${name}/bias`, batchNorms: [] });
      shape = [units];
      chainShape = shape;
      reshape = null;
      continue;
    }
    if (cls === 'Conv2D' || cls === 'DepthwiseConv2D' || cls === 'MaxPooling2D' || cls === 'AveragePooling2D' || cls === 'GlobalAveragePooling2D') {
      if (current.length !== 3) throw unsupported(name, cls, `needs a [height, width, channels] feature map but gets [${current}]`);
      if (chainShape === null) {
        // Still at the input: a Reshape there only relabels the flat input, which becomes the model's input shape.
        inputShape = [...current];
      } else if (!sameShape(current, chainShape)) {
        throw unsupported(
          reshape ?? name,
          reshape ? 'Reshape' : cls,
          `turns the [${chainShape}] that "${out[out.length - 1].name}" writes into the [${current}] that "${name}" (${cls}) reads; a Reshape is supported only where it changes nothing on the flat data: at the input, before a Dense layer, at the end, or to the same shape`,
        );
      }
      reshape = null;
      const [h, w, channels] = current as [number, number, number];
      if (cls === 'GlobalAveragePooling2D') {
        out.push({ kind: 'global-avg-pool2d', name, inputs: channels, units: channels });
        chainShape = [channels];
        shape = cfg.keepdims === true ? [1, 1, channels] : [channels];
        continue;
      }
      const padding = paddingOf(cfg.padding, name, cls, file);
      let spec: LayerSpec;
      if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D') {
        const window = pair(cfg.pool_size ?? 2, name, 'pool_size', file);
        const strides = cfg.strides === null || cfg.strides === undefined ? window : pair(cfg.strides, name, 'strides', file);
        spec = { kind: cls === 'MaxPooling2D' ? 'max-pool2d' : 'avg-pool2d', name, inputs: channels, units: channels, window, strides, padding };
      } else {
        const window = pair(cfg.kernel_size, name, 'kernel_size', file);
        const strides = pair(cfg.strides ?? 1, name, 'strides', file);
        const dilation = pair(cfg.dilation_rate ?? 1, name, 'dilation_rate', file);
        if (dilation[0] !== 1 || dilation[1] !== 1) throw unsupported(name, cls, `has dilation_rate [${dilation}]; only 1 is supported`);
        if (cfg.groups !== undefined && cfg.groups !== null && cfg.groups !== 1)
          throw unsupported(name, cls, `has groups ${JSON.stringify(cfg.groups)}; only 1 is supported`);
        const activation = activationOf(cfg.activation, name, cls, file);
        if (activation === 'softmax') throw unsupported(name, cls, 'has activation softmax; softmax is supported on the last Dense layer only');
        const bias = cfg.use_bias === false ? null : `${name}/bias`;
        if (cls === 'Conv2D') {
          const units = positiveInt(cfg.filters, name, 'filters', file);
          spec = { kind: 'conv2d', name, inputs: channels, units, activation, window, strides, padding };
          sources.push({ kernel: `${name}/kernel`, bias, batchNorms: [] });
        } else {
          const multiplier = positiveInt(cfg.depth_multiplier ?? 1, name, 'depth_multiplier', file);
          spec = { kind: 'depthwise-conv2d', name, inputs: channels, units: channels * multiplier, activation, window, strides, padding };
          sources.push({ kernel: `${name}/depthwise_kernel`, bias, batchNorms: [] });
        }
      }
      const oh = outputLength(h, spec.window[0], spec.strides[0], padding);
      const ow = outputLength(w, spec.window[1], spec.strides[1], padding);
      if (oh < 1 || ow < 1)
        throw new PipelineError('SHAPE_MISMATCH', `${file}: layer "${name}" (${cls}): a ${spec.window[0]}x${spec.window[1]} window does not fit [${current}]`);
      out.push(spec);
      shape = [oh, ow, spec.units];
      chainShape = shape;
      continue;
    }
    throw unsupported(name, cls, `is not supported; supported layers: ${SUPPORTED} (a plain chain)`);
  }
  if (out.length === 0 || inputShape === null) throw bad(file, 'no Dense, Conv2D or DepthwiseConv2D layer');
  if (!out.some((l) => l.kind === 'dense' || l.kind === 'conv2d' || l.kind === 'depthwise-conv2d'))
    throw bad(file, 'no Dense, Conv2D or DepthwiseConv2D layer');
  for (let i = 0; i < out.length - 1; i++) {
    const layer = out[i];
    if ('activation' in layer && layer.activation === 'softmax') {
      throw new PipelineError('UNSUPPORTED_LAYER', `${file}: layer "${layer.name}" uses softmax but is not the last layer`);
    }
  }
  const spec: ModelSpec = { name: basename(dirname(resolve(file))) || 'model', inputShape, layers: out };
  specShapes(spec, file);
  return { spec, sources };
}

function positiveInt(value: unknown, layer: string, field: string, file: string): number {
  if (!Number.isInteger(value) || (value as number) <= 0) throw bad(file, `layer "${layer}" has ${field} ${JSON.stringify(value)}`);
  return value as number;
}

/** A Keras int-or-pair field ([h, w]). */
function pair(value: unknown, layer: string, field: string, file: string): [number, number] {
  const both = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(both) || both.length !== 2 || !both.every((v) => Number.isInteger(v) && v >= 1)) {
    throw bad(file, `layer "${layer}" has ${field} ${JSON.stringify(value)}; expected a positive integer or two`);
  }
  return [both[0], both[1]];
}

function paddingOf(value: unknown, layer: string, cls: string, file: string): Padding {
  const padding = value ?? 'valid';
  if (padding !== 'valid' && padding !== 'same') {
    throw new PipelineError('UNSUPPORTED_LAYER', `${file}: layer "${layer}" (${cls}) has padding ${JSON.stringify(value)}; only valid and same are supported`);
  }
  return padding;
}

function checkChannelsLast(cfg: Record<string, unknown>, layer: string, cls: string, file: string): void {
  const format = cfg.data_format;
  if (format !== undefined && format !== null && format !== 'channels_last' && format !== 'channelsLast') {
    throw new PipelineError(
      'UNSUPPORTED_LAYER',
      `${file}: layer "${layer}" (${cls}) has data_format ${JSON.stringify(format)}; only channels_last (NHWC) is supported`,
    );
  }
}

function activationOf(value: unknown, layer: string, cls: string, file: string): Activation {
  const activation = (value ?? 'linear') as Activation;
  if (!ACTIVATIONS.includes(activation)) {
    throw new PipelineError(
      'UNSUPPORTED_LAYER',
      `${file}: layer "${layer}" (${cls}) has activation ${JSON.stringify(value)}; supported: ${ACTIVATIONS.join(', ')}`,
    );
  }
  return activation;
}

/** The activation an Activation, ReLU or Softmax layer applies. */
function activationLayer(cls: string, cfg: Record<string, unknown>, input: number[], layer: string, file: string): Activation {
  if (cls === 'Activation') return activationOf(cfg.activation, layer, cls, file);
  if (cls === 'Softmax') {
    // The last axis: -1, or its index counting the batch (TF.js writes 1 for a flat input).
    const axis = Array.isArray(cfg.axis) && cfg.axis.length === 1 ? cfg.axis[0] : (cfg.axis ?? -1);
    if (axis !== -1 && axis !== input.length) {
      throw new PipelineError('UNSUPPORTED_LAYER', `${file}: layer "${layer}" (Softmax) has axis ${JSON.stringify(cfg.axis)}; only the last axis is supported`);
    }
    return 'softmax';
  }
  const max = cfg.max_value ?? null;
  const slope = cfg.negative_slope ?? 0;
  const threshold = cfg.threshold ?? 0;
  if (slope !== 0 || threshold !== 0 || (max !== null && max !== 6)) {
    throw new PipelineError(
      'UNSUPPORTED_LAYER',
      `${file}: layer "${layer}" (ReLU) has max_value ${JSON.stringify(max)}, negative_slope ${JSON.stringify(slope)}, threshold ${JSON.stringify(threshold)}; supported: relu (no max_value) and relu6 (max_value 6)`,
    );
  }
  return max === 6 ? 'relu6' : 'relu';
}

/** Keras' Reshape target (one -1 allowed) for an input of `current`. */
function reshapeTarget(value: unknown, current: number[], layer: string, file: string): number[] {
  const total = elementCount(current);
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((d) => Number.isInteger(d) && (d > 0 || d === -1)) ||
    value.filter((d) => d === -1).length > 1
  ) {
    throw bad(file, `layer "${layer}" (Reshape) has target_shape ${JSON.stringify(value)}`);
  }
  const known = elementCount(value.filter((d) => d !== -1));
  const target = value.map((d) => (d === -1 ? total / known : d));
  if (!target.every((d) => Number.isInteger(d) && d > 0) || elementCount(target) !== total) {
    throw new PipelineError('SHAPE_MISMATCH', `${file}: layer "${layer}" (Reshape) cannot reshape [${current}] (${total} values) to ${JSON.stringify(value)}`);
  }
  return target;
}

/** A functional Model must be a plain chain: each layer's one input is the layer before. */
function checkChain(layer: LayerJson, previousName: string | null, name: string, cls: string, file: string): void {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length === 0 || previousName === null) return;
  const first = nodes[0];
  const inputs = Array.isArray(first) ? first : isRecord(first) && Array.isArray(first.args) ? first.args : [];
  // Keras 3 nests a merge layer's inputs in one list argument.
  const flat = inputs.length === 1 && Array.isArray(inputs[0]) && inputs[0].length > 0 && typeof inputs[0][0] !== 'string' ? inputs[0] : inputs;
  const sources = flat.map((entry: unknown) =>
    Array.isArray(entry) ? entry[0] : isRecord(entry) ? (entry as { config?: { keras_history?: unknown[] } }).config?.keras_history?.[0] : undefined,
  );
  if (nodes.length > 1 || sources.length > 1) {
    throw new PipelineError(
      'UNSUPPORTED_LAYER',
      `${file}: layer "${name}" (${cls}) takes ${sources.length > 1 ? `${sources.length} inputs` : `inputs at ${nodes.length} places`}; only a plain chain of layers is supported (no residual adds, merges or shared layers)`,
    );
  }
  if (sources.length === 1 && typeof sources[0] === 'string' && sources[0] !== previousName) {
    throw new PipelineError(
      'UNSUPPORTED_LAYER',
      `${file}: layer "${name}" (${cls}) does not take its input from "${previousName}"; only a plain chain of layers is supported`,
    );
  }
}

async function readWeights(json: unknown, parsed: ParsedModel, file: string): Promise<ModelWeights> {
  const manifest = (json as { weightsManifest?: unknown }).weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) throw bad(file, 'no "weightsManifest"');
  const values = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  for (const group of manifest) {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) throw bad(file, 'a weightsManifest group lacks "paths" or "weights"');
    const parts: Uint8Array[] = [];
    for (const path of group.paths) {
      if (typeof path !== 'string') throw bad(file, 'a weights path is not a string');
      const weightFile = resolve(dirname(file), path);
      try {
        parts.push(await readFile(weightFile));
      } catch {
        throw new PipelineError('BAD_WEIGHTS', `${weightFile}: cannot read this weights file that ${file} lists; keep it beside model.json`);
      }
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (total > MAX_WEIGHT_BYTES) throw new PipelineError('BAD_WEIGHTS', `${file}: the weight files hold ${total} bytes, over the ${MAX_WEIGHT_BYTES} cap`);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    const groupFiles = (group.paths as string[]).join(', ');
    let offset = 0;
    for (const raw of group.weights as WeightEntry[]) {
      if (!isRecord(raw) || typeof raw.name !== 'string' || !Array.isArray(raw.shape)) throw bad(file, 'a weight entry lacks "name" or "shape"');
      if ((raw.dtype ?? 'float32') !== 'float32' || raw.quantization !== undefined) {
        throw new PipelineError(
          'BAD_WEIGHTS',
          `${file}: weight "${raw.name}" is ${raw.dtype ?? 'float32'}${raw.quantization ? ' quantized' : ''}; only float32 weights are supported`,
        );
      }
      const count = raw.shape.reduce((a: number, b: number) => a * b, 1);
      if (!Number.isInteger(count) || count < 0) throw bad(file, `weight "${raw.name}" has shape ${JSON.stringify(raw.shape)}`);
      const end = offset + count * 4;
      if (end > bytes.length) {
        throw new PipelineError(
          'BAD_WEIGHTS',
          `${groupFiles}: holds ${bytes.length} bytes, but ${file} needs ${end} up to weight "${raw.name}"; the weights file is truncated or does not belong to this model.json`,
        );
      }
      const copy = bytes.slice(offset, end);
      values.set(raw.name, new Float32Array(copy.buffer, 0, count));
      shapes.set(raw.name, raw.shape);
      offset = end;
    }
    if (offset !== bytes.length) {
      throw new PipelineError(
        'BAD_WEIGHTS',
        `${groupFiles}: holds ${bytes.length} bytes, but ${file} describes ${offset}; the weights file does not belong to this model.json`,
      );
    }
  }
  const kernels: Float32Array[] = [];
  const biases: Float32Array[] = [];
  const weighted = parsed.spec.layers.filter((l): l is WeightedLayerSpec => l.kind === 'dense' || l.kind === 'conv2d' || l.kind === 'depthwise-conv2d');
  weighted.forEach((layer, i) => {
    const source = parsed.sources[i];
    const kernel = takeWeight(values, shapes, source.kernel, kernelShape(layer), file).slice();
    const bias = source.bias === null ? new Float32Array(layer.units) : takeWeight(values, shapes, source.bias, [layer.units], file).slice();
    for (const bn of source.batchNorms) foldBatchNorm(kernel, bias, bn, values, shapes, file);
    kernels.push(kernel);
    biases.push(bias);
  });
  return { kernels, biases };
}

/**
 * Folds y = (x - mean) / sqrt(variance + epsilon) · gamma + beta into the
 * layer before it, in float64 then rounded once: kernel weight p feeds
 * output channel p % units in all three kernel layouts.
 */
function foldBatchNorm(
  kernel: Float32Array,
  bias: Float32Array,
  bn: BatchNormSource,
  values: Map<string, Float32Array>,
  shapes: Map<string, number[]>,
  file: string,
): void {
  const units = bias.length;
  const gamma = bn.gamma === null ? null : takeWeight(values, shapes, bn.gamma, [units], file);
  const beta = bn.beta === null ? null : takeWeight(values, shapes, bn.beta, [units], file);
  const mean = takeWeight(values, shapes, bn.mean, [units], file);
  const variance = takeWeight(values, shapes, bn.variance, [units], file);
  const scale = new Float64Array(units);
  for (let c = 0; c < units; c++) {
    if (!(variance[c] + bn.epsilon > 0)) {
      throw new PipelineError(
        'BAD_WEIGHTS',
        `${file}: BatchNormalization "${bn.name}" has moving_variance ${variance[c]} at channel ${c}; it cannot be folded`,
      );
    }
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + bn.epsilon);
    bias[c] = (bias[c] - mean[c]) * scale[c] + (beta ? beta[c] : 0);
  }
  for (let p = 0; p < kernel.length; p++) kernel[p] = kernel[p] * scale[p % units];
}

function takeWeight(values: Map<string, Float32Array>, shapes: Map<string, number[]>, name: string, shape: number[], file: string): Float32Array {
  const value = values.get(name);
  if (!value) throw new PipelineError('SHAPE_MISMATCH', `${file}: the weightsManifest has no weight "${name}"`);
  const declared = shapes.get(name) ?? [];
  if (declared.length !== shape.length || declared.some((d, i) => d !== shape[i])) {
    throw new PipelineError(
      'SHAPE_MISMATCH',
      `${file}: weight "${name}" has shape ${JSON.stringify(declared)}, the layer chain needs ${JSON.stringify(shape)}`,
    );
  }
  return value;
}

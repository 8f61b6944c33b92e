// Loader of TF.js Layers models (model.json + binary weight files) made of
// an input, optional Flatten layers and a chain of Dense layers. Reads both
// layouts that exist in the wild:
//   tfjs-native      modelTopology = { class_name, config }
//   Keras converter  modelTopology = { model_config: { class_name, config }, ... }
// with class_name Sequential or Model (a functional graph that must be a
// plain chain). Every size is checked against the files before use.
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Activation } from '../formats/index.ts';
import { PipelineError } from './errors.ts';
import type { DenseSpec, MlpSpec, MlpWeights } from './mlp.ts';

const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'softmax', 'sigmoid', 'tanh'];
/** A weights file larger than this is not an MLP for a microcontroller. */
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

/** Loads model.json and its weight files. */
export async function loadLayersModel(modelPath: string): Promise<{ spec: MlpSpec; weights: MlpWeights }> {
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
  const spec = parseTopology(json, modelPath);
  const weights = await readWeights(json, spec, modelPath);
  return { spec, weights };
}

function bad(file: string, what: string): PipelineError {
  return new PipelineError('BAD_MODEL_JSON', `${file}: ${what}; expected a TF.js Layers model.json (tensorflowjs_converter output)`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the layer chain of a parsed model.json into an MlpSpec. */
export function parseTopology(json: unknown, file: string): MlpSpec {
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

  let inputShape: number[] | null = null;
  let width = 0;
  let previousName: string | null = null;
  const dense: DenseSpec[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as LayerJson;
    const cls = String(layer?.class_name);
    const cfg = isRecord(layer?.config) ? layer.config : {};
    const name = typeof cfg.name === 'string' ? cfg.name : `layer ${i}`;
    checkChain(layer, previousName, name, file);
    previousName = name;
    const declared = cfg.batch_input_shape ?? cfg.batchInputShape;
    if (inputShape === null && Array.isArray(declared)) {
      const dims = declared.slice(1);
      if (dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
        throw bad(file, `layer "${name}" declares input shape ${JSON.stringify(declared)}; every dimension must be a positive integer`);
      }
      inputShape = dims as number[];
      width = inputShape.reduce((a, b) => a * b, 1);
    }
    if (cls === 'InputLayer' || cls === 'Flatten') continue;
    if (cls !== 'Dense') {
      throw new PipelineError(
        'UNSUPPORTED_LAYER',
        `${file}: layer "${name}" has class ${cls}; only InputLayer, Flatten and Dense are supported (a chain of Dense layers)`,
      );
    }
    if (inputShape === null) throw bad(file, `layer "${name}" comes before any input shape is declared`);
    const units = cfg.units;
    if (!Number.isInteger(units) || (units as number) <= 0) throw bad(file, `Dense layer "${name}" has units ${JSON.stringify(units)}`);
    if (cfg.use_bias === false) {
      throw new PipelineError('UNSUPPORTED_LAYER', `${file}: Dense layer "${name}" has no bias (use_bias false); only Dense layers with a bias are supported`);
    }
    const activation = (cfg.activation ?? 'linear') as Activation;
    if (!ACTIVATIONS.includes(activation)) {
      throw new PipelineError(
        'UNSUPPORTED_LAYER',
        `${file}: Dense layer "${name}" has activation "${String(activation)}"; supported: ${ACTIVATIONS.join(', ')}`,
      );
    }
    dense.push({ name, inputs: width, units: units as number, activation });
    width = units as number;
  }
  if (dense.length === 0 || inputShape === null) throw bad(file, 'no Dense layer');
  for (let i = 0; i < dense.length - 1; i++) {
    if (dense[i].activation === 'softmax') {
      throw new PipelineError('UNSUPPORTED_LAYER', `${file}: Dense layer "${dense[i].name}" uses softmax but is not the last layer`);
    }
  }
  const shape = inputShape as number[];
  return { name: basename(dirname(resolve(file))) || 'model', inputShape: shape, layers: dense };
}

/** A functional Model must be a plain chain: each layer's one input is the layer before. */
function checkChain(layer: LayerJson, previousName: string | null, name: string, file: string): void {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length === 0 || previousName === null) return;
  const first = nodes[0];
  const inputs = Array.isArray(first) ? first : isRecord(first) && Array.isArray(first.args) ? first.args : [];
  const sources = inputs.map((entry: unknown) =>
    Array.isArray(entry) ? entry[0] : isRecord(entry) ? (entry as { config?: { keras_history?: unknown[] } }).config?.keras_history?.[0] : undefined,
  );
  if (nodes.length > 1 || sources.length > 1 || (sources.length === 1 && typeof sources[0] === 'string' && sources[0] !== previousName)) {
    throw new PipelineError(
      'UNSUPPORTED_LAYER',
      `${file}: layer "${name}" does not take its input from "${previousName}"; only a plain chain of layers is supported`,
    );
  }
}

async function readWeights(json: unknown, spec: MlpSpec, file: string): Promise<MlpWeights> {
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
  for (const layer of spec.layers) {
    kernels.push(takeWeight(values, shapes, `${layer.name}/kernel`, [layer.inputs, layer.units], file));
    biases.push(takeWeight(values, shapes, `${layer.name}/bias`, [layer.units], file));
  }
  return { kernels, biases };
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

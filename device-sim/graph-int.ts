// Runs a convolutional model (a chain with conv2d, depthwise, pooling and
// Dense layers) on docs/arithmetic.md's int path, "Convolutional layers
// (int path)", with the coded kernels (every weighted layer decodes its
// held segments through the chunk buffers on each inference and adds each
// entry's int8 weight into its int32 output map, kernels/conv-int.ts) or
// from the execution image (each weighted layer's rows read in place:
// convImageLayerInt, and evalImageLayerInt for a Dense layer; the weights'
// exponents are the coded path's, so the integers are the same); pooling works on the integers and keeps the exponent; after each
// weighted layer but the last, the map is shifted toward the bound of the
// next weighted layer (block floating point, one exponent per map and
// sample). graph-interpreter.ts hands such models here on the int path.
//
// Scratch plan: graph-interpreter.ts's, with int32 where it has float32
// (4 bytes a value either way):
//   input    raw sample bytes               alive at step 0
//   x        the input map, int32           alive at steps 0..1
//   out[i]   layer i's output, int32        alive at steps i+1..i+2
//   chunk    positions u32 + values f32     alive at steps 1..L (coded kernels only)
// Persistent beside it: the input table (xq of each raw byte, 256 int32)
// and a float copy of the logits (for invoke), as interpreter.ts's int path.
import {
  elementCount,
  featureMap,
  isWeighted,
  layerShapes,
  type Activation,
  type Artifact,
  type Layer,
  type LayerShape,
  type WeightedLayer,
} from '../formats/index.ts';
import type { Arena } from './arena.ts';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import type { GraphPlan } from './graph-interpreter.ts';
import type { ImageLayer } from './exec-image.ts';
import type { Interpreter, InterpreterOptions } from './interpreter.ts';
import type { MapShape } from './kernels/conv.ts';
import { addIntBiasMapEntries, convImageLayerInt, convIntEntries, globalAvgPoolInt, poolInt, termsOf } from './kernels/conv-int.ts';
import { fit, heldMagnitudes } from './kernels/dense-int.ts';
import { applyActivation } from './kernels/dense-reference.ts';
import { reserveCursorState, segmentTable, streamSegments, type ChunkBuffers } from './kernels/dense.ts';
import {
  accumulateIntEntries,
  activationBound,
  addIntBiasEntries,
  applyIntActivation,
  argmaxInt,
  BIAS_LIMIT,
  fillInputTable,
  INPUT_SHIFT,
  rescale,
  rnd,
  WEIGHT_LIMIT,
} from './kernels/int-reference.ts';
import { preprocess } from './kernels/dense-reference.ts';
import { evalImageLayerInt } from './kernels/sparse-rows.ts';
import { createGreedyMemoryPlanner } from './memory-planner.ts';

/** Bound of a map no weighted layer reads any more (only pooling follows): the cap of every X_l. */
export const TRAILING_BOUND = 32767;

function unsupported(message: string): DeviceError {
  return new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, `int arithmetic: ${message}`);
}

/** One weighted layer's integer parameters (as dense-int.ts's IntLayer, for any weighted kind). */
export interface IntGraphLayer {
  layer: WeightedLayer;
  fw: number;
  weightScale: number;
  hasBias: boolean;
  fb: number;
  biasScale: number;
  /** X_l from the layer's terms (termsOf). */
  bound: number;
  weightSegments: Uint16Array;
  biasSegments: Uint16Array;
}

export interface IntGraphModel {
  /** Per layer: its parameters, null for a pooling layer. */
  layers: Array<IntGraphLayer | null>;
  /**
   * Per layer: where its output is rescaled to, the bound ahead and the next
   * weighted layer (null when only pooling follows); null for a layer whose
   * output is not rescaled (pooling, or the last layer).
   */
  ahead: Array<{ bound: number; next: IntGraphLayer | null } | null>;
  /** The input's exponent and fixed point: xq = clamp(rsh(raw * S + O, 15), -X_0, X_0). */
  fx: number;
  S: number;
  O: number;
  /** X_0: the bound ahead of the input. */
  inputBound: number;
}

/**
 * Fixes every weighted layer's exponents and the input's, and fills
 * `inputTable` (xq of each raw byte). Throws UNSUPPORTED_MODEL for what the
 * int path cannot represent.
 */
export function prepareIntGraph(artifact: Artifact, arena: Arena, inputTable: Int32Array): IntGraphModel {
  const { tensors, preprocess: pre, layers } = artifact.manifest;
  const { max, count } = heldMagnitudes(artifact, arena);
  const intLayers = layers.map((layer): IntGraphLayer | null => {
    if (!isWeighted(layer)) return null;
    const fw = fit(max[layer.kernel]!, WEIGHT_LIMIT, `kernel "${tensors[layer.kernel]!.name}"`);
    const hasBias = layer.bias >= 0 && count[layer.bias]! > 0;
    const fb = hasBias ? fit(max[layer.bias]!, BIAS_LIMIT, `bias "${tensors[layer.bias]!.name}"`) : 64;
    return {
      layer,
      fw,
      weightScale: 2 ** fw,
      hasBias,
      fb,
      biasScale: 2 ** fb,
      bound: activationBound(termsOf(layer)),
      weightSegments: segmentTable(artifact, layer.kernel, arena, `segment table of layer "${layer.name}"`),
      biasSegments: layer.bias >= 0 ? segmentTable(artifact, layer.bias, arena, `bias segment table of layer "${layer.name}"`) : new Uint16Array(0),
    };
  });
  const nextWeighted = (from: number): IntGraphLayer | null => {
    for (let l = from; l < intLayers.length; l++) if (intLayers[l]) return intLayers[l]!;
    return null;
  };
  const ahead = intLayers.map((il, l) => {
    if (!il || l === layers.length - 1) return null;
    const next = nextWeighted(l + 1);
    return { bound: next ? next.bound : TRAILING_BOUND, next };
  });
  const first = nextWeighted(0);
  const inputBound = first ? first.bound : TRAILING_BOUND;
  const m0 = Math.max(Math.abs(pre.offset), Math.abs(preprocess(255, pre.scale, pre.offset)));
  let fx = fit(m0, inputBound, 'preprocess');
  if (first?.hasBias && first.fb - first.fw < fx) fx = first.fb - first.fw;
  const S = rnd(pre.scale * 2 ** (fx + INPUT_SHIFT));
  const O = rnd(pre.offset * 2 ** (fx + INPUT_SHIFT));
  if (!(255 * Math.abs(S) + Math.abs(O) <= 2 ** 31 - 1)) {
    throw unsupported(`preprocess scale ${pre.scale} and offset ${pre.offset} at exponent ${fx} overflow int32 (255 |S| + |O| > 2^31 - 1)`);
  }
  fillInputTable(inputTable, S, O, inputBound);
  return { layers: intLayers, ahead, fx, S, O, inputBound };
}

/** fb - fa, which the exponents' choice keeps >= 0. */
function biasShiftOf(il: IntGraphLayer, fa: number): number {
  const shift = il.fb - fa;
  if (shift < 0) throw new Error(`int arithmetic: layer "${il.layer.name}" bias exponent ${il.fb} below its accumulator's ${fa}`);
  return shift;
}

/** A spatial layer's input (layerShapes checked it is a feature map). */
function mapOf(shape: readonly number[]): MapShape {
  const [height, width, channels] = featureMap(shape)!;
  return { height, width, channels };
}

/** Interpreter of a model with spatial layers on the int path (coded kernels, or the execution image's). */
export function createGraphIntInterpreter(
  artifact: Artifact,
  arena: Arena,
  options: InterpreterOptions & { chunkEntries: number },
): Interpreter & { plan: GraphPlan } {
  const { manifest } = artifact;
  const layers = manifest.layers;
  const image = options.image ?? null;
  const shapes: LayerShape[] = layerShapes(
    manifest.preprocess.inputShape,
    layers,
    (t) => manifest.tensors[t]?.shape,
    (detail) => {
      throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, detail);
    },
  );
  const last = layers.length - 1;
  layers.forEach((layer, i) => {
    if (!('activation' in layer)) return;
    const a = layer.activation;
    if (a === 'softmax' && (i !== last || shapes[i]!.output.length !== 1))
      throw unsupported(`layer "${layer.name}": softmax only on the last layer, over a vector`);
    if (a !== 'linear' && a !== 'relu' && a !== 'relu6' && a !== 'softmax')
      throw unsupported(`layer "${layer.name}" has activation ${a}; only linear, relu, relu6 and a softmax last`);
  });
  if (artifact.segments.length > 0xffff) throw unsupported(`artifact holds ${artifact.segments.length} segments; at most 65535 are supported`);
  // The image's layer of each weighted layer (pooling layers have none).
  const imageLayerOf: Array<ImageLayer | null> = [];
  if (image) {
    let w = 0;
    for (const layer of layers) imageLayerOf.push(isWeighted(layer) ? (image.layers[w++] ?? null) : null);
    if (w !== image.layers.length) throw unsupported(`the execution image has ${image.layers.length} layers, the model ${w} weighted layers`);
  }
  const inputSize = elementCount(manifest.preprocess.inputShape);
  const outputSize = elementCount(shapes[last]!.output);

  // init: persistent tables and exponents.
  const inputTable = arena.int32(arena.allocate(256 * 4, 'int input table'), 256);
  const floatLogits = arena.float32(arena.allocate(outputSize * 4, 'int logits as float'), outputSize);
  const model = prepareIntGraph(artifact, arena, inputTable);

  // plan and allocate scratch.
  const chunkEntries = options.chunkEntries;
  const planner = createGreedyMemoryPlanner();
  const requests: Array<{ label: string; bytes: number; id: number }> = [];
  const add = (label: string, bytes: number, firstUse: number, lastUse: number) => {
    const id = planner.addBuffer({ label, bytes, firstUse, lastUse });
    requests.push({ label, bytes, id });
    return id;
  };
  const inputRequest = add('input', inputSize, 0, 0);
  const xRequest = add('input as int32', inputSize * 4, 0, 1);
  const outRequests = layers.map((layer, i) => add(`out ${layer.name}`, elementCount(shapes[i]!.output) * 4, i + 1, i + 2));
  // The image is read in place: no chunk buffers.
  const positionsRequest = image ? -1 : add('chunk positions', chunkEntries * 4, 1, layers.length);
  const valuesRequest = image ? -1 : add('chunk values', chunkEntries * 4, 1, layers.length);
  const planned = planner.plan();
  const base = arena.allocate(planned.totalBytes, `inference scratch of model "${manifest.model}"`);
  const plan: GraphPlan = {
    plannedBytes: planned.totalBytes,
    naiveBytes: requests.reduce((n, r) => n + r.bytes, 0),
    buffers: requests.map((r) => ({ label: r.label, bytes: r.bytes, offset: planned.offsets[r.id]! })),
  };
  const input = arena.uint8(base + planned.offsets[inputRequest]!, inputSize);
  const x = arena.int32(base + planned.offsets[xRequest]!, inputSize);
  const outputs = layers.map((_, i) => arena.int32(base + planned.offsets[outRequests[i]!]!, elementCount(shapes[i]!.output)));
  const chunk: ChunkBuffers | null = image
    ? null
    : {
        positions: arena.uint32(base + planned.offsets[positionsRequest]!, chunkEntries),
        values: arena.float32(base + planned.offsets[valuesRequest]!, chunkEntries),
      };
  if (!image) reserveCursorState(artifact, arena);

  const deferSoftmax = 'activation' in layers[last]! && layers[last].activation === 'softmax';
  let lastExponent = 0;

  /** Runs layer i on `from` (exponent fx) into its output; returns the output's exponent. */
  function runLayer(i: number, from: Int32Array, fx: number): number {
    const layer: Layer = layers[i]!;
    const shape = shapes[i]!;
    const out = outputs[i]!;
    if (layer.kind === 'max-pool2d' || layer.kind === 'avg-pool2d') {
      poolInt(from, mapOf(shape.input), layer, layer.kind === 'avg-pool2d', out);
      return fx;
    }
    if (layer.kind === 'global-avg-pool2d') {
      globalAvgPoolInt(from, mapOf(shape.input), out);
      return fx;
    }
    const il = model.layers[i]!;
    const weighted = il.layer;
    const fa = fx + il.fw;
    const imageLayer = imageLayerOf[i];
    if (imageLayer) {
      const bias = il.hasBias ? { scale: il.biasScale, shift: biasShiftOf(il, fa) } : null;
      if (weighted.kind === 'dense') evalImageLayerInt(imageLayer, from, null, il.weightScale, bias, out);
      else convImageLayerInt(imageLayer, from, mapOf(shape.input), weighted, weighted.kind === 'depthwise-conv2d', il.weightScale, bias, out);
      return finish(i, out, fa);
    }
    out.fill(0);
    if (weighted.kind === 'dense') {
      const units = weighted.units;
      streamSegments(artifact, il.weightSegments, chunk!, arena, (p, v, n) => accumulateIntEntries(p, v, n, units, from, null, il.weightScale, out));
    } else {
      const inMap = mapOf(shape.input);
      const full = weighted.kind === 'conv2d' ? 1 : 0;
      const lastDim = full ? weighted.units : weighted.units / weighted.inputs;
      streamSegments(artifact, il.weightSegments, chunk!, arena, (p, v, n) =>
        convIntEntries(from, inMap, weighted, lastDim, full, p, v, n, il.weightScale, out),
      );
    }
    if (il.hasBias) {
      const shift = biasShiftOf(il, fa);
      const channels = weighted.units;
      streamSegments(artifact, il.biasSegments, chunk!, arena, (p, v, n) =>
        weighted.kind === 'dense' ? addIntBiasEntries(p, v, n, il.biasScale, shift, out) : addIntBiasMapEntries(p, v, n, channels, il.biasScale, shift, out),
      );
    }
    return finish(i, out, fa);
  }

  /** Weighted layer i's activation on its accumulators (at `fa`), then the rescaling; returns the output's exponent. */
  function finish(i: number, out: Int32Array, fa: number): number {
    const weighted = model.layers[i]!.layer;
    const activation: Activation = i === last && deferSoftmax ? 'linear' : weighted.activation;
    applyIntActivation(activation, out, fa);
    const ahead = model.ahead[i];
    if (!ahead) return fa;
    const next = ahead.next;
    return rescale(out, fa, ahead.bound, next?.hasBias ? Math.max(0, fa + next.fw - next.fb) : 0);
  }

  function run(sample: Uint8Array): Int32Array {
    if (sample.length !== inputSize) throw new DeviceError(DeviceErrorCode.BAD_INPUT, `sample has ${sample.length} bytes, the model takes ${inputSize}`, 2);
    input.set(sample);
    for (let i = 0; i < inputSize; i++) x[i] = inputTable[input[i]!]!;
    let from = x;
    let fx = model.fx;
    for (let i = 0; i < layers.length; i++) {
      fx = runLayer(i, from, fx);
      from = outputs[i]!;
    }
    lastExponent = fx;
    return outputs[last]!;
  }

  function intLogits(sample: Uint8Array): { values: Int32Array; exponent: number } {
    const values = run(sample);
    return { values, exponent: lastExponent };
  }

  function logits(sample: Uint8Array): Float32Array {
    const values = run(sample);
    const unit = 2 ** -lastExponent;
    for (let j = 0; j < outputSize; j++) floatLogits[j] = values[j]! * unit;
    return floatLogits;
  }

  function invoke(sample: Uint8Array): Float32Array {
    const out = logits(sample);
    if (deferSoftmax) applyActivation('softmax', out);
    return out;
  }

  return {
    inputSize,
    outputSize,
    arithmetic: 'int',
    invoke,
    // Classified by the exact logits, as the C library does.
    classify: (sample) => argmaxInt(intLogits(sample).values),
    logits,
    intLogits,
    plan,
  };
}

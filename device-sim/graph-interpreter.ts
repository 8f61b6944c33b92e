// Runs a convolutional model (a chain with Conv2D, depthwise, pooling and
// Dense layers: formats/artifact/layer-graph.ts) inside the arena, on the f32
// path, with either kernel kind: the coded kernels decode every weighted
// layer's segments through the chunk buffers on each inference and
// accumulate the entries straight into its output map (kernels/conv.ts);
// the image kernels read each weighted layer's rows in place from the
// execution image (kernels/conv-image.ts, kernels/sparse-rows.ts; they run
// as wasm, kernels/conv-image-wasm.ts and sparse-rows-wasm.ts, with planar
// maps between spatial layers, bit for bit the TypeScript's). No
// kernel is ever held dense. (The int path is graph-int.ts's; a Dense-only
// model takes interpreter.ts's paths.)
//
// Scratch plan for L layers, steps 0..L (TFLM's greedy planner over these
// lifetimes, memory-planner.ts):
//   input    raw sample bytes                alive at step 0
//   x        the preprocessed input, float32  alive at steps 0..1
//   out[i]   layer i's output map, float32    alive at steps i+1..i+2
//   chunk    positions u32 + values f32       alive at steps 1..L (coded kernels only: weighted
//                                             layers stream through it)
// and, image kernels, each alive at its layer's step only: a convolution's
// planar map when its output must be NHWC, a dense depthwise layer's decoded
// weights, a sparse Conv2D's entry lists, a one-channel Conv2D's decoded
// taps, a row-kernel convolution's row extents and decoded entries (the last
// four only where they leave the plan's total unchanged); a 16-byte lead
// below the block when a dense depthwise layer pads on the left.
// Layer i runs at step i + 1, reading x or out[i-1]. The plan's total is the
// scratch the arena gives; `plan` reports it beside the naive sum of the buffers.
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
import type { ImageLayer } from './exec-image.ts';
import { convImageLayer } from './kernels/conv-image.ts';
import {
  activationCode,
  CONV_OUTPUT_SLACK,
  convGeometry,
  convImageKernelsFor,
  convImageLayerWasm,
  convItemsBytes,
  convItemsFits,
  convItemsWasm,
  convBandBytes,
  convPixelsFits,
  convPixelsPlanarWasm,
  convPixelsTakes,
  convPixelsWasm,
  convTapsBytes,
  decodedEntriesBytes,
  DEPTHWISE_LEAD_BYTES,
  denseWeightBytes,
  depthwiseDenseFits,
  depthwiseDenseWasm,
  finiteWeights,
  poolNhwcWasm,
  poolTakesPairs,
  poolWasm,
  rowExtentsBytes,
} from './kernels/conv-image-wasm.ts';
import { evalImageLayerWasm, layerAddresses, rowsKernelsFor } from './kernels/sparse-rows-wasm.ts';
import { evalImageLayer } from './kernels/sparse-rows.ts';
import type { Arena } from './arena.ts';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import {
  addBiasEntries,
  avgPool2d,
  conv2dEntries,
  depthwiseConv2dEntries,
  globalAvgPool2d,
  maxPool2d,
  type MapShape,
  type WindowParams,
} from './kernels/conv.ts';
import { accumulateEntries, addEntries, applyActivation, argmax, preprocess } from './kernels/dense-reference.ts';
import { reserveCursorState, segmentTable, streamSegments, type ChunkBuffers } from './kernels/dense.ts';
import type { Interpreter, InterpreterOptions } from './interpreter.ts';
import { createGreedyMemoryPlanner, type BufferRequest } from './memory-planner.ts';
import { createGraphIntInterpreter } from './graph-int.ts';

/** What the planner decided for a graph's activations: the bytes the arena gives them against every buffer apart. */
export interface GraphPlan {
  /** Bytes of scratch the plan takes (the arena's share for activations and chunks). */
  plannedBytes: number;
  /** Every scratch buffer's bytes added up: what a plan without reuse would take. */
  naiveBytes: number;
  /** Each buffer: label, bytes, offset in the scratch block. */
  buffers: Array<{ label: string; bytes: number; offset: number }>;
}

/** A spatial layer's input (layerShapes checked it is a feature map). */
function mapOf(shape: readonly number[]): MapShape {
  const [height, width, channels] = featureMap(shape)!;
  return { height, width, channels };
}

function unsupported(message: string): DeviceError {
  return new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, message);
}

interface WeightedOp {
  weightSegments: Uint16Array;
  biasSegments: Uint16Array;
}

/** Interpreter of a model with spatial layers; interpreter.ts hands such models here. */
export function createGraphInterpreter(
  artifact: Artifact,
  arena: Arena,
  options: InterpreterOptions & { chunkEntries: number },
): Interpreter & { plan: GraphPlan } {
  const { manifest } = artifact;
  const layers = manifest.layers;
  // The int path (block floating point over the maps) is graph-int.ts's.
  if ((options.arithmetic ?? 'f32') === 'int') return createGraphIntInterpreter(artifact, arena, options);
  const image = options.image ?? null;
  const shapes: LayerShape[] = layerShapes(
    manifest.preprocess.inputShape,
    layers,
    (t) => manifest.tensors[t]?.shape,
    (detail) => {
      throw unsupported(detail);
    },
  );
  const last = layers.length - 1;
  layers.forEach((layer, i) => {
    if ('activation' in layer && layer.activation === 'softmax' && (i !== last || shapes[i]!.output.length !== 1)) {
      throw unsupported(`layer "${layer.name}": softmax only on the last layer, over a vector`);
    }
  });
  const inputSize = elementCount(manifest.preprocess.inputShape);

  // init: persistent per-layer tables of segment indices.
  if (artifact.segments.length > 0xffff) throw unsupported(`artifact holds ${artifact.segments.length} segments; at most 65535 are supported`);
  const ops: Array<WeightedOp | null> = layers.map((layer) =>
    'kernel' in layer && !image
      ? {
          weightSegments: segmentTable(artifact, layer.kernel, arena, `segment table of layer "${layer.name}"`),
          biasSegments: layer.bias >= 0 ? segmentTable(artifact, layer.bias, arena, `bias segment table of layer "${layer.name}"`) : new Uint16Array(0),
        }
      : null,
  );

  // The image's layer of each weighted layer.
  const imageLayerOf: Array<ImageLayer | null> = [];
  if (image) {
    let w = 0;
    for (const layer of layers) imageLayerOf.push(isWeighted(layer) ? (image.layers[w++] ?? null) : null);
    if (w !== image.layers.length) throw unsupported(`the execution image has ${image.layers.length} layers, the model ${w} weighted layers`);
  }
  // The image kernels run as wasm in the arena's address space, the image
  // mapped at its flash window before any view is taken (mapping may grow
  // it); maps between spatial layers are planar there (conv-image-wasm.ts).
  // A convolution with a non-finite weight keeps the model on the
  // TypeScript kernels: conv-image.wat adds zero inputs' products, which
  // equals skipping them only for finite weights.
  const wasmImage =
    image && layers.every((layer, i) => (layer.kind !== 'conv2d' && layer.kind !== 'depthwise-conv2d') || finiteWeights(imageLayerOf[i]!)) ? image : null;
  const imageAddress = wasmImage ? arena.mapFlash(wasmImage.bytes) : 0;
  const isConv = (layer: Layer) => layer.kind === 'conv2d' || layer.kind === 'depthwise-conv2d';
  const isSpatial = (layer: Layer | undefined) => layer !== undefined && layer.kind !== 'dense';
  // A map is planar when a spatial layer reads it, NHWC when a Dense layer or the caller does.
  const planarOut = layers.map((_, i) => wasmImage !== null && isSpatial(layers[i + 1]));
  const mapSize = (shape: readonly number[]) => {
    const map = featureMap(shape);
    return map ? { cells: map[0] * map[1], channels: map[2] } : { cells: shape.reduce((a, b) => a * b, 1), channels: 1 };
  };
  // A convolution whose map must be NHWC computes it planar in its own buffer first.
  const needsScratch = layers.map((layer, i) => {
    const { cells, channels } = mapSize(shapes[i]!.output);
    return wasmImage !== null && isConv(layer) && !planarOut[i] && cells > 1 && channels > 1;
  });

  // plan and allocate scratch.
  const chunkEntries = options.chunkEntries;
  const planner = createGreedyMemoryPlanner();
  const requests: Array<{ label: string; bytes: number; id: number }> = [];
  const lifetimes: BufferRequest[] = [];
  const add = (label: string, bytes: number, firstUse: number, lastUse: number) => {
    const id = planner.addBuffer({ label, bytes, firstUse, lastUse });
    requests.push({ label, bytes, id });
    lifetimes.push({ label, bytes, firstUse, lastUse });
    return id;
  };
  // The plan's total with the buffers so far and `extra` (a trial plan).
  const totalWith = (extra: BufferRequest[]) => {
    const trial = createGreedyMemoryPlanner();
    for (const request of [...lifetimes, ...extra]) trial.addBuffer(request);
    return trial.plan().totalBytes;
  };
  const inputRequest = add('input', inputSize, 0, 0);
  const xRequest = add('input as float', inputSize * 4, 0, 1);
  const geometries = layers.map((layer, i) =>
    wasmImage && isConv(layer) ? convGeometry(mapOf(shapes[i]!.input), layer as WindowParams, imageLayerOf[i]!.units, layer.kind === 'depthwise-conv2d') : null,
  );
  // A dense depthwise layer runs output-stationary (depthwiseDenseWasm),
  // its weights decoded into a buffer. Whether it fits depends on its
  // input's address too, known once the plan is made: a layer that turns
  // out not to keeps the row kernel (its output slack is planned either way).
  const dense = layers.map(
    (layer, i) => wasmImage !== null && layer.kind === 'depthwise-conv2d' && depthwiseDenseFits(imageLayerOf[i]!, geometries[i]!, Number.POSITIVE_INFINITY),
  );
  // (A wasm convolution may store up to CONV_OUTPUT_SLACK bytes past the planar map it writes.)
  const slack = (i: number) => (wasmImage && isConv(layers[i]!) && !needsScratch[i] ? CONV_OUTPUT_SLACK : 0);
  const outRequests = layers.map((layer, i) => add(`out ${layer.name}`, elementCount(shapes[i]!.output) * 4 + slack(i), i + 1, i + 2));
  const planarRequests = layers.map((layer, i) =>
    needsScratch[i] ? add(`planar out ${layer.name}`, elementCount(shapes[i]!.output) * 4 + CONV_OUTPUT_SLACK, i + 1, i + 1) : -1,
  );
  // A dense depthwise layer's decoded weights, alive while it runs.
  const weightRequests = layers.map((layer, i) =>
    dense[i] && denseWeightBytes(imageLayerOf[i]!) > 0 ? add(`weights ${layer.name}`, denseWeightBytes(imageLayerOf[i]!), i + 1, i + 1) : -1,
  );
  // A sparse Conv2D that convItemsFits runs output-stationary from its
  // entries listed per output channel (convItemsWasm) when the lists' buffer
  // fits beside the maps alive at its step, the plan's total unchanged;
  // otherwise it keeps the row kernel.
  const itemsRequests = layers.map((layer, i) => {
    if (!wasmImage || layer.kind !== 'conv2d' || !convItemsFits(geometries[i]!) || dense[i]) return -1;
    const lists: BufferRequest = {
      label: `entry lists ${layer.name}`,
      bytes: convItemsBytes(imageLayerOf[i]!, geometries[i]!),
      firstUse: i + 1,
      lastUse: i + 1,
    };
    return totalWith([lists]) > totalWith([]) ? -1 : add(lists.label, lists.bytes, i + 1, i + 1);
  });
  // A one-channel Conv2D read by a pool whose windows lie inside its map
  // scatters its nonzero pixels into NHWC sums in its output buffer
  // (convPixelsWasm; same bytes as the planar map) that the pool finishes,
  // when its decoded taps fit as the lists do. Any other one-channel Conv2D
  // writing a planar map scatters them a band of output rows at a time and
  // finishes each band into its map (convPixelsPlanarWasm): the most rows
  // whose band, beside the taps, leaves the plan's total unchanged.
  const bands: Array<{ request: number; rows: number } | null> = layers.map(() => null);
  const tapsRequests = layers.map((layer, i) => {
    const next = layers[i + 1];
    if (!wasmImage || layer.kind !== 'conv2d' || needsScratch[i] || activationCode(layer.activation) < 0) return -1;
    const g = geometries[i]!;
    const taps: BufferRequest = { label: `taps ${layer.name}`, bytes: convTapsBytes(g), firstUse: i + 1, lastUse: i + 1 };
    if ((next?.kind === 'max-pool2d' || next?.kind === 'avg-pool2d') && convPixelsFits(g, mapOf(shapes[i + 1]!.input), next)) {
      return totalWith([taps]) > totalWith([]) ? -1 : add(taps.label, taps.bytes, i + 1, i + 1);
    }
    if (!convPixelsTakes(g)) return -1;
    const total = totalWith([]);
    for (let rows = g.oh; rows >= 1; rows--) {
      const band: BufferRequest = { label: `sums band ${layer.name}`, bytes: convBandBytes(g, rows), firstUse: i + 1, lastUse: i + 1 };
      if (totalWith([taps, band]) > total) continue;
      const id = add(taps.label, taps.bytes, i + 1, i + 1);
      bands[i] = { request: add(band.label, band.bytes, i + 1, i + 1), rows };
      return id;
    }
    return -1;
  });
  // A convolution on the row kernel with windows above 1x1 trims its runs to
  // its input rows' nonzero spans (rowExtents; a 1x1 window's map is one run
  // per channel, where finding them costs more than it saves), when their
  // buffer leaves the plan's total unchanged as the lists' do.
  const extentsRequests = layers.map((layer, i) => {
    if (!wasmImage || !isConv(layer) || dense[i] || itemsRequests[i]! >= 0 || tapsRequests[i]! >= 0 || geometries[i]!.kh * geometries[i]!.kw === 1) return -1;
    const extents: BufferRequest = { label: `row extents ${layer.name}`, bytes: rowExtentsBytes(geometries[i]!), firstUse: i + 1, lastUse: i + 1 };
    return totalWith([extents]) > totalWith([]) ? -1 : add(extents.label, extents.bytes, i + 1, i + 1);
  });
  // ... and reads its entries decoded once per inference (decodeEntries),
  // under the same condition.
  const decodedRequests = layers.map((layer, i) => {
    if (!wasmImage || !isConv(layer) || dense[i] || itemsRequests[i]! >= 0 || tapsRequests[i]! >= 0) return -1;
    const decoded: BufferRequest = { label: `decoded entries ${layer.name}`, bytes: decodedEntriesBytes(imageLayerOf[i]!), firstUse: i + 1, lastUse: i + 1 };
    return totalWith([decoded]) > totalWith([]) ? -1 : add(decoded.label, decoded.bytes, i + 1, i + 1);
  });
  const positionsRequest = image ? -1 : add('chunk positions', chunkEntries * 4, 1, layers.length);
  const valuesRequest = image ? -1 : add('chunk values', chunkEntries * 4, 1, layers.length);
  const planned = planner.plan();
  // A dense depthwise layer padded on the left loads up to pl cells left of
  // a row, so below its input map: a lead under the block keeps that at or
  // above address 0 wherever the plan puts the map (pl <= 4; a wider pad
  // keeps the row kernel).
  const lead = dense.some((d, i) => d && geometries[i]!.pl > 0) ? DEPTHWISE_LEAD_BYTES : 0;
  const base = arena.allocate(lead + planned.totalBytes, `inference scratch of model "${manifest.model}"`) + lead;
  const plan: GraphPlan = {
    plannedBytes: lead + planned.totalBytes,
    naiveBytes: lead + requests.reduce((n, r) => n + r.bytes, 0),
    buffers: requests.map((r) => ({ label: r.label, bytes: r.bytes, offset: planned.offsets[r.id]! })),
  };

  const input = arena.uint8(base + planned.offsets[inputRequest]!, inputSize);
  const x = arena.float32(base + planned.offsets[xRequest]!, inputSize);
  const outputs = layers.map((_, i) => arena.float32(base + planned.offsets[outRequests[i]!]!, elementCount(shapes[i]!.output)));
  const chunk: ChunkBuffers | null = image
    ? null
    : {
        positions: arena.uint32(base + planned.offsets[positionsRequest]!, chunkEntries),
        values: arena.float32(base + planned.offsets[valuesRequest]!, chunkEntries),
      };
  // Each segment's decoder state is taken above the plan for the segment's pass, then released.
  if (!image) reserveCursorState(artifact, arena);

  const deferSoftmax = 'activation' in layers[last]! && layers[last].activation === 'softmax';
  const { scale, offset } = manifest.preprocess;

  // The wasm image kernels: one call per layer, each step reading the map at `from` (an address).
  let wasmSteps: Array<(from: number) => void> | null = null;
  let preprocessWasm: (() => void) | null = null;
  if (wasmImage) {
    const spatial = convImageKernelsFor(arena.memory);
    const rows = rowsKernelsFor(arena.memory);
    const inputMap = mapSize(manifest.preprocess.inputShape);
    const xPlanar = isSpatial(layers[0]) ? 1 : 0;
    preprocessWasm = () => spatial.preprocess(input.byteOffset, x.byteOffset, inputMap.cells, inputMap.channels, scale, offset, xPlanar);
    const rawInput = { raw: input, scale, offset };
    const addresses = layers.map((layer, i) => (isWeighted(layer) ? layerAddresses(imageLayerOf[i]!, wasmImage.bytes, imageAddress) : null));
    const outputStationary = layers.map((_, i) => {
      const input = i === 0 ? x.byteOffset : outputs[i - 1]!.byteOffset;
      return dense[i]! && depthwiseDenseFits(imageLayerOf[i]!, geometries[i]!, input);
    });
    const activationOf = (i: number): Activation => (i === last && deferSoftmax ? 'linear' : (layers[i] as WeightedLayer).activation);
    // A row-kernel convolution read only by a 2x2 pool or a global average
    // pool leaves its bias and activation to it, which applies them to each
    // value it reads: one pass over the map fewer (poolWasm's finish).
    const poolFinishes = layers.map((layer, i) => {
      const next = layers[i + 1];
      const pool =
        next?.kind === 'global-avg-pool2d' ||
        ((next?.kind === 'max-pool2d' || next?.kind === 'avg-pool2d') && poolTakesPairs(mapOf(shapes[i + 1]!.input), next));
      return (
        isConv(layer) &&
        !outputStationary[i] &&
        itemsRequests[i]! < 0 &&
        tapsRequests[i]! < 0 &&
        !needsScratch[i] &&
        activationCode(activationOf(i)) >= 0 &&
        pool
      );
    });
    const finishOf = (i: number) =>
      i > 0 && poolFinishes[i - 1] ? { bias: addresses[i - 1]!.bias, activation: activationCode(activationOf(i - 1)) } : { bias: 0, activation: -1 };
    wasmSteps = layers.map((layer, i) => {
      const shape = shapes[i]!;
      const out = outputs[i]!;
      const to = out.byteOffset;
      if (layer.kind === 'max-pool2d' || layer.kind === 'avg-pool2d') {
        const kind = layer.kind === 'max-pool2d' ? 'max' : 'avg';
        if (i > 0 && tapsRequests[i - 1]! >= 0 && !bands[i - 1]) {
          const sums = { bias: addresses[i - 1]!.bias, activation: activationCode(activationOf(i - 1)) };
          return (from) => poolNhwcWasm(spatial, kind, mapOf(shape.input), layer, from, to, planarOut[i]!, sums);
        }
        const finish = finishOf(i);
        return (from) => poolWasm(spatial, kind, mapOf(shape.input), layer, from, to, planarOut[i]!, finish);
      }
      if (layer.kind === 'global-avg-pool2d') {
        const { height, width, channels } = mapOf(shape.input);
        const { bias, activation } = finishOf(i);
        return (from) => spatial.globalAvgPool(from, height * width, channels, to, bias, activation);
      }
      const weighted = layer as WeightedLayer;
      const activation = activationOf(i);
      const at = addresses[i]!;
      if (weighted.kind === 'dense') {
        return (from) => {
          evalImageLayerWasm(rows, at, false, from, rawInput, to);
          if (activation === 'relu') rows.relu(to, out.length);
          else applyActivation(activation, out);
        };
      }
      const geometry = geometries[i]!;
      const code = activationCode(activation);
      const planar = needsScratch[i] ? base + planned.offsets[planarRequests[i]!]! : to;
      const planarMap = arena.float32(planar, out.length);
      const imageLayer = imageLayerOf[i]!;
      const weights = weightRequests[i]! >= 0 ? base + planned.offsets[weightRequests[i]!]! : 0;
      const stationary = outputStationary[i]!;
      const lists = itemsRequests[i]! >= 0 ? base + planned.offsets[itemsRequests[i]!]! : -1;
      const finish = !poolFinishes[i];
      const extents = extentsRequests[i]! >= 0 ? base + planned.offsets[extentsRequests[i]!]! : -1;
      if (tapsRequests[i]! >= 0) {
        const taps = base + planned.offsets[tapsRequests[i]!]!;
        const band = bands[i];
        if (band) {
          const bandAt = base + planned.offsets[band.request]!;
          return (from) => convPixelsPlanarWasm(spatial, at, geometry, from, to, taps, bandAt, band.rows, code);
        }
        return (from) => convPixelsWasm(spatial, at, geometry, from, to, taps);
      }
      const decoded = decodedRequests[i]! >= 0 ? { at: base + planned.offsets[decodedRequests[i]!]!, entries: imageLayer.entryCount } : null;
      return (from) => {
        if (stationary) depthwiseDenseWasm(spatial, at, geometry, imageLayer.entryCount, from, planar, code, weights);
        else if (lists >= 0) convItemsWasm(spatial, at, geometry, imageLayer.inputs, from, planar, code, lists);
        else convImageLayerWasm(spatial, at, geometry, from, planar, code, finish, extents, decoded);
        if (code < 0) applyActivation(activation, planarMap);
        if (planar !== to) spatial.toNhwc(planar, to, geometry.outC, geometry.cells);
      };
    });
  }

  function runLayer(
    layer: Layer,
    op: WeightedOp | null,
    imageLayer: ImageLayer | null,
    shape: LayerShape,
    from: Float32Array,
    out: Float32Array,
    isLast: boolean,
  ): void {
    if (layer.kind === 'max-pool2d' || layer.kind === 'avg-pool2d') {
      (layer.kind === 'max-pool2d' ? maxPool2d : avgPool2d)(from, mapOf(shape.input), layer, out);
      return;
    }
    if (layer.kind === 'global-avg-pool2d') {
      globalAvgPool2d(from, mapOf(shape.input), out);
      return;
    }
    const weighted = layer as WeightedLayer;
    const activation: Activation = isLast && deferSoftmax ? 'linear' : weighted.activation;
    if (imageLayer) {
      if (weighted.kind === 'dense') evalImageLayer(imageLayer, from, out);
      else convImageLayer(imageLayer, from, mapOf(shape.input), weighted, weighted.kind === 'depthwise-conv2d', out);
      applyActivation(activation, out);
      return;
    }
    out.fill(0);
    const w = op!;
    const buffers = chunk!;
    if (weighted.kind === 'dense') {
      streamSegments(artifact, w.weightSegments, buffers, arena, (p, v, n) => accumulateEntries(p, v, n, weighted.units, from, out));
      streamSegments(artifact, w.biasSegments, buffers, arena, (p, v, n) => addEntries(p, v, n, out));
    } else {
      const inMap = mapOf(shape.input);
      if (weighted.kind === 'conv2d') {
        streamSegments(artifact, w.weightSegments, buffers, arena, (p, v, n) => conv2dEntries(from, inMap, weighted, weighted.units, p, v, n, out));
      } else {
        const multiplier = weighted.units / weighted.inputs;
        streamSegments(artifact, w.weightSegments, buffers, arena, (p, v, n) => depthwiseConv2dEntries(from, inMap, weighted, multiplier, p, v, n, out));
      }
      streamSegments(artifact, w.biasSegments, buffers, arena, (p, v, n) => addBiasEntries(p, v, n, weighted.units, out));
    }
    applyActivation(activation, out);
  }

  function logits(sample: Uint8Array): Float32Array {
    if (sample.length !== inputSize) throw new DeviceError(DeviceErrorCode.BAD_INPUT, `sample has ${sample.length} bytes, the model takes ${inputSize}`, 2);
    input.set(sample);
    if (wasmSteps) {
      preprocessWasm!();
      let at = x.byteOffset;
      for (let i = 0; i < wasmSteps.length; i++) {
        wasmSteps[i]!(at);
        at = outputs[i]!.byteOffset;
      }
      return outputs[last]!;
    }
    for (let i = 0; i < inputSize; i++) x[i] = preprocess(input[i]!, scale, offset);
    let from = x;
    for (let i = 0; i < layers.length; i++) {
      runLayer(layers[i]!, ops[i]!, imageLayerOf[i] ?? null, shapes[i]!, from, outputs[i]!, i === last);
      from = outputs[i]!;
    }
    return outputs[last]!;
  }

  function invoke(sample: Uint8Array): Float32Array {
    const out = logits(sample);
    if (deferSoftmax) applyActivation('softmax', out);
    return out;
  }

  return {
    inputSize,
    outputSize: outputs[last]!.length,
    arithmetic: 'f32',
    invoke,
    classify: (sample) => argmax(invoke(sample)),
    logits,
    intLogits() {
      throw new DeviceError(DeviceErrorCode.BAD_INPUT, 'int logits need the int arithmetic path (arithmetic: "int")', 2);
    },
    plan,
  };
}

// Runs a verified artifact's graph (a chain of Dense layers; a model with
// convolutions goes to graph-interpreter.ts) inside the
// arena. Like TFLM's MicroInterpreter: init every kernel (persistent data),
// prepare every kernel (validation), plan the scratch buffers' lifetimes,
// allocate them once, then invoke any number of times with no allocation.
//
// Two kinds of kernels: with an execution image (exec-image.ts) the wasm
// kernels read it through the arena's flash window; without one the coded
// kernels range-decode the artifact's segments on every inference.
//
// Scratch plan for L layers (steps 0..L):
//   input     raw sample bytes           alive at step 0
//   out[i]    float32 × units of layer i  alive at steps i..i+1 (consumed by layer i+1)
//   chunk     positions u32 + values f32 alive at steps 0..L-1 (coded kernels only:
//             every layer streams through it)
// so activations ping-pong between two regions. 784-128-64-10 plans 1.3 KiB
// with the image, about 2.3 KiB with the coded kernels' 64-entry chunks.
//
// Two arithmetic paths (docs/arithmetic.md): f32 (the default; the image
// layers run in the wasm kernels) and int (block floating point, as on a
// part with no FPU; out[i] holds int32 accumulators, the kernels are the
// TypeScript references of kernels/int-reference.ts).
import { denseChain, type Artifact } from '../formats/index.ts';
import { createGraphInterpreter } from './graph-interpreter.ts';
import type { Arena } from './arena.ts';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import { applyActivation, argmax } from './kernels/dense-reference.ts';
import { evalDense, initDense, prepareDense, reserveCursorState, type ChunkBuffers, type DenseOpData, type RawInput } from './kernels/dense.ts';
import { evalImageLayerWasm, layerAddresses, rowsKernelsFor, type LayerAddresses } from './kernels/sparse-rows-wasm.ts';
import { evalImageLayerInt } from './kernels/sparse-rows.ts';
import { biasShift, evalDenseInt, minShiftFor, prepareIntModel, type IntModel } from './kernels/dense-int.ts';
import { applyIntActivation, argmaxInt, rescale } from './kernels/int-reference.ts';
import type { Arithmetic } from './firmware-plan.ts';
import type { ExecImage } from './exec-image.ts';
import { createGreedyMemoryPlanner } from './memory-planner.ts';

/** Entries streamed per chunk: 64 × 8 bytes = 512 bytes of arena. */
export const DEFAULT_CHUNK_ENTRIES = 64;

export interface Interpreter {
  /** Features per sample (raw bytes). */
  readonly inputSize: number;
  /** Number of outputs of the last layer. */
  readonly outputSize: number;
  /** Runs one sample; returns a view of the output in the arena (valid until the next invoke). */
  invoke(sample: Uint8Array): Float32Array;
  /** Runs one sample and returns the index of its largest output. */
  classify(sample: Uint8Array): number;
  /**
   * Runs one sample and returns the last layer's output without a softmax
   * (its logits; any other activation is applied), as the C library returns
   * them: a view in the arena, valid until the next run. Their argmax (first
   * on ties) is the class.
   */
  logits(sample: Uint8Array): Float32Array;
  /** Which arithmetic path runs. */
  readonly arithmetic: Arithmetic;
  /**
   * The int path's logits as the C library gives them: int32 accumulators
   * (a view in the arena, valid until the next run) and their exponent,
   * logit ~ value * 2^-exponent. Throws on the f32 path.
   */
  intLogits(sample: Uint8Array): { values: Int32Array; exponent: number };
}

export interface InterpreterOptions {
  /** Entries per streamed chunk of the coded kernels. */
  chunkEntries?: number;
  /**
   * The artifact's execution image (exec-image.ts, opened and checked): the
   * kernels read it in place instead of range-decoding the segments on every
   * inference. Without it the coded kernels run (no flash beyond the artifact).
   */
  image?: ExecImage | null;
  /** 'f32' (the default) or 'int' (docs/arithmetic.md). */
  arithmetic?: Arithmetic;
}

export function createInterpreter(artifact: Artifact, arena: Arena, options: InterpreterOptions = {}): Interpreter {
  const chunkEntries = options.chunkEntries ?? DEFAULT_CHUNK_ENTRIES;
  const image = options.image ?? null;
  const arithmetic = options.arithmetic ?? 'f32';
  if (arithmetic !== 'f32' && arithmetic !== 'int') throw new DeviceError(DeviceErrorCode.BAD_INPUT, `arithmetic must be f32 or int, got "${arithmetic}"`, 2);
  const { manifest } = artifact;
  if (manifest.layers.length === 0) throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, 'the artifact has no layers');
  // A model with convolutions or pooling runs graph-interpreter.ts (f32, coded kernels).
  const layers = denseChain(manifest.layers);
  if (!layers) return createGraphInterpreter(artifact, arena, { ...options, chunkEntries });
  const inputSize = manifest.preprocess.inputShape.reduce((a, b) => a * b, 1);
  if (inputSize !== layers[0].inputs) {
    throw new DeviceError(
      DeviceErrorCode.UNSUPPORTED_MODEL,
      `preprocess input shape [${manifest.preprocess.inputShape}] has ${inputSize} features but layer "${layers[0].name}" takes ${layers[0].inputs}`,
    );
  }
  for (let i = 1; i < layers.length; i++) {
    if (layers[i].inputs !== layers[i - 1].units) {
      throw new DeviceError(
        DeviceErrorCode.UNSUPPORTED_MODEL,
        `layer "${layers[i].name}" takes ${layers[i].inputs} inputs but "${layers[i - 1].name}" gives ${layers[i - 1].units}`,
      );
    }
  }

  if (arithmetic === 'int') {
    layers.forEach((layer, i) => {
      const ok =
        layer.activation === 'linear' ||
        layer.activation === 'relu' ||
        layer.activation === 'relu6' ||
        (layer.activation === 'softmax' && i === layers.length - 1);
      if (!ok)
        throw new DeviceError(
          DeviceErrorCode.UNSUPPORTED_MODEL,
          `int arithmetic: layer "${layer.name}" has activation ${layer.activation}; only linear, relu, relu6 and a softmax last`,
        );
    });
  }

  // init: persistent per-kernel data (the image's layers need none: they are views of flash).
  const ops: DenseOpData[] = image ? [] : layers.map((layer) => initDense(artifact, layer, arena));
  // prepare: validation only.
  for (const op of ops) prepareDense(artifact, op);
  if (image && image.layers.length !== layers.length) {
    throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, `the execution image has ${image.layers.length} layers, the model ${layers.length}`);
  }

  // The image is mapped into the address space before any view is taken (mapping may grow it).
  // (The int path reads the image in TypeScript, through its own views.)
  const wasmImage = arithmetic === 'f32' ? image : null;
  const imageAddress = wasmImage ? arena.mapFlash(wasmImage.bytes) : 0;
  const wasm = wasmImage ? rowsKernelsFor(arena.memory) : null;
  const addresses: LayerAddresses[] = wasmImage ? wasmImage.layers.map((layer) => layerAddresses(layer, wasmImage.bytes, imageAddress)) : [];

  // int: the input table (xq of each raw byte) and a float copy of the logits, persistent; the exponents.
  let intModel: IntModel | null = null;
  let inputTable: Int32Array | null = null;
  let floatLogits: Float32Array | null = null;
  if (arithmetic === 'int') {
    inputTable = arena.int32(arena.allocate(256 * 4, 'int input table'), 256);
    const units = layers[layers.length - 1].units;
    floatLogits = arena.float32(arena.allocate(units * 4, 'int logits as float'), units);
    intModel = prepareIntModel(artifact, arena, inputTable);
  }

  // plan and allocate scratch.
  const planner = createGreedyMemoryPlanner();
  const steps = layers.length;
  const inputRequest = planner.addBuffer({ label: 'input', bytes: inputSize, firstUse: 0, lastUse: 0 });
  const outputRequests = layers.map((layer, i) => planner.addBuffer({ label: `out ${layer.name}`, bytes: layer.units * 4, firstUse: i, lastUse: i + 1 }));
  // The coded kernels stream entries through chunk buffers; the image's are read in place.
  const chunkRequests = image
    ? null
    : {
        positions: planner.addBuffer({ label: 'chunk positions', bytes: chunkEntries * 4, firstUse: 0, lastUse: steps - 1 }),
        values: planner.addBuffer({ label: 'chunk values', bytes: chunkEntries * 4, firstUse: 0, lastUse: steps - 1 }),
      };
  const plan = planner.plan();
  const base = arena.allocate(plan.totalBytes, `inference scratch of model "${manifest.model}"`);

  const input = arena.uint8(base + plan.offsets[inputRequest], inputSize);
  const outputs = layers.map((layer, i) => arena.float32(base + plan.offsets[outputRequests[i]], layer.units));
  const rawInput: RawInput = { raw: input, scale: manifest.preprocess.scale, offset: manifest.preprocess.offset };
  const accs = layers.map((layer, i) => arena.int32(base + plan.offsets[outputRequests[i]], layer.units));
  const last = outputs[outputs.length - 1];
  // A softmax last layer is applied after the logits are taken (invoke), never by the kernels.
  const finalActivation = layers[layers.length - 1].activation;
  const deferSoftmax = finalActivation === 'softmax';
  const activationOf = (i: number) => (deferSoftmax && i === layers.length - 1 ? 'linear' : layers[i].activation);

  let runLayers: () => void;
  let lastExponent = 0;
  let chunk: ChunkBuffers | null = null;
  if (!image) {
    chunk = {
      positions: arena.uint32(base + plan.offsets[chunkRequests!.positions], chunkEntries),
      values: arena.float32(base + plan.offsets[chunkRequests!.values], chunkEntries),
    };
    // Each segment's decoder state is taken above the plan for the segment's pass, then released.
    reserveCursorState(artifact, arena);
  }
  if (intModel) {
    const model = intModel;
    runLayers = () => {
      let fx = model.fx;
      for (let i = 0; i < layers.length; i++) {
        const il = model.layers[i];
        const fa = fx + il.fw;
        const from = i === 0 ? input : accs[i - 1];
        const table = i === 0 ? inputTable : null;
        if (image) {
          evalImageLayerInt(image.layers[i], from, table, il.weightScale, il.hasBias ? { scale: il.biasScale, shift: biasShift(il, fa) } : null, accs[i]);
        } else {
          evalDenseInt(artifact, ops[i].weightSegments, ops[i].biasSegments, il, fa, from, table, accs[i], chunk!, arena);
        }
        applyIntActivation(activationOf(i), accs[i], fa);
        if (i + 1 < layers.length) {
          const next = model.layers[i + 1];
          fx = rescale(accs[i], fa, next.bound, minShiftFor(next, fa));
        } else {
          lastExponent = fa;
        }
      }
    };
  } else if (wasm) {
    runLayers = () => {
      for (let i = 0; i < layers.length; i++) {
        const out = outputs[i];
        const from = i === 0 ? input.byteOffset : outputs[i - 1].byteOffset;
        evalImageLayerWasm(wasm, addresses[i], i === 0, from, rawInput, out.byteOffset);
        const activation = activationOf(i);
        if (activation === 'relu') wasm.relu(out.byteOffset, out.length);
        else applyActivation(activation, out);
      }
    };
  } else {
    const buffers = chunk!;
    runLayers = () => {
      evalDense(artifact, ops[0], rawInput, outputs[0], buffers, arena, activationOf(0));
      for (let i = 1; i < ops.length; i++) evalDense(artifact, ops[i], outputs[i - 1], outputs[i], buffers, arena, activationOf(i));
    };
  }

  function run(sample: Uint8Array): void {
    if (sample.length !== inputSize) {
      throw new DeviceError(DeviceErrorCode.BAD_INPUT, `sample has ${sample.length} bytes, the model takes ${inputSize}`, 2);
    }
    input.set(sample);
    runLayers();
  }

  const lastAcc = accs[accs.length - 1];
  function logits(sample: Uint8Array): Float32Array {
    run(sample);
    if (!floatLogits) return last;
    const unit = 2 ** -lastExponent;
    for (let j = 0; j < floatLogits.length; j++) floatLogits[j] = lastAcc[j] * unit;
    return floatLogits;
  }

  function invoke(sample: Uint8Array): Float32Array {
    const out = logits(sample);
    if (deferSoftmax) applyActivation('softmax', out);
    return out;
  }

  function intLogits(sample: Uint8Array): { values: Int32Array; exponent: number } {
    if (!intModel) throw new DeviceError(DeviceErrorCode.BAD_INPUT, 'int logits need the int arithmetic path (arithmetic: "int")', 2);
    run(sample);
    return { values: lastAcc, exponent: lastExponent };
  }

  return {
    inputSize,
    outputSize: last.length,
    arithmetic,
    invoke,
    // The int path classifies by its exact logits, as the C library does.
    classify: intModel ? (sample) => argmaxInt(intLogits(sample).values) : (sample) => argmax(invoke(sample)),
    logits,
    intLogits,
  };
}

// Runs a verified artifact's graph (a chain of Dense layers) inside the
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
import type { Artifact } from '../formats/index.ts';
import type { Arena } from './arena.ts';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import { applyActivation, argmax } from './kernels/dense-reference.ts';
import { evalDense, initDense, prepareDense, reserveCursorState, type ChunkBuffers, type DenseOpData, type RawInput } from './kernels/dense.ts';
import { evalImageLayerWasm, layerAddresses, rowsKernelsFor, type LayerAddresses } from './kernels/sparse-rows-wasm.ts';
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
}

export function createInterpreter(artifact: Artifact, arena: Arena, options: InterpreterOptions = {}): Interpreter {
  const chunkEntries = options.chunkEntries ?? DEFAULT_CHUNK_ENTRIES;
  const image = options.image ?? null;
  const { manifest } = artifact;
  const layers = manifest.layers;
  if (layers.length === 0) throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, 'the artifact has no layers');
  for (const layer of layers) {
    if (layer.kind !== 'dense') {
      throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, `layer kind "${layer.kind}" is not supported; only dense`);
    }
  }
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

  // init: persistent per-kernel data (the image's layers need none: they are views of flash).
  const ops: DenseOpData[] = image ? [] : layers.map((layer) => initDense(artifact, layer, arena));
  // prepare: validation only.
  for (const op of ops) prepareDense(artifact, op);
  if (image && image.layers.length !== layers.length) {
    throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, `the execution image has ${image.layers.length} layers, the model ${layers.length}`);
  }

  // The image is mapped into the address space before any view is taken (mapping may grow it).
  const imageAddress = image ? arena.mapFlash(image.bytes) : 0;
  const wasm = image ? rowsKernelsFor(arena.memory) : null;
  const addresses: LayerAddresses[] = image ? image.layers.map((layer) => layerAddresses(layer, image.bytes, imageAddress)) : [];

  // plan and allocate scratch.
  const planner = createGreedyMemoryPlanner();
  const steps = layers.length;
  const inputRequest = planner.addBuffer({ label: 'input', bytes: inputSize, firstUse: 0, lastUse: 0 });
  const outputRequests = layers.map((layer, i) =>
    planner.addBuffer({ label: `out ${layer.name}`, bytes: layer.units * 4, firstUse: i, lastUse: i + 1 }),
  );
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
  const last = outputs[outputs.length - 1];
  // A softmax last layer is applied after the logits are taken (invoke), never by the kernels.
  const finalActivation = layers[layers.length - 1].activation;
  const deferSoftmax = finalActivation === 'softmax';
  const activationOf = (i: number) => (deferSoftmax && i === layers.length - 1 ? 'linear' : layers[i].activation);

  let runLayers: () => void;
  if (wasm) {
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
    const chunk: ChunkBuffers = {
      positions: arena.uint32(base + plan.offsets[chunkRequests!.positions], chunkEntries),
      values: arena.float32(base + plan.offsets[chunkRequests!.values], chunkEntries),
    };
    // Each segment's decoder state is taken above the plan for the segment's pass, then released.
    reserveCursorState(artifact, arena);
    runLayers = () => {
      evalDense(artifact, ops[0], rawInput, outputs[0], chunk, arena, activationOf(0));
      for (let i = 1; i < ops.length; i++) evalDense(artifact, ops[i], outputs[i - 1], outputs[i], chunk, arena, activationOf(i));
    };
  }

  function logits(sample: Uint8Array): Float32Array {
    if (sample.length !== inputSize) {
      throw new DeviceError(DeviceErrorCode.BAD_INPUT, `sample has ${sample.length} bytes, the model takes ${inputSize}`, 2);
    }
    input.set(sample);
    runLayers();
    return last;
  }

  function invoke(sample: Uint8Array): Float32Array {
    logits(sample);
    if (deferSoftmax) applyActivation('softmax', last);
    return last;
  }

  return {
    inputSize,
    outputSize: last.length,
    invoke,
    classify: (sample) => argmax(invoke(sample)),
    logits,
  };
}

// Runs a verified artifact's graph (a chain of Dense layers) inside the
// arena. Like TFLM's MicroInterpreter: init every kernel (persistent data),
// prepare every kernel (validation), plan the scratch buffers' lifetimes,
// allocate them once, then invoke any number of times with no allocation.
//
// Scratch plan for L layers (steps 0..L):
//   input     raw sample bytes           alive at step 0
//   out[i]    float32 × units of layer i  alive at steps i..i+1 (consumed by layer i+1)
//   chunk     positions u32 + values f32 alive at steps 0..L-1 (every layer streams through it)
// so activations ping-pong between two regions. 784-128-64-10 with 64-entry
// chunks plans about 2.3 KiB.
import type { Artifact } from '../formats/index.ts';
import type { Arena } from './arena.ts';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import { argmax } from './kernels/dense-reference.ts';
import { evalDense, initDense, prepareDense, type ChunkBuffers, type DenseOpData, type RawInput } from './kernels/dense.ts';
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
}

export function createInterpreter(
  artifact: Artifact,
  arena: Arena,
  options: { chunkEntries?: number } = {},
): Interpreter {
  const chunkEntries = options.chunkEntries ?? DEFAULT_CHUNK_ENTRIES;
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

  // init: persistent per-kernel data.
  const ops: DenseOpData[] = layers.map((layer) => initDense(artifact, layer, arena));
  // prepare: validation only.
  for (const op of ops) prepareDense(artifact, op);

  // plan and allocate scratch.
  const planner = createGreedyMemoryPlanner();
  const steps = layers.length;
  const inputRequest = planner.addBuffer({ label: 'input', bytes: inputSize, firstUse: 0, lastUse: 0 });
  const outputRequests = layers.map((layer, i) =>
    planner.addBuffer({ label: `out ${layer.name}`, bytes: layer.units * 4, firstUse: i, lastUse: i + 1 }),
  );
  const positionsRequest = planner.addBuffer({ label: 'chunk positions', bytes: chunkEntries * 4, firstUse: 0, lastUse: steps - 1 });
  const valuesRequest = planner.addBuffer({ label: 'chunk values', bytes: chunkEntries * 4, firstUse: 0, lastUse: steps - 1 });
  const plan = planner.plan();
  const base = arena.allocate(plan.totalBytes, `inference scratch of model "${manifest.model}"`);

  const input = arena.uint8(base + plan.offsets[inputRequest], inputSize);
  const outputs = layers.map((layer, i) => arena.float32(base + plan.offsets[outputRequests[i]], layer.units));
  const chunk: ChunkBuffers = {
    positions: arena.uint32(base + plan.offsets[positionsRequest], chunkEntries),
    values: arena.float32(base + plan.offsets[valuesRequest], chunkEntries),
  };
  const rawInput: RawInput = { raw: input, scale: manifest.preprocess.scale, offset: manifest.preprocess.offset };
  const last = outputs[outputs.length - 1];

  function invoke(sample: Uint8Array): Float32Array {
    if (sample.length !== inputSize) {
      throw new DeviceError(DeviceErrorCode.BAD_INPUT, `sample has ${sample.length} bytes, the model takes ${inputSize}`, 2);
    }
    input.set(sample);
    evalDense(artifact, ops[0], rawInput, outputs[0], chunk);
    for (let i = 1; i < ops.length; i++) evalDense(artifact, ops[i], outputs[i - 1], outputs[i], chunk);
    return last;
  }

  return {
    inputSize,
    outputSize: last.length,
    invoke,
    classify: (sample) => argmax(invoke(sample)),
  };
}

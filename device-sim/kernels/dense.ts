// The Dense kernel in TFLite Micro's three phases:
//   initDense    persistent state from the arena: the tables of segment
//                indices of this layer's kernel and bias tensors;
//   prepareDense validates shapes and encodings (throws), nothing after it does;
//   evalDense    streams each segment's (position, value) entries through the
//                small chunk buffers into the output: no validation, no
//                dense copy of the weight matrix; each segment's decoder
//                state is taken from the arena and released after its pass.
import { openSegment, readSegmentEntries, type Activation, type Artifact, type DenseLayer } from '../../formats/index.ts';
import { arenaMemory, type Arena } from '../arena.ts';
import { DeviceError, DeviceErrorCode } from '../errors.ts';
import { accumulateEntries, accumulateEntriesFromRaw, addEntries, applyActivation } from './dense-reference.ts';

export interface DenseOpData {
  layer: DenseLayer;
  /** Indices into artifact.segments holding this layer's kernel entries. */
  weightSegments: Uint16Array;
  /** Indices into artifact.segments holding this layer's bias entries. */
  biasSegments: Uint16Array;
}

/** Buffers the planner gave this evaluation: chunk buffers are shared by every layer. */
export interface ChunkBuffers {
  positions: Uint32Array;
  values: Float32Array;
}

export interface RawInput {
  raw: Uint8Array;
  scale: number;
  offset: number;
}

/** The indices into artifact.segments of `tensor`'s held segments, in the arena. */
export function segmentTable(artifact: Artifact, tensor: number, arena: Arena, what: string): Uint16Array {
  let count = 0;
  for (const segment of artifact.segments) if (segment.tensor === tensor) count++;
  const table = arena.uint16(arena.allocate(count * 2, what), count);
  let next = 0;
  artifact.segments.forEach((segment, index) => {
    if (segment.tensor === tensor) table[next++] = index;
  });
  return table;
}

export function initDense(artifact: Artifact, layer: DenseLayer, arena: Arena): DenseOpData {
  if (artifact.segments.length > 0xffff) {
    throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, `artifact holds ${artifact.segments.length} segments; at most 65535 are supported`);
  }
  return {
    layer,
    weightSegments: segmentTable(artifact, layer.kernel, arena, `segment table of layer "${layer.name}"`),
    biasSegments: layer.bias >= 0 ? segmentTable(artifact, layer.bias, arena, `bias segment table of layer "${layer.name}"`) : new Uint16Array(0),
  };
}

export function prepareDense(artifact: Artifact, op: DenseOpData): void {
  const { layer } = op;
  const tensors = artifact.manifest.tensors;
  const where = `layer "${layer.name}"`;
  const fail = (message: string): never => {
    throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, `${where}: ${message}`);
  };
  if (!Number.isInteger(layer.inputs) || !Number.isInteger(layer.units) || layer.inputs < 1 || layer.units < 1) {
    fail(`inputs ${layer.inputs} and units ${layer.units} must be positive integers`);
  }
  const kernel = tensors[layer.kernel];
  if (!kernel) fail(`kernel tensor ${layer.kernel} does not exist`);
  if (kernel.shape.length !== 2 || kernel.shape[0] !== layer.inputs || kernel.shape[1] !== layer.units) {
    fail(`kernel "${kernel.name}" has shape [${kernel.shape}], expected [${layer.inputs}, ${layer.units}]`);
  }
  if (layer.bias >= 0) {
    const bias = tensors[layer.bias];
    if (!bias) fail(`bias tensor ${layer.bias} does not exist`);
    const size = bias.shape.reduce((a, b) => a * b, 1);
    if (size !== layer.units) fail(`bias "${bias.name}" has ${size} values, expected ${layer.units}`);
  }
}

/**
 * Opens (and drops) every held segment's cursor once at load, so a model
 * whose decoder state does not fit fails there, with a BudgetError, and the
 * high-water mark covers inference before the first sample runs.
 */
export function reserveCursorState(artifact: Artifact, arena: Arena): void {
  const memory = arenaMemory(arena);
  for (let s = 0; s < artifact.segments.length; s++) {
    const mark = arena.mark();
    openSegment(artifact, s, memory);
    arena.rewind(mark);
  }
}

/** What a kernel does with each chunk of decoded (position, value) entries. */
export type ChunkVisit = (positions: Uint32Array, values: Float32Array, count: number) => void;

/**
 * Decodes each of `segments` (indices into artifact.segments) through the
 * chunk buffers, handing every filled chunk to `visit`; each segment's decoder
 * state is taken from the arena for its pass and released after it.
 */
export function streamSegments(artifact: Artifact, segments: Uint16Array, chunk: ChunkBuffers, arena: Arena, visit: ChunkVisit): void {
  const memory = arenaMemory(arena);
  for (let s = 0; s < segments.length; s++) {
    const mark = arena.mark();
    const cursor = openSegment(artifact, segments[s], memory);
    let count: number;
    while ((count = readSegmentEntries(cursor, chunk.positions, chunk.values)) > 0) visit(chunk.positions, chunk.values, count);
    arena.rewind(mark);
  }
}

function streamInto(
  artifact: Artifact,
  segments: Uint16Array,
  chunk: ChunkBuffers,
  units: number,
  input: Float32Array | RawInput | null,
  output: Float32Array,
  arena: Arena,
): void {
  streamSegments(artifact, segments, chunk, arena, (positions, values, count) => {
    if (input === null) addEntries(positions, values, count, output);
    else if (input instanceof Float32Array) accumulateEntries(positions, values, count, units, input, output);
    else accumulateEntriesFromRaw(positions, values, count, units, input.raw, input.scale, input.offset, output);
  });
}

/** output = activation(input · K + b); `output` has `units` values. `activation` overrides the layer's. */
export function evalDense(
  artifact: Artifact,
  op: DenseOpData,
  input: Float32Array | RawInput,
  output: Float32Array,
  chunk: ChunkBuffers,
  arena: Arena,
  activation: Activation = op.layer.activation,
): void {
  output.fill(0);
  streamInto(artifact, op.weightSegments, chunk, op.layer.units, input, output, arena);
  streamInto(artifact, op.biasSegments, chunk, op.layer.units, null, output, arena);
  applyActivation(activation, output);
}

// The Dense kernel on docs/arithmetic.md's int path: the per-tensor
// exponents and the input table, fixed once at open (prepareIntModel), and
// the coded kernel (evalDenseInt) that streams each held segment's entries
// through the chunk buffers, as evalDense does on the f32 path. The image
// kernel is evalImageLayerInt (sparse-rows.ts); both give the same
// accumulators, since integer sums do not depend on their order.
import { denseChain, openSegment, readSegmentEntries, type Artifact, type DenseLayer } from '../../formats/index.ts';
import { arenaMemory, type Arena } from '../arena.ts';
import { DeviceError, DeviceErrorCode } from '../errors.ts';
import type { ChunkBuffers } from './dense.ts';
import { preprocess } from './dense-reference.ts';
import {
  accumulateIntEntries,
  activationBound,
  addIntBiasEntries,
  BIAS_LIMIT,
  fillInputTable,
  fitExponent,
  INPUT_SHIFT,
  rnd,
  WEIGHT_LIMIT,
} from './int-reference.ts';

/** One layer's integer parameters. */
export interface IntLayer {
  layer: DenseLayer;
  /** Kernel exponent fw: wq = rnd(w * 2^fw); weightScale = 2^fw. */
  fw: number;
  weightScale: number;
  /** Whether the artifact holds any entry of the layer's bias. */
  hasBias: boolean;
  /** Bias exponent fb: bq = rnd(b * 2^fb); biasScale = 2^fb. */
  fb: number;
  biasScale: number;
  /** X_l: bound of the layer's input magnitudes. */
  bound: number;
}

export interface IntModel {
  layers: IntLayer[];
  /** The input's exponent and fixed-point preprocess: xq = rsh(raw * S + O, 15). */
  fx: number;
  S: number;
  O: number;
}

function unsupported(message: string): DeviceError {
  return new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, `int arithmetic: ${message}`);
}

/** fit(m, limit) or UNSUPPORTED_MODEL naming `what`. */
export function fit(m: number, limit: number, what: string): number {
  const f = fitExponent(m, limit);
  if (f === null) throw unsupported(`${what}: magnitude ${m} does not fit in [-64, 64] exponents`);
  return f;
}

/**
 * The largest |value| and the number of entries of every tensor over the
 * artifact's held segments: one decoding pass at open, its working memory
 * from the arena and given back.
 */
export function heldMagnitudes(artifact: Artifact, arena: Arena): { max: Float64Array; count: Float64Array } {
  const tensors = artifact.manifest.tensors.length;
  const max = new Float64Array(tensors);
  const count = new Float64Array(tensors);
  const mark = arena.mark();
  const memory = arenaMemory(arena, 'int arithmetic: weight exponents');
  const positions = memory.uint32(64, 'chunk positions');
  const values = memory.float32(64, 'chunk values');
  for (let s = 0; s < artifact.segments.length; s++) {
    const inner = arena.mark();
    const tensor = artifact.segments[s]!.tensor;
    const cursor = openSegment(artifact, s, memory);
    let n: number;
    while ((n = readSegmentEntries(cursor, positions, values)) > 0) {
      count[tensor] += n;
      for (let i = 0; i < n; i++) {
        const a = Math.abs(values[i]!);
        // NaN propagates: fit() then refuses the tensor.
        if (!(a <= max[tensor]!)) max[tensor] = a;
      }
    }
    arena.rewind(inner);
  }
  arena.rewind(mark);
  return { max, count };
}

/**
 * Fixes every exponent and fills `inputTable` (256 int32: xq of each raw
 * byte). Throws UNSUPPORTED_MODEL for what the int path cannot represent.
 */
export function prepareIntModel(artifact: Artifact, arena: Arena, inputTable: Int32Array): IntModel {
  const { tensors, preprocess: pre } = artifact.manifest;
  const layers = denseChain(artifact.manifest.layers);
  if (!layers)
    throw new DeviceError(
      DeviceErrorCode.UNSUPPORTED_MODEL,
      'prepareIntModel takes a chain of Dense layers; graph-int.ts runs a model with convolutions or pooling',
    );
  const { max, count } = heldMagnitudes(artifact, arena);
  const intLayers = layers.map((layer): IntLayer => {
    const fw = fit(max[layer.kernel]!, WEIGHT_LIMIT, `kernel "${tensors[layer.kernel]!.name}"`);
    const hasBias = layer.bias >= 0 && count[layer.bias]! > 0;
    const fb = hasBias ? fit(max[layer.bias]!, BIAS_LIMIT, `bias "${tensors[layer.bias]!.name}"`) : 64;
    return { layer, fw, weightScale: 2 ** fw, hasBias, fb, biasScale: 2 ** fb, bound: activationBound(layer.inputs) };
  });
  const first = intLayers[0]!;
  const m0 = Math.max(Math.abs(pre.offset), Math.abs(preprocess(255, pre.scale, pre.offset)));
  let fx = fit(m0, first.bound, 'preprocess');
  if (first.hasBias && first.fb - first.fw < fx) fx = first.fb - first.fw;
  const S = rnd(pre.scale * 2 ** (fx + INPUT_SHIFT));
  const O = rnd(pre.offset * 2 ** (fx + INPUT_SHIFT));
  // raw * S + O in int32 for every raw byte, whatever the signs of S and O.
  if (!(255 * Math.abs(S) + Math.abs(O) <= 2 ** 31 - 1)) {
    throw unsupported(`preprocess scale ${pre.scale} and offset ${pre.offset} at exponent ${fx} overflow int32 (255 |S| + |O| > 2^31 - 1)`);
  }
  fillInputTable(inputTable, S, O, first.bound);
  return { layers: intLayers, fx, S, O };
}

/**
 * acc = input · Kq + rsh(bq, fb - fa) (before the activation), the kernel's
 * accumulators at exponent `fa`. `input` is the previous layer's xq, or the
 * raw bytes with `table` their xq.
 */
export function evalDenseInt(
  artifact: Artifact,
  weightSegments: Uint16Array,
  biasSegments: Uint16Array,
  il: IntLayer,
  fa: number,
  input: Int32Array | Uint8Array,
  table: Int32Array | null,
  acc: Int32Array,
  chunk: ChunkBuffers,
  arena: Arena,
): void {
  acc.fill(0);
  const memory = arenaMemory(arena);
  const units = il.layer.units;
  for (let s = 0; s < weightSegments.length; s++) {
    const mark = arena.mark();
    const cursor = openSegment(artifact, weightSegments[s]!, memory);
    let n: number;
    while ((n = readSegmentEntries(cursor, chunk.positions, chunk.values)) > 0) {
      accumulateIntEntries(chunk.positions, chunk.values, n, units, input, table, il.weightScale, acc);
    }
    arena.rewind(mark);
  }
  if (!il.hasBias) return;
  const shift = biasShift(il, fa);
  for (let s = 0; s < biasSegments.length; s++) {
    const mark = arena.mark();
    const cursor = openSegment(artifact, biasSegments[s]!, memory);
    let n: number;
    while ((n = readSegmentEntries(cursor, chunk.positions, chunk.values)) > 0) addIntBiasEntries(chunk.positions, chunk.values, n, il.biasScale, shift, acc);
    arena.rewind(mark);
  }
}

/** fb - fa, which the exponents' choice keeps >= 0. */
export function biasShift(il: IntLayer, fa: number): number {
  const shift = il.fb - fa;
  if (shift < 0) throw new Error(`int arithmetic: layer "${il.layer.name}" bias exponent ${il.fb} below its accumulator's ${fa}`);
  return shift;
}

/** The smallest shift the next layer's bias needs of this layer's accumulators (at `fa`). */
export function minShiftFor(next: IntLayer, fa: number): number {
  return next.hasBias ? Math.max(0, fa + next.fw - next.fb) : 0;
}

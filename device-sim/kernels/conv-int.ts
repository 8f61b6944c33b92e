// The spatial operators on docs/arithmetic.md's int path ("Convolutional
// layers (int path)"): conv2d and depthwise conv2d streamed from kernel
// entries (as the segment decoder yields them, never a dense kernel) or
// read from an execution image layer's rows, into int32 accumulators, their
// bias into every cell, max and average pooling and the global average
// pool on integers.
//
// Maps are NHWC without the batch, as on the f32 path (kernels/conv.ts),
// with the same geometry (formats/artifact/layer-graph.ts). Every value is
// exact: a product is at most 32767 * 127, an accumulator stays below 2^31
// by the layer's activation bound, and a pooling sum below 2^39 (its inputs
// are bounded by 32767), so doubles hold every intermediate value and the
// C library's integers give the same bits. Nothing allocates.
import type { Layer } from '../../formats/index.ts';
import type { ImageLayer } from '../exec-image.ts';
import { walkEntries, walkWindows, type EntryBlock, type EntrySteps, type MapShape, type WindowParams } from './conv.ts';
import { walkImageRows } from './conv-image.ts';
import { rdiv, rnd, rsh } from './int-reference.ts';

/**
 * The terms of a weighted layer (how many products feed one output at
 * most), which its activation bound X_l is made from: Dense `inputs`,
 * conv2d kh * kw * inputs, depthwise kh * kw; 0 for a pooling layer.
 */
export function termsOf(layer: Layer): number {
  switch (layer.kind) {
    case 'dense':
      return layer.inputs;
    case 'conv2d':
      return layer.window[0] * layer.window[1] * layer.inputs;
    case 'depthwise-conv2d':
      return layer.window[0] * layer.window[1];
    default:
      return 0;
  }
}

/** One entry's terms on the int path: `out += x * wq` for every cell of `block` (kernels/conv.ts's EntryBlock); a zero `wq` adds nothing (exact sums: skipping changes no bit). */
function addBlockInt(input: Int32Array, output: Int32Array, block: EntryBlock, steps: EntrySteps, wq: number): void {
  if (wq === 0) return;
  const { inStep, inRowStep, outC, outRowStep } = steps;
  let inRow = block.inRow;
  let outRow = block.outRow;
  for (let r = 0; r < block.rows; r++) {
    let i = inRow;
    let o = outRow;
    for (let c = 0; c < block.cols; c++) {
      output[o]! += input[i]! * wq;
      i += inStep;
      o += outC;
    }
    inRow += inRowStep;
    outRow += outRowStep;
  }
}

/**
 * acc[oy, ox, co] += xq[iy, ix, ci] * rnd(value * 2^fw) for every kernel
 * entry and every output cell its tap reaches inside the input; kernel
 * [kh, kw, inC, lastDim] row-major. `full` 1: conv2d (outC = lastDim);
 * 0: depthwise (outC = inC * lastDim, entry (ci, m) feeds ci * lastDim + m).
 */
export function convIntEntries(
  input: Int32Array,
  inShape: MapShape,
  params: WindowParams,
  lastDim: number,
  full: 0 | 1,
  positions: Uint32Array,
  values: Float32Array,
  count: number,
  weightScale: number,
  output: Int32Array,
): void {
  const steps: EntrySteps = { inStep: 0, inRowStep: 0, outC: 0, outRowStep: 0 };
  walkEntries(inShape, params, lastDim, full, positions, count, steps, (n, block) => addBlockInt(input, output, block, steps, rnd(values[n]! * weightScale)));
}

/**
 * The image kernel of a convolution on the int path: acc = 0, then every
 * row (ky, kx, input channel) of the image layer adds each entry's
 * rnd(value * 2^fw) times the input into every output cell its tap reaches
 * inside the input (conv-image.ts's geometry), then, with `bias`, each
 * channel's rsh(rnd(bias * 2^fb), shift) into every cell. Integer sums are
 * exact, so this equals convIntEntries over the decoded entries whatever
 * the order. `depthwise`: column m of row (ky, kx, ci) feeds channel
 * ci * multiplier + m (multiplier = the layer's columns); else column =
 * output channel.
 */
export function convImageLayerInt(
  layer: ImageLayer,
  input: Int32Array,
  inShape: MapShape,
  params: WindowParams,
  depthwise: boolean,
  weightScale: number,
  bias: { scale: number; shift: number } | null,
  output: Int32Array,
): void {
  const steps: EntrySteps = { inStep: 0, inRowStep: 0, outC: 0, outRowStep: 0 };
  output.fill(0);
  walkImageRows(layer, inShape, params, depthwise, steps, (value, block) => addBlockInt(input, output, block, steps, rnd(value * weightScale)));
  if (!bias) return;
  // An unheld bias entry is 0 in the image: rnd(0) adds nothing, as a missing entry.
  const outC = steps.outC;
  for (let c = 0; c < outC; c++) {
    const b = rsh(rnd(layer.bias[c]! * bias.scale), bias.shift);
    if (b === 0) continue;
    for (let o = c; o < output.length; o += outC) output[o]! += b;
  }
}

/** acc[cell, p] += rsh(rnd(value * 2^fb), shift) into every cell of a map of `channels` channels, for every bias entry (position p). */
export function addIntBiasMapEntries(
  positions: Uint32Array,
  values: Float32Array,
  count: number,
  channels: number,
  biasScale: number,
  shift: number,
  output: Int32Array,
): void {
  const n = output.length;
  for (let e = 0; e < count; e++) {
    const b = rsh(rnd(values[e]! * biasScale), shift);
    if (b === 0) continue;
    for (let o = positions[e]!; o < n; o += channels) output[o] += b;
  }
}

/**
 * Max or average pooling on integers: per output cell and channel the
 * largest of the window's cells inside the input, or their exact sum then
 * rdiv(sum, cells) (halves away from zero). The exponent is unchanged.
 */
export function poolInt(input: Int32Array, inShape: MapShape, params: WindowParams, average: boolean, output: Int32Array): void {
  const c = inShape.channels;
  const rowStep = inShape.width * c;
  walkWindows(inShape, params, (o, y0, y1, x0, x1) => {
    for (let k = 0; k < c; k++) {
      let acc = average ? 0 : Number.NEGATIVE_INFINITY;
      for (let y = y0; y < y1; y++) {
        let i = y * rowStep + x0 * c + k;
        for (let x = x0; x < x1; x++, i += c) {
          const v = input[i]!;
          if (average) acc += v;
          else if (v > acc) acc = v;
        }
      }
      output[o + k] = average ? rdiv(acc, (y1 - y0) * (x1 - x0)) : acc;
    }
  });
}

/** [h, w, c] -> [c]: rdiv(exact sum of the channel over every cell, h * w). The exponent is unchanged. */
export function globalAvgPoolInt(input: Int32Array, inShape: MapShape, output: Int32Array): void {
  const c = inShape.channels;
  const cells = inShape.height * inShape.width;
  const n = cells * c;
  for (let k = 0; k < c; k++) {
    let sum = 0;
    for (let i = k; i < n; i += c) sum += input[i]!;
    output[k] = rdiv(sum, cells);
  }
}

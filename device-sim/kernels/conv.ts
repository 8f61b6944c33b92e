// The spatial operators of the device simulator on the f32 path: 2-D
// convolution and depthwise convolution streamed from kernel entries (as the
// segment decoder yields them, never a dense kernel), their bias, max and
// average pooling, and the global average pool.
//
// Feature maps are NHWC without the batch: row-major [height, width,
// channels] Float32Arrays. The geometry (output sizes, zero rows and columns
// before the first input cell) is formats/artifact/layer-graph.ts's, so the
// manifest check and the device cannot disagree on it.
//
// Arithmetic follows docs/arithmetic.md's f32 path as the Dense kernel does:
// each product rounded to binary32 before it is summed, each sum rounded to
// binary32 (storing into a Float32Array rounds a double sum of two binary32
// values correctly), input terms that are zero skipped. Nothing allocates.
import type { WindowFields } from '../../formats/model.ts';
import { outputLength, padBefore } from '../../formats/artifact/layer-graph.ts';

export interface MapShape {
  height: number;
  width: number;
  channels: number;
}

/** The window, its steps and the padding: any windowed layer of formats' model is one. */
export type WindowParams = WindowFields;

/** Output map shape of a windowed layer (channels given by the caller). */
export function windowOutput(input: MapShape, params: WindowParams, channels: number): MapShape {
  return {
    height: outputLength(input.height, params.window[0], params.strides[0], params.padding),
    width: outputLength(input.width, params.window[1], params.strides[1], params.padding),
    channels,
  };
}

/** The first output index o >= 0 whose input index o * stride + offset is >= 0: ceil(-offset / stride), or 0. */
export function firstValid(offset: number, stride: number): number {
  return offset >= 0 ? 0 : Math.ceil(-offset / stride);
}

/** One past the last output index in [0, outSize) whose input index o * stride + offset is < size. */
export function endValid(offset: number, stride: number, size: number, outSize: number): number {
  if (offset >= size) return 0;
  const end = Math.floor((size - 1 - offset) / stride) + 1;
  return end < outSize ? end : outSize;
}

/**
 * Accumulates kernel entries of a Conv2D into `output` (which the caller
 * zeroed or pre-filled): kernel layout [kh, kw, inC, outC] row-major (TF.js),
 * so entry position p is (ky, kx, ci, co) with co = p % outC,
 * ci = floor(p / outC) % inC, kx = floor(p / (outC·inC)) % kw,
 * ky = floor(p / (outC·inC·kw)). For every output cell (oy, ox):
 * output[oy, ox, co] += value * input[oy·sh + ky − padTop, ox·sw + kx − padLeft, ci]
 * when that input cell exists (zero padding).
 *
 * Loop order: entries in the order given (ascending positions within a
 * segment, so the tap (ky, kx) changes rarely and its valid output range is
 * recomputed only when it does), then output rows, then output columns.
 */
export function conv2dEntries(
  input: Float32Array,
  inShape: MapShape,
  params: WindowParams,
  outChannels: number,
  positions: Uint32Array,
  values: Float32Array,
  count: number,
  output: Float32Array,
): void {
  tapEntries(input, inShape, params, outChannels, 1, positions, values, count, output);
}

/**
 * Same for DepthwiseConv2D: kernel [kh, kw, inC, multiplier]; entry
 * (ky, kx, ci, m) reads input channel ci and feeds output channel
 * ci · multiplier + m. Same loop order as conv2dEntries.
 */
export function depthwiseConv2dEntries(
  input: Float32Array,
  inShape: MapShape,
  params: WindowParams,
  multiplier: number,
  positions: Uint32Array,
  values: Float32Array,
  count: number,
  output: Float32Array,
): void {
  tapEntries(input, inShape, params, multiplier, 0, positions, values, count, output);
}

/**
 * Where a kernel entry's terms go: the block of output cells its tap
 * reaches with the input cell inside the map, `rows` x `cols` of them,
 * starting at input offset `inRow` and output offset `outRow`; along a row
 * the input moves by `inStep` (stride x channels) and the output by `outC`,
 * between rows by `inRowStep` and `outRowStep`. The block needs no bounds
 * test: every cell in it is inside both maps.
 */
export interface EntryBlock {
  inRow: number;
  outRow: number;
  rows: number;
  cols: number;
}

/** The steps of a layer's entry blocks (see EntryBlock). */
export interface EntrySteps {
  inStep: number;
  inRowStep: number;
  outC: number;
  outRowStep: number;
}

/**
 * The entry kernels' walk, the same on both arithmetic paths: for each
 * entry n of `positions[0..count)` (a kernel position of [kh, kw, inC,
 * lastDim] row-major) whose tap reaches an output cell, `visit(n, block)`
 * with the entry's block, in entry order. `lastDim` is the kernel's last
 * dimension (outC, or the depth multiplier); `full` is 1 for a full
 * convolution (every input channel feeds every output channel, outC =
 * lastDim) and 0 for a depthwise one (outC = inC · lastDim). Returns the
 * steps, which are known before the first visit through `steps`.
 */
export function walkEntries(
  inShape: MapShape,
  params: WindowParams,
  lastDim: number,
  full: 0 | 1,
  positions: Uint32Array,
  count: number,
  steps: EntrySteps,
  visit: (n: number, block: EntryBlock) => void,
): void {
  const { height, width, channels: inC } = inShape;
  const kh = params.window[0];
  const kw = params.window[1];
  const sh = params.strides[0];
  const sw = params.strides[1];
  const oh = outputLength(height, kh, sh, params.padding);
  const ow = outputLength(width, kw, sw, params.padding);
  const outC = full ? lastDim : inC * lastDim;
  steps.inStep = sw * inC;
  steps.inRowStep = sh * width * inC;
  steps.outC = outC;
  steps.outRowStep = ow * outC;
  if (oh < 1 || ow < 1) return;
  const padTop = padBefore(height, kh, sh, params.padding);
  const padLeft = padBefore(width, kw, sw, params.padding);
  const perTap = inC * lastDim;
  const block: EntryBlock = { inRow: 0, outRow: 0, rows: 0, cols: 0 };
  // The tap whose rows and columns are current; -1 for none yet.
  let tap = -1;
  let iyBase = 0;
  let ixBase = 0;
  let oy0 = 0;
  let oy1 = 0;
  let ox0 = 0;
  let ox1 = 0;
  for (let n = 0; n < count; n++) {
    const p = positions[n]!;
    const t = Math.floor(p / perTap);
    if (t !== tap) {
      tap = t;
      const ky = Math.floor(t / kw);
      const kx = t - ky * kw;
      iyBase = ky - padTop;
      ixBase = kx - padLeft;
      oy0 = firstValid(iyBase, sh);
      oy1 = endValid(iyBase, sh, height, oh);
      ox0 = firstValid(ixBase, sw);
      ox1 = endValid(ixBase, sw, width, ow);
    }
    if (oy0 >= oy1 || ox0 >= ox1) continue;
    const within = p - t * perTap; // ci * lastDim + (co or m)
    const ci = Math.floor(within / lastDim);
    const co = full ? within - ci * lastDim : within;
    block.inRow = ((oy0 * sh + iyBase) * width + ox0 * sw + ixBase) * inC + ci;
    block.outRow = (oy0 * ow + ox0) * outC + co;
    block.rows = oy1 - oy0;
    block.cols = ox1 - ox0;
    visit(n, block);
  }
}

/** Both f32 entry kernels (walkEntries' `lastDim` and `full`): every valid output cell of an entry's tap, rows outer, columns inner. */
function tapEntries(
  input: Float32Array,
  inShape: MapShape,
  params: WindowParams,
  lastDim: number,
  full: 0 | 1,
  positions: Uint32Array,
  values: Float32Array,
  count: number,
  output: Float32Array,
): void {
  const steps: EntrySteps = { inStep: 0, inRowStep: 0, outC: 0, outRowStep: 0 };
  walkEntries(inShape, params, lastDim, full, positions, count, steps, (n, block) => addBlockF32(input, output, block, steps, values[n]!));
}

/**
 * One entry's terms on the f32 path: every cell of `block`, rows outer,
 * columns inner, `out = fl32(out + fl32(x * value))` where the input `x` is
 * not zero (either sign).
 */
export function addBlockF32(input: Float32Array, output: Float32Array, block: EntryBlock, steps: EntrySteps, value: number): void {
  const { inStep, inRowStep, outC, outRowStep } = steps;
  let inRow = block.inRow;
  let outRow = block.outRow;
  for (let r = 0; r < block.rows; r++) {
    let i = inRow;
    let o = outRow;
    for (let c = 0; c < block.cols; c++) {
      const x = input[i]!;
      if (x !== 0) output[o]! += Math.fround(x * value);
      i += inStep;
      o += outC;
    }
    inRow += inRowStep;
    outRow += outRowStep;
  }
}

/**
 * output[cell, c] += bias[c] for every cell of an output map of `channels`
 * channels (output.length / channels cells); bias entries arrive as
 * (position = channel, value). Loop order: entries, then cells.
 */
export function addBiasEntries(positions: Uint32Array, values: Float32Array, count: number, channels: number, output: Float32Array): void {
  const n = output.length;
  for (let e = 0; e < count; e++) {
    const b = values[e];
    for (let o = positions[e]; o < n; o += channels) output[o] += b;
  }
}

/**
 * The pooling layers' walk, the same on both arithmetic paths: for each
 * output cell, row-major, `visit(o, y0, y1, x0, x1)` with `o` its first
 * value's offset in the output map and [y0, y1) x [x0, x1) the window's
 * cells inside the input (at least one: layer-graph's padding before is at
 * most window - 1).
 */
export function walkWindows(inShape: MapShape, params: WindowParams, visit: (o: number, y0: number, y1: number, x0: number, x1: number) => void): void {
  const { height, width, channels: c } = inShape;
  const kh = params.window[0];
  const kw = params.window[1];
  const sh = params.strides[0];
  const sw = params.strides[1];
  const oh = outputLength(height, kh, sh, params.padding);
  const ow = outputLength(width, kw, sw, params.padding);
  const padTop = padBefore(height, kh, sh, params.padding);
  const padLeft = padBefore(width, kw, sw, params.padding);
  let o = 0;
  for (let oy = 0; oy < oh; oy++) {
    const top = oy * sh - padTop;
    const y0 = top > 0 ? top : 0;
    const y1 = top + kh < height ? top + kh : height;
    for (let ox = 0; ox < ow; ox++) {
      const left = ox * sw - padLeft;
      visit(o, y0, y1, left > 0 ? left : 0, left + kw < width ? left + kw : width);
      o += c;
    }
  }
}

/**
 * Max over each window, per channel; padded cells are ignored (TF
 * semantics). NaN inputs are skipped as TF.js's cpu backend does (a
 * comparison with NaN is false). Loop order: output rows, output columns,
 * window rows, window columns, channels innermost (contiguous in both maps).
 */
export function maxPool2d(input: Float32Array, inShape: MapShape, params: WindowParams, output: Float32Array): void {
  const c = inShape.channels;
  const rowStep = inShape.width * c;
  walkWindows(inShape, params, (o, y0, y1, x0, x1) => {
    const end = o + c;
    for (let k = o; k < end; k++) output[k] = Number.NEGATIVE_INFINITY;
    for (let y = y0; y < y1; y++) {
      let i = y * rowStep + x0 * c;
      for (let x = x0; x < x1; x++) {
        for (let k = o; k < end; k++, i++) {
          const v = input[i]!;
          if (v > output[k]!) output[k] = v;
        }
      }
    }
  });
}

/**
 * Mean over each window of the cells inside the input only (TF 'same'
 * semantics: padded cells are not counted): fl32 sums in window order, then
 * fl32(sum / cells). Loop order as maxPool2d.
 */
export function avgPool2d(input: Float32Array, inShape: MapShape, params: WindowParams, output: Float32Array): void {
  const c = inShape.channels;
  const rowStep = inShape.width * c;
  walkWindows(inShape, params, (o, y0, y1, x0, x1) => {
    const end = o + c;
    // The sums accumulate in the output cell's own channels (each store rounds to binary32).
    for (let k = o; k < end; k++) output[k] = 0;
    for (let y = y0; y < y1; y++) {
      let i = y * rowStep + x0 * c;
      for (let x = x0; x < x1; x++) {
        for (let k = o; k < end; k++, i++) output[k]! += input[i]!;
      }
    }
    const cells = (y1 - y0) * (x1 - x0);
    for (let k = o; k < end; k++) output[k]! /= cells;
  });
}

/**
 * [h, w, c] -> [c]: the mean of each channel over the whole map, fl32 sums
 * over the cells in row-major order, then fl32(sum / (h · w)).
 * Loop order: cells, channels innermost (one contiguous pass over the input).
 */
export function globalAvgPool2d(input: Float32Array, inShape: MapShape, output: Float32Array): void {
  const c = inShape.channels;
  const n = inShape.height * inShape.width * c;
  output.fill(0, 0, c);
  for (let i = 0; i < n; i += c) {
    for (let ch = 0; ch < c; ch++) output[ch] += input[i + ch];
  }
  const cells = inShape.height * inShape.width;
  for (let ch = 0; ch < c; ch++) output[ch] /= cells;
}

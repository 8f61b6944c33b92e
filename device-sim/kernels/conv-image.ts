// Conv2D and DepthwiseConv2D on an execution image layer (exec-image.ts):
// the kernel matrix's rows (ky, kx, input channel) read in place from flash,
// each row's entries (column, value) added into every output cell their tap
// reaches, as conv.ts does for entries streamed from a segment. Order: rows
// ascending, a row's entries in column order, cells row-major; then the bias
// once per cell. docs/arithmetic.md's f32 path: every product rounded to
// binary32 before it is added, zero inputs skipped. The device runs its
// twin in wasm (conv-image.wat, conv-image-wasm.ts), which gives these bits.
import { outputLength, padBefore } from '../../formats/artifact/layer-graph.ts';
import type { ImageLayer } from '../exec-image.ts';
import { addBlockF32, endValid, firstValid, type EntryBlock, type EntrySteps, type MapShape, type WindowParams } from './conv.ts';

/**
 * The image kernels' walk, the same on both arithmetic paths: rows
 * ascending, a row's entries in column order, and for each entry whose tap
 * reaches an output cell, `visit(value, block)` with its value (from the
 * layer's table or its own) and its block of cells (kernels/conv.ts's
 * EntryBlock, steps in `steps`). `depthwise`: column m of row (ky, kx, ci)
 * feeds output channel ci × multiplier + m (multiplier = the layer's
 * columns); else column = output channel.
 */
export function walkImageRows(
  layer: ImageLayer,
  inShape: MapShape,
  params: WindowParams,
  depthwise: boolean,
  steps: EntrySteps,
  visit: (value: number, block: EntryBlock) => void,
): void {
  const { height, width, channels: inC } = inShape;
  const [kh, kw] = params.window;
  const [sh, sw] = params.strides;
  const oh = outputLength(height, kh, sh, params.padding);
  const ow = outputLength(width, kw, sw, params.padding);
  const padTop = padBefore(height, kh, sh, params.padding);
  const padLeft = padBefore(width, kw, sw, params.padding);
  const outC = depthwise ? inC * layer.units : layer.units;
  steps.inStep = sw * inC;
  steps.inRowStep = sh * width * inC;
  steps.outC = outC;
  steps.outRowStep = ow * outC;
  const { counts, entries, colBits, table, values } = layer;
  const mask = 2 ** colBits - 1;
  const block: EntryBlock = { inRow: 0, outRow: 0, rows: 0, cols: 0 };
  let e = 0;
  for (let r = 0; r < layer.inputs; r++) {
    const n = counts[r]!;
    if (n === 0) continue;
    const tap = Math.floor(r / inC);
    const ci = r - tap * inC;
    const ky = Math.floor(tap / kw);
    const kx = tap - ky * kw;
    const iyBase = ky - padTop;
    const ixBase = kx - padLeft;
    const oy0 = firstValid(iyBase, sh);
    const oy1 = endValid(iyBase, sh, height, oh);
    const ox0 = firstValid(ixBase, sw);
    const ox1 = endValid(ixBase, sw, width, ow);
    const end = e + n;
    if (oy0 >= oy1 || ox0 >= ox1) {
      e = end;
      continue;
    }
    block.inRow = ((oy0 * sh + iyBase) * width + ox0 * sw + ixBase) * inC + ci;
    block.rows = oy1 - oy0;
    block.cols = ox1 - ox0;
    const outCell = (oy0 * ow + ox0) * outC;
    for (; e < end; e++) {
      const packed = entries[e]!;
      const column = packed & mask;
      block.outRow = outCell + (depthwise ? ci * layer.units + column : column);
      visit(table ? table[packed >>> colBits]! : values![e]!, block);
    }
  }
}

/** output = conv(input) + bias, before the activation (walkImageRows' order, cells row-major, then the bias once per cell). */
export function convImageLayer(
  layer: ImageLayer,
  input: Float32Array,
  inShape: MapShape,
  params: WindowParams,
  depthwise: boolean,
  output: Float32Array,
): void {
  const steps: EntrySteps = { inStep: 0, inRowStep: 0, outC: 0, outRowStep: 0 };
  output.fill(0);
  walkImageRows(layer, inShape, params, depthwise, steps, (value, block) => addBlockF32(input, output, block, steps, value));
  const bias = layer.bias;
  const outC = steps.outC;
  for (let cell = 0; cell < output.length; cell += outC) for (let c = 0; c < outC; c++) output[cell + c]! += bias[c]!;
}

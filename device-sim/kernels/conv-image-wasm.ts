// The execution image's spatial kernels compiled to WebAssembly
// (conv-image.wat; conv-image.ts and conv.ts are their reference): the same
// results bit for bit, computed in the device's address space (Arena.memory)
// with the image read through its flash window, as sparse-rows-wasm.ts does
// for Dense layers. Maps between these kernels are planar (channel-major) so
// that a kernel row's taps run over neighbouring cells, four to a vector;
// graph-interpreter.ts keeps the NHWC layout wherever a Dense layer or the
// caller reads a map.
import { outputLength, padBefore } from '../../formats/artifact/layer-graph.ts';
import type { Activation } from '../../formats/index.ts';
import type { ImageLayer } from '../exec-image.ts';
import type { MapShape, WindowParams } from './conv.ts';
import { CONV_IMAGE_WASM_BASE64 } from './gen/conv-image-wasm.ts';
import type { LayerAddresses } from './sparse-rows-wasm.ts';

export interface ConvImageKernels {
  preprocess(raw: number, x: number, cells: number, channels: number, scale: number, offset: number, planar: number): void;
  conv(
    counts: number,
    countBytes: number,
    entries: number,
    entryBytes: number,
    values: number,
    perEntry: number,
    colBits: number,
    bias: number,
    input: number,
    height: number,
    width: number,
    inC: number,
    out: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    units: number,
    depthwise: number,
    activation: number,
    extents: number,
    decoded: number,
  ): void;
  decodeEntries(entries: number, entryBytes: number, values: number, perEntry: number, colBits: number, n: number, planeBytes: number, dst: number): void;
  rowExtents(input: number, rows: number, width: number, dst: number): void;
  toNhwc(src: number, dst: number, channels: number, cells: number): void;
  pool(
    kind: number,
    input: number,
    height: number,
    width: number,
    channels: number,
    out: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    outPlanar: number,
    bias: number,
    activation: number,
  ): void;
  /** bias, activation: a convolution's, applied to each value read (activation 0..2; -1: none). */
  globalAvgPool(input: number, cells: number, channels: number, out: number, bias: number, activation: number): void;
  decodeWeights(entries: number, entryBytes: number, table: number, colBits: number, n: number, dst: number): void;
  decodeItems(
    counts: number,
    countBytes: number,
    entries: number,
    entryBytes: number,
    values: number,
    perEntry: number,
    colBits: number,
    rows: number,
    inC: number,
    kw: number,
    width: number,
    inPlaneBytes: number,
    outC: number,
    dst: number,
    itemsAt: number,
  ): void;
  convItems(
    lists: number,
    itemsAt: number,
    bias: number,
    input: number,
    width: number,
    out: number,
    oh: number,
    ow: number,
    sh: number,
    sw: number,
    outC: number,
    activation: number,
  ): void;
  decodeTaps(
    counts: number,
    countBytes: number,
    entries: number,
    entryBytes: number,
    values: number,
    perEntry: number,
    colBits: number,
    taps: number,
    channels: number,
    dst: number,
  ): void;
  convPixels(
    taps: number,
    input: number,
    height: number,
    width: number,
    out: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    channels: number,
    oy0: number,
    oy1: number,
  ): void;
  convSpans(
    taps: number,
    input: number,
    height: number,
    width: number,
    out: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    channels: number,
    oy0: number,
    oy1: number,
  ): void;
  finishPlanar(sums: number, cells: number, channels: number, bias: number, activation: number, out: number, planeBytes: number): void;
  poolNhwc(
    kind: number,
    input: number,
    width: number,
    channels: number,
    out: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    outPlanar: number,
    bias: number,
    activation: number,
  ): void;
  depthwiseDense(
    w: number,
    bias: number,
    input: number,
    height: number,
    width: number,
    inC: number,
    out: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
    units: number,
    activation: number,
  ): void;
}

/**
 * Bytes past a planar convolution output that the kernel may store to (a
 * short run's last vector; it stores there what it read, plus +0 products):
 * the caller's buffer must be this much longer than the map.
 */
export const CONV_OUTPUT_SLACK = 16;

let compiled: WebAssembly.Module | null = null;
const instances = new WeakMap<WebAssembly.Memory, ConvImageKernels>();

/** The kernels bound to one address space. */
export function convImageKernelsFor(memory: WebAssembly.Memory): ConvImageKernels {
  let kernels = instances.get(memory);
  if (!kernels) {
    compiled ??= new WebAssembly.Module(Buffer.from(CONV_IMAGE_WASM_BASE64, 'base64'));
    kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as ConvImageKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}

/**
 * Whether every weight of an image layer is finite: the wasm convolution
 * adds the products of zero inputs instead of skipping them, which gives the
 * same bits only when no weight is infinite or NaN (conv-image.wat).
 */
export function finiteWeights(layer: ImageLayer): boolean {
  const values = layer.table ?? layer.values!;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}

/**
 * Whether every row of an image layer holds all its columns, 0 .. units - 1
 * in order: then entry r * units + column is that weight, and
 * conv-image.wat's depthwiseDense finds each weight without walking the
 * rows. Checked once per model; a device would record it as a flag when it
 * installs the image.
 */
export function denseRows(layer: ImageLayer): boolean {
  const mask = 2 ** layer.colBits - 1;
  for (let r = 0; r < layer.inputs; r++) if (layer.counts[r] !== layer.units) return false;
  for (let e = 0; e < layer.entryCount; e++) if ((layer.entries[e]! & mask) !== e % layer.units) return false;
  return true;
}

/**
 * Scratch bytes a dense layer's decoded weights take (depthwiseDenseWasm):
 * one f32 per entry, and 16 more that a group of four output channels may
 * read past the last. A layer with one value per entry reads them in place
 * (its image's sections go on past them) and needs none.
 */
export function denseWeightBytes(layer: ImageLayer): number {
  return layer.table ? layer.entryCount * 4 + 16 : 0;
}

/** The activation the kernels apply after the bias: 0 linear, 1 relu, 2 relu6; -1 for one the caller applies. */
export function activationCode(activation: Activation): number {
  return activation === 'linear' ? 0 : activation === 'relu' ? 1 : activation === 'relu6' ? 2 : -1;
}

/** One convolution's geometry, worked out once per model. */
export interface ConvGeometry {
  height: number;
  width: number;
  inC: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  /** The kernel's last dimension: output channels, or the depthwise multiplier. */
  units: number;
  depthwise: boolean;
  /** Output channels and cells of the map it writes. */
  outC: number;
  cells: number;
}

export function convGeometry(inShape: MapShape, params: WindowParams, units: number, depthwise: boolean): ConvGeometry {
  const { height, width, channels: inC } = inShape;
  const [kh, kw] = params.window;
  const [sh, sw] = params.strides;
  const oh = outputLength(height, kh, sh, params.padding);
  const ow = outputLength(width, kw, sw, params.padding);
  const base = {
    inC,
    kh,
    kw,
    sh,
    sw,
    units,
    depthwise,
    outC: depthwise ? inC * units : units,
    cells: oh * ow,
  };
  // A 1x1 window at stride 1 maps cell to cell: its rows of cells are one
  // run (a 4x4 map is one block of 16, not four runs of 4).
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && oh === height && ow === width) {
    return { ...base, height: 1, width: height * width, oh: 1, ow: oh * ow, pt: 0, pl: 0 };
  }
  return { ...base, height, width, oh, ow, pt: padBefore(height, kh, sh, params.padding), pl: padBefore(width, kw, sw, params.padding) };
}

/**
 * One Conv2D or DepthwiseConv2D image layer: planar input at `from`, planar
 * output at `out` (CONV_OUTPUT_SLACK bytes longer than the map), bias and
 * activation (activationCode; -1 leaves it to the caller) applied. The
 * vector loads may read up to 128 bytes past an input map and discard them:
 * the address space must go on that far (a device's does, its flash window
 * of at least one 64 KiB page lying above RAM). `finish` false leaves the
 * sums without bias and activation, for a pool that adds them (poolWasm).
 * (globalAvgPool finishes such sums too.) `extents`: rowExtentsBytes of scratch where the input's rows' nonzero
 * spans go first, so that each run covers only those (-1: whole runs).
 * `decoded`: decodedEntriesBytes of scratch where the layer's entries are
 * decoded first, each as (output plane offset, weight) (-1: read in place).
 */
export function convImageLayerWasm(
  kernels: ConvImageKernels,
  at: LayerAddresses,
  g: ConvGeometry,
  from: number,
  out: number,
  activation: number,
  finish = true,
  extents = -1,
  decoded: { at: number; entries: number } | null = null,
): void {
  if (extents >= 0) kernels.rowExtents(from, g.inC * g.height, g.width, extents);
  if (decoded) kernels.decodeEntries(at.entries, at.entryBytes, at.values, at.perEntry, at.colBits, decoded.entries, g.oh * g.ow * 4, decoded.at);
  kernels.conv(
    at.counts,
    at.countBytes,
    at.entries,
    at.entryBytes,
    at.values,
    at.perEntry,
    at.colBits,
    at.bias,
    from,
    g.height,
    g.width,
    g.inC,
    out,
    g.oh,
    g.ow,
    g.kh,
    g.kw,
    g.sh,
    g.sw,
    g.pt,
    g.pl,
    g.units,
    g.depthwise ? 1 : 0,
    !finish ? 3 : activation < 0 ? 0 : activation,
    extents,
    decoded ? decoded.at : -1,
  );
}

/** Scratch bytes of a layer's decoded entries (convImageLayerWasm): 8 per entry. */
export function decodedEntriesBytes(layer: ImageLayer): number {
  return layer.entryCount * 8;
}

/** Scratch bytes of the input's row extents (convImageLayerWasm): two i32 per row of each input channel. */
export function rowExtentsBytes(g: ConvGeometry): number {
  return g.inC * g.height * 8;
}

/** Bytes below its input map that depthwiseDenseWasm may load from: pl cells, for pl up to 4. */
export const DEPTHWISE_LEAD_BYTES = 16;

/**
 * Whether depthwiseDenseWasm runs this depthwise layer reading its input at
 * `input`: its rows are dense (denseRows), its strides across 1 or 2 (vector
 * loads), and its loads left of a row, pl cells, stay at or above address 0.
 */
export function depthwiseDenseFits(layer: ImageLayer, g: ConvGeometry, input: number): boolean {
  return g.depthwise && g.sw <= 2 && g.pl * 4 <= Math.min(input, DEPTHWISE_LEAD_BYTES) && denseRows(layer);
}

/**
 * A DepthwiseConv2D image layer that depthwiseDenseFits, output-stationary:
 * its weights decoded into `weights` (denseWeightBytes of scratch), then
 * the planar map at `out` written with bias and activation (activationCode;
 * -1 leaves it to the caller). It stores the map's cells only; its loads
 * may read up to 64 bytes past the input map, which the address space
 * holds (RAM, then the flash window above it).
 */
export function depthwiseDenseWasm(
  kernels: ConvImageKernels,
  at: LayerAddresses,
  g: ConvGeometry,
  entries: number,
  from: number,
  out: number,
  activation: number,
  weights: number,
): void {
  let w = at.values;
  if (!at.perEntry) {
    kernels.decodeWeights(at.entries, at.entryBytes, at.values, at.colBits, entries, weights);
    w = weights;
  }
  kernels.depthwiseDense(
    w,
    at.bias,
    from,
    g.height,
    g.width,
    g.inC,
    out,
    g.oh,
    g.ow,
    g.kh,
    g.kw,
    g.sh,
    g.sw,
    g.pt,
    g.pl,
    g.units,
    activation < 0 ? 0 : activation,
  );
}

/**
 * Whether convItemsWasm runs this layer: a Conv2D (not depthwise) with
 * strides across 1 or 2 whose every output cell's window lies inside the
 * input (no padding reaches it). The row kernel stays where it is faster
 * (measured on the CNN presets): one input channel (its skipping of zero
 * blocks wins on sparse images) and 1x1 windows (a row's entries then share
 * one long run of cells).
 */
export function convItemsFits(g: ConvGeometry): boolean {
  const inside = g.pt === 0 && g.pl === 0 && (g.oh - 1) * g.sh + g.kh <= g.height && (g.ow - 1) * g.sw + g.kw <= g.width;
  return !g.depthwise && g.inC > 1 && g.kh * g.kw > 1 && g.sw <= 2 && inside;
}

/** Where convItemsWasm's items start in its buffer: past the outC + 1 starts, 8-aligned. */
function itemsAt(g: ConvGeometry): number {
  return ((g.outC + 1) * 4 + 7) & ~7;
}

/** Scratch bytes convItemsWasm's lists take: the starts, then 8 bytes per entry. */
export function convItemsBytes(layer: ImageLayer, g: ConvGeometry): number {
  return itemsAt(g) + layer.entryCount * 8;
}

/**
 * A Conv2D image layer that convItemsFits, output-stationary: its entries
 * listed per output channel into `lists` (convItemsBytes of scratch), then
 * the planar map at `out` written with bias and activation (activationCode;
 * -1 leaves it to the caller). It stores the map's cells only; its loads may
 * read up to 64 bytes past the input map.
 */
export function convItemsWasm(
  kernels: ConvImageKernels,
  at: LayerAddresses,
  g: ConvGeometry,
  rows: number,
  from: number,
  out: number,
  activation: number,
  lists: number,
): void {
  const start = itemsAt(g);
  kernels.decodeItems(
    at.counts,
    at.countBytes,
    at.entries,
    at.entryBytes,
    at.values,
    at.perEntry,
    at.colBits,
    rows,
    g.inC,
    g.kw,
    g.width,
    g.height * g.width * 4,
    g.outC,
    lists,
    start,
  );
  kernels.convItems(lists, start, at.bias, from, g.width, out, g.oh, g.ow, g.sh, g.sw, g.outC, activation < 0 ? 0 : activation);
}

/**
 * Whether pool takes its 2x2-like path for this map and window (windows 2
 * wide, 2 apart, every one inside the input): the one that can finish a
 * convolution's sums (poolWasm's `finish`).
 */
export function poolTakesPairs(inShape: MapShape, params: WindowParams): boolean {
  const { height, width } = inShape;
  const [kh, kw] = params.window;
  const [sh, sw] = params.strides;
  const oh = outputLength(height, kh, sh, params.padding);
  const ow = outputLength(width, kw, sw, params.padding);
  return (
    kw === 2 &&
    sw === 2 &&
    padBefore(height, kh, sh, params.padding) === 0 &&
    padBefore(width, kw, sw, params.padding) === 0 &&
    2 * ow <= width &&
    (oh - 1) * sh + kh <= height
  );
}

/**
 * Max (or average) pooling of a planar map at `from` into `out`, planar or
 * NHWC. `finish`: the map holds a convolution's sums (convImageLayerWasm
 * with finish false), whose bias and activation (activationCode, 0..2)
 * pool applies to each value it reads; only where poolTakesPairs.
 */
export function poolWasm(
  kernels: ConvImageKernels,
  kind: 'max' | 'avg',
  inShape: MapShape,
  params: WindowParams,
  from: number,
  out: number,
  outPlanar: boolean,
  finish?: { bias: number; activation: number },
): void {
  const { height, width, channels } = inShape;
  const [kh, kw] = params.window;
  const [sh, sw] = params.strides;
  kernels.pool(
    kind === 'max' ? 0 : 1,
    from,
    height,
    width,
    channels,
    out,
    outputLength(height, kh, sh, params.padding),
    outputLength(width, kw, sw, params.padding),
    kh,
    kw,
    sh,
    sw,
    padBefore(height, kh, sh, params.padding),
    padBefore(width, kw, sw, params.padding),
    outPlanar ? 1 : 0,
    finish?.bias ?? 0,
    finish?.activation ?? -1,
  );
}

/**
 * Whether convPixelsWasm runs this convolution, its output map `convOut`
 * read by a pool with `poolParams`: a Conv2D of one input channel (its rows
 * are its taps), output channels a multiple of 4 (a cell's NHWC sums are
 * whole vectors), and every pool window inside the map (poolNhwcWasm reads
 * no padding). The pool then finishes its sums.
 */
export function convPixelsFits(g: ConvGeometry, convOut: MapShape, poolParams: WindowParams): boolean {
  const { height, width } = convOut;
  const [kh, kw] = poolParams.window;
  const [sh, sw] = poolParams.strides;
  const ph = outputLength(height, kh, sh, poolParams.padding);
  const pw = outputLength(width, kw, sw, poolParams.padding);
  const inside =
    padBefore(height, kh, sh, poolParams.padding) === 0 &&
    padBefore(width, kw, sw, poolParams.padding) === 0 &&
    (ph - 1) * sh + kh <= height &&
    (pw - 1) * sw + kw <= width;
  return convPixelsTakes(g) && ph > 0 && pw > 0 && inside;
}

/** A Conv2D of one input channel (its rows are its taps) with output channels a multiple of 4 (a cell's NHWC sums are whole vectors). */
export function convPixelsTakes(g: ConvGeometry): boolean {
  return !g.depthwise && g.inC === 1 && g.outC % 4 === 0;
}

/** Scratch bytes of convPixelsWasm's decoded taps: per tap, outC weights and outC masks. */
export function convTapsBytes(g: ConvGeometry): number {
  return g.kh * g.kw * g.outC * 8;
}

/**
 * A Conv2D that convPixelsFits: its taps decoded into `taps` (convTapsBytes
 * of scratch), then the NHWC sums (no bias) of the planar one-channel input
 * at `from` written at `out`, from its nonzero pixels only (conv-image.wat's
 * convPixels); poolNhwcWasm finishes them.
 */
export function convPixelsWasm(kernels: ConvImageKernels, at: LayerAddresses, g: ConvGeometry, from: number, out: number, taps: number): void {
  kernels.decodeTaps(at.counts, at.countBytes, at.entries, at.entryBytes, at.values, at.perEntry, at.colBits, g.kh * g.kw, g.outC, taps);
  kernels.convPixels(taps, from, g.height, g.width, out, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.outC, 0, g.oh);
}

/** Scratch bytes of convPixelsPlanarWasm's band of `rows` output rows of NHWC sums. */
export function convBandBytes(g: ConvGeometry, rows: number): number {
  return rows * g.ow * g.outC * 4;
}

/**
 * A Conv2D that convPixelsTakes, with no pool to finish it: its taps decoded
 * into `taps` (convTapsBytes), then, `bandRows` output rows at a time, the
 * band's NHWC sums at `band` (convBandBytes) from the spans of nonzero pixels
 * that reach it (conv-image.wat's convSpans), finished (bias, activation 0..2) into the planar map at `out`.
 */
export function convPixelsPlanarWasm(
  kernels: ConvImageKernels,
  at: LayerAddresses,
  g: ConvGeometry,
  from: number,
  out: number,
  taps: number,
  band: number,
  bandRows: number,
  activation: number,
): void {
  kernels.decodeTaps(at.counts, at.countBytes, at.entries, at.entryBytes, at.values, at.perEntry, at.colBits, g.kh * g.kw, g.outC, taps);
  const planeBytes = g.oh * g.ow * 4;
  for (let oy0 = 0; oy0 < g.oh; oy0 += bandRows) {
    const oy1 = Math.min(g.oh, oy0 + bandRows);
    kernels.convSpans(taps, from, g.height, g.width, band, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.outC, oy0, oy1);
    kernels.finishPlanar(band, (oy1 - oy0) * g.ow, g.outC, at.bias, activation, out + oy0 * g.ow * 4, planeBytes);
  }
}

/**
 * Max (or average) pooling of convPixelsWasm's NHWC sums at `from` (a map of
 * `inShape`) into `out`, planar or NHWC, each value read first given the
 * convolution's bias and activation (activationCode, 0..2).
 */
export function poolNhwcWasm(
  kernels: ConvImageKernels,
  kind: 'max' | 'avg',
  inShape: MapShape,
  params: WindowParams,
  from: number,
  out: number,
  outPlanar: boolean,
  finish: { bias: number; activation: number },
): void {
  const { height, width, channels } = inShape;
  const [kh, kw] = params.window;
  const [sh, sw] = params.strides;
  const oh = outputLength(height, kh, sh, params.padding);
  const ow = outputLength(width, kw, sw, params.padding);
  kernels.poolNhwc(kind === 'max' ? 0 : 1, from, width, channels, out, oh, ow, kh, kw, sh, sw, outPlanar ? 1 : 0, finish.bias, finish.activation);
}

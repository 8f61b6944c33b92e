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
  ): void;
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
  ): void;
  globalAvgPool(input: number, cells: number, channels: number, out: number): void;
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
 * of at least one 64 KiB page lying above RAM).
 */
export function convImageLayerWasm(kernels: ConvImageKernels, at: LayerAddresses, g: ConvGeometry, from: number, out: number, activation: number): void {
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
    activation < 0 ? 0 : activation,
  );
}

/** Max (or average) pooling of a planar map at `from` into `out`, planar or NHWC. */
export function poolWasm(
  kernels: ConvImageKernels,
  kind: 'max' | 'avg',
  inShape: MapShape,
  params: WindowParams,
  from: number,
  out: number,
  outPlanar: boolean,
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
  );
}

// The image kernels compiled to WebAssembly (rows.wat; sparse-rows.ts is
// their reference): same results bit for bit, about twice as fast as the
// TypeScript on the row scatter, since a device runs its kernels as native
// code. Every layer of an image runs here: the specialised rowsTable*
// kernels in the common case, rowsGeneric otherwise. One module per process, one instance per device address space
// (Arena.memory), so the kernels compute straight in the device's RAM and
// read the image through its flash window.
import type { ImageLayer } from '../exec-image.ts';
import type { RawInput } from './dense.ts';
import { ROWS_WASM_BASE64 } from './gen/rows-wasm.ts';

export interface RowsKernels {
  rowsTableRaw(
    counts: number,
    entries: number,
    table: number,
    bias: number,
    raw: number,
    inputs: number,
    units: number,
    colBits: number,
    scale: number,
    offset: number,
    out: number,
  ): void;
  rowsTableF32(counts: number, entries: number, table: number, bias: number, input: number, inputs: number, units: number, colBits: number, out: number): void;
  rowsGeneric(
    counts: number,
    countBytes: number,
    entries: number,
    entryBytes: number,
    values: number,
    perEntry: number,
    bias: number,
    input: number,
    rawInput: number,
    inputs: number,
    units: number,
    colBits: number,
    scale: number,
    offset: number,
    out: number,
  ): void;
  relu(out: number, units: number): void;
}

let compiled: WebAssembly.Module | null = null;
const instances = new WeakMap<WebAssembly.Memory, RowsKernels>();

/** The kernels bound to one address space. */
export function rowsKernelsFor(memory: WebAssembly.Memory): RowsKernels {
  let kernels = instances.get(memory);
  if (!kernels) {
    compiled ??= new WebAssembly.Module(Buffer.from(ROWS_WASM_BASE64, 'base64'));
    kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as RowsKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}

/**
 * Which wasm kernel runs this layer: 'table' (rowsTable*: codebook weights,
 * byte counts, 16-bit entries, the common case) or 'generic' (rowsGeneric:
 * any other width, or one f32 weight per entry).
 */
export function wasmKernelOf(layer: ImageLayer): 'table' | 'generic' {
  return layer.table !== null && layer.counts instanceof Uint8Array && layer.entries instanceof Uint16Array ? 'table' : 'generic';
}

/** Addresses and widths of one layer's sections once its image is mapped at `imageAddress`. */
export interface LayerAddresses {
  kernel: 'table' | 'generic';
  inputs: number;
  units: number;
  colBits: number;
  counts: number;
  countBytes: number;
  entries: number;
  entryBytes: number;
  /** The codebook table, or the per-entry weights when `perEntry`. */
  values: number;
  perEntry: number;
  bias: number;
}

export function layerAddresses(layer: ImageLayer, image: Uint8Array, imageAddress: number): LayerAddresses {
  const at = (view: ArrayBufferView): number => imageAddress + view.byteOffset - image.byteOffset;
  return {
    kernel: wasmKernelOf(layer),
    inputs: layer.inputs,
    units: layer.units,
    colBits: layer.colBits,
    counts: at(layer.counts),
    countBytes: layer.counts.BYTES_PER_ELEMENT,
    entries: at(layer.entries),
    entryBytes: layer.entries.BYTES_PER_ELEMENT,
    values: at(layer.table ?? layer.values!),
    perEntry: layer.table ? 0 : 1,
    bias: at(layer.bias),
  };
}

/**
 * One image layer, before its activation, with the kernel its layout takes:
 * `from` is the address of the input (the raw sample bytes for the first
 * layer, preprocessed by `raw`'s scale and offset), `out` of the output.
 */
export function evalImageLayerWasm(kernels: RowsKernels, at: LayerAddresses, first: boolean, from: number, raw: RawInput, out: number): void {
  const { inputs, units, colBits } = at;
  if (at.kernel === 'table') {
    if (first) kernels.rowsTableRaw(at.counts, at.entries, at.values, at.bias, from, inputs, units, colBits, raw.scale, raw.offset, out);
    else kernels.rowsTableF32(at.counts, at.entries, at.values, at.bias, from, inputs, units, colBits, out);
    return;
  }
  kernels.rowsGeneric(
    at.counts,
    at.countBytes,
    at.entries,
    at.entryBytes,
    at.values,
    at.perEntry,
    at.bias,
    from,
    first ? 1 : 0,
    inputs,
    units,
    colBits,
    raw.scale,
    raw.offset,
    out,
  );
}

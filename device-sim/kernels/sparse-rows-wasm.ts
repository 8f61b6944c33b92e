// The image kernels compiled to WebAssembly (rows.wat; sparse-rows.ts is
// their reference): same results bit for bit, about twice as fast as the
// TypeScript on the row scatter, since a device runs its kernels as native
// code. One module per process, one instance per device address space
// (Arena.memory), so the kernels compute straight in the device's RAM and
// read the image through its flash window.
import type { ImageLayer } from '../exec-image.ts';
import { ROWS_WASM_BASE64 } from './rows-wasm.ts';

export interface RowsKernels {
  rowsTableRaw(
    counts: number, entries: number, table: number, bias: number,
    raw: number, inputs: number, units: number, colBits: number, scale: number, offset: number, out: number,
  ): void;
  rowsTableF32(
    counts: number, entries: number, table: number, bias: number,
    input: number, inputs: number, units: number, colBits: number, out: number,
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

/** Whether the wasm kernels handle this layer: codebook weights, byte counts, 16-bit entries. */
export function wasmHandles(layer: ImageLayer): boolean {
  return layer.table !== null && layer.counts instanceof Uint8Array && layer.entries instanceof Uint16Array;
}

/** Addresses of one layer's sections once its image is mapped at `imageAddress`. */
export interface LayerAddresses {
  counts: number;
  entries: number;
  table: number;
  bias: number;
}

export function layerAddresses(layer: ImageLayer, image: Uint8Array, imageAddress: number): LayerAddresses {
  const at = (view: ArrayBufferView): number => imageAddress + view.byteOffset - image.byteOffset;
  return { counts: at(layer.counts), entries: at(layer.entries), table: at(layer.table!), bias: at(layer.bias) };
}

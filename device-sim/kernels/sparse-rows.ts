// The Dense kernel on an execution image layer (exec-image.ts), reference
// version: the kernel matrix as rows of (column, centroid index) entries
// read in place from flash. For each input feature x[i] that is not zero,
// its row adds x[i] * w to the row's columns; a zero feature (a blank pixel,
// a ReLU zero) costs one count read. Every column sums its terms in
// ascending input order, as a dense matmul would, then the bias is added:
// docs/arithmetic.md's f32 path, every product and sum rounded to binary32.
//
// One plain loop, written for reading: the device runs rows.wat
// (sparse-rows-wasm.ts), which must give these outputs bit for bit for every
// layout (test/device-sim/exec-image.test.ts checks it on random models).
import type { ImageLayer } from '../exec-image.ts';
import type { RawInput } from './dense.ts';
import { preprocess } from './dense-reference.ts';

/** output = input · K + b (before the activation); `output` has `units` values. */
export function evalImageLayer(layer: ImageLayer, input: Float32Array | RawInput, output: Float32Array): void {
  const { counts, entries, colBits, inputs, table, values } = layer;
  const floats = input instanceof Float32Array ? input : null;
  const raw = input instanceof Float32Array ? null : input;
  const columns = 2 ** colBits;
  output.fill(0);
  let e = 0;
  for (let i = 0; i < inputs; i++) {
    const n = counts[i]!;
    const x = floats ? floats[i]! : preprocess(raw!.raw[i]!, raw!.scale, raw!.offset);
    if (x === 0) {
      e += n;
      continue;
    }
    for (const end = e + n; e < end; e++) {
      const packed = entries[e]!;
      const column = packed % columns;
      const weight = table ? table[(packed - column) / columns]! : values![e]!;
      output[column] += Math.fround(x * weight);
    }
  }
  const bias = layer.bias;
  for (let j = 0; j < output.length; j++) output[j] += bias[j]!;
}

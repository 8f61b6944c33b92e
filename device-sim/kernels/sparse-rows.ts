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
import { rnd, rsh } from './int-reference.ts';

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

/**
 * The int path on an image layer (docs/arithmetic.md): acc[column] +=
 * x[row] * rnd(w * weightScale) over the rows, then, when the layer holds
 * bias entries, acc[j] += rsh(rnd(bias[j] * biasScale), biasShift) (0 for
 * a bias entry the license does not hold). `input` is the previous layer's
 * xq, or the raw bytes with `table` their xq.
 */
export function evalImageLayerInt(
  layer: ImageLayer,
  input: Int32Array | Uint8Array,
  table: Int32Array | null,
  weightScale: number,
  bias: { scale: number; shift: number } | null,
  acc: Int32Array,
): void {
  const { counts, entries, colBits, inputs, table: centroids, values } = layer;
  const columns = 2 ** colBits;
  acc.fill(0);
  let e = 0;
  for (let i = 0; i < inputs; i++) {
    const n = counts[i]!;
    const x = table ? table[input[i]!]! : input[i]!;
    if (x === 0) {
      e += n;
      continue;
    }
    for (const end = e + n; e < end; e++) {
      const packed = entries[e]!;
      const column = packed % columns;
      const weight = centroids ? centroids[(packed - column) / columns]! : values![e]!;
      acc[column] += x * rnd(weight * weightScale);
    }
  }
  if (!bias) return;
  for (let j = 0; j < acc.length; j++) acc[j] += rsh(rnd(layer.bias[j]! * bias.scale), bias.shift);
}

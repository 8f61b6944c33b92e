// Reference math of the Dense kernel on the encoded form: pure functions over
// typed arrays, no allocation, no context (as TFLM's
// kernels/internal/reference/). A chunk is `count` (flat position, value)
// pairs streamed out of one segment; the kernel tensor is [inputs, units]
// row-major, so position p feeds input row floor(p / units) into output
// column p % units.
//
// The arithmetic is docs/arithmetic.md's f32 path: every product and every
// sum rounded to binary32 (Math.fround of a product of two binary32 values,
// or of their sum, is the correctly rounded binary32 result: a double holds
// the product exactly and rounds the sum innocuously), input terms that are
// zero skipped, the terms in the order the chunks bring them.
import type { Activation } from '../../formats/index.ts';

/** output[col] = fl32(output[col] + fl32(input[row] * value)) for every entry whose input is not zero. */
export function accumulateEntries(positions: Uint32Array, values: Float32Array, count: number, units: number, input: Float32Array, output: Float32Array): void {
  for (let i = 0; i < count; i++) {
    const p = positions[i];
    const row = (p / units) | 0;
    const x = input[row];
    if (x === 0) continue;
    output[p - row * units] += Math.fround(x * values[i]);
  }
}

/**
 * The first layer reads the sample as raw sensor bytes and applies the
 * artifact's preprocess (x = fl32(fl32(raw * scale) + offset)) on the fly, so
 * the input costs one byte per feature in the arena instead of four.
 */
export function accumulateEntriesFromRaw(
  positions: Uint32Array,
  values: Float32Array,
  count: number,
  units: number,
  raw: Uint8Array,
  scale: number,
  offset: number,
  output: Float32Array,
): void {
  for (let i = 0; i < count; i++) {
    const p = positions[i];
    const row = (p / units) | 0;
    const x = preprocess(raw[row], scale, offset);
    if (x === 0) continue;
    output[p - row * units] += Math.fround(x * values[i]);
  }
}

/** The f32 path's input feature: fl32(fl32(raw * scale) + offset). */
export function preprocess(raw: number, scale: number, offset: number): number {
  return Math.fround(Math.fround(raw * scale) + offset);
}

/** output[p] = fl32(output[p] + value): bias segments hold flat positions into the [units] vector. */
export function addEntries(positions: Uint32Array, values: Float32Array, count: number, output: Float32Array): void {
  for (let i = 0; i < count; i++) output[positions[i]] += values[i];
}

/** Applies the layer's activation in place. Softmax subtracts the max first for stability, as TF does. */
export function applyActivation(activation: Activation, values: Float32Array): void {
  const n = values.length;
  switch (activation) {
    case 'linear':
      return;
    case 'relu':
      for (let i = 0; i < n; i++) if (values[i] < 0) values[i] = 0;
      return;
    case 'relu6':
      for (let i = 0; i < n; i++) values[i] = values[i] < 0 ? 0 : values[i] > 6 ? 6 : values[i];
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) values[i] = 1 / (1 + Math.exp(-values[i]));
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) values[i] = Math.tanh(values[i]);
      return;
    case 'softmax': {
      let max = -Infinity;
      for (let i = 0; i < n; i++) if (values[i] > max) max = values[i];
      let sum = 0;
      for (let i = 0; i < n; i++) {
        values[i] = Math.exp(values[i] - max);
        sum += values[i];
      }
      for (let i = 0; i < n; i++) values[i] /= sum;
      return;
    }
  }
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

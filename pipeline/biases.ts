// Biases as a device stores them. By default the pipeline rounds each
// layer's biases to int8 with one float32 scale for the layer (formats'
// int8 encoding: q = round(b / s), s = max|b| / 127), about a quarter of
// float32's bytes, and measures every accuracy on the rounded values.
//
// One rule picks a bias tensor's encoding (toModelInput): int8 when int8
// reproduces its values exactly, else float32. Rounded biases pass it (the
// rounding is checked to survive a second rounding, which is what the
// encoder does), so the device decodes exactly what the pipeline measured;
// biases kept as trained (--float-biases) almost never do, and where they
// do, int8 loses nothing. A next version (--from) keeps its first build's
// biases, hence their encoding and bytes.
import { quantizeInt8 } from '../formats/index.ts';

/** Whether formats' int8 encoding stores `values` without changing a bit. */
export function int8Exact(values: Float32Array): boolean {
  const { dequantized } = quantizeInt8(values, [values.length]);
  return dequantized.every((v, i) => v === values[i]); // -0 === 0: a zero is not stored either way
}

/** The biases a build stores: as trained with --float-biases, else roundBiases'. */
export function storedBiases(biases: Float32Array[], floatBiases: boolean): Float32Array[] {
  return floatBiases ? biases.map((b) => b.slice()) : roundBiases(biases);
}

/** The biases rounded to int8 (one scale per layer); a layer whose rounding would not come back exactly keeps float32. */
export function roundBiases(biases: Float32Array[]): Float32Array[] {
  return biases.map((b) => {
    const rounded = quantizeInt8(b, [b.length]).dequantized;
    return int8Exact(rounded) ? rounded : b.slice();
  });
}

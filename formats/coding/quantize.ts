// Int8 affine quantization with one scale per output channel (the last
// dimension) of a kernel, symmetric around zero: q = round(v / s),
// s = max|v| / 127. A rank-1 tensor (a bias) has one scale for all its
// values: a scale per element would cost 4 bytes to save 1.
// The encoder applies exactly this, so the pipeline can measure the accuracy
// of what a device will compute.

export interface Int8Quantized {
  /** q * scale per element, as float32 (what a device decodes). */
  dequantized: Float32Array;
  /** One float32 scale per channel (last dimension). */
  scales: Float32Array;
  /** The int8 values. */
  quantized: Int8Array;
}

/** Number of int8 scales of a tensor: its last dimension for rank >= 2, else 1. */
export function int8Channels(shape: readonly number[]): number {
  return shape.length >= 2 ? shape[shape.length - 1]! : 1;
}

export function quantizeInt8Full(values: Float32Array, shape: readonly number[]): Int8Quantized {
  const channels = int8Channels(shape);
  const scales = new Float32Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = i % channels;
    const a = Math.abs(values[i]!);
    if (a > scales[c]!) scales[c] = a;
  }
  for (let c = 0; c < channels; c++) scales[c] = scales[c]! / 127;
  const quantized = new Int8Array(values.length);
  const dequantized = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const s = scales[i % channels]!;
    const q = s > 0 ? Math.max(-127, Math.min(127, Math.round(values[i]! / s))) : 0;
    quantized[i] = q;
    dequantized[i] = q * s;
  }
  return { dequantized, scales, quantized };
}

export function quantizeInt8(values: Float32Array, shape: number[]): { dequantized: Float32Array; scales: Float32Array } {
  const { dequantized, scales } = quantizeInt8Full(values, shape);
  return { dequantized, scales };
}

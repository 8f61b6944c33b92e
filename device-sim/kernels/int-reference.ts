// docs/arithmetic.md's int path: block floating point for parts with no FPU.
// Weights become int8 (kernels) and int32 (biases) with one power-of-two
// exponent per tensor, once at open; activations are int32 bounded so an
// int32 accumulator cannot overflow, with one exponent per layer output that
// moves per sample. Every function is exact: doubles hold every intermediate
// value (products below 2^53, sums of int32 terms that cannot overflow by
// the bounds), so this computes what the C library computes in integers.
//
// Pure functions over typed arrays, no allocation per element (as
// dense-reference.ts for the f32 path).
import type { Activation } from '../../formats/index.ts';

/** Exponents are searched in [-MAX_EXPONENT, MAX_EXPONENT]; MAX_EXPONENT is also "no value". */
export const MAX_EXPONENT = 64;
/** Largest |kernel weight| as int8. */
export const WEIGHT_LIMIT = 127;
/** Largest |bias| as int32. */
export const BIAS_LIMIT = 2 ** 30;
/** The input's fixed-point fraction bits: xq = rsh(raw * S + O, INPUT_SHIFT). */
export const INPUT_SHIFT = 15;

/** Rounds to the nearest integer, halves away from zero (exact for v = binary32 x 2^k). */
export function rnd(v: number): number {
  const a = Math.floor(Math.abs(v) + 0.5);
  return v < 0 ? 0 - a : a;
}

/** sign(a) * ((|a| + 2^(s-1)) >> s): rounding right shift, halves away from zero; 0 when s >= 32. */
export function rsh(a: number, s: number): number {
  if (s === 0) return a;
  if (s >= 32) return 0;
  const magnitude = a < 0 ? -a : a;
  const r = Math.floor((magnitude + 2 ** (s - 1)) / 2 ** s);
  return a < 0 ? 0 - r : r;
}

/**
 * fit(m, limit): the largest f in [-64, 64] with rnd(m * 2^f) <= limit (64
 * when m is 0), or null when none is (m infinite, NaN or too large).
 */
export function fitExponent(m: number, limit: number): number | null {
  if (m === 0) return MAX_EXPONENT;
  for (let f = MAX_EXPONENT; f >= -MAX_EXPONENT; f--) if (rnd(m * 2 ** f) <= limit) return f;
  return null;
}

/** X_l: the largest |input| of a layer with `inputs` rows, so inputs * X * 128 + 2^30 < 2^31. */
export function activationBound(inputs: number): number {
  return Math.min(32767, Math.floor((2 ** 30 - 1) / (inputs * 128)));
}

/** The input table: xq for every raw byte, clamp(rsh(raw * S + O, 15), -X0, X0). */
export function fillInputTable(table: Int32Array, S: number, O: number, bound: number): void {
  for (let raw = 0; raw < 256; raw++) {
    const x = rsh(raw * S + O, INPUT_SHIFT);
    table[raw] = x > bound ? bound : x < -bound ? -bound : x;
  }
}

/**
 * acc[col] += x[row] * rnd(value * 2^fw) for every entry of a chunk whose
 * input is not zero; `x` is the previous layer's xq, or the raw bytes
 * looked up in the input table (`table` non-null).
 */
export function accumulateIntEntries(
  positions: Uint32Array,
  values: Float32Array,
  count: number,
  units: number,
  input: Int32Array | Uint8Array,
  table: Int32Array | null,
  weightScale: number,
  acc: Int32Array,
): void {
  for (let i = 0; i < count; i++) {
    const p = positions[i]!;
    const row = (p / units) | 0;
    const x = table ? table[input[row]!]! : input[row]!;
    if (x === 0) continue;
    acc[p - row * units] += x * rnd(values[i]! * weightScale);
  }
}

/** acc[p] += rsh(rnd(value * 2^fb), shift) for every bias entry of a chunk. */
export function addIntBiasEntries(positions: Uint32Array, values: Float32Array, count: number, biasScale: number, shift: number, acc: Int32Array): void {
  for (let i = 0; i < count; i++) acc[positions[i]!] += rsh(rnd(values[i]! * biasScale), shift);
}

/**
 * relu6's clamp on accumulators at exponent `fa`: floor(6 * 2^fa), exact
 * (a shift of 6, never by 32 or more); Infinity from fa = 29 on, where
 * 6 * 2^fa exceeds every int32 and nothing is clamped.
 */
export function relu6Cap(fa: number): number {
  if (fa >= 29) return Number.POSITIVE_INFINITY;
  if (fa >= 0) return 6 * 2 ** fa;
  return fa >= -2 ? 6 >> -fa : 0;
}

/**
 * The activation in place on accumulators at exponent `fa`: relu, relu6
 * (clamp to [0, floor(6 * 2^fa)]); linear and a (last-layer) softmax leave
 * them as they are.
 */
export function applyIntActivation(activation: Activation, acc: Int32Array, fa: number): void {
  if (activation === 'relu') {
    for (let j = 0; j < acc.length; j++) if (acc[j]! < 0) acc[j] = 0;
  } else if (activation === 'relu6') {
    const cap = relu6Cap(fa);
    for (let j = 0; j < acc.length; j++) {
      const v = acc[j]!;
      if (v < 0) acc[j] = 0;
      else if (v > cap) acc[j] = cap;
    }
  }
}

/**
 * rdiv(a, k) = sign(a) * floor((2|a| + k) / (2k)): a / k rounded to the
 * nearest integer, halves away from zero, for an integer |a| < 2^51 and
 * 1 <= k < 2^30. Exact: the remainder is taken first (fmod is exact), so
 * what is divided is a multiple of the divisor and the quotient an integer.
 */
export function rdiv(a: number, k: number): number {
  const p = 2 * (a < 0 ? -a : a) + k;
  const q = 2 * k;
  const r = (p - (p % q)) / q;
  return a < 0 ? 0 - r : r;
}

/**
 * Rescales a layer's accumulators (exponent `fa`) in place into the next
 * layer's input: the smallest s >= `minShift` with rsh(max |acc|, s) <=
 * `bound`; returns the new exponent fa - s.
 */
export function rescale(acc: Int32Array, fa: number, bound: number, minShift: number): number {
  let max = 0;
  for (let j = 0; j < acc.length; j++) {
    const a = acc[j]! < 0 ? -acc[j]! : acc[j]!;
    if (a > max) max = a;
  }
  let s = minShift;
  while (rsh(max, s) > bound) s++;
  if (s > 0) for (let j = 0; j < acc.length; j++) acc[j] = rsh(acc[j]!, s);
  return fa - s;
}

/** Index of the largest value (the first one on ties). */
export function argmaxInt(values: Int32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

// The small arithmetic the benches share.

/** The middle value (the upper of the two middles for an even count). */
export const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** `n` rounded to `digits` decimals. */
export const roundTo = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The `q` quantile (0-1) of `values`, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

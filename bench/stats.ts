// The small arithmetic the benches share.

/** The middle value (the upper of the two middles for an even count). */
export const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** `n` rounded to `digits` decimals. */
export const roundTo = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

// Which interval a weight value falls in (Algorithm 1's k equal value ranges).
// Interval i holds [lower, upper); the last interval of the table also holds
// its upper bound, so the maximum weight belongs somewhere.
import { BASE_INTERVAL, type Interval } from '../model.ts';

/** Index into `intervals` of the interval holding `value`, or -1. Bounds are compared as float32. */
export function intervalIndexOf(value: number, intervals: readonly Interval[]): number {
  const last = intervals.length - 1;
  for (let i = 0; i <= last; i++) {
    const interval = intervals[i]!;
    const lower = Math.fround(interval.lower);
    const upper = Math.fround(interval.upper);
    if (value >= lower && (value < upper || (i === last && value === upper))) return i;
  }
  return -1;
}

/** Whether an artifact with these held intervals holds segments of `intervalId`. */
export function holdsInterval(held: readonly number[], intervalId: number): boolean {
  return intervalId === BASE_INTERVAL || held.includes(intervalId);
}

/** Sorted, de-duplicated copy of a set of held intervals. */
export function normalizeHeldIntervals(held: readonly number[]): number[] {
  return [...new Set(held)].sort((a, b) => a - b);
}

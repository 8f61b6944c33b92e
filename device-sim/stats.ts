// Latency statistics over a typed array of samples (microseconds).

/** The q-quantile (0..1) by nearest rank; sorts a copy. */
export function quantile(samples: Float64Array, q: number): number {
  if (samples.length === 0) return 0;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export function summarizeLatency(samples: Float64Array): { median: number; p99: number } {
  return { median: round2(quantile(samples, 0.5)), p99: round2(quantile(samples, 0.99)) };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

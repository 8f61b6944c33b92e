// The one seeded PRNG of weightgate (mulberry32): the pipeline's splits,
// initialisation and shuffles, the device simulator's random power cuts, and
// the fixtures of tests, benches and conformance vectors all draw from it, so
// one seed gives one stream everywhere.

export type Random = () => number;

/** Uniform floats in [0, 1) from a 32-bit seed. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return function nextRandom(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

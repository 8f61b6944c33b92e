// Every split, initialisation and shuffle draws from formats' seeded PRNG
// (createRandom, mulberry32), so a build is reproducible from --seed: same
// inputs + seed → byte-identical artifact.

import { createRandom, type Random } from '../formats/index.ts';

export { createRandom, type Random };

/** A seeded Fisher–Yates permutation of 0..n-1. */
export function shuffledIndices(n: number, random: Random): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

// Rice codes (Golomb codes with a power-of-two parameter) for the position
// gaps of patch entry deltas.

export const MAX_RICE_K = 24;

/** The Rice parameter that makes the gaps' code shortest (ties: the smaller k). */
export function bestRiceParameter(positions: Uint32Array, count: number): number {
  let bestK = 0;
  let bestBits = Infinity;
  for (let k = 0; k <= MAX_RICE_K; k++) {
    let bits = 0;
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const gap = positions[i]! - previous - 1;
      bits += Math.floor(gap / 2 ** k) + 1 + k;
      previous = positions[i]!;
    }
    if (bits < bestBits) {
      bestBits = bits;
      bestK = k;
    }
    if (bits > bestBits) break; // total bits are convex in k
  }
  return bestK;
}

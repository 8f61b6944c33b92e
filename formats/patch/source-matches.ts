// What the two copy-from-source encoders share (the byte delta, §8.5, and
// the manifest delta, §8.7): an index of source positions by a key of their
// first bytes, the length of a match, and the zigzag mapping of a signed
// source offset. Each encoder keeps its own key and minimum copy: the key
// decides which candidates are remembered, so it is part of the canonical
// bytes each writes.

/** Source positions remembered per key: bounds encoder time. */
export const MAX_CANDIDATES = 16;

/** Source positions by `keyAt` of the `keyBytes` bytes there; at most MAX_CANDIDATES per key, the first ones. */
export function indexSourcePositions(source: Uint8Array, keyBytes: number, keyAt: (bytes: Uint8Array, i: number) => number): Map<number, number[]> {
  const index = new Map<number, number[]>();
  for (let i = 0; i + keyBytes <= source.length; i++) {
    const key = keyAt(source, i);
    const list = index.get(key);
    if (!list) index.set(key, [i]);
    else if (list.length < MAX_CANDIDATES) list.push(i);
  }
  return index;
}

/** How many bytes of `source` from `s` equal `target` from `t`. */
export function matchLength(source: Uint8Array, s: number, target: Uint8Array, t: number): number {
  let n = 0;
  while (s + n < source.length && t + n < target.length && source[s + n] === target[t + n]) n++;
  return n;
}

export const zigzag = (v: number) => (v >= 0 ? v * 2 : -v * 2 - 1);
export const unzigzag = (v: number) => (v % 2 === 0 ? v / 2 : -(v + 1) / 2);

// A sparse byte delta of one segment against the segment at the same
// (tensor, interval) in the source: runs of [copy n bytes from the source at
// the same offset][n literal bytes], until the target length is reached.
// It wins when a change keeps the bitstream aligned (e.g. int8/f32 values
// changed in place); entry-delta.ts wins when positions move.
import { FormatError } from './errors.ts';
import { readBytes, readVarint, writeVarint, type ByteCursor } from './varint.ts';

/** Copies shorter than this cost more as two varints than as literals. */
const MIN_COPY = 3;

export function diffBytes(source: Uint8Array, target: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < target.length) {
    let copy = 0;
    while (i + copy < target.length && i + copy < source.length && source[i + copy] === target[i + copy]) copy++;
    if (copy < MIN_COPY && i + copy < target.length) copy = 0;
    let literal = 0;
    let j = i + copy;
    // Literal run ends where a copy of >= MIN_COPY bytes starts.
    while (j + literal < target.length) {
      let same = 0;
      while (same < MIN_COPY && j + literal + same < target.length && j + literal + same < source.length && source[j + literal + same] === target[j + literal + same]) same++;
      if (same >= MIN_COPY || (same > 0 && j + literal + same === target.length)) break;
      literal++;
    }
    writeVarint(out, copy);
    writeVarint(out, literal);
    for (let k = 0; k < literal; k++) out.push(target[j + k]!);
    i = j + literal;
  }
  return Uint8Array.from(out);
}

/** Rebuilds a target of `length` bytes; `c` is left just past the delta. */
export function applyByteDelta(source: Uint8Array, c: ByteCursor, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let i = 0;
  while (i < length) {
    const copy = readVarint(c);
    const literal = readVarint(c);
    if (copy + literal === 0 || i + copy + literal > length || i + copy > source.length) {
      throw new FormatError('BAD_VALUE', `${c.what}: byte delta run (copy ${copy}, literal ${literal}) at ${i} does not fit a ${length}-byte segment`);
    }
    out.set(source.subarray(i, i + copy), i);
    i += copy;
    out.set(readBytes(c, literal), i);
    i += literal;
  }
  return out;
}

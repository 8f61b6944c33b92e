// A byte delta of a target against a source (a segment against the source's
// same (tensor, interval) segment, or a manifest against the source's
// manifest): literals and copies from anywhere in the source, in the spirit
// of VCDIFF (RFC 3284) but smaller, since our targets are a few KiB:
//
//   repeat: varint literal length, literal bytes;
//           stop when the target is complete; else
//           varint copy length (>= 1), zigzag varint source offset relative
//           to the end of the previous copy (0 = continue in place)
//
// The encoder is greedy: at each target byte it extends the in-place
// continuation if that matches MIN_COPY bytes, else takes the longest match
// among source positions sharing the next MIN_COPY bytes.
import { FormatError } from '../errors.ts';
import { readBytes, readVarint, writeVarint, type ByteCursor } from '../container/varint.ts';
import { indexSourcePositions, matchLength, unzigzag, zigzag } from './source-matches.ts';

/** Shorter copies cost more than the literals they replace. */
const MIN_COPY = 4;

function keyAt(bytes: Uint8Array, i: number): number {
  return ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
}

export function diffBytes(source: Uint8Array, target: Uint8Array): Uint8Array {
  const index = indexSourcePositions(source, MIN_COPY, keyAt);
  const out: number[] = [];
  let literalStart = 0;
  let lastSourceEnd = 0;
  let t = 0;
  while (t < target.length) {
    let bestLength = matchLength(source, lastSourceEnd, target, t);
    let bestSource = lastSourceEnd;
    if (bestLength < MIN_COPY && t + MIN_COPY <= target.length) {
      for (const s of index.get(keyAt(target, t)) ?? []) {
        const n = matchLength(source, s, target, t);
        if (n > bestLength) {
          bestLength = n;
          bestSource = s;
        }
      }
    }
    if (bestLength < MIN_COPY) {
      t++;
      continue;
    }
    writeVarint(out, t - literalStart);
    for (let i = literalStart; i < t; i++) out.push(target[i]!);
    writeVarint(out, bestLength);
    writeVarint(out, zigzag(bestSource - lastSourceEnd));
    lastSourceEnd = bestSource + bestLength;
    t += bestLength;
    literalStart = t;
  }
  writeVarint(out, target.length - literalStart);
  for (let i = literalStart; i < target.length; i++) out.push(target[i]!);
  return Uint8Array.from(out);
}

/**
 * Rebuilds a target of `length` bytes from `source` and the delta at `c`,
 * handing it to `out` piece by piece in order: each piece is a view into the
 * delta (literals) or into the source (copies), never a copy, so a device
 * streams the target from flash to flash with no buffer. `c` is left just
 * past the delta.
 */
export function streamByteDelta(source: Uint8Array, c: ByteCursor, length: number, out: (piece: Uint8Array) => void): void {
  let t = 0;
  let lastSourceEnd = 0;
  for (;;) {
    const literal = readVarint(c);
    if (literal > length - t) throw new FormatError('BAD_VALUE', `${c.what}: byte delta literal of ${literal} bytes overruns a ${length}-byte target`);
    if (literal > 0) out(readBytes(c, literal));
    t += literal;
    if (t === length) return;
    const copy = readVarint(c);
    const from = lastSourceEnd + unzigzag(readVarint(c));
    if (copy === 0 || copy > length - t || from < 0 || from + copy > source.length) {
      throw new FormatError(
        'BAD_VALUE',
        `${c.what}: byte delta copy of ${copy} bytes from ${from} does not fit (source ${source.length}, target ${length} bytes)`,
      );
    }
    out(source.subarray(from, from + copy));
    t += copy;
    lastSourceEnd = from + copy;
  }
}

/** streamByteDelta into `into` (default: a new array of `length` bytes), which it returns. */
export function applyByteDelta(source: Uint8Array, c: ByteCursor, length: number, into: Uint8Array = new Uint8Array(length)): Uint8Array {
  let t = 0;
  streamByteDelta(source, c, length, (piece) => {
    into.set(piece, t);
    t += piece.length;
  });
  return into;
}

// B's manifest as a range-coded delta against A's (docs/format.md §8.7).
// A new version's manifest is mostly A's with some float32 fields moved
// (centroids, scales, accuracies) and some hashes and sizes replaced, in
// place. So the delta is literals and copies like a byte delta (§8.5), but
// range-coded (range-coder.ts) with adaptive models, and each literal byte
// travels as its XOR with the source byte at the same place (the byte it
// replaces): the unchanged sign/exponent bytes of a fine-tuned float cost a
// fraction of a bit, and short unchanged runs between changed fields stay
// in the literal instead of costing a copy.
//
//   varint  T: the target's length
//   stream  range-coded, to the end of the delta:
//     t = 0, at = 0                      (at: the source position in line with t)
//     repeat:
//       lit = gap(L) - 1; lit bytes: xorByte(lane t & 3) ^ ref(at); t++, at++
//       stop when t == T
//       n = gap(N); from = at + unzigzag(gap(O) - 1); copy source[from, from + n); t += n, at = from + n
//   ref(at) = source[at] if at < len(source), else 0
//   xorByte: a "non-zero" bit; then its bit length k (1..8) as a 3-bit tree
//   of k - 1, the bit below the leading 1 (k >= 2) with a model per k, and
//   the k - 2 bits below it direct, most significant first. Models per lane.
import { FormatError } from '../errors.ts';
import { RangeEncoder, initRangeDecoder, decodeBit, decodeDirect, PROB_INIT, type RangeDecoderState } from '../coding/range-coder.ts';
import { decodeGap, decodeTree, encodeGap, encodeTree, gapModelCount, maxExponentFor } from '../coding/gap-code.ts';
import { readVarint, writeVarint, type ByteCursor } from '../container/varint.ts';
import { concatBytes } from '../container/bytes.ts';
import { MAX_FILE_BYTES } from '../caps.ts';
import { indexSourcePositions, matchLength, unzigzag, zigzag } from './source-matches.ts';

const LANES = 4;
/** Per lane: [0] non-zero, [1..7] bit-length tree, [8..14] the bit below the leading 1, per bit length 2..8. */
const LANE_MODELS = 16;
/** An in-place copy shorter than this costs more than its bytes as (zero) XOR literals. */
const IN_PLACE_MIN = 8;
/** Shortest copy from elsewhere in the source. */
const MIN_COPY = 6;

interface Layout {
  maxExponent: number;
  literalAt: number;
  copyAt: number;
  offsetAt: number;
  total: number;
}

function layoutFor(sourceBytes: number, targetBytes: number): Layout {
  // Every coded value is at most 2 (S + T) + 1: a literal length + 1 and a
  // copy length are at most T + 1, and |from - at| <= S + T (at runs past
  // the source by at most the target's length).
  const maxExponent = maxExponentFor(2 * (sourceBytes + targetBytes) + 1);
  const g = gapModelCount(maxExponent);
  const literalAt = LANES * LANE_MODELS;
  return { maxExponent, literalAt, copyAt: literalAt + g, offsetAt: literalAt + 2 * g, total: literalAt + 3 * g };
}

/** Models a manifest delta between manifests of these sizes needs (Uint16 each). */
export function manifestDeltaModelCount(sourceBytes: number, targetBytes: number): number {
  return layoutFor(sourceBytes, targetBytes).total;
}

function keyAt(bytes: Uint8Array, i: number): number {
  let k = 0;
  for (let j = 0; j < MIN_COPY; j++) k = (k * 31 + bytes[i + j]!) >>> 0;
  return k;
}

function encodeXorByte(rc: RangeEncoder, probs: Uint16Array, lane: number, x: number): void {
  const base = lane * LANE_MODELS;
  rc.encodeBit(probs, base, x === 0 ? 0 : 1);
  if (x === 0) return;
  const k = 32 - Math.clz32(x);
  encodeTree(rc, probs, base, 3, k - 1);
  if (k < 2) return;
  rc.encodeBit(probs, base + 6 + k, (x >>> (k - 2)) & 1);
  for (let j = k - 3; j >= 0; j--) rc.encodeDirect((x >>> j) & 1);
}

export function diffManifest(source: Uint8Array, target: Uint8Array): Uint8Array {
  const layout = layoutFor(source.length, target.length);
  const probs = new Uint16Array(layout.total).fill(PROB_INIT);
  const index = indexSourcePositions(source, MIN_COPY, keyAt);
  const rc = new RangeEncoder(256);
  let t = 0;
  let at = 0;
  let literalStart = 0;
  let literalAt = 0;
  const flushLiteral = () => {
    encodeGap(rc, probs, layout.literalAt, layout.maxExponent, t - literalStart + 1);
    for (let i = literalStart, a = literalAt; i < t; i++, a++) encodeXorByte(rc, probs, i & 3, target[i]! ^ (a < source.length ? source[a]! : 0));
  };
  while (t < target.length) {
    let bestLength = matchLength(source, at, target, t);
    let bestFrom = at;
    if (bestLength < IN_PLACE_MIN) {
      bestLength = 0;
      if (t + MIN_COPY <= target.length) {
        for (const s of index.get(keyAt(target, t)) ?? []) {
          const n = matchLength(source, s, target, t);
          if (n > bestLength) {
            bestLength = n;
            bestFrom = s;
          }
        }
      }
      // A copy from elsewhere must beat the XOR literals it replaces, in place ones included.
      if (bestLength < MIN_COPY || bestLength <= matchLength(source, at, target, t)) bestLength = 0;
    }
    if (bestLength === 0) {
      t++;
      at++;
      continue;
    }
    flushLiteral();
    encodeGap(rc, probs, layout.copyAt, layout.maxExponent, bestLength);
    encodeGap(rc, probs, layout.offsetAt, layout.maxExponent, zigzag(bestFrom - at) + 1);
    t += bestLength;
    at = bestFrom + bestLength;
    literalStart = t;
    literalAt = at;
  }
  flushLiteral();
  const header: number[] = [];
  writeVarint(header, target.length);
  return concatBytes([Uint8Array.from(header), rc.finish()]);
}

function fail(detail: string): FormatError {
  return new FormatError('BAD_VALUE', `patch manifest delta: ${detail}`);
}

/** The target length a manifest delta names (its leading varint), and where its stream starts. */
export function readManifestDeltaLength(delta: Uint8Array): { length: number; start: number } {
  const c: ByteCursor = { bytes: delta, at: 0, end: delta.length, what: 'patch manifest delta' };
  const length = readVarint(c);
  if (length > MAX_FILE_BYTES) throw new FormatError('TOO_LARGE', `patch: manifest delta makes ${length} bytes`);
  return { length, start: c.at };
}

/**
 * Runs the delta against `source`, handing each target byte range to `out`
 * (a copy: a view into the source; a literal: one byte at a time). `probs`
 * holds manifestDeltaModelCount(source, length) models (any content).
 */
export function streamManifestDelta(
  source: Uint8Array,
  delta: Uint8Array,
  probs: Uint16Array,
  out: { byte(value: number): void; copy(piece: Uint8Array): void },
): number {
  const { length, start } = readManifestDeltaLength(delta);
  const layout = layoutFor(source.length, length);
  const models = probs.subarray(0, layout.total).fill(PROB_INIT);
  const s: RangeDecoderState = { data: delta, byteIndex: 0, range: 0, code: 0 };
  initRangeDecoder(s, start);
  const gap = (at: number) => {
    const v = decodeGap(s, models, at, layout.maxExponent);
    if (v < 0) throw fail('stream ends early');
    return v;
  };
  const bit = (at: number) => {
    const v = decodeBit(s, models, at);
    if (v < 0) throw fail('stream ends early');
    return v;
  };
  let t = 0;
  let at = 0;
  for (;;) {
    const literal = gap(layout.literalAt) - 1;
    if (literal > length - t) throw fail(`literal of ${literal} bytes overruns a ${length}-byte target`);
    for (let i = 0; i < literal; i++, t++, at++) {
      const base = (t & 3) * LANE_MODELS;
      let x = 0;
      if (bit(base) === 1) {
        const k = decodeTree(s, models, base, 3) + 1;
        if (k < 1) throw fail('stream ends early');
        x = 1;
        if (k >= 2) x = 2 + bit(base + 6 + k);
        for (let j = k - 3; j >= 0; j--) {
          const d = decodeDirect(s);
          if (d < 0) throw fail('stream ends early');
          x = x * 2 + d;
        }
      }
      out.byte(x ^ (at < source.length ? source[at]! : 0));
    }
    if (t === length) {
      // The decoder reads every byte of a stream the encoder made (and up to 4 past it).
      if (s.byteIndex < delta.length) throw fail(`${delta.length - s.byteIndex} bytes after its end`);
      return length;
    }
    const n = gap(layout.copyAt);
    const from = at + unzigzag(gap(layout.offsetAt) - 1);
    if (n > length - t || from < 0 || from + n > source.length) {
      throw fail(`copy of ${n} bytes from ${from} does not fit (source ${source.length}, target ${length} bytes)`);
    }
    out.copy(source.subarray(from, from + n));
    t += n;
    at = from + n;
  }
}

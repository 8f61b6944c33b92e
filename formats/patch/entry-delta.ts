// A sparse entry delta of one segment against the segment at the same
// (tensor, interval) in the source: the edits that turn the source's entries
// into the target's, in ascending position order. Applying merges them with
// the source's entries and re-encodes, one entry at a time.
//
//   varint  edit count
//   varint  stream bytes
//   stream  range-coded (range-coder.ts), per edit:
//             kind: "insert" bit; if not insert, "remove" bit (else change)
//             change/remove: 1 + the number of source entries copied before
//               the edited one (gap code, gap-code.ts)
//             insert: its position minus the previous edit's (gap code)
//             change/insert: the stored form, a tree of models for codes,
//               direct bits for int8 bytes and float32 bits
//
// Changes and removals are addressed by their ordinal among the source's
// entries, not by position: a retrained tensor touches a fraction of its
// non-zeros, and skipping a few entries costs a few bits where a position
// gap would cost ~log2(elements / edits).
import { FormatError } from '../errors.ts';
import { RangeEncoder, initRangeDecoder, decodeBit, decodeDirect, PROB_INIT, type RangeDecoderState } from '../coding/range-coder.ts';
import { decodeGap, decodeTree, encodeGap, encodeTree, gapModelCount, maxExponentFor } from '../coding/gap-code.ts';
import { readVarint, writeVarint, type ByteCursor } from '../container/varint.ts';
import { concatBytes } from '../container/bytes.ts';
import type { RawEntries } from '../coding/segment-raw.ts';

const KIND_INSERT = 0;
const KIND_REMOVE = 1;
const SKIP_AT = 2;

interface DeltaLayout {
  maxExponent: number;
  insertAt: number;
  codeAt: number;
  /** Models in all. */
  total: number;
}

interface DeltaModels extends DeltaLayout {
  probs: Uint16Array;
}

function deltaLayout(elements: number, rawBits: number): DeltaLayout {
  const maxExponent = maxExponentFor(elements);
  const insertAt = SKIP_AT + gapModelCount(maxExponent);
  const codeAt = insertAt + gapModelCount(maxExponent);
  const treeBits = rawBits <= 8 ? rawBits : 0;
  return { maxExponent, insertAt, codeAt, total: codeAt + (1 << treeBits) };
}

/** Adaptive models (one Uint16 each) that applying an entry delta over a tensor of `elements` needs. */
export function entryDeltaModelCount(elements: number, rawBits: number): number {
  return deltaLayout(elements, rawBits).total;
}

/** The models, in `probs` (its first entryDeltaModelCount entries) or a new array, set to PROB_INIT. */
function deltaModels(elements: number, rawBits: number, probs?: Uint16Array): DeltaModels {
  const layout = deltaLayout(elements, rawBits);
  return { ...layout, probs: (probs ? probs.subarray(0, layout.total) : new Uint16Array(layout.total)).fill(PROB_INIT) };
}

function encodeRaw(rc: RangeEncoder, m: DeltaModels, rawBits: number, raw: number): void {
  if (rawBits <= 8) encodeTree(rc, m.probs, m.codeAt, rawBits, raw);
  else for (let j = rawBits - 1; j >= 0; j--) rc.encodeDirect(Math.floor(raw / 2 ** j) & 1);
}

export function diffEntries(source: RawEntries, target: RawEntries, rawBits: number, elements: number): Uint8Array {
  const m = deltaModels(elements, rawBits);
  const rc = new RangeEncoder(64);
  let edits = 0;
  let s = 0; // next source entry not yet passed
  let t = 0;
  let copied = 0; // source entries passed unchanged since the last edit
  let lastPosition = -1; // of the last edit: inserts are coded from there
  while (s < source.count || t < target.count) {
    const ps = s < source.count ? source.positions[s]! : Infinity;
    const pt = t < target.count ? target.positions[t]! : Infinity;
    if (ps === pt && source.raws[s] === target.raws[t]) {
      copied++;
      s++;
      t++;
      continue;
    }
    edits++;
    if (pt < ps) {
      rc.encodeBit(m.probs, KIND_INSERT, 1);
      encodeGap(rc, m.probs, m.insertAt, m.maxExponent, pt - lastPosition);
      encodeRaw(rc, m, rawBits, target.raws[t]!);
      lastPosition = pt;
      t++;
    } else {
      const remove = ps < pt;
      rc.encodeBit(m.probs, KIND_INSERT, 0);
      rc.encodeBit(m.probs, KIND_REMOVE, remove ? 1 : 0);
      encodeGap(rc, m.probs, SKIP_AT, m.maxExponent, copied + 1);
      if (!remove) {
        encodeRaw(rc, m, rawBits, target.raws[t]!);
        t++;
      }
      lastPosition = ps;
      s++;
    }
    copied = 0;
  }
  const stream = edits > 0 ? rc.finish() : new Uint8Array(0);
  const header: number[] = [];
  writeVarint(header, edits);
  writeVarint(header, stream.length);
  return concatBytes([Uint8Array.from(header), stream]);
}

function fail(c: ByteCursor, detail: string): FormatError {
  return new FormatError('BAD_VALUE', `${c.what}: entry delta ${detail}`);
}

/**
 * The source segment's entries in ascending position order, read one at a
 * time (the patch applier decodes them in chunks: entry-delta-stream.ts).
 */
export interface EntryReader {
  readonly count: number;
  /** Position and stored form of the next unread entry; called only while one is left. */
  position(): number;
  raw(): number;
  /** Moves past the next entry. */
  next(): void;
}

/** Receives the target's entries in ascending position order. */
export interface EntryWriter {
  add(position: number, raw: number): void;
}

export interface EntryDeltaHeader {
  edits: number;
  /** Bytes of the range-coded stream that follows. */
  streamBytes: number;
}

/** Reads an entry delta's header at `c`, refusing counts its bytes cannot produce before anything is allocated for them. */
export function readEntryDeltaHeader(c: ByteCursor, sourceCount: number, targetCount: number): EntryDeltaHeader {
  const edits = readVarint(c);
  const available = readVarint(c);
  if (available > c.end - c.at) throw new FormatError('TRUNCATED', `${c.what}: entry delta of ${available} bytes runs past the data`);
  if ((edits === 0) !== (available === 0)) throw fail(c, `has ${edits} edits in ${available} bytes`);
  // Each edit costs > 0.02 bits (the coder's most skewed probability,
  // 2017/2048) and adds at most one entry: refuse counts the bytes cannot
  // produce before allocating for them.
  if (edits > 400 * (available + 4) || targetCount > sourceCount + edits) {
    throw fail(c, `of ${edits} edits in ${available} bytes cannot make ${targetCount} entries from ${sourceCount}`);
  }
  return { edits, streamBytes: available };
}

/**
 * Merges `source` with the delta whose header was just read at `c` into
 * `out`, one entry at a time; `c` is left just past the delta. `probs` holds
 * entryDeltaModelCount(elements, rawBits) models when there are edits (any
 * content: they are reset here); nothing else is allocated.
 */
export function mergeEntryDelta(
  header: EntryDeltaHeader,
  source: EntryReader,
  c: ByteCursor,
  shape: { rawBits: number; elements: number; targetCount: number },
  probs: Uint16Array,
  out: EntryWriter,
): void {
  const { rawBits, elements, targetCount } = shape;
  const { edits, streamBytes: available } = header;
  let made = 0;
  const emit = (p: number, raw: number) => {
    if (made >= targetCount) throw fail(c, `makes more than the manifest's ${targetCount} entries`);
    made++;
    out.add(p, raw);
  };
  let s = 0; // source entries passed
  const copySource = () => {
    emit(source.position(), source.raw());
    source.next();
    s++;
  };
  if (edits === 0) {
    while (s < source.count) copySource();
  } else {
    const m = deltaModels(elements, rawBits, probs);
    const stream: RangeDecoderState = { data: c.bytes.subarray(0, c.at + available), byteIndex: 0, range: 0, code: 0 };
    initRangeDecoder(stream, c.at);
    const ended = () => fail(c, 'stream ends early');
    const readRaw = (): number => {
      if (rawBits <= 8) {
        const v = decodeTree(stream, m.probs, m.codeAt, rawBits);
        if (v < 0) throw ended();
        return v;
      }
      let v = 0;
      for (let j = 0; j < rawBits; j++) {
        const bit = decodeDirect(stream);
        if (bit < 0) throw ended();
        v = v * 2 + bit;
      }
      return v;
    };
    let lastPosition = -1;
    for (let e = 0; e < edits; e++) {
      const insert = decodeBit(stream, m.probs, KIND_INSERT);
      if (insert < 0) throw ended();
      if (insert === 1) {
        const gap = decodeGap(stream, m.probs, m.insertAt, m.maxExponent);
        if (gap < 0) throw ended();
        const p = lastPosition + gap;
        if (p >= elements) throw new FormatError('OUT_OF_BOUNDS', `${c.what}: entry delta inserts at ${p}, past the tensor's ${elements} elements`);
        while (s < source.count && source.position() < p) copySource();
        if (s < source.count && source.position() === p) throw fail(c, `inserts at ${p}, which the source holds`);
        emit(p, readRaw());
        lastPosition = p;
      } else {
        const remove = decodeBit(stream, m.probs, KIND_REMOVE);
        if (remove < 0) throw ended();
        const skip = decodeGap(stream, m.probs, SKIP_AT, m.maxExponent);
        if (skip < 0) throw ended();
        if (s + skip - 1 >= source.count) throw fail(c, `skips past the source's ${source.count} entries`);
        for (let k = 1; k < skip; k++) copySource();
        const p = source.position();
        if (remove === 0) emit(p, readRaw());
        lastPosition = p;
        source.next();
        s++;
      }
    }
    while (s < source.count) copySource();
    c.at += available;
  }
  if (made !== targetCount) throw fail(c, `makes ${made} entries, the manifest says ${targetCount}`);
}

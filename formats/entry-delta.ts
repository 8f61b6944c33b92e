// A sparse entry delta of one segment against the segment at the same
// (tensor, interval) in the source: the list of positions whose entry is
// removed or set (added or given a new value), in ascending order. Applying
// merges two ascending streams and re-encodes, so a device can do it one
// entry at a time.
//
//   varint  edit count
//   byte    Rice parameter k of the edit gaps
//   bits    per edit: gap to the previous edit (Rice), 1 op bit (0 remove,
//           1 set), then for set: the stored form in rawBits bits
import { FormatError } from './errors.ts';
import { BitWriter } from './bit-writer.ts';
import { bestRiceParameter, MAX_RICE_K } from './rice.ts';
import { readVarint, writeVarint, type ByteCursor } from './varint.ts';
import type { RawEntries } from './segment-raw.ts';

export function diffEntries(source: RawEntries, target: RawEntries, rawBits: number): Uint8Array {
  const editPositions: number[] = [];
  const editRaws: number[] = []; // -1 = remove
  let s = 0;
  let t = 0;
  while (s < source.count || t < target.count) {
    const ps = s < source.count ? source.positions[s]! : Infinity;
    const pt = t < target.count ? target.positions[t]! : Infinity;
    if (ps < pt) {
      editPositions.push(ps);
      editRaws.push(-1);
      s++;
    } else if (pt < ps) {
      editPositions.push(pt);
      editRaws.push(target.raws[t]!);
      t++;
    } else {
      if (source.raws[s] !== target.raws[t]) {
        editPositions.push(pt);
        editRaws.push(target.raws[t]!);
      }
      s++;
      t++;
    }
  }
  const positions = Uint32Array.from(editPositions);
  const k = bestRiceParameter(positions, positions.length);
  const header: number[] = [];
  writeVarint(header, positions.length);
  header.push(k);
  let maxBits = 0;
  let previous = -1;
  for (const p of positions) {
    maxBits += Math.floor((p - previous - 1) / 2 ** k) + 2 + k + rawBits;
    previous = p;
  }
  const w = new BitWriter(maxBits);
  previous = -1;
  editPositions.forEach((p, i) => {
    const gap = p - previous - 1;
    w.writeUnary(Math.floor(gap / 2 ** k));
    w.writeBits(gap % 2 ** k, k);
    const raw = editRaws[i]!;
    w.writeBits(raw < 0 ? 0 : 1, 1);
    if (raw >= 0) writeRaw(w, raw, rawBits);
    previous = p;
  });
  const bits = w.finish();
  const out = new Uint8Array(header.length + bits.length);
  out.set(header);
  out.set(bits, header.length);
  return out;
}

function writeRaw(w: BitWriter, raw: number, rawBits: number): void {
  if (rawBits > 16) {
    w.writeBits(raw & 0xffff, 16);
    w.writeBits(raw >>> 16, rawBits - 16);
  } else {
    w.writeBits(raw, rawBits);
  }
}

/** Bit reader over the delta's bitstream (LSB first), bounded by c.end. */
class EditReader {
  private buffer = 0;
  private count = 0;
  constructor(private readonly c: ByteCursor) {}
  bit(): number {
    if (this.count === 0) {
      if (this.c.at >= this.c.end) throw new FormatError('TRUNCATED', `${this.c.what}: entry delta ends early`);
      this.buffer = this.c.bytes[this.c.at++]!;
      this.count = 8;
    }
    const b = this.buffer & 1;
    this.buffer >>>= 1;
    this.count--;
    return b;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v += this.bit() * 2 ** i;
    return v;
  }
}

/** Merges `source` with the delta at `c` into the target entries; `c` is left just past the delta. */
export function applyEntryDelta(source: RawEntries, c: ByteCursor, rawBits: number, elements: number, targetCount: number): RawEntries {
  const edits = readVarint(c);
  if (edits > elements) throw new FormatError('BAD_VALUE', `${c.what}: ${edits} edits for a tensor of ${elements} elements`);
  if (c.at >= c.end) throw new FormatError('TRUNCATED', `${c.what}: entry delta ends early`);
  const k = c.bytes[c.at++]!;
  if (k > MAX_RICE_K) throw new FormatError('BAD_VALUE', `${c.what}: Rice parameter ${k}`);
  // Each edit takes >= 2 bits and adds at most one entry: refuse counts the
  // delta cannot produce before allocating for them.
  if (edits > 4 * (c.end - c.at) || targetCount > source.count + edits) {
    throw new FormatError('BAD_VALUE', `${c.what}: ${edits} edits in ${c.end - c.at} bytes cannot make ${targetCount} entries from ${source.count}`);
  }
  const reader = new EditReader(c);
  const out: RawEntries = { count: 0, positions: new Uint32Array(targetCount), raws: new Uint32Array(targetCount) };
  const emit = (p: number, raw: number) => {
    if (out.count >= targetCount) throw new FormatError('BAD_VALUE', `${c.what}: entry delta makes more than the manifest's ${targetCount} entries`);
    out.positions[out.count] = p;
    out.raws[out.count++] = raw;
  };
  let s = 0;
  let previous = -1;
  for (let e = 0; e < edits; e++) {
    let q = 0;
    while (reader.bit() === 1) {
      q++;
      if (previous + 1 + q * 2 ** k >= elements) throw new FormatError('OUT_OF_BOUNDS', `${c.what}: edit position past the tensor's ${elements} elements`);
    }
    const p = previous + 1 + q * 2 ** k + reader.bits(k);
    if (p >= elements) throw new FormatError('OUT_OF_BOUNDS', `${c.what}: edit position ${p} past the tensor's ${elements} elements`);
    const set = reader.bit() === 1;
    const raw = set ? reader.bits(rawBits) : 0;
    while (s < source.count && source.positions[s]! < p) emit(source.positions[s]!, source.raws[s++]!);
    const present = s < source.count && source.positions[s] === p;
    if (present) s++;
    if (set) emit(p, raw);
    else if (!present) throw new FormatError('BAD_VALUE', `${c.what}: removes position ${p}, which the source does not hold`);
    previous = p;
  }
  while (s < source.count) emit(source.positions[s]!, source.raws[s++]!);
  if (out.count !== targetCount) throw new FormatError('BAD_VALUE', `${c.what}: entry delta makes ${out.count} entries, the manifest says ${targetCount}`);
  return out;
}

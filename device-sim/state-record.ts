// The flash state record: which slot is active, whether it is confirmed, and
// what each slot holds (version, length, SHA-256). Two copies live in two
// flash sectors and are written alternately with a rising sequence number; a
// CRC-32 over the record detects a torn write, so a cut while writing one
// copy leaves the other, older copy in force.
//
// Layout, little-endian, RECORD_BYTES long:
//   0  u32  magic "WGSR"
//   4  u16  layout version (1)
//   6  u8   active slot (0 = A, 1 = B, 0xff = none)
//   7  u8   confirmed (1) or on trial after a switch (0)
//   8  u32  sequence number
//  12  u8   previous slot (0, 1 or 0xff): where a failed trial goes back to
//  13  3 bytes zero
//  16  slot A: u32 version, u32 bytes, 32 bytes SHA-256   (40 bytes)
//  56  slot B: same
//  96  u32  CRC-32 of bytes 0..95
import { crc32 } from 'node:zlib';

export const RECORD_BYTES = 100;
const MAGIC = 0x52534757; // "WGSR" little-endian
const LAYOUT_VERSION = 1;
export const NO_SLOT = 0xff;

export interface SlotInfo {
  version: number;
  bytes: number;
  /** Lowercase hex, or '' when the slot holds nothing valid. */
  sha256: string;
}

export interface StateRecord {
  sequence: number;
  active: number;
  confirmed: boolean;
  previous: number;
  slots: [SlotInfo, SlotInfo];
}

export const EMPTY_SLOT: SlotInfo = { version: 0, bytes: 0, sha256: '' };

export function emptyState(): StateRecord {
  return { sequence: 0, active: NO_SLOT, confirmed: true, previous: NO_SLOT, slots: [EMPTY_SLOT, EMPTY_SLOT] };
}

export function encodeStateRecord(state: StateRecord): Uint8Array {
  const bytes = new Uint8Array(RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, LAYOUT_VERSION, true);
  view.setUint8(6, state.active);
  view.setUint8(7, state.confirmed ? 1 : 0);
  view.setUint32(8, state.sequence >>> 0, true);
  view.setUint8(12, state.previous);
  state.slots.forEach((slot, i) => {
    const at = 16 + i * 40;
    view.setUint32(at, slot.version >>> 0, true);
    view.setUint32(at + 4, slot.bytes >>> 0, true);
    if (slot.sha256) bytes.set(Buffer.from(slot.sha256, 'hex'), at + 8);
  });
  view.setUint32(96, crc32(bytes.subarray(0, 96)) >>> 0, true);
  return bytes;
}

/** The record, or null when the bytes are missing, torn or not a record. */
export function decodeStateRecord(bytes: Uint8Array | null): StateRecord | null {
  if (!bytes || bytes.length !== RECORD_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC || view.getUint16(4, true) !== LAYOUT_VERSION) return null;
  if (view.getUint32(96, true) !== crc32(bytes.subarray(0, 96)) >>> 0) return null;
  const active = view.getUint8(6);
  const previous = view.getUint8(12);
  if ((active > 1 && active !== NO_SLOT) || (previous > 1 && previous !== NO_SLOT)) return null;
  const slot = (i: number): SlotInfo => {
    const at = 16 + i * 40;
    const hash = bytes.subarray(at + 8, at + 40);
    const empty = hash.every((b) => b === 0);
    return {
      version: view.getUint32(at, true),
      bytes: view.getUint32(at + 4, true),
      sha256: empty ? '' : Buffer.from(hash).toString('hex'),
    };
  };
  return {
    sequence: view.getUint32(8, true),
    active,
    confirmed: view.getUint8(7) === 1,
    previous,
    slots: [slot(0), slot(1)],
  };
}

/** The newer of the two copies that decode; null when neither does (a blank device). */
export function pickStateRecord(copies: Array<StateRecord | null>): StateRecord | null {
  let best: StateRecord | null = null;
  for (const copy of copies) if (copy && (!best || copy.sequence > best.sequence)) best = copy;
  return best;
}

// Unsigned LEB128 varints (as in protobuf), bounded to 32-bit values, over a
// byte cursor that never reads past its end.
import { FormatError } from '../errors.ts';

export function writeVarint(out: number[], value: number): void {
  let v = value >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

export interface ByteCursor {
  bytes: Uint8Array;
  at: number;
  end: number;
  what: string;
}

export function readVarint(c: ByteCursor): number {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (c.at >= c.end) throw new FormatError('TRUNCATED', `${c.what}: varint runs past the end`);
    const byte = c.bytes[c.at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) {
      if (value > 0xffffffff) break;
      return value;
    }
  }
  throw new FormatError('BAD_VALUE', `${c.what}: invalid varint (over 32 bits)`);
}

export function readBytes(c: ByteCursor, length: number): Uint8Array {
  if (length > c.end - c.at) throw new FormatError('TRUNCATED', `${c.what}: ${length} bytes needed, ${c.end - c.at} left`);
  const out = c.bytes.subarray(c.at, c.at + length);
  c.at += length;
  return out;
}

// A FlatBuffers verifier: the TypeScript runtime has none (an out-of-range
// read returns garbage and a forged length can loop for 2^31), so every
// offset, vtable, vector length and string of a buffer is checked against the
// buffer and against caps here, before any generated accessor runs.
//
// Binary layout rules from the FlatBuffers spec ("FlatBuffers internals"):
// a buffer starts with a uoffset (u32) to the root table, then the 4-byte
// file identifier; a table starts with an soffset (i32) back to its vtable;
// a vtable is [u16 vtable bytes, u16 table bytes, u16 field offsets...];
// a vector or string is [u32 length, elements...] (strings NUL-terminated).
import { FormatError } from '../errors.ts';
import { MAX_DEPTH, MAX_FILE_BYTES } from '../caps.ts';

export type FieldSpec =
  | { slot: number; name: string; kind: 'scalar'; size: number }
  | { slot: number; name: string; kind: 'string'; maxBytes: number }
  | { slot: number; name: string; kind: 'vector'; elementSize: number; maxLength: number }
  | { slot: number; name: string; kind: 'table'; table: TableSpec }
  | { slot: number; name: string; kind: 'tables'; table: TableSpec; maxLength: number };

export interface TableSpec {
  name: string;
  fields: FieldSpec[];
}

interface VerifyContext {
  bytes: Uint8Array;
  view: DataView;
  what: string;
}

/** Checks a whole buffer (root, identifier, every reachable table) against `spec`. */
export function verifyBuffer(bytes: Uint8Array, identifier: string, spec: TableSpec, what: string): void {
  if (bytes.length > MAX_FILE_BYTES) {
    throw new FormatError('TOO_LARGE', `${what}: ${bytes.length} bytes is over the ${MAX_FILE_BYTES}-byte cap`);
  }
  if (bytes.length < 8) {
    throw new FormatError('TRUNCATED', `${what}: ${bytes.length} bytes is too short for a FlatBuffer (needs >= 8); the file is cut off`);
  }
  for (let i = 0; i < 4; i++) {
    if (bytes[4 + i] !== identifier.charCodeAt(i)) {
      const found = String.fromCharCode(...bytes.subarray(4, 8)).replace(/[^\x20-\x7e]/g, '?');
      throw new FormatError('BAD_IDENTIFIER', `${what}: file identifier is "${found}", expected "${identifier}"; is this the right kind of file?`);
    }
  }
  const ctx: VerifyContext = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), what };
  const root = ctx.view.getUint32(0, true);
  verifyTable(ctx, root, spec, 1);
}

function outOfBounds(ctx: VerifyContext, where: string, detail: string): FormatError {
  const truncatedHint = ' (the file is truncated or damaged)';
  return new FormatError('OUT_OF_BOUNDS', `${ctx.what}: ${where}: ${detail}${truncatedHint}`);
}

function verifyTable(ctx: VerifyContext, pos: number, spec: TableSpec, depth: number): void {
  const { view, bytes } = ctx;
  if (depth > MAX_DEPTH) throw new FormatError('TOO_LARGE', `${ctx.what}: ${spec.name} nested deeper than ${MAX_DEPTH}`);
  if (pos + 4 > bytes.length) throw outOfBounds(ctx, spec.name, `table at ${pos} past the end (${bytes.length} bytes)`);
  const vtable = pos - view.getInt32(pos, true);
  if (vtable < 0 || vtable + 4 > bytes.length) throw outOfBounds(ctx, spec.name, `vtable at ${vtable} outside the buffer`);
  if ((vtable & 1) !== 0) throw outOfBounds(ctx, spec.name, `vtable at ${vtable} is misaligned`);
  const vtableBytes = view.getUint16(vtable, true);
  const tableBytes = view.getUint16(vtable + 2, true);
  if (vtableBytes < 4 || (vtableBytes & 1) !== 0 || vtable + vtableBytes > bytes.length) {
    throw outOfBounds(ctx, spec.name, `vtable size ${vtableBytes} at ${vtable} is invalid`);
  }
  if (tableBytes < 4 || pos + tableBytes > bytes.length) {
    throw outOfBounds(ctx, spec.name, `table size ${tableBytes} at ${pos} runs past the end`);
  }
  for (const field of spec.fields) {
    const entry = 4 + 2 * field.slot;
    if (entry + 2 > vtableBytes) continue; // field absent: default value
    const offset = view.getUint16(vtable + entry, true);
    if (offset === 0) continue;
    const where = `${spec.name}.${field.name}`;
    const size = field.kind === 'scalar' ? field.size : 4;
    if (offset < 4 || offset + size > tableBytes) throw outOfBounds(ctx, where, `field offset ${offset} outside its ${tableBytes}-byte table`);
    const fieldPos = pos + offset;
    if (field.kind === 'scalar') continue;
    const target = fieldPos + view.getUint32(fieldPos, true);
    if (field.kind === 'table') {
      verifyTable(ctx, target, field.table, depth + 1);
      continue;
    }
    const elementSize = field.kind === 'string' ? 1 : field.kind === 'vector' ? field.elementSize : 4;
    const maxLength = field.kind === 'string' ? field.maxBytes : field.maxLength;
    const length = verifyVector(ctx, target, elementSize, maxLength, where);
    if (field.kind === 'string') {
      if (target + 4 + length >= bytes.length || bytes[target + 4 + length] !== 0) {
        throw outOfBounds(ctx, where, `string of ${length} bytes at ${target} has no NUL terminator`);
      }
    } else if (field.kind === 'tables') {
      for (let i = 0; i < length; i++) {
        const element = target + 4 + 4 * i;
        verifyTable(ctx, element + view.getUint32(element, true), field.table, depth + 1);
      }
    }
  }
}

/** Checks one vector's length against the buffer and its cap; returns the length. */
function verifyVector(ctx: VerifyContext, pos: number, elementSize: number, maxLength: number, where: string): number {
  if (pos + 4 > ctx.bytes.length) throw outOfBounds(ctx, where, `vector at ${pos} past the end (${ctx.bytes.length} bytes)`);
  const length = ctx.view.getUint32(pos, true);
  if (length > maxLength) {
    throw new FormatError('TOO_LARGE', `${ctx.what}: ${where}: ${length} elements is over the cap of ${maxLength}`);
  }
  if (pos + 4 + length * elementSize > ctx.bytes.length) {
    throw outOfBounds(ctx, where, `vector of ${length} x ${elementSize} bytes at ${pos} runs past the end (${ctx.bytes.length} bytes)`);
  }
  return length;
}

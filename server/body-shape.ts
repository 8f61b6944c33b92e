// Structural checks of a request body before it is decoded: a decoder that
// recurses (JSON.parse, msgpackr, and zod after them) must never see a body
// nested deeper than any request of this API, and a MessagePack body must be
// exactly one well-formed value with no reserved byte (0xC1) and no
// extension types (the API has none). Both walks are iterative and linear in
// the body's length.
import { badRequest } from './http-error.ts';

/** Deeper than any request body of the API (the deepest is 2: an object holding an array). */
export const MAX_BODY_DEPTH = 16;

/** Throws 400 BAD_BODY when the JSON text nests arrays/objects deeper than `maxDepth`. */
export function checkJsonDepth(bytes: Uint8Array, maxDepth = MAX_BODY_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: skip the escaped character
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) {
      inString = true;
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > maxDepth) throw tooDeep(maxDepth);
    } else if (b === 0x5d || b === 0x7d) {
      depth--;
    }
  }
}

function tooDeep(maxDepth: number) {
  return badRequest('BAD_BODY', `request body is nested more than ${maxDepth} levels deep; no request of this API needs that`);
}

function badMsgpack(why: string) {
  return badRequest('BAD_BODY', `request body is not valid MessagePack: ${why}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Throws 400 BAD_BODY unless `bytes` is exactly one MessagePack value, nested
 * at most `maxDepth` deep, without the reserved byte 0xC1 or extension types,
 * whose strings are valid UTF-8 (a decoder would otherwise store U+FFFD or
 * lone surrogates in their place).
 */
export function checkMsgpack(bytes: Uint8Array, maxDepth = MAX_BODY_DEPTH): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  /** Values still to read in each enclosing container. */
  const open: number[] = [];
  let expected = 1;
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw badMsgpack(`it ends ${pos + n - bytes.length} byte(s) early, at offset ${bytes.length}`);
  };
  for (;;) {
    while (expected === 0 && open.length > 0) expected = open.pop()!;
    if (expected === 0) break;
    need(1);
    const at = pos;
    const b = bytes[pos++]!;
    expected--;
    let items = -1;
    let skip = 0;
    const isString = (b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb;
    if (b <= 0x7f || b >= 0xe0) {
      // positive or negative fixint
    } else if (b <= 0x8f) {
      items = (b & 0x0f) * 2;
    } else if (b <= 0x9f) {
      items = b & 0x0f;
    } else if (b <= 0xbf) {
      skip = b & 0x1f;
    } else {
      switch (b) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          break;
        case 0xc1:
          throw badMsgpack(`the reserved byte 0xC1 (never used by MessagePack) at offset ${at}`);
        case 0xc4:
        case 0xd9:
          need(1);
          skip = bytes[pos]!;
          pos += 1;
          break;
        case 0xc5:
        case 0xda:
          need(2);
          skip = view.getUint16(pos);
          pos += 2;
          break;
        case 0xc6:
        case 0xdb:
          need(4);
          skip = view.getUint32(pos);
          pos += 4;
          break;
        case 0xca:
          skip = 4;
          break;
        case 0xcb:
          skip = 8;
          break;
        case 0xcc:
        case 0xd0:
          skip = 1;
          break;
        case 0xcd:
        case 0xd1:
          skip = 2;
          break;
        case 0xce:
        case 0xd2:
          skip = 4;
          break;
        case 0xcf:
        case 0xd3:
          skip = 8;
          break;
        case 0xdc:
          need(2);
          items = view.getUint16(pos);
          pos += 2;
          break;
        case 0xdd:
          need(4);
          items = view.getUint32(pos);
          pos += 4;
          break;
        case 0xde:
          need(2);
          items = view.getUint16(pos) * 2;
          pos += 2;
          break;
        case 0xdf:
          need(4);
          items = view.getUint32(pos) * 2;
          pos += 4;
          break;
        default:
          // 0xc7-0xc9 ext 8/16/32, 0xd4-0xd8 fixext
          throw badMsgpack(`an extension type (byte 0x${b.toString(16)} at offset ${at}); this API takes plain maps, arrays, strings and numbers`);
      }
    }
    need(skip);
    if (isString && skip > 0) {
      try {
        utf8.decode(bytes.subarray(pos, pos + skip));
      } catch {
        throw badMsgpack(`the string at offset ${at} is not valid UTF-8`);
      }
    }
    pos += skip;
    if (items >= 0) {
      if (open.length + 1 > maxDepth) throw tooDeep(maxDepth);
      // Every item takes at least one byte: a count beyond the rest of the body is a lie.
      if (items > bytes.length - pos) throw badMsgpack(`a container at offset ${at} declares ${items} items but only ${bytes.length - pos} bytes follow`);
      open.push(expected);
      expected = items;
    }
  }
  if (pos !== bytes.length) throw badMsgpack(`${bytes.length - pos} byte(s) follow the value (at offset ${pos}); send exactly one value`);
}

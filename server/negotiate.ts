// Response encoding: JSON by default, MessagePack when the client asks for it
// with `Accept: application/msgpack` (compact manifests for devices). Request
// bodies may be either, by Content-Type.
import type { Context } from 'hono';
import { Packr } from 'msgpackr';
import { badRequest } from './http-error.ts';
import { checkJsonDepth, checkMsgpack } from './body-shape.ts';

export const MSGPACK = 'application/msgpack';

// useRecords: false keeps the output plain MessagePack maps that any decoder reads.
const packr = new Packr({ useRecords: false });

export function wantsMsgpack(c: Context): boolean {
  const accept = c.req.header('accept');
  return accept !== undefined && accept.includes(MSGPACK);
}

/** Sends `value` as JSON or MessagePack, as the request's Accept header asks. */
export function reply(c: Context, value: unknown, status: 200 | 201 = 200): Response {
  if (wantsMsgpack(c)) {
    return c.body(asBody(packr.pack(value)), status, { 'Content-Type': MSGPACK });
  }
  return c.json(value as object, status);
}

export function encodeBody(value: unknown, msgpack: boolean): { body: Uint8Array<ArrayBuffer> | string; type: string } {
  return msgpack ? { body: asBody(packr.pack(value)), type: MSGPACK } : { body: JSON.stringify(value), type: 'application/json' };
}

/**
 * Reads a JSON or MessagePack request body; a body that does not parse is a
 * 400. The body's shape is checked (depth, MessagePack well-formedness)
 * before a recursive decoder sees it, and the decoder's own message, which
 * can name its internals, is not passed on.
 */
export async function readBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  const raw = new Uint8Array(await c.req.arrayBuffer());
  if (raw.byteLength === 0) return {};
  if (type.includes(MSGPACK)) {
    checkMsgpack(raw);
    try {
      return packr.unpack(raw);
    } catch {
      throw badRequest('BAD_BODY', 'request body is not valid MessagePack; send one map of the fields /openapi.json lists');
    }
  }
  checkJsonDepth(raw);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw badRequest('BAD_BODY', 'request body is not valid UTF-8; send JSON (Content-Type: application/json) or MessagePack (application/msgpack)');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('BAD_BODY', 'request body is not valid JSON; send one JSON object of the fields /openapi.json lists, or MessagePack with Content-Type: application/msgpack');
  }
}

export function unpack(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** TypeScript's DOM types want an ArrayBuffer-backed view as a body; ours always are (never SharedArrayBuffer). */
export function asBody(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

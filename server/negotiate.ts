// Response encoding: JSON by default, MessagePack when the client asks for it
// with `Accept: application/msgpack` (compact manifests for devices). Request
// bodies may be either, by Content-Type.
import type { Context } from 'hono';
import { Packr } from 'msgpackr';
import { badRequest } from './http-error.ts';

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

/** Reads a JSON or MessagePack request body; a body that does not parse is a 400. */
export async function readBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  const raw = new Uint8Array(await c.req.arrayBuffer());
  if (raw.byteLength === 0) return {};
  try {
    if (type.includes(MSGPACK)) return packr.unpack(raw);
    return JSON.parse(new TextDecoder().decode(raw));
  } catch (error) {
    throw badRequest('BAD_BODY', `request body is not valid ${type.includes(MSGPACK) ? 'MessagePack' : 'JSON'}: ${(error as Error).message}`);
  }
}

export function unpack(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** TypeScript's DOM types want an ArrayBuffer-backed view as a body; ours always are (never SharedArrayBuffer). */
export function asBody(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

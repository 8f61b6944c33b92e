// Response encoding: JSON by default, MessagePack when the client asks for it
// with `Accept: application/msgpack` (compact manifests for devices). Request
// bodies may be either, by Content-Type.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { Packr } from 'msgpackr';
import { badRequest } from './http-error.ts';
import { checkJsonDepth, checkMsgpack } from './body-shape.ts';

export const MSGPACK = 'application/msgpack';

// useRecords: false keeps the output plain MessagePack maps that any decoder reads.
const packr = new Packr({ useRecords: false });

/**
 * Whether the Accept header prefers MessagePack to JSON (RFC 9110 §12.5.1):
 * each media range with its q-value; the most specific range that matches a
 * type decides its q. MessagePack only when it is acceptable (q > 0) and not
 * less preferred than JSON; JSON otherwise (also when neither is acceptable).
 */
export function wantsMsgpack(c: Context): boolean {
  const accept = c.req.header('accept');
  if (accept === undefined || !accept.includes(MSGPACK)) return false;
  const ranges = parseAccept(accept);
  const msgpack = qualityOf(ranges, 'application', 'msgpack');
  return msgpack > 0 && msgpack >= qualityOf(ranges, 'application', 'json');
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [media, ...params] = part.split(';');
    const [type, subtype] = (media ?? '').trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((x) => x.trim().toLowerCase());
      if (name === 'q') {
        const parsed = Number(value);
        q = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 0;
      }
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** The q of the most specific range matching type/subtype; 0 when none does. */
function qualityOf(ranges: MediaRange[], type: string, subtype: string): number {
  let best = -1;
  let q = 0;
  for (const range of ranges) {
    const specificity =
      range.type === type && range.subtype === subtype
        ? 2
        : range.type === type && range.subtype === '*'
          ? 1
          : range.type === '*' && range.subtype === '*'
            ? 0
            : -1;
    if (specificity > best) {
      best = specificity;
      q = range.q;
    }
  }
  return q;
}

/**
 * Headers of every negotiated answer: it varies with Accept, and it is for
 * its caller only and may change at any time (tokens, licenses, update-check).
 */
export const NEGOTIATED_HEADERS = { Vary: 'Accept', 'Cache-Control': 'no-store' } as const;

/** Sends `value` as JSON or MessagePack, as the request's Accept header asks. */
export function reply(c: Context, value: unknown, status: 200 | 201 = 200): Response {
  if (wantsMsgpack(c)) {
    return c.body(asBody(packr.pack(value)), status, { ...NEGOTIATED_HEADERS, 'Content-Type': MSGPACK });
  }
  return c.json(value as object, status, NEGOTIATED_HEADERS);
}

export function encodeBody(value: unknown, msgpack: boolean): { body: Uint8Array<ArrayBuffer> | string; type: string } {
  return msgpack ? { body: asBody(packr.pack(value)), type: MSGPACK } : { body: JSON.stringify(value), type: 'application/json' };
}

/** The body's length from Content-Length, or null when it is not declared (or chunked); limitBody has checked it. */
export function declaredLength(c: Context): number | null {
  const length = c.req.header('content-length');
  if (length === undefined || c.req.header('transfer-encoding') !== undefined || !/^\d+$/.test(length)) return null;
  return Number(length);
}

/**
 * A body of declared length, read straight from Node's request: the web
 * Request and stream the adapter would otherwise build for it cost a
 * device's install report more CPU than the rest of its handling. Node's
 * parser delivers exactly Content-Length bytes.
 */
async function readIncoming(incoming: IncomingMessage, length: number): Promise<Uint8Array> {
  const body = new Uint8Array(length);
  let offset = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    if (offset + chunk.byteLength > length) throw badRequest('BAD_BODY', `the body is longer than its Content-Length of ${length} bytes`);
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== length) throw badRequest('BAD_BODY', `the body ended after ${offset} of its ${length} bytes`);
  return body;
}

/**
 * Reads a JSON or MessagePack request body; a body that does not parse is a
 * 400. The body's shape is checked (depth, MessagePack well-formedness)
 * before a recursive decoder sees it, and the decoder's own message, which
 * can name its internals, is not passed on.
 */
export async function readBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const declared = declaredLength(c);
  const raw = incoming && declared !== null && !incoming.readableEnded ? await readIncoming(incoming, declared) : new Uint8Array(await c.req.arrayBuffer());
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
    throw badRequest(
      'BAD_BODY',
      'request body is not valid JSON; send one JSON object of the fields /openapi.json lists, or MessagePack with Content-Type: application/msgpack',
    );
  }
}

export function unpack(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** TypeScript's DOM types want an ArrayBuffer-backed view as a body; ours always are (never SharedArrayBuffer). */
export function asBody(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

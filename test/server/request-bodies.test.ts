// API request bodies through the real HTTP server: a body with a declared
// Content-Length is read straight from Node's request, a chunked one through
// the adapter's stream; both are parsed alike, and both are refused with 413
// past the API limit, before any handler runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { startServer, type RunningServer } from '../../server/start.ts';
import { DEFAULT_MAX_JSON_BODY_BYTES } from '../../server/app.ts';

const ADMIN = 'request-bodies-admin-token-01234';
let server: RunningServer;
let work: string;

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'wg-bodies-'));
  server = await startServer({ port: 0, dataDir: join(work, 'db'), adminToken: ADMIN, log: () => undefined });
});
test.after(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

/** A body sent in chunks (Transfer-Encoding: chunked, no Content-Length). */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.subarray(i, i + 1000));
      controller.close();
    },
  });
}

async function post(body: Uint8Array | ReadableStream<Uint8Array>, type = 'application/json') {
  const response = await fetch(`${server.url}/v1/customers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': type },
    body,
    duplex: 'half',
  } as RequestInit);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

test('a body with Content-Length and a chunked one are read alike (JSON and MessagePack)', async () => {
  const declared = await post(json({ name: 'declared' }));
  assert.is(declared.status, 201, JSON.stringify(declared.body));
  assert.is(declared.body.name, 'declared');
  // An empty chunked body is an empty object: the handler names what is missing.
  const empty = await post(chunked(new Uint8Array(0)));
  assert.is(empty.status, 400, JSON.stringify(empty.body));
  const longer = await post(chunked(json({ name: 'chunked', padding: 'y'.repeat(5000) })));
  assert.is(longer.status, 201, JSON.stringify(longer.body));
  assert.is(longer.body.name, 'chunked');
  const packed = await post(new Uint8Array(pack({ name: 'packed' })), 'application/msgpack');
  assert.is(packed.status, 201, JSON.stringify(packed.body));
  assert.is(packed.body.name, 'packed');
});

test('past the API limit: 413 whether the length is declared or streamed', async () => {
  const big = json({ name: 'big', padding: 'z'.repeat(DEFAULT_MAX_JSON_BODY_BYTES) });
  const declared = await post(big);
  assert.is(declared.status, 413);
  assert.is(declared.body.code, 'BODY_TOO_LARGE');
  const streamed = await post(chunked(big));
  assert.is(streamed.status, 413);
  assert.is(streamed.body.code, 'BODY_TOO_LARGE');
  const malformed = await post(new TextEncoder().encode('{"name": '));
  assert.is(malformed.status, 400);
  assert.is(malformed.body.code, 'BAD_BODY');
});

test.run();

// The node:http fast path answers only what the Hono route would answer the
// same way: identical bytes and headers on a cache hit, and a fall-through
// (false) on anything it cannot decide from cache — including refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openDatabase } from '../../server/db/connect.ts';
import { buildApp } from '../../server/app.ts';
import { ensureAdminToken } from '../../server/auth.ts';
import { createFastContentHandler } from '../../server/fast-content.ts';
import { ADMIN_TOKEN } from './harness.ts';
import { publisherKeys, signedTiny } from './fixtures.ts';

function fakeRequest(url: string, token: string, headers: Record<string, string> = {}): IncomingMessage {
  return { method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } } as unknown as IncomingMessage;
}

function fakeResponse() {
  const sent: { status?: number; headers?: Record<string, unknown>; body?: Uint8Array } = {};
  const res = {
    writeHead(status: number, headers: Record<string, unknown> | string[]) {
      sent.status = status;
      if (Array.isArray(headers)) {
        sent.headers = {};
        for (let i = 0; i < headers.length; i += 2) sent.headers[headers[i]!] = headers[i + 1];
      } else {
        sent.headers = headers;
      }
    },
    end(body: Uint8Array) {
      sent.body = body;
    },
  } as unknown as ServerResponse;
  return { res, sent };
}

test('fast path: same bytes and headers as Hono on a hit; falls through on misses and refusals', async () => {
  const database = await openDatabase({});
  try {
    await ensureAdminToken(database.db, ADMIN_TOKEN);
    const { app, ctx } = buildApp({ db: database.db });
    const fast = createFastContentHandler(ctx);
    const call = async (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body instanceof Uint8Array) headers['content-type'] = 'application/octet-stream';
      else if (body !== undefined) headers['content-type'] = 'application/json';
      return app.request(path, {
        method,
        headers,
        body: body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : body === undefined ? undefined : JSON.stringify(body),
      });
    };
    await call('POST', '/v1/publisher-keys', { publicKey: publisherKeys.publicKeyPem, label: 'k' });
    assert.is((await call('POST', '/v1/versions', signedTiny(1))).status, 201);
    const customer = await (await call('POST', '/v1/customers', { name: 'c' })).json();
    const license = await (await call('POST', '/v1/licenses', { customerId: customer.id, model: 'tiny', tier: 'silver' })).json();
    const { token } = await (await call('POST', '/v1/devices', { licenseId: license.id, name: 'd' })).json();
    const update = await (await call('GET', '/v1/device/update-check?version=0', undefined, token)).json();
    const url = update.artifact.url as string;

    // Cold caches for this token: the fast path declines and Hono answers (and warms them).
    const unknownToken = fakeResponse();
    assert.is(fast(fakeRequest(url, 'wgd_not-a-real-token'), unknownToken.res), false);
    const viaHono = await call('GET', url, undefined, token);
    const honoBytes = new Uint8Array(await viaHono.arrayBuffer());

    const hit = fakeResponse();
    assert.is(fast(fakeRequest(url, token), hit.res), true);
    assert.is(hit.sent.status, 200);
    assert.equal(new Uint8Array(hit.sent.body!), honoBytes);
    for (const name of ['ETag', 'Cache-Control', 'Accept-Ranges', 'Content-Type', 'Content-Length']) {
      assert.is(String(hit.sent.headers![name]), viaHono.headers.get(name), name);
    }

    // Range and conditional requests are Hono's.
    assert.is(fast(fakeRequest(url, token, { range: 'bytes=0-1' }), fakeResponse().res), false);
    assert.is(fast(fakeRequest(url, token, { 'if-none-match': '"x"' }), fakeResponse().res), false);

    // After a revocation on this server the fast path declines and Hono refuses with the reason.
    await call('POST', `/v1/licenses/${license.id}/revoke`);
    await call('GET', '/v1/customers'); // re-warm the admin token only
    const afterRevoke = fakeResponse();
    await call('GET', url, undefined, token); // reloads the (now revoked) license into the cache
    assert.is(fast(fakeRequest(url, token), afterRevoke.res), false);
    assert.is(afterRevoke.sent.body, undefined);
    const refused = await call('GET', url, undefined, token);
    assert.is(refused.status, 403);
    assert.is((await refused.json()).code, 'LICENSE_REVOKED');
  } finally {
    await database.close();
  }
});

test.run();

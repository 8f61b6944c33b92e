// HTTP semantics of downloads and negotiated answers (RFC 9110): If-Range,
// HEAD with Range, If-Match, 405 with Allow, Vary: Accept and q-values, 304
// without Content-Type, Cache-Control on update-check.
import * as assert from 'uvu/assert';
import { driverSuites } from './harness.ts';
import { licensedDevice, publish, registerPublisherKey, signedTiny, type Fleet } from './fixtures.ts';

for (const s of driverSuites('server HTTP semantics')) {
  let fleet: Fleet;
  let url: string;
  let sha: string;
  let size: number;

  s('setup', async ({ h }) => {
    await registerPublisherKey(h);
    assert.is((await publish(h, signedTiny(1))).status, 201);
    fleet = await licensedDevice(h, { tier: 'gold', kind: 'dynamic' });
    const r = await h.json('GET', '/v1/device/update-check?version=0', { token: fleet.token });
    url = r.body.artifact.url;
    sha = r.body.artifact.sha256;
    size = r.body.artifact.bytes;
  });

  s('If-Range: only the current strong ETag gives 206; anything else the whole body (200)', async ({ h }) => {
    const get = (ifRange: string) => h.call('GET', url, { token: fleet.token, headers: { range: 'bytes=0-9', 'if-range': ifRange } });
    assert.is((await get(`"${sha}"`)).status, 206);
    for (const other of [`"${'0'.repeat(64)}"`, `W/"${sha}"`, 'Wed, 21 Oct 2015 07:28:00 GMT', 'garbage']) {
      const r = await get(other);
      assert.is(r.status, 200, `If-Range ${other}`);
      assert.is(r.headers.get('content-range'), null);
      assert.is((await r.arrayBuffer()).byteLength, size);
    }
  });

  s('HEAD ignores Range: 200 with the full length and no body', async ({ h }) => {
    const r = await h.call('HEAD', url, { token: fleet.token, headers: { range: 'bytes=0-9' } });
    assert.is(r.status, 200);
    assert.is(r.headers.get('content-length'), String(size));
    assert.is(r.headers.get('content-range'), null);
    assert.is((await r.arrayBuffer()).byteLength, 0);
  });

  s('If-Match: a mismatch is 412, a match or * serves', async ({ h }) => {
    const get = (ifMatch: string, extra: Record<string, string> = {}) => h.call('GET', url, { token: fleet.token, headers: { 'if-match': ifMatch, ...extra } });
    const miss = await get(`"${'1'.repeat(64)}"`);
    assert.is(miss.status, 412);
    assert.is((await miss.json()).code, 'PRECONDITION_FAILED');
    assert.is((await get(`W/"${sha}"`)).status, 412, 'If-Match compares strongly');
    assert.is((await get(`"${sha}"`)).status, 200);
    assert.is((await get('*')).status, 200);
    assert.is((await get(`"x", "${sha}"`, { range: 'bytes=0-3' })).status, 206);
  });

  s('304 carries ETag and Cache-Control but no Content-Type', async ({ h }) => {
    const r = await h.call('GET', url, { token: fleet.token, headers: { 'if-none-match': `"${sha}"` } });
    assert.is(r.status, 304);
    assert.is(r.headers.get('content-type'), null);
    assert.is(r.headers.get('etag'), `"${sha}"`);
    assert.ok(r.headers.get('cache-control'));
  });

  s('a known path with the wrong method is 405 with Allow', async ({ h }) => {
    for (const [method, path, allow] of [
      ['DELETE', `/v1/licenses/${fleet.licenseId}`, 'GET, HEAD'],
      ['PUT', '/v1/customers', 'GET, HEAD, POST'],
      ['GET', `/v1/licenses/${fleet.licenseId}/revoke`, 'POST'],
      ['POST', url, 'GET, HEAD'],
      ['PATCH', '/v1/device/update-check', 'GET, HEAD'],
    ] as const) {
      const r = await h.json(method, path);
      assert.is(r.status, 405, `${method} ${path}: ${r.status}`);
      assert.is(r.headers.get('allow'), allow, `${method} ${path}`);
      assert.is(r.body.code, 'METHOD_NOT_ALLOWED');
    }
    assert.is((await h.json('GET', '/v1/nothing-here')).status, 404);
  });

  s('negotiated answers say Vary: Accept and honour q-values', async ({ h }) => {
    const kind = async (accept: string) => {
      const r = await h.call('GET', '/v1/customers', { headers: { accept } });
      assert.match(r.headers.get('vary') ?? '', /accept/i, `Vary for ${accept}`);
      return r.headers.get('content-type') ?? '';
    };
    assert.match(await kind('application/msgpack'), 'msgpack');
    assert.match(await kind('application/msgpack;q=0'), 'json');
    assert.match(await kind('application/msgpack; q=0.0, application/json'), 'json');
    assert.match(await kind('application/json;q=0.5, application/msgpack;q=0.9'), 'msgpack');
    assert.match(await kind('application/json, application/msgpack;q=0.5'), 'json');
    assert.match(await kind('*/*'), 'json');
    const error = await h.call('GET', '/v1/customers', { token: 'nope', headers: { accept: 'application/msgpack' } });
    assert.match(error.headers.get('vary') ?? '', /accept/i);
  });

  s('update-check answers are not stored by any cache', async ({ h }) => {
    const r = await h.call('GET', '/v1/device/update-check?version=0', { token: fleet.token });
    assert.is(r.status, 200);
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
  });

  s.run();
}

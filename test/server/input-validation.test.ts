// Hostile input: every malformed value is a 400 that names the problem (never
// a 500, never an internal message), and a refused request changes nothing:
// no row, no audit entry.
import * as assert from 'uvu/assert';
import { sql } from 'drizzle-orm';
import { encodeArtifact } from '../../formats/index.ts';
import { driverSuites, type Harness } from './harness.ts';
import { licensedDevice, publish, publisherKeys, registerPublisherKey, signedTiny, tinyModel, type Fleet } from './fixtures.ts';
import { rowsOf } from '../../server/store/publish.ts';

const TABLES = ['customers', 'licenses', 'devices', 'api_tokens', 'publisher_keys', 'models', 'versions', 'audit_log'];

export async function rowCounts(h: Harness): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    counts[table] = Number(rowsOf(await h.database.db.execute(sql.raw(`select count(*)::int as n from ${table}`)))[0]!.n);
  }
  return counts;
}

const INTERNAL = /stack|Failed query|at \w+ \(|\bpostgres\b|PGlite|drizzle|TypeError|RangeError|SyntaxError|error:[0-9A-F]{8}|Unexpected token/i;

/** A 400 with a readable message that leaks no internals, and no row changed. */
async function assertRefused(h: Harness, method: string, path: string, options: Parameters<Harness['call']>[2] = {}, hint?: RegExp) {
  const before = await rowCounts(h);
  const r = await h.json(method, path, options);
  assert.is(r.status, 400, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  assert.type(r.body.code, 'string');
  assert.ok(r.body.message.length > 10, r.body.message);
  assert.not.match(r.body.message, INTERNAL, `the message leaks internals: ${r.body.message}`);
  if (hint) assert.match(r.body.message, hint);
  assert.equal(await rowCounts(h), before, `${method} ${path} changed the database`);
  return r;
}

for (const s of driverSuites('server input validation')) {
  let fleet: Fleet;

  s('setup', async ({ h }) => {
    await registerPublisherKey(h);
    assert.is((await publish(h, signedTiny(1))).status, 201);
    fleet = await licensedDevice(h, { tier: 'bronze', kind: 'dynamic' });
  });

  s('ids and versions above 2^31 - 1 are 400s, not 500s', async ({ h }) => {
    await assertRefused(h, 'GET', '/v1/licenses/2147483648');
    await assertRefused(h, 'POST', '/v1/licenses/99999999999/revoke');
    await assertRefused(h, 'POST', '/v1/tokens/2147483648/revoke');
    await assertRefused(h, 'GET', '/v1/devices?licenseId=2147483648');
    await assertRefused(h, 'POST', '/v1/models/tiny/versions/2147483648/withdraw');
    await assertRefused(h, 'GET', '/v1/device/update-check?version=99999999999', { token: fleet.token });
    await assertRefused(h, 'POST', '/v1/licenses', { json: { customerId: 2 ** 31, model: 'tiny', tier: 'gold' } });
    await assertRefused(h, 'POST', '/v1/devices', { json: { licenseId: 2 ** 40, name: 'x' } });
  });

  s('a signed artifact with a version above 2^31 - 1 is refused, saying why', async ({ h }) => {
    const huge = encodeArtifact(tinyModel(2 ** 31), { privateKey: publisherKeys.privateKeyPem });
    await assertRefused(h, 'POST', '/v1/versions', { bytes: huge }, /2147483647/);
    const max = encodeArtifact(tinyModel(2 ** 32 - 1), { privateKey: publisherKeys.privateKeyPem });
    await assertRefused(h, 'POST', '/v1/versions', { bytes: max }, /2147483647/);
  });

  s('NUL characters and lone surrogates in text fields: 400 and no change', async ({ h }) => {
    for (const bad of ['a\u0000b', 'x\ud800', '\udfffy']) {
      await assertRefused(h, 'POST', '/v1/customers', { json: { name: bad } });
      await assertRefused(h, 'POST', '/v1/tokens', { json: { role: 'publisher', label: bad } });
      await assertRefused(h, 'POST', '/v1/devices', { json: { licenseId: fleet.licenseId, name: bad } });
      await assertRefused(h, 'POST', '/v1/licenses', { json: { customerId: fleet.customerId, model: 'tiny', tier: bad } });
      await assertRefused(h, 'POST', `/v1/licenses/${fleet.licenseId}/tier`, { json: { tier: bad } });
      await assertRefused(h, 'POST', '/v1/publisher-keys', { json: { publicKey: publisherKeys.publicKeyPem, label: bad } });
    }
    await assertRefused(h, 'GET', '/v1/device/update-check?version=0&intervals=%00', { token: fleet.token });
  });

  s('dates outside years 1970-9999 are 400s', async ({ h }) => {
    for (const date of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:00:00-05:00']) {
      await assertRefused(h, 'POST', `/v1/licenses/${fleet.licenseId}/expiry`, { json: { expiresAt: date } }, /expiresAt/);
      await assertRefused(h, 'POST', '/v1/licenses', { json: { customerId: fleet.customerId, model: 'tiny', tier: 'gold', expiresAt: date } });
    }
  });

  s('deeply nested bodies are 400s without internal messages', async ({ h }) => {
    const depth = 20_000; // within the 64 KiB body limit, far past any decoder's comfort
    const deepMsgpack = new Uint8Array(depth + 1).fill(0x91);
    deepMsgpack[depth] = 0xc0;
    await assertRefused(h, 'POST', '/v1/customers', { bytes: deepMsgpack, headers: { 'content-type': 'application/msgpack' } }, /nest/);
    const deepMap = new Uint8Array(2 * depth + 1);
    for (let i = 0; i < depth; i++) deepMap.set([0x81, 0xa0], 2 * i);
    deepMap[2 * depth] = 0xc0;
    await assertRefused(h, 'POST', '/v1/customers', { bytes: deepMap, headers: { 'content-type': 'application/msgpack' } }, /nest/);
    const deepJson = new TextEncoder().encode('{"name":' + '['.repeat(depth) + ']'.repeat(depth) + '}');
    await assertRefused(h, 'POST', '/v1/customers', { bytes: deepJson, headers: { 'content-type': 'application/json' } }, /nest/);
  });

  s('MessagePack: the reserved byte 0xC1, truncated and trailing bytes are 400s', async ({ h }) => {
    const type = { 'content-type': 'application/msgpack' };
    await assertRefused(h, 'POST', '/v1/customers', { bytes: Uint8Array.of(0xc1), headers: type }, /0xc1/i);
    // {"name": 0xC1}
    await assertRefused(h, 'POST', '/v1/customers', { bytes: Uint8Array.of(0x81, 0xa4, 0x6e, 0x61, 0x6d, 0x65, 0xc1), headers: type }, /0xc1/i);
    // {"name": "ab"} cut short, and followed by a second value
    await assertRefused(h, 'POST', '/v1/customers', { bytes: Uint8Array.of(0x81, 0xa4, 0x6e, 0x61, 0x6d, 0x65, 0xa2, 0x61), headers: type });
    await assertRefused(h, 'POST', '/v1/customers', { bytes: Uint8Array.of(0x81, 0xa4, 0x6e, 0x61, 0x6d, 0x65, 0xa2, 0x61, 0x62, 0xc0), headers: type });
    // A well-formed MessagePack body still works.
    const ok = await h.json('POST', '/v1/customers', { bytes: Uint8Array.of(0x81, 0xa4, 0x6e, 0x61, 0x6d, 0x65, 0xa2, 0x61, 0x62), headers: type });
    assert.is(ok.status, 201, JSON.stringify(ok.body));
    assert.is(ok.body.name, 'ab');
  });

  s('parser and crypto messages do not leak into errors', async ({ h }) => {
    await assertRefused(h, 'POST', '/v1/customers', { bytes: new TextEncoder().encode('{oops'), headers: { 'content-type': 'application/json' } });
    await assertRefused(h, 'POST', '/v1/publisher-keys', { json: { publicKey: 'AAAA' + 'B'.repeat(60), label: 'k' } });
    await assertRefused(h, 'POST', '/v1/publisher-keys', { json: { publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', label: 'k' } });
  });

  s.run();
}

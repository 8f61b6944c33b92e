// Black-box: walk /openapi.json and send every operation malformed input —
// huge ids, NUL, lone surrogates, wrong types, deep nesting, MessagePack's
// reserved 0xC1, invalid UTF-8 — in each path parameter, query parameter and
// body field in turn. Every answer must be a 4xx (never a 5xx), and no row
// of any table may change, audit log included.
import * as assert from 'uvu/assert';
import { sql } from 'drizzle-orm';
import { driverSuites, ADMIN_TOKEN, type Harness } from './harness.ts';
import { licensedDevice, publish, publisherKeys, registerPublisherKey, signedTiny, type Fleet } from './fixtures.ts';
import { rowsOf } from '../../server/store/publish.ts';

const TABLES = [
  'models',
  'versions',
  'tiers',
  'segments',
  'version_segments',
  'artifacts',
  'patches',
  'customers',
  'licenses',
  'devices',
  'api_tokens',
  'publisher_keys',
  'audit_log',
];

async function snapshot(h: Harness): Promise<string> {
  const parts: string[] = [];
  for (const table of TABLES) {
    const [row] = rowsOf(
      await h.database.db.execute(sql.raw(`select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ${table} t`)),
    );
    parts.push(`${table}=${row!.n}:${row!.digest}`);
  }
  return parts.join(' ');
}

/** Bad path or query values, as they appear in a URL (already percent-encoded), by the kind of parameter. */
const ENCODING_ATTACKS = ['%00', 'a%00b', '%ED%A0%80', '%FF', '%', 'x'.repeat(300)];
const BAD_URL_VALUES: Record<string, string[]> = {
  number: ['2147483648', '99999999999', '18446744073709551616', '-1', '1.5', '1e400', 'abc', 'null', '[]', ...ENCODING_ATTACKS],
  name: ['.', '%2e%2e', 'a%20b', 'a%2Fb', ...ENCODING_ATTACKS],
  hex: ['abc', 'A'.repeat(64), 'g'.repeat(64), '0'.repeat(63), ...ENCODING_ATTACKS],
  list: ['x', '1,,2', ',', '99999999999', '-1', ...ENCODING_ATTACKS],
  flag: ['yes', '1', ...ENCODING_ATTACKS],
};
const KIND_OF_PARAM: Record<string, keyof typeof BAD_URL_VALUES> = {
  id: 'number',
  version: 'number',
  licenseId: 'number',
  limit: 'number',
  before: 'number',
  model: 'name',
  sha256: 'hex',
  from: 'hex',
  to: 'hex',
  keyId: 'hex',
  intervals: 'list',
  draft: 'flag',
};

/** Bad JSON values for one body field: each is wrong for every field of the API (null is not: it clears an expiry). */
const BAD_FIELD_VALUES: unknown[] = [
  'a\u0000b',
  '\ud800',
  'x\udfff',
  2 ** 31,
  2 ** 53,
  -1,
  1.5,
  [],
  {},
  true,
  JSON.parse('['.repeat(20) + ']'.repeat(20)),
  'x'.repeat(5000),
];
/** Also wrong for particular fields. */
const BAD_FOR_FIELD: Record<string, unknown[]> = {
  expiresAt: ['0000-01-01T00:00:00Z', '9999-12-31T23:00:00-05:00', '2023-02-30T00:00:00Z', 'tomorrow'],
  role: ['device', 'root'],
  publicKey: ['AAAA', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'],
  model: ['.', '..', 'a b'],
};

const te = new TextEncoder();
const msgpack = (bytes: number[]) => ({ bytes: Uint8Array.from(bytes), headers: { 'content-type': 'application/msgpack' } });
/** Whole bodies that no JSON/MessagePack operation accepts. */
const BAD_BODIES: Array<{ bytes: Uint8Array; headers: Record<string, string> }> = [
  { bytes: te.encode('[]'), headers: { 'content-type': 'application/json' } },
  { bytes: te.encode('"x"'), headers: { 'content-type': 'application/json' } },
  { bytes: te.encode('123'), headers: { 'content-type': 'application/json' } },
  { bytes: te.encode('{"a":'), headers: { 'content-type': 'application/json' } },
  { bytes: te.encode('['.repeat(30_000) + ']'.repeat(30_000)), headers: { 'content-type': 'application/json' } },
  { bytes: Uint8Array.of(0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d), headers: { 'content-type': 'application/json' } },
  msgpack([0xc1]),
  msgpack([0x81, 0xa4, ...te.encode('name'), 0xc1]),
  msgpack([...Array(30_000).fill(0x91), 0xc0]),
  msgpack([0x81, 0xa4, ...te.encode('name'), 0xa3, 0xed, 0xa0, 0x80]), // a lone surrogate as (invalid) UTF-8
  msgpack([0x81, 0xa4, ...te.encode('name'), 0xd4, 0x01, 0x00]), // an extension type
  msgpack([0x81, 0xa4, ...te.encode('name')]), // truncated
  msgpack([0xdf, 0xff, 0xff, 0xff, 0xff]), // a map claiming 2^32 - 1 pairs
];

interface Operation {
  method: string;
  path: string;
  role: string;
  params: Array<{ name: string; in: 'path' | 'query' }>;
  jsonBody: boolean;
  binaryBody: boolean;
}

for (const s of driverSuites('server black-box: malformed input to every operation')) {
  let fleet: Fleet;
  let operations: Operation[];
  /** Valid values, so that one malformed value at a time is what a request gets wrong. */
  let valid: { path: Record<string, string>; query: Record<string, string>; body: Record<string, Record<string, unknown>> };

  s('setup: a published model, a license and a device; the operations from /openapi.json', async ({ h }) => {
    const keyId = await registerPublisherKey(h);
    assert.is((await publish(h, signedTiny(1))).status, 201);
    fleet = await licensedDevice(h, { tier: 'gold', kind: 'dynamic' });
    const check = await h.json('GET', '/v1/device/update-check?version=0', { token: fleet.token });
    const sha = check.body.artifact.sha256 as string;
    valid = {
      path: { model: 'tiny', version: '1', id: String(fleet.licenseId), keyId, sha256: sha, from: sha, to: sha },
      query: { licenseId: String(fleet.licenseId), version: '0', intervals: '', sha256: sha, draft: 'true', limit: '10', before: '1000' },
      body: {
        '/v1/customers': { name: 'bb' },
        '/v1/licenses': { customerId: fleet.customerId, model: 'tiny', tier: 'gold' },
        '/v1/licenses/{id}/tier': { tier: 'gold' },
        '/v1/licenses/{id}/expiry': { expiresAt: '2030-01-01T00:00:00Z' },
        '/v1/devices': { licenseId: fleet.licenseId, name: 'd' },
        '/v1/tokens': { role: 'publisher', label: 'x' },
        '/v1/publisher-keys': { publicKey: publisherKeys.publicKeyPem, label: 'x' },
      },
    };
    const doc = (await h.json('GET', '/openapi.json', { token: null })).body;
    operations = [];
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(methods)) {
        operations.push({
          method: method.toUpperCase(),
          path,
          role: op['x-role'],
          params: (op.parameters ?? []).map((p: any) => ({ name: p.name, in: p.in })),
          jsonBody: Boolean(op.requestBody?.content?.['application/json']),
          binaryBody: Boolean(op.requestBody?.content?.['application/octet-stream']),
        });
      }
    }
    assert.ok(operations.length >= 20, `${operations.length} operations`);
  });

  s('every malformed input is a 4xx and changes nothing', async ({ h }) => {
    const failures: string[] = [];
    let requests = 0;
    for (const op of operations) {
      const token = op.role === 'none' ? null : op.role === 'device' || op.role === 'any' ? fleet.token : ADMIN_TOKEN;
      const url = (pathValues: Record<string, string>, queryValues: Record<string, string>) => {
        const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => pathValues[name] ?? valid.path[name] ?? '1');
        const query = op.params.filter((p) => p.in === 'query').map((p) => `${p.name}=${queryValues[p.name] ?? valid.query[p.name] ?? ''}`);
        return query.length ? `${path}?${query.join('&')}` : path;
      };
      const requestsOf: Array<{ url: string; options: Parameters<Harness['call']>[2]; what: string }> = [];
      const body = valid.body[op.path];
      const goodBody =
        op.method !== 'POST'
          ? {}
          : op.binaryBody
            ? { bytes: te.encode('not a wgm'), headers: { 'content-type': 'application/octet-stream' } }
            : body
              ? { json: body }
              : {};
      for (const param of op.params) {
        for (const bad of BAD_URL_VALUES[KIND_OF_PARAM[param.name] ?? 'number']!) {
          const target = param.in === 'path' ? url({ [param.name]: bad }, {}) : url({}, { [param.name]: bad });
          requestsOf.push({ url: target, options: goodBody, what: `${param.in} ${param.name}=${bad.slice(0, 20)}` });
        }
      }
      if (op.jsonBody && body) {
        for (const field of Object.keys(body)) {
          for (const bad of [...BAD_FIELD_VALUES, ...(BAD_FOR_FIELD[field] ?? [])]) {
            requestsOf.push({ url: url({}, {}), options: { json: { ...body, [field]: bad } }, what: `body ${field}=${JSON.stringify(bad).slice(0, 20)}` });
          }
        }
      }
      if (op.jsonBody) {
        for (const bad of BAD_BODIES)
          requestsOf.push({ url: url({}, {}), options: bad, what: `body ${bad.headers['content-type']} ${bad.bytes.subarray(0, 8).join(',')}` });
      }
      if (op.binaryBody) {
        for (const bytes of [Uint8Array.of(0xc1), new Uint8Array(0), te.encode('{"name":"x"}'), signedTiny(1).subarray(0, 100)]) {
          requestsOf.push({
            url: url({}, {}),
            options: { bytes, headers: { 'content-type': 'application/octet-stream' } },
            what: `upload of ${bytes.byteLength} bytes`,
          });
        }
      }
      if (requestsOf.length === 0) continue;
      const before = await snapshot(h);
      for (const request of requestsOf) {
        const response = await h.call(op.method, request.url, { token, ...request.options });
        const text = await response.text();
        requests++;
        if (response.status < 400 || response.status > 499) {
          failures.push(`${op.method} ${op.path} [${request.what}] -> ${response.status} ${text.slice(0, 160)}`);
        } else if (/stack|Failed query|drizzle|PGlite|postgres|TypeError|RangeError|SyntaxError/i.test(text)) {
          failures.push(`${op.method} ${op.path} [${request.what}] leaks internals: ${text.slice(0, 160)}`);
        }
      }
      const after = await snapshot(h);
      if (after !== before) failures.push(`${op.method} ${op.path}: the database changed`);
    }
    assert.ok(requests > 300, `${requests} requests sent`);
    assert.equal(failures, [], failures.slice(0, 20).join('\n'));
  });

  s.run();
}

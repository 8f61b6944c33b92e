// The device-facing contract: update-check, artifact and patch downloads with
// ETag/304/Range, and the license attacks of issue 4 (forged query
// parameters, another device's token, revoked/expired/static licenses):
// each is refused with a reason and never carries the bytes.
import * as assert from 'uvu/assert';
import { applyPatch, encodeArtifact, readArtifact, sha256Hex } from '../../formats/index.ts';
import { syntheticModel } from '../fixtures/server-model.ts';
import { driverSuites, type Harness } from './harness.ts';
import { UpdateCheckReply } from '../../api/update-check.ts';
import { licensedDevice, publish, publisherKeys, registerPublisherKey, signedTiny, tinyModel, type Fleet } from './fixtures.ts';

interface State {
  dynamic: Fleet;
  staticSilver: Fleet;
  otherModel: Fleet;
  v1Bronze: { url: string; sha256: string; bytes: Uint8Array };
  goldUrl: string;
  v2BronzeSha: string;
}

const check = (h: Harness, fleet: Fleet, query: string, headers: Record<string, string> = {}) =>
  h.json('GET', `/v1/device/update-check?${query}`, { token: fleet.token, headers });

async function download(h: Harness, url: string, token: string, headers: Record<string, string> = {}) {
  const response = await h.call('GET', url, { token, headers });
  return { response, bytes: new Uint8Array(await response.arrayBuffer()) };
}

/** A refusal must be a JSON error, never the .wgm/.wgp bytes. */
async function assertRefused(h: Harness, url: string, token: string, status: number, code: string) {
  const response = await h.call('GET', url, { token });
  assert.is(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', 'application/json');
  const body = await response.json();
  assert.is(body.code, code, JSON.stringify(body));
  assert.ok(body.message.length > 10);
}

for (const s of driverSuites('server device API')) {
  const state = {} as State;

  s('setup: a published model, a dynamic bronze, a static silver and another model', async ({ h }) => {
    await registerPublisherKey(h);
    assert.is((await publish(h, signedTiny(1))).status, 201);
    const other = encodeArtifact(syntheticModel({ model: 'other', version: 1, sizes: [4, 3, 2], density: 0.8, seed: 3 }), {
      privateKey: publisherKeys.privateKeyPem,
    });
    assert.is((await publish(h, other)).status, 201);
    state.dynamic = await licensedDevice(h, { tier: 'bronze', kind: 'dynamic' });
    state.staticSilver = await licensedDevice(h, { tier: 'silver', kind: 'static' });
    const customer = await h.json('POST', '/v1/customers', { json: { name: 'other' } });
    const license = await h.json('POST', '/v1/licenses', { json: { customerId: customer.body.id, model: 'other', intervals: [0, 1, 2, 3] } });
    const device = await h.json('POST', '/v1/devices', { json: { licenseId: license.body.id, name: 'o' } });
    state.otherModel = { customerId: customer.body.id, licenseId: license.body.id, deviceId: device.body.deviceId, token: device.body.token };
  });

  s('update-check for a new device: the licensed artifact, no patch', async ({ h }) => {
    const r = await check(h, state.dynamic, 'version=0&intervals=');
    assert.is(r.status, 200, JSON.stringify(r.body));
    assert.ok(UpdateCheckReply.safeParse(r.body).success, 'matches the documented response schema');
    assert.equal(r.body.model, 'tiny');
    assert.is(r.body.upToDate, false);
    assert.is(r.body.version, 1);
    assert.equal(r.body.intervals, [1, 2]);
    assert.is(r.body.patch, null);
    assert.is(r.body.artifact.url, `/v1/artifacts/${r.body.artifact.sha256}`);
    const { response, bytes } = await download(h, r.body.artifact.url, state.dynamic.token);
    assert.is(response.status, 200);
    assert.is(sha256Hex(bytes), r.body.artifact.sha256);
    assert.is(bytes.byteLength, r.body.artifact.bytes);
    assert.equal(readArtifact(bytes, { publicKey: publisherKeys.publicKeyPem }).heldIntervals, [1, 2]);
    assert.is(response.headers.get('etag'), `"${r.body.artifact.sha256}"`);
    assert.is(response.headers.get('cache-control'), 'private, max-age=31536000, immutable');
    assert.is(response.headers.get('accept-ranges'), 'bytes');
    state.v1Bronze = { url: r.body.artifact.url, sha256: r.body.artifact.sha256, bytes };
  });

  s('If-None-Match gives 304; Range gives 206 with the right slice; past the end 416', async ({ h }) => {
    const { url, sha256, bytes } = state.v1Bronze;
    const cached = await download(h, url, state.dynamic.token, { 'if-none-match': `"${sha256}"` });
    assert.is(cached.response.status, 304);
    assert.is(cached.bytes.byteLength, 0);
    const part = await download(h, url, state.dynamic.token, { range: 'bytes=10-29' });
    assert.is(part.response.status, 206);
    assert.is(part.response.headers.get('content-range'), `bytes 10-29/${bytes.byteLength}`);
    assert.equal(part.bytes, bytes.subarray(10, 30));
    const tail = await download(h, url, state.dynamic.token, { range: 'bytes=-5' });
    assert.equal(tail.bytes, bytes.subarray(bytes.byteLength - 5));
    const past = await download(h, url, state.dynamic.token, { range: `bytes=${bytes.byteLength}-` });
    assert.is(past.response.status, 416);
  });

  s('a device that runs the target is up to date; MessagePack on request', async ({ h }) => {
    const r = await check(h, state.dynamic, `version=1&intervals=2,1&sha256=${state.v1Bronze.sha256}`, { accept: 'application/msgpack' });
    assert.is(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', 'msgpack');
    assert.is(r.body.upToDate, true);
    assert.is(r.body.patch, null);
    const devices = await h.json('GET', `/v1/devices?licenseId=${state.dynamic.licenseId}`);
    assert.is(devices.body.devices[0].version, 1);
    assert.equal(devices.body.devices[0].intervals, [1, 2]);
    assert.ok(devices.body.devices[0].lastSeenAt);
  });

  s('a new version: update-check offers a patch that turns v1 into v2', async ({ h }) => {
    assert.is((await publish(h, signedTiny(2, { changed: [{ kernel: 0, interval: 1 }] }))).status, 201);
    const r = await check(h, state.dynamic, `version=1&intervals=1,2&sha256=${state.v1Bronze.sha256}`);
    assert.is(r.body.version, 2);
    assert.is(r.body.upToDate, false);
    assert.ok(r.body.patch, 'a patch is offered');
    assert.ok(UpdateCheckReply.safeParse(r.body).success, 'matches the documented response schema');
    assert.is(r.body.patch.url, `/v1/patches/${state.v1Bronze.sha256}/${r.body.artifact.sha256}`);
    const { response, bytes } = await download(h, r.body.patch.url, state.dynamic.token);
    assert.is(response.status, 200);
    assert.is(response.headers.get('etag'), `"${r.body.patch.sha256}"`);
    assert.is(sha256Hex(bytes), r.body.patch.sha256);
    const applied = applyPatch(state.v1Bronze.bytes, bytes, { publicKey: publisherKeys.publicKeyPem });
    assert.is(sha256Hex(applied), r.body.artifact.sha256);
    const wrongBase = await check(h, state.dynamic, `version=1&intervals=1,2&sha256=${'0'.repeat(64)}`);
    assert.is(wrongBase.body.patch, null);
    const unknownBase = await check(h, state.dynamic, 'version=7&intervals=1,2');
    assert.is(unknownBase.body.patch, null);
    // An interval set no tier or license has: no patch, and no artifact assembled for it.
    const forged = await check(h, state.dynamic, 'version=1&intervals=3');
    assert.is(forged.status, 200);
    assert.is(forged.body.patch, null);
  });

  s('dynamic licensing: an upgrade to gold is a patch adding the new intervals', async ({ h }) => {
    const v2Bronze = await check(h, state.dynamic, 'version=0&intervals=');
    const base = await download(h, v2Bronze.body.artifact.url, state.dynamic.token);
    state.v2BronzeSha = v2Bronze.body.artifact.sha256;
    assert.is((await h.json('POST', `/v1/licenses/${state.dynamic.licenseId}/tier`, { json: { tier: 'gold' } })).status, 200);
    const r = await check(h, state.dynamic, `version=2&intervals=1,2&sha256=${v2Bronze.body.artifact.sha256}`);
    assert.equal(r.body.intervals, [0, 1, 2, 3]);
    assert.ok(r.body.patch);
    const patch = await download(h, r.body.patch.url, state.dynamic.token);
    const gold = applyPatch(base.bytes, patch.bytes);
    assert.equal(readArtifact(gold).heldIntervals, [0, 1, 2, 3]);
    state.goldUrl = r.body.artifact.url;
  });

  s('inline=N: a patch of at most N bytes comes inside the answer, in base64', async ({ h }) => {
    // The license is gold now: a device still on bronze is offered the upgrade patch.
    const query = `version=2&intervals=1,2&sha256=${state.v2BronzeSha}`;
    const plain = await check(h, state.dynamic, query);
    assert.ok(plain.body.patch, 'a patch is offered');
    assert.is(plain.body.patch.inline, undefined, 'not inline unless asked');
    const size = plain.body.patch.bytes as number;
    const inline = await check(h, state.dynamic, `${query}&inline=${size}`);
    assert.ok(UpdateCheckReply.safeParse(inline.body).success, 'matches the documented response schema');
    const downloaded = await download(h, inline.body.patch.url, state.dynamic.token);
    assert.equal(new Uint8Array(Buffer.from(inline.body.patch.inline, 'base64')), downloaded.bytes, 'the same bytes as the download');
    const tooSmall = await check(h, state.dynamic, `${query}&inline=${size - 1}`);
    assert.is(tooSmall.body.patch.inline, undefined, 'a patch over N bytes is only offered for download');
    const tooMuch = await check(h, state.dynamic, `${query}&inline=1000000`);
    assert.is(tooMuch.status, 400);
    assert.is(tooMuch.body.code, 'VALIDATION_FAILED');
    assert.match(tooMuch.body.message, /inline/);
  });

  s('attack: forged query intervals do not widen what a device is sent', async ({ h }) => {
    const r = await check(h, state.staticSilver, 'version=2&intervals=0,1,2,3');
    assert.equal(r.body.intervals, [0, 1, 2]);
    assert.is.not(r.body.artifact.url, state.goldUrl);
    await assertRefused(h, state.goldUrl, state.staticSilver.token, 403, 'INTERVALS_NOT_LICENSED');
    const goldSha = state.goldUrl.split('/').pop();
    await assertRefused(h, `/v1/patches/${r.body.artifact.sha256}/${goldSha}`, state.staticSilver.token, 403, 'INTERVALS_NOT_LICENSED');
  });

  s("attack: another model's device token cannot fetch this model's artifacts", async ({ h }) => {
    // Answered as an unknown artifact: a device does not learn that another model's artifact exists.
    await assertRefused(h, state.goldUrl, state.otherModel.token, 404, 'ARTIFACT_UNKNOWN');
    await assertRefused(h, state.v1Bronze.url, state.otherModel.token, 404, 'ARTIFACT_UNKNOWN');
  });

  s('attack: a static license cannot take another tier, even a lower one', async ({ h }) => {
    await assertRefused(h, state.v1Bronze.url, state.staticSilver.token, 403, 'STATIC_LICENSE');
  });

  s('attack: unknown, malformed, tokenless and wrong-role requests', async ({ h }) => {
    await assertRefused(h, `/v1/artifacts/${'a'.repeat(64)}`, state.dynamic.token, 404, 'ARTIFACT_UNKNOWN');
    await assertRefused(h, '/v1/artifacts/not-a-hash', state.dynamic.token, 400, 'VALIDATION_FAILED');
    const none = await h.call('GET', state.goldUrl, { token: null });
    assert.is(none.status, 401);
    await assertRefused(h, '/v1/customers', state.dynamic.token, 403, 'ROLE_FORBIDDEN');
    const admin = await h.json('GET', '/v1/device/update-check?version=0', {});
    assert.is(admin.status, 403);
    const badQuery = await check(h, state.dynamic, 'version=-1&intervals=x');
    assert.is(badQuery.status, 400);
    assert.match(badQuery.body.message, 'query field "version"');
  });

  s('attack: an expired license is refused', async ({ h }) => {
    await h.json('POST', `/v1/licenses/${state.staticSilver.licenseId}/expiry`, { json: { expiresAt: '2001-01-01T00:00:00Z' } });
    const r = await check(h, state.staticSilver, 'version=0');
    assert.is(r.status, 403);
    assert.is(r.body.code, 'LICENSE_EXPIRED');
    const silverUrl = (await check(h, state.dynamic, 'version=0')).body.artifact.url;
    await assertRefused(h, silverUrl, state.staticSilver.token, 403, 'LICENSE_EXPIRED');
  });

  s('attack: a revoked license is refused at once', async ({ h }) => {
    await h.json('POST', `/v1/licenses/${state.dynamic.licenseId}/revoke`);
    const r = await check(h, state.dynamic, 'version=2&intervals=0,1,2,3');
    assert.is(r.status, 403);
    assert.is(r.body.code, 'LICENSE_REVOKED');
    await assertRefused(h, state.goldUrl, state.dynamic.token, 403, 'LICENSE_REVOKED');
  });

  s('a withdrawn version is no longer the target and no longer served to devices', async ({ h }) => {
    const before = await check(h, state.otherModel, 'version=0');
    assert.is(before.status, 200);
    assert.is((await h.json('POST', '/v1/models/other/versions/1/withdraw')).status, 200);
    const after = await check(h, state.otherModel, 'version=0');
    assert.is(after.status, 404);
    assert.is(after.body.code, 'NO_PUBLISHED_VERSION');
    await assertRefused(h, before.body.artifact.url, state.otherModel.token, 403, 'VERSION_WITHDRAWN');
  });

  s('a Rice-coded next version publishes, and a range-coded device gets a patch into it', async ({ h }) => {
    const fleet = await licensedDevice(h, { tier: 'gold', kind: 'dynamic' });
    const first = await check(h, fleet, 'version=0');
    assert.is(first.status, 200, JSON.stringify(first.body));
    const running = (await download(h, first.body.artifact.url, fleet.token)).bytes;
    const v = first.body.version as number;
    const input = tinyModel(v + 1, { changed: [{ kernel: 1, interval: 2 }] });
    const rice = encodeArtifact(
      { ...input, tensors: input.tensors.map((t) => ({ ...t, coding: 'rice' as const })) },
      { privateKey: publisherKeys.privateKeyPem },
    );
    assert.is((await publish(h, rice)).status, 201);
    const r = await check(h, fleet, `version=${v}&intervals=${readArtifact(running).heldIntervals.join(',')}&sha256=${sha256Hex(running)}`);
    assert.is(r.body.version, v + 1);
    assert.ok(r.body.patch, 'a patch is offered');
    const patch = (await download(h, r.body.patch.url, fleet.token)).bytes;
    const applied = readArtifact(applyPatch(running, patch, { publicKey: publisherKeys.publicKeyPem }));
    assert.is(applied.sha256, r.body.artifact.sha256);
    assert.ok(applied.manifest.tensors.every((t) => t.coding === 'rice'));
  });

  s.run();
}

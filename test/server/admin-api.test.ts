// Tokens, roles, validation, customers, licenses, devices, audit — on every driver.
import * as assert from 'uvu/assert';
import { driverSuites } from './harness.ts';
import { licensedDevice, publish, registerPublisherKey, signedTiny } from './fixtures.ts';
import { ensureAdminToken } from '../../server/auth.ts';

for (const s of driverSuites('server admin API')) {
  s('healthz answers 200 without a token', async ({ h }) => {
    const { status, body } = await h.json('GET', '/healthz', { token: null });
    assert.is(status, 200);
    assert.equal(body, { ok: true });
  });

  s('openapi.json lists the device contract and /docs renders it', async ({ h }) => {
    const { status, body } = await h.json('GET', '/openapi.json', { token: null });
    assert.is(status, 200);
    assert.is(body.openapi, '3.1.0');
    assert.ok(body.paths['/v1/device/update-check'].get);
    assert.ok(body.paths['/v1/licenses'].post.requestBody);
    const docs = await h.call('GET', '/docs', { token: null });
    assert.match(await docs.text(), 'GET /v1/artifacts/{sha256}');
  });

  s('a missing or unknown token is 401, a wrong role 403', async ({ h }) => {
    const none = await h.json('GET', '/v1/customers', { token: null });
    assert.is(none.status, 401);
    assert.is(none.body.code, 'MISSING_TOKEN');
    const bad = await h.json('GET', '/v1/customers', { token: 'not-a-token' });
    assert.is(bad.status, 401);
    assert.is(bad.body.code, 'BAD_TOKEN');
    const issued = await h.json('POST', '/v1/tokens', { json: { role: 'publisher', label: 'ci' } });
    assert.is(issued.status, 201);
    const asPublisher = await h.json('POST', '/v1/customers', { token: issued.body.token, json: { name: 'x' } });
    assert.is(asPublisher.status, 403);
    assert.is(asPublisher.body.code, 'ROLE_FORBIDDEN');
  });

  s('a revoked token gets 401 at once; an admin cannot revoke its own token', async ({ h }) => {
    const issued = await h.json('POST', '/v1/tokens', { json: { role: 'publisher', label: 'to-revoke' } });
    assert.is((await h.json('GET', '/v1/models/tiny/versions', { token: issued.body.token })).status, 200);
    const revoked = await h.json('POST', `/v1/tokens/${issued.body.id}/revoke`);
    assert.is(revoked.status, 200);
    const after = await h.json('GET', '/v1/models/tiny/versions', { token: issued.body.token });
    assert.is(after.status, 401);
    assert.is(after.body.code, 'BAD_TOKEN');
    assert.is((await h.json('POST', `/v1/tokens/${issued.body.id}/revoke`)).status, 404);
  });

  s('bodies are validated and the 400 names the field', async ({ h }) => {
    const r = await h.json('POST', '/v1/licenses', { json: { customerId: 'one', model: 'tiny', tier: 'gold' } });
    assert.is(r.status, 400);
    assert.is(r.body.code, 'VALIDATION_FAILED');
    assert.match(r.body.message, 'body field "customerId"');
    const both = await h.json('POST', '/v1/licenses', { json: { customerId: 1, model: 'tiny', tier: 'gold', intervals: [1] } });
    assert.is(both.status, 400);
    assert.match(both.body.message, 'exactly one of "tier" or "intervals"');
    const notJson = await h.call('POST', '/v1/customers', { bytes: new TextEncoder().encode('{oops'), headers: { 'content-type': 'application/json' } });
    assert.is(notJson.status, 400);
    assert.is((await notJson.json()).code, 'BAD_BODY');
    const query = await h.json('GET', '/v1/devices?licenseId=abc');
    assert.is(query.status, 400);
    assert.match(query.body.message, 'query field "licenseId"');
  });

  s('unknown routes are JSON 404s', async ({ h }) => {
    const r = await h.json('GET', '/v1/nothing-here');
    assert.is(r.status, 404);
    assert.is(r.body.code, 'NOT_FOUND');
  });

  s('customers, licenses and devices: create, list, change, revoke, audit', async ({ h }) => {
    await registerPublisherKey(h);
    assert.is((await publish(h, signedTiny(1))).status, 201);
    const fleet = await licensedDevice(h, { tier: 'bronze', kind: 'dynamic' });
    assert.match(fleet.token, /^wgd_/);

    const unknownTier = await h.json('POST', '/v1/licenses', { json: { customerId: fleet.customerId, model: 'tiny', tier: 'platinum' } });
    assert.is(unknownTier.status, 400);
    assert.is(unknownTier.body.code, 'TIER_UNKNOWN');
    const unknownModel = await h.json('POST', '/v1/licenses', { json: { customerId: fleet.customerId, model: 'nope', tier: 'gold' } });
    assert.is(unknownModel.status, 404);

    const changed = await h.json('POST', `/v1/licenses/${fleet.licenseId}/tier`, { json: { tier: 'gold' } });
    assert.is(changed.status, 200);
    assert.is(changed.body.tier, 'gold');
    const expiry = await h.json('POST', `/v1/licenses/${fleet.licenseId}/expiry`, { json: { expiresAt: '2030-01-01T00:00:00Z' } });
    assert.is(expiry.body.expiresAt, '2030-01-01T00:00:00.000Z');
    const revoked = await h.json('POST', `/v1/licenses/${fleet.licenseId}/revoke`);
    assert.is(revoked.status, 200);
    assert.ok(revoked.body.revokedAt);
    const again = await h.json('POST', `/v1/licenses/${fleet.licenseId}/revoke`);
    assert.is(again.status, 409);

    const devices = await h.json('GET', `/v1/devices?licenseId=${fleet.licenseId}`);
    assert.is(devices.body.devices.length, 1);
    assert.is(devices.body.devices[0].name, 'sensor-1');

    const audit = await h.json('GET', '/v1/audit');
    const actions = audit.body.entries.map((e: { action: string }) => e.action);
    for (const a of ['version.publish', 'license.create', 'license.change-tier', 'license.set-expiry', 'license.revoke', 'device.register']) {
      assert.ok(actions.includes(a), `audit has ${a}`);
    }
  });

  s('a static license cannot change tier', async ({ h }) => {
    await registerPublisherKey(h);
    await publish(h, signedTiny(1));
    const fleet = await licensedDevice(h, { tier: 'silver', kind: 'static' });
    const r = await h.json('POST', `/v1/licenses/${fleet.licenseId}/tier`, { json: { tier: 'gold' } });
    assert.is(r.status, 409);
    assert.is(r.body.code, 'STATIC_LICENSE');
  });

  s('MessagePack when the client accepts it', async ({ h }) => {
    const r = await h.json('GET', '/v1/customers', { headers: { accept: 'application/msgpack' } });
    assert.is(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', 'application/msgpack');
    assert.ok(Array.isArray(r.body.customers));
    const err = await h.json('GET', '/v1/customers', { token: 'nope', headers: { accept: 'application/msgpack' } });
    assert.is(err.status, 401);
    assert.is(err.body.code, 'BAD_TOKEN');
  });

  s('an admin token shorter than 16 characters is refused', async ({ h }) => {
    try {
      await ensureAdminToken(h.database.db, 'short');
      assert.unreachable('short token accepted');
    } catch (error) {
      assert.is((error as { code: string }).code, 'ADMIN_TOKEN_TOO_SHORT');
    }
  });

  s.run();
}

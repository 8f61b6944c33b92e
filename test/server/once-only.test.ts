// Once-only operations under real concurrency (PostgreSQL with a 20-connection
// pool; PGlite runs them one at a time): each state change and its audit row
// commit together, and the result is one a serial history explains.
import * as assert from 'uvu/assert';
import { driverSuites, type Harness } from './harness.ts';
import { licensedDevice, publish, registerPublisherKey, signedTiny } from './fixtures.ts';

interface AuditRow {
  id: number;
  action: string;
  entityId: string;
  detail: Record<string, any>;
  at: string;
}

async function auditOf(h: Harness, action: string, entityId?: string): Promise<AuditRow[]> {
  const r = await h.json('GET', '/v1/audit');
  return (r.body.entries as AuditRow[]).filter((e) => e.action === action && (entityId === undefined || e.entityId === entityId)).sort((a, b) => a.id - b.id);
}

const statuses = (list: Array<{ status: number }>) => list.map((r) => r.status).sort((a, b) => a - b);

for (const s of driverSuites('server once-only operations')) {
  s('setup', async ({ h }) => {
    await registerPublisherKey(h);
    assert.is((await publish(h, signedTiny(1))).status, 201);
  });

  s('20 concurrent withdraws of one version: one 200, one audit row', async ({ h }) => {
    const results = await Promise.all(Array.from({ length: 20 }, () => h.json('POST', '/v1/models/tiny/versions/1/withdraw')));
    assert.equal(statuses(results), [200, ...Array(19).fill(409)], JSON.stringify(statuses(results)));
    assert.is((await auditOf(h, 'version.withdraw', 'tiny@1')).length, 1);
  });

  s('20 concurrent revokes of one license: one 200, one audit row, one revokedAt', async ({ h }) => {
    assert.is((await publish(h, signedTiny(2))).status, 201);
    const fleet = await licensedDevice(h, { tier: 'gold', kind: 'dynamic' });
    const results = await Promise.all(Array.from({ length: 20 }, () => h.json('POST', `/v1/licenses/${fleet.licenseId}/revoke`)));
    assert.equal(statuses(results), [200, ...Array(19).fill(409)], JSON.stringify(statuses(results)));
    const winner = results.find((r) => r.status === 200)!;
    const stored = await h.json('GET', `/v1/licenses/${fleet.licenseId}`);
    assert.is(stored.body.revokedAt, winner.body.revokedAt);
    assert.is((await auditOf(h, 'license.revoke', String(fleet.licenseId))).length, 1);
  });

  s('30 concurrent tier changes: the audit is a serial history ending in the stored tier', async ({ h }) => {
    const fleet = await licensedDevice(h, { tier: 'bronze', kind: 'dynamic' });
    const tiers = ['gold', 'silver', 'bronze'];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => h.json('POST', `/v1/licenses/${fleet.licenseId}/tier`, { json: { tier: tiers[i % 3] } })),
    );
    assert.ok(
      results.every((r) => r.status === 200),
      JSON.stringify(statuses(results)),
    );
    const audit = await auditOf(h, 'license.change-tier', String(fleet.licenseId));
    assert.is(audit.length, 30);
    let previous = 'bronze';
    for (const entry of audit) {
      assert.is(entry.detail.from.tier, previous, 'each change starts from the tier the one before it left');
      previous = entry.detail.to.tier;
    }
    const stored = await h.json('GET', `/v1/licenses/${fleet.licenseId}`);
    assert.is(stored.body.tier, previous, 'the stored tier is the newest audit entry');
  });

  s('concurrent releases: one draft released once; two drafts in an order a serial history allows', async ({ h }) => {
    for (const v of [3, 4]) assert.is((await h.json('POST', '/v1/versions?draft=true', { bytes: signedTiny(v) })).status, 201);
    const same = await Promise.all(Array.from({ length: 20 }, () => h.json('POST', '/v1/models/tiny/versions/3/release')));
    assert.equal(statuses(same), [200, ...Array(19).fill(409)], JSON.stringify(statuses(same)));
    assert.is((await auditOf(h, 'version.release', 'tiny@3')).length, 1);

    for (const v of [5, 6]) assert.is((await h.json('POST', '/v1/versions?draft=true', { bytes: signedTiny(v) })).status, 201);
    const [five, six] = await Promise.all([h.json('POST', '/v1/models/tiny/versions/5/release'), h.json('POST', '/v1/models/tiny/versions/6/release')]);
    assert.is(six.status, 200);
    const releases = (await auditOf(h, 'version.release')).map((e) => e.entityId);
    if (five.status === 200) {
      assert.equal(releases.slice(-2), ['tiny@5', 'tiny@6'], 'both released: 5 must have gone first');
    } else {
      assert.is(five.status, 409);
      assert.is(five.body.code, 'NEWER_PUBLISHED');
      assert.equal(releases.slice(-1), ['tiny@6']);
    }
  });

  s('concurrent expiry changes: a serial history', async ({ h }) => {
    const fleet = await licensedDevice(h, { tier: 'gold', kind: 'dynamic' });
    const dates = Array.from({ length: 20 }, (_, i) => new Date(Date.UTC(2030, 0, 1 + i)).toISOString());
    await Promise.all(dates.map((expiresAt) => h.json('POST', `/v1/licenses/${fleet.licenseId}/expiry`, { json: { expiresAt } })));
    const audit = await auditOf(h, 'license.set-expiry', String(fleet.licenseId));
    assert.is(audit.length, 20);
    let previous: string | null = null;
    for (const entry of audit) {
      assert.is(entry.detail.from, previous);
      previous = entry.detail.to;
    }
    assert.is((await h.json('GET', `/v1/licenses/${fleet.licenseId}`)).body.expiresAt, previous);
  });

  s('20 concurrent revokes of one token: one 200, one audit row', async ({ h }) => {
    const issued = await h.json('POST', '/v1/tokens', { json: { role: 'publisher', label: 'race' } });
    const results = await Promise.all(Array.from({ length: 20 }, () => h.json('POST', `/v1/tokens/${issued.body.id}/revoke`)));
    assert.equal(statuses(results), [200, ...Array(19).fill(404)], JSON.stringify(statuses(results)));
    assert.is((await auditOf(h, 'token.revoke', String(issued.body.id))).length, 1);
  });

  s.run();
}

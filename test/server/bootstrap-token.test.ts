// The bootstrap admin token (WEIGHTGATE_ADMIN_TOKEN): when it changes, the
// previous one stops working at the next start; weak ones are refused.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driverSuites } from './harness.ts';
import { createApp } from '../../server/app.ts';
import { ensureAdminToken } from '../../server/auth.ts';
import { HttpError } from '../../server/http-error.ts';
import { startServer } from '../../server/start.ts';

const FIRST = 'first-bootstrap-Token-0123456789';
const SECOND = 'second-bootstrap-Token-9876543210';

for (const s of driverSuites('server bootstrap admin token')) {
  s('a changed bootstrap token rotates: the old one is revoked at the next start, and audited', async ({ h }) => {
    await ensureAdminToken(h.database.db, FIRST);
    const restart = () => createApp({ db: h.database.db });
    const whoami = (app: ReturnType<typeof createApp>, token: string) => app.request('/v1/customers', { headers: { authorization: `Bearer ${token}` } });
    assert.is((await whoami(restart(), FIRST)).status, 200);
    await ensureAdminToken(h.database.db, SECOND);
    const after = restart();
    assert.is((await whoami(after, SECOND)).status, 200);
    assert.is((await whoami(after, FIRST)).status, 401, 'the previous bootstrap token is revoked');
    // The same token again is a no-op.
    await ensureAdminToken(h.database.db, SECOND);
    assert.is((await whoami(restart(), SECOND)).status, 200);
    const audit = await h.json('GET', '/v1/audit', { token: SECOND });
    assert.ok(
      audit.body.entries.some((e: { action: string }) => e.action === 'token.rotate'),
      'the rotation is audited',
    );
    // Going back to a rotated-out token is refused, not silently dead.
    try {
      await ensureAdminToken(h.database.db, FIRST);
      assert.unreachable('a revoked bootstrap token was accepted');
    } catch (error) {
      assert.instance(error, HttpError);
      assert.is((error as HttpError).code, 'ADMIN_TOKEN_REVOKED');
    }
  });

  s('the bootstrap label is reserved for the bootstrap token', async ({ h }) => {
    const r = await h.json('POST', '/v1/tokens', { token: SECOND, json: { role: 'admin', label: 'WEIGHTGATE_ADMIN_TOKEN' } });
    assert.is(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.message, 'reserved');
  });

  s('weak bootstrap tokens are refused with a clear message', async ({ h }) => {
    for (const weak of ['aaaaaaaaaaaaaaaa', 'abababababababababab', 'abcdefghijklmnopqrst', '1111111111111111111111', 'short']) {
      try {
        await ensureAdminToken(h.database.db, weak);
        assert.unreachable(`weak token ${weak} accepted`);
      } catch (error) {
        assert.instance(error, HttpError);
        assert.match((error as HttpError).code, /^ADMIN_TOKEN_(TOO_SHORT|WEAK)$/);
        assert.match((error as Error).message, /characters/);
        assert.match((error as Error).message, /openssl rand/);
      }
    }
  });

  s.run();
}

test('a real restart with a new WEIGHTGATE_ADMIN_TOKEN locks the old one out', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wg-bootstrap-'));
  try {
    const first = await startServer({ port: 0, adminToken: FIRST, dataDir, log: () => {} });
    assert.is((await fetch(`${first.url}/v1/customers`, { headers: { authorization: `Bearer ${FIRST}` } })).status, 200);
    await first.close();
    const second = await startServer({ port: 0, adminToken: SECOND, dataDir, log: () => {} });
    try {
      assert.is((await fetch(`${second.url}/v1/customers`, { headers: { authorization: `Bearer ${FIRST}` } })).status, 401);
      assert.is((await fetch(`${second.url}/v1/customers`, { headers: { authorization: `Bearer ${SECOND}` } })).status, 200);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();

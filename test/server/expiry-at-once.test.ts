// A license that expires by itself, or is revoked on this instance, stops
// downloads at once: the fast path's cached "may download" decision does
// not outlive the license (real HTTP, where the fast path runs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../server/start.ts';
import { createClient } from '../../server/client.ts';
import { createUpdateClient } from '../../device-sim/update-client.ts';
import { publisherKeys, signedTiny } from './fixtures.ts';

const ADMIN = 'expiry-test-Admin-token-0123456789';

test('expiry and revocation take effect at once, even for downloads the fast path answered', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wg-expiry-'));
  // A long auth cache makes any reuse of a stale decision visible.
  const server = await startServer({ port: 0, adminToken: ADMIN, dataDir, authCacheMs: 10_000, log: () => {} });
  try {
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(publisherKeys.publicKeyPem, 'ci');
    await admin.publish(signedTiny(1));
    const customer = await admin.createCustomer('acme');
    const download = (token: string, url: string) => fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${token}` } });

    const expiresAt = new Date(Date.now() + 1_500);
    const expiring = await admin.createLicense({ customerId: customer.id, model: 'tiny', tier: 'gold', kind: 'dynamic', expiresAt });
    const expiringDevice = await admin.registerDevice(expiring.id, 'e');
    const revoked = await admin.createLicense({ customerId: customer.id, model: 'tiny', tier: 'gold', kind: 'dynamic' });
    const revokedDevice = await admin.registerDevice(revoked.id, 'r');
    const url = (await createUpdateClient({ server: server.url, token: expiringDevice.token }).check({ version: 0, heldIntervals: [] })).artifact.url;
    await createUpdateClient({ server: server.url, token: revokedDevice.token }).check({ version: 0, heldIntervals: [] });

    for (let i = 0; i < 3; i++) {
      assert.is((await download(expiringDevice.token, url)).status, 200);
      assert.is((await download(revokedDevice.token, url)).status, 200);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() - Date.now() + 50)));
    const afterExpiry = await download(expiringDevice.token, url);
    assert.is(afterExpiry.status, 403, 'expired: refused at once');
    assert.is((await afterExpiry.json()).code, 'LICENSE_EXPIRED');
    await admin.revokeLicense(revoked.id);
    const afterRevoke = await download(revokedDevice.token, url);
    assert.is(afterRevoke.status, 403, 'revoked on this instance: refused at once');
    assert.is((await afterRevoke.json()).code, 'LICENSE_REVOKED');
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();

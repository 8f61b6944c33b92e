// startServer on an ephemeral port, driven through the operator client and
// the device client, on every driver.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { startServer } from '../../server/start.ts';
import { createClient, HttpError } from '../../server/client.ts';
import { createUpdateClient } from '../../device-sim/update-client.ts';
import { DeviceError } from '../../device-sim/errors.ts';
import { publisherKeys, signedTiny } from './fixtures.ts';
import { POSTGRES, requiring } from '../requirements.ts';

const ADMIN = 'client-test-admin-token-xyz';

async function scenario(options: { dataDir?: string; databaseUrl?: string }) {
  const server = await startServer({ port: 0, adminToken: ADMIN, ...options, log: () => {} });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const admin = createClient({ server: server.url, token: ADMIN });
    assert.equal(await admin.health(), { ok: true });
    await admin.registerPublisherKey(publisherKeys.publicKeyPem, 'ci');
    const publisher = createClient({ server: server.url, token: (await admin.createToken('publisher', 'ci')).token });
    const published = await publisher.publish(signedTiny(1));
    assert.is(published.version, 1);
    assert.is((await publisher.listVersions('tiny')).length, 1);
    const customer = await admin.createCustomer('acme');
    const license = await admin.createLicense({
      customerId: customer.id,
      model: 'tiny',
      tier: 'bronze',
      kind: 'dynamic',
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    const { deviceId, token } = await admin.registerDevice(license.id, 'd1');
    assert.ok(deviceId > 0);
    const device = createUpdateClient({ server: server.url, token });
    const download = async (url: string, headers: Record<string, string> = {}) =>
      new Uint8Array(await (await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${token}`, ...headers } })).arrayBuffer());
    const update = await device.check({ version: 0, heldIntervals: [] });
    assert.equal(update.intervals, [1, 2]);
    const bytes = await download(update.artifact.url);
    assert.is(bytes.byteLength, update.artifact.bytes);
    const head = await download(update.artifact.url, { range: 'bytes=0-3' });
    assert.equal(head, bytes.subarray(0, 4));
    await admin.changeLicenseTier(license.id, { tier: 'gold' });
    assert.equal((await device.check({ version: 1, heldIntervals: [1, 2], sha256: update.artifact.sha256 })).intervals, [0, 1, 2, 3]);
    assert.is((await admin.listDevices({ licenseId: license.id }))[0]!.version, 1);
    await admin.setLicenseExpiry(license.id, null);
    await admin.revokeLicense(license.id);
    try {
      await device.check({ version: 1, heldIntervals: [1, 2] });
      assert.unreachable('revoked license answered');
    } catch (error) {
      assert.instance(error, DeviceError);
      assert.is((error as DeviceError).code, 'SERVER_ERROR');
      assert.match((error as DeviceError).message, 'LICENSE_REVOKED (HTTP 403)');
      assert.is((error as DeviceError & { status: number }).status, 403);
    }
    try {
      await admin.getLicense(license.id + 1000);
      assert.unreachable('an unknown license answered');
    } catch (error) {
      assert.instance(error, HttpError);
      assert.is((error as HttpError).status, 404);
      assert.is((error as HttpError).exitCode, 2);
    }
    assert.ok((await admin.audit()).length >= 5);
  } finally {
    await server.close();
  }
  // After close() the port no longer answers.
  const gone = createClient({ server: server.url });
  try {
    await gone.health();
    assert.unreachable('closed server answered');
  } catch (error) {
    assert.is((error as HttpError).code, 'SERVER_UNREACHABLE');
  }
}

test('startServer + client on PGlite in a data directory, which survives a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wg-server-'));
  try {
    await scenario({ dataDir });
    const again = await startServer({ port: 0, dataDir, log: () => {} });
    try {
      const admin = createClient({ server: again.url, token: ADMIN });
      assert.is((await admin.listCustomers()).length, 1);
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

requiring(test, POSTGRES)('startServer + client on PostgreSQL', async () => {
  const baseUrl = process.env.DATABASE_URL as string;
  const name = `wg_test_${randomBytes(6).toString('hex')}`;
  const sql = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await sql.unsafe(`create database ${name}`);
  try {
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    await scenario({ databaseUrl: url.toString() });
  } finally {
    await sql.unsafe(`drop database if exists ${name} with (force)`);
    await sql.end();
  }
});

test('an unreachable PostgreSQL is a clear DATABASE_UNAVAILABLE error', async () => {
  try {
    await startServer({ port: 0, databaseUrl: 'postgres://postgres@127.0.0.1:1/none', databaseRetryMs: 0, log: () => {} });
    assert.unreachable('started');
  } catch (error) {
    assert.is((error as { code: string }).code, 'DATABASE_UNAVAILABLE');
    assert.match((error as Error).message, 'ECONNREFUSED');
  }
});

test('a short admin token is refused at start-up', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wg-server-'));
  try {
    await startServer({ port: 0, adminToken: 'short', dataDir });
    assert.unreachable('started');
  } catch (error) {
    assert.is((error as { code: string }).code, 'ADMIN_TOKEN_TOO_SHORT');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();

// End to end against the real server (PGlite in a temp dir): a device
// installs its license's tier, follows a tier upgrade and downgrade with
// patches of only the changed segments, takes a new version, refuses
// nothing it should take and stops when its license is revoked.
// test: own-process (several CPU-seconds: it balances better alone)
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../server/start.ts';
import { createClient } from '../../server/client.ts';
import { openDevice } from '../../device-sim/device.ts';
import { provisionDevices } from '../../server/provision.ts';
import { openFleet } from '../../device-sim/fleet.ts';
import { openWorkerFleet } from '../../device-sim/fleet-workers.ts';
import { keys, randomSamples, syntheticArtifact } from './fixtures.ts';
import { generateKeyPair } from '../../formats/index.ts';
import { FULL_RUN, requiring } from '../requirements.ts';

// Among the slowest files: npm run test:fast leaves it out.
const test = requiring(uvuTest, FULL_RUN);

const ADMIN = 'admin-token-for-device-e2e-0001';
const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `wg-e2e-${name}-`));
const release = (version: number) => syntheticArtifact({ version, seed: 40 + version, sizes: [784, 24, 10] });

test('install reports: installed, rolled back with its reason, refused; listed by state', async () => {
  const server = await startServer({ port: 0, dataDir: tempDir('db'), adminToken: ADMIN, authCacheMs: 0, log: () => undefined });
  try {
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
    await admin.publish(release(1));
    const { licenseId, tokens } = await provisionDevices({ server: server.url, adminToken: ADMIN, model: 'synthetic', tier: 'basic', count: 2 });
    // Device 1 fails the self-test of any version but 1; device 2 has another publisher's key.
    const picky = await openDevice({
      dir: tempDir('picky'),
      server: server.url,
      token: tokens[0],
      publicKey: keys.publicKeyPem,
      selfTest: (artifact) => (artifact.manifest.version === 1 ? null : 'the test bench says no'),
    });
    const stranger = await openDevice({ dir: tempDir('stranger'), server: server.url, token: tokens[1], publicKey: generateKeyPair().publicKeyPem });
    const installed = await picky.checkForUpdate();
    assert.is(installed.kind, 'install');
    const refused = await stranger.checkForUpdate().then(
      () => null,
      (error: Error) => error,
    );
    assert.ok(refused, 'a device with another key refuses the artifact');
    const listed = async (state?: 'installed' | 'rolled-back' | 'refused') =>
      (await admin.listDevices({ licenseId, state })).map((d) => [d.name, d.version, d.slot, d.state, d.reason !== null]);
    const names = (await admin.listDevices({ licenseId })).map((d) => d.name);
    assert.equal(await listed('installed'), [[names[0], 1, 'A', 'installed', false]]);
    assert.equal(await listed('refused'), [[names[1], 0, null, 'refused', true]]);
    const [first] = await admin.listDevices({ licenseId, state: 'installed' });
    assert.is(first!.downloadBytes, installed.bytesSent, 'the report carries the bytes the install downloaded');

    await admin.publish(release(2));
    await picky.checkForUpdate().then(
      () => assert.unreachable('version 2 fails its self-test'),
      (error: { code?: string }) => assert.is(error.code, 'SELF_TEST_FAILED'),
    );
    assert.equal(await listed('rolled-back'), [[names[0], 1, 'A', 'rolled-back', true]], 'rolled back to version 1 in slot A');
    const [rolledBack] = await admin.listDevices({ licenseId, state: 'rolled-back' });
    assert.match(rolledBack!.reason!, 'the test bench says no');
    assert.equal(await listed('installed'), []);
  } finally {
    await server.close();
  }
});

test('license upgrade and downgrade, then a new version, against the real server', async () => {
  const server = await startServer({ port: 0, dataDir: tempDir('db'), adminToken: ADMIN, authCacheMs: 0, log: () => undefined });
  try {
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
    await admin.publish(release(1));
    const { licenseId, tokens } = await provisionDevices({ server: server.url, adminToken: ADMIN, model: 'synthetic', tier: 'basic', count: 1 });
    const device = await openDevice({ dir: tempDir('dev'), profile: 'm0-32k', server: server.url, token: tokens[0], publicKey: keys.publicKeyPem });

    const install = await device.checkForUpdate();
    assert.equal([install.kind, install.toVersion, install.heldIntervals, install.patchBytes], ['install', 1, [1, 2], null]);
    const images = randomSamples(40, 784);
    const basic = Array.from(device.infer(images, 40).predictions);
    assert.is((await device.checkForUpdate()).kind, 'none');

    await admin.changeLicenseTier(licenseId, { tier: 'full' });
    const upgrade = await device.checkForUpdate();
    assert.equal([upgrade.kind, upgrade.fromHeldIntervals, upgrade.heldIntervals], ['license-upgrade', [1, 2], [0, 1, 2, 3]]);
    assert.ok(upgrade.patchBytes !== null && upgrade.bytesSent === upgrade.patchBytes, `upgrade by patch (${upgrade.bytesSent} bytes)`);
    assert.ok(upgrade.bytesSent < upgrade.fullArtifactBytes);
    assert.not.equal(Array.from(device.infer(images, 40).predictions), basic);

    await admin.changeLicenseTier(licenseId, { tier: 'basic' });
    const downgrade = await device.checkForUpdate();
    assert.equal([downgrade.kind, downgrade.heldIntervals], ['license-downgrade', [1, 2]]);
    assert.ok(downgrade.patchBytes !== null && downgrade.bytesSent === downgrade.patchBytes);
    assert.equal(Array.from(device.infer(images, 40).predictions), basic, 'back to exactly the basic tier');

    const v2 = release(2);
    await admin.publish(v2);
    const update = await device.checkForUpdate();
    assert.equal([update.kind, update.fromVersion, update.toVersion, update.heldIntervals], ['version', 1, 2, [1, 2]]);
    assert.ok(update.patchBytes !== null);

    const devices = await admin.listDevices({ licenseId });
    assert.equal(
      [devices[0]!.version, devices[0]!.intervals, devices[0]!.slot, devices[0]!.state, devices[0]!.reason],
      [2, [1, 2], device.status().slot, 'installed', null],
      'the device reported the install it just made',
    );

    await admin.revokeLicense(licenseId);
    try {
      await device.checkForUpdate();
      assert.unreachable();
    } catch (error: any) {
      assert.is(error.code, 'SERVER_ERROR');
      assert.match(error.message, /LICENSE_REVOKED/);
    }
    assert.is(device.status().version, 2, 'a revoked license leaves the running version alone');
  } finally {
    await server.close();
  }
});

test('a small fleet reaches a newly published version by patch', async () => {
  const server = await startServer({ port: 0, dataDir: tempDir('db'), adminToken: ADMIN, authCacheMs: 0, log: () => undefined });
  try {
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
    await admin.publish(release(1));
    const { tokens } = await provisionDevices({ server: server.url, adminToken: ADMIN, model: 'synthetic', tier: 'full', count: 12 });
    const fleet = await openFleet({ server: server.url, tokens, baseDir: tempDir('fleet'), profile: 'm0-32k', publicKey: keys.publicKeyPem, concurrency: 4 });
    const first = await fleet.round({ targetVersion: 1 });
    assert.equal([first.reached, first.failures, first.fullDownloads], [12, 0, 12]);
    await admin.publish(release(2));
    const second = await fleet.round({ targetVersion: 2 });
    assert.equal([second.reached, second.failures, second.fullDownloads], [12, 0, 0]);
    assert.is(second.patchBytes.length, 1, 'every device got the same patch');
    assert.equal(second.bytesPerDevice, { min: second.patchBytes[0], median: second.patchBytes[0], max: second.patchBytes[0] });
  } finally {
    await server.close();
  }
});

for (const mode of ['threads', 'processes'] as const) {
  test(`a fleet spread over two worker ${mode} reaches a new version, every device by the same patch`, async () => {
    const server = await startServer({ port: 0, dataDir: tempDir('db'), adminToken: ADMIN, authCacheMs: 0, log: () => undefined });
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
    await admin.publish(release(1));
    const { tokens } = await provisionDevices({ server: server.url, adminToken: ADMIN, model: 'synthetic', tier: 'full', count: 6 });
    // Child processes write a CPU profile each when asked to, which needs them to exit by themselves on close.
    const profiles = mode === 'processes' ? tempDir('profiles') : null;
    if (profiles) process.env.WEIGHTGATE_FLEET_CPU_PROF = profiles;
    const fleet = await openWorkerFleet({
      server: server.url,
      tokens,
      baseDir: tempDir('fleet'),
      profile: 'm0-32k',
      publicKey: keys.publicKeyPem,
      workers: 2,
      mode,
    });
    delete process.env.WEIGHTGATE_FLEET_CPU_PROF;
    try {
      const cpuAtStart = await fleet.cpuSeconds();
      const first = await fleet.round({ targetVersion: 1 });
      assert.equal([first.devices, first.reached, first.failures], [6, 6, 0]);
      const cpuAfterRound = await fleet.cpuSeconds();
      // Child processes count their own CPU, and a round costs some; threads share this process's count, so they have none of their own.
      if (mode === 'processes') assert.ok(cpuAtStart! > 0 && cpuAfterRound! > cpuAtStart!, `CPU seconds ${cpuAtStart} then ${cpuAfterRound}`);
      else assert.equal([cpuAtStart, cpuAfterRound], [null, null]);
      await admin.publish(release(2));
      const second = await fleet.round({ targetVersion: 2 });
      assert.equal([second.reached, second.failures, second.fullDownloads], [6, 0, 0]);
      assert.is(second.patchBytes.length, 1);
      assert.equal(second.bytesPerDevice, { min: second.patchBytes[0], median: second.patchBytes[0], max: second.patchBytes[0] });
    } finally {
      await fleet.close();
      await server.close();
    }
    if (profiles) assert.is(readdirSync(profiles).filter((name) => name.endsWith('.cpuprofile')).length, 2, 'one CPU profile per child process');
  });
}

test.run();

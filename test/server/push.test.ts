// Push over MQTT, end to end on 127.0.0.1: with the embedded broker (aedes)
// and through Mosquitto (MQTT_URL). A release, a license upgrade, a
// downgrade and a withdrawal each reach the device's own topic as a notice,
// and a device that acts on notices runs the new tier without polling; the
// embedded broker refuses a bad token, another device's topic and any
// device's publish; a forged notice (through Mosquitto, which lets anyone
// publish) costs one update check and changes nothing.
// test: own-process (several CPU-seconds: it balances better alone)
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startServer, type RunningServer } from '../../server/start.ts';
import { createClient } from '../../server/client.ts';
import { provisionDevices } from '../../server/provision.ts';
import { openDevice, type Device } from '../../device-sim/device.ts';
import { subscribePush, type PushSubscription } from '../../device-sim/push-client.ts';
import { openFleet } from '../../device-sim/fleet.ts';
import { openWorkerFleet } from '../../device-sim/fleet-workers.ts';
import type { PushNotice } from '../../api/push-notice.ts';
import { keys, syntheticArtifact } from '../device-sim/fixtures.ts';
import { MOSQUITTO, MOSQUITTO_URL, requiring } from '../requirements.ts';

const ADMIN = 'push-admin-token-Xy7-0123456789';
const release = (version: number) => syntheticArtifact({ version, seed: 60 + version, sizes: [784, 16, 10] });

const MOSQUITTO_REQUIREMENT = await MOSQUITTO();

/** Polls `condition` every 10 ms until true; fails after `ms`. */
async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.unreachable(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Setup {
  server: RunningServer;
  work: string;
  licenseId: number;
  tokens: string[];
  admin: ReturnType<typeof createClient>;
}

async function setUp(push: { port: number } | { url: string }, topicPrefix?: string): Promise<Setup> {
  const work = mkdtempSync(join(tmpdir(), 'wg-push-'));
  const server = await startServer({ port: 0, dataDir: join(work, 'db'), adminToken: ADMIN, authCacheMs: 0, log: () => undefined, push, topicPrefix });
  const admin = createClient({ server: server.url, token: ADMIN });
  await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
  await admin.publish(release(1));
  const { licenseId, tokens } = await provisionDevices({ server: server.url, adminToken: ADMIN, model: 'synthetic', tier: 'basic', count: 2 });
  return { server, work, licenseId, tokens, admin };
}

async function tearDown(setup: Setup): Promise<void> {
  await setup.server.close();
  rmSync(setup.work, { recursive: true, force: true });
}

/**
 * A device that acts on notices: each one makes it check; `checks` counts
 * the checks, `notices` what arrived.
 */
async function pushedDevice(
  setup: Setup,
  index: number,
): Promise<{ device: Device; subscription: PushSubscription; notices: PushNotice[]; checks: () => number; refusals: string[] }> {
  const device = await openDevice({
    dir: join(setup.work, `device-${index}`),
    profile: 'm0-32k',
    server: setup.server.url,
    token: setup.tokens[index],
    publicKey: keys.publicKeyPem,
  });
  assert.is((await device.checkForUpdate()).kind, 'install');
  const channel = device.pushChannel();
  assert.ok(channel, 'the update check names the push channel');
  const notices: PushNotice[] = [];
  const refusals: string[] = [];
  let checks = 0;
  let chain = Promise.resolve();
  const subscription = subscribePush(channel!, setup.tokens[index]!, (notice) => {
    notices.push(notice);
    chain = chain.then(async () => {
      await device.checkForUpdate().catch((error: { code?: string }) => refusals.push(error.code ?? 'ERROR'));
      checks++;
    });
  });
  await subscription.ready;
  return { device, subscription, notices, checks: () => checks, refusals };
}

const test = uvuTest;

test('embedded broker: release, upgrade, downgrade and withdraw reach the device as notices; it runs each at once', async () => {
  const setup = await setUp({ port: 0 });
  try {
    assert.match(setup.server.pushUrl ?? '', /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const { device, subscription, notices, checks, refusals } = await pushedDevice(setup, 0);
    try {
      const started = Date.now();
      await setup.admin.changeLicenseTier(setup.licenseId, { tier: 'full' });
      await until(() => checks() === 1 && device.status().heldIntervals.length === 4, 10_000, 'the upgrade by push');
      const upgradeMs = Date.now() - started;
      assert.equal(notices.at(-1)!.kind, 'license');

      await setup.admin.changeLicenseTier(setup.licenseId, { tier: 'basic' });
      await until(() => checks() === 2 && device.status().heldIntervals.length === 2, 10_000, 'the downgrade by push');

      await setup.admin.publish(release(2));
      await until(() => checks() === 3 && device.status().version === 2, 10_000, 'version 2 by push');
      assert.equal([notices.at(-1)!.kind, notices.at(-1)!.version], ['version', 2]);

      await setup.admin.withdrawVersion('synthetic', 2);
      await until(() => checks() === 4, 10_000, 'the check after the withdrawal notice');
      assert.equal([notices[3]!.kind, notices[3]!.version], ['version', 1]);
      // The server now offers version 1; the device keeps version 2 (rollback protection).
      assert.equal(refusals, ['ROLLBACK_REFUSED']);
      assert.is(device.status().version, 2);
      assert.ok(
        notices.every((n) => n.model === 'synthetic'),
        'a notice names the model and nothing secret',
      );
      process.stdout.write(`  push: license upgrade to running the new tier in ${upgradeMs} ms\n`);
    } finally {
      await subscription.close();
    }
    // Both devices of the license got each license notice: 2 devices x (2 license + 2 version) notices.
    assert.is(setup.server.noticesSent(), 8);
  } finally {
    await tearDown(setup);
  }
});

test("embedded broker: a bad token is refused, another device's topic is refused, a device cannot publish", async () => {
  const setup = await setUp({ port: 0 });
  try {
    const url = setup.server.pushUrl!;
    const wrong = subscribePush({ url, topic: 'weightgate/devices/1' }, 'wgd_not-a-token', () => {});
    await wrong.ready.then(
      () => assert.unreachable('a wrong token connected'),
      (error: Error) => assert.match(error.message, /username or password|Bad/i),
    );
    await wrong.close();
    const admin = subscribePush({ url, topic: 'weightgate/devices/1' }, ADMIN, () => {});
    await admin.ready.then(
      () => assert.unreachable('an admin token connected'),
      (error: Error) => assert.match(error.message, /authori/i),
    );
    await admin.close();

    // Device 1 (the first provisioned) asks for device 2's topic: refused; its own: granted.
    const devices = await setup.admin.listDevices({ licenseId: setup.licenseId });
    const [, second] = devices.map((d) => d.id);
    const nosy = subscribePush({ url, topic: `weightgate/devices/${second}` }, setup.tokens[0]!, () => {});
    await nosy.ready.then(
      () => assert.unreachable('subscribed to another device'),
      (error: Error) => assert.match(error.message, /refused the subscription/),
    );
    await nosy.close();
    const wildcard = subscribePush({ url, topic: 'weightgate/devices/#' }, setup.tokens[0]!, () => {});
    await wildcard.ready.then(
      () => assert.unreachable('subscribed to a wildcard'),
      (error: Error) => assert.match(error.message, /refused the subscription/),
    );
    await wildcard.close();

    // Device 2 listens; device 1 tries to publish a notice to it: the broker drops device 1.
    const listening: PushNotice[] = [];
    const own = subscribePush({ url, topic: `weightgate/devices/${second}` }, setup.tokens[1]!, (notice) => listening.push(notice));
    await own.ready;
    const forger = await mqtt.connectAsync(url, { username: 'device', password: setup.tokens[0], reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => forger.once('close', () => resolve()));
    forger.publish(`weightgate/devices/${second}`, JSON.stringify({ kind: 'license', model: 'synthetic', version: 1, at: new Date().toISOString() }));
    await closed;
    await forger.endAsync(true);
    // A real notice still arrives, and only it.
    await setup.admin.changeLicenseTier(setup.licenseId, { tier: 'full' });
    await until(() => listening.length === 1, 10_000, 'the real notice');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.is(listening.length, 1, 'the forged notice was not delivered');
    await own.close();

    // A revoked device token: its connection is closed and it cannot come back.
    const late = await setup.admin.registerDevice(setup.licenseId, 'late');
    const lateTopic = `weightgate/devices/${late.deviceId}`;
    const session = await mqtt.connectAsync(url, { username: 'device', password: late.token, reconnectPeriod: 0 });
    const heard: string[] = [];
    session.on('message', (topic, payload) => heard.push(`${topic} ${JSON.parse(String(payload)).kind}`));
    await session.subscribeAsync(lateTopic);
    const dropped = new Promise<void>((resolve) => session.once('close', () => resolve()));
    await setup.admin.revokeToken(late.tokenId);
    await dropped;
    // The "device" notice is published before the close; whether its bytes beat the close to this client is the network's business.
    assert.ok(
      heard.every((line) => line === `${lateTopic} device`),
      JSON.stringify(heard),
    );
    await session.endAsync(true);
    const again = subscribePush({ url, topic: lateTopic }, late.token, () => {});
    await again.ready.then(
      () => assert.unreachable('a revoked token connected again'),
      (error: Error) => assert.match(error.message, /username or password|Bad/i),
    );
    await again.close();
  } finally {
    await tearDown(setup);
  }
});

test('weightgate device run subscribes and takes a license upgrade at once, with polling an hour apart', async () => {
  const setup = await setUp({ port: 0 });
  const keyFile = join(setup.work, 'publisher.pub');
  writeFileSync(keyFile, keys.publicKeyPem);
  const child = spawn(
    process.execPath,
    [
      'bin/weightgate.js',
      'device',
      'run',
      '--server',
      setup.server.url,
      '--token',
      setup.tokens[0]!,
      '--dir',
      join(setup.work, 'cli-device'),
      '--public-key',
      keyFile,
      '--interval',
      '3600',
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const events: Array<Record<string, any>> = [];
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line));
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('close', resolve));
  try {
    await until(() => events.some((e) => e.event === 'push') || child.exitCode !== null, 30_000, 'the device to subscribe');
    assert.ok(
      events.some((e) => e.event === 'push'),
      `the device subscribed: ${JSON.stringify(events)} ${stderr}`,
    );
    assert.ok(events.some((e) => e.event === 'check' && e.kind === 'install'));
    await setup.admin.changeLicenseTier(setup.licenseId, { tier: 'full' });
    await until(() => events.some((e) => e.event === 'check' && e.kind === 'license-upgrade'), 15_000, 'the upgrade after the notice');
    const notice = events.findIndex((e) => e.event === 'notice');
    const upgrade = events.findIndex((e) => e.event === 'check' && e.kind === 'license-upgrade');
    assert.ok(notice >= 0 && notice < upgrade, 'the notice came first, then the check it caused');
    assert.equal(events.filter((e) => e.event === 'check').length, 2, 'two checks: the first, and the one the notice caused');
  } finally {
    child.kill('SIGINT');
    const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(killed);
    assert.is(code, 0, `device run stops on Ctrl-C at once, its hour-long poll timer cleared: ${stderr}`);
    await tearDown(setup);
  }
});

// Workers start on the CLI's compiled build while it is up to date, else on
// the TypeScript source through tsx: the threads here take the first way
// (the test runner builds the CLI), the processes the second.
for (const [mode, fromSource] of [
  ['threads', false],
  ['processes', true],
] as const) {
  test(`a fleet over two worker ${mode}${fromSource ? ' (from source)' : ''} watches: notices and updates come back with fleet-wide device indexes`, async () => {
    const setup = await setUp({ port: 0 });
    const saved = process.env.WEIGHTGATE_FROM_SOURCE;
    if (fromSource) process.env.WEIGHTGATE_FROM_SOURCE = '1';
    try {
      const fleet = await openWorkerFleet({
        server: setup.server.url,
        tokens: setup.tokens,
        baseDir: join(setup.work, 'fleet'),
        profile: 'm0-32k',
        publicKey: keys.publicKeyPem,
        workers: 2,
        mode,
      });
      try {
        assert.is((await fleet.round()).reached, 2);
        const noticed: number[] = [];
        const seen: string[] = [];
        const watch = await fleet.watch({
          onNotice: (device) => noticed.push(device),
          onUpdate: (device, outcome, error) => seen.push(`${device}:${outcome?.kind ?? error}`),
        });
        assert.is(watch.subscribed, 2);
        assert.is(setup.server.pushConnections(), 2);
        await setup.admin.changeLicenseTier(setup.licenseId, { tier: 'full' });
        await until(() => watch.updates() === 2, 20_000, 'both devices upgraded by push');
        assert.equal(seen.sort(), ['0:license-upgrade', '1:license-upgrade']);
        assert.equal(noticed.sort(), [0, 1]);
        assert.equal([watch.notices(), watch.failures()], [2, 0]);
        await watch.stop();
        await until(() => setup.server.pushConnections() === 0, 10_000, 'the workers to disconnect');
        // Stopped: a further change reaches no one, and a round still works.
        await setup.admin.changeLicenseTier(setup.licenseId, { tier: 'basic' });
        assert.is(watch.notices(), 2);
        assert.is((await fleet.round()).kinds['license-downgrade'], 2);
      } finally {
        await fleet.close();
      }
    } finally {
      if (saved === undefined) delete process.env.WEIGHTGATE_FROM_SOURCE;
      else process.env.WEIGHTGATE_FROM_SOURCE = saved;
      await tearDown(setup);
    }
  });
}

test('a fleet watches: every device subscribed takes a license upgrade on its notice', async () => {
  const setup = await setUp({ port: 0 });
  try {
    const fleet = await openFleet({
      server: setup.server.url,
      tokens: setup.tokens,
      baseDir: join(setup.work, 'fleet'),
      profile: 'm0-32k',
      publicKey: keys.publicKeyPem,
    });
    const first = await fleet.round();
    assert.is(first.reached, 2);
    const seen: string[] = [];
    const watch = await fleet.watch({ onUpdate: (device, outcome, error) => seen.push(`${device}:${outcome?.kind ?? error}`) });
    try {
      assert.is(watch.subscribed, 2);
      await setup.admin.changeLicenseTier(setup.licenseId, { tier: 'full' });
      await until(() => watch.updates() === 2, 10_000, 'both devices upgraded by push');
      assert.equal(seen.sort(), ['0:license-upgrade', '1:license-upgrade']);
      assert.ok(fleet.devices.every((device) => device.status().heldIntervals.length === 4));
      assert.equal([watch.notices(), watch.failures()], [2, 0]);
    } finally {
      await watch.stop();
    }
  } finally {
    await tearDown(setup);
  }
});

test('an unreachable broker (MQTT_URL) stops nothing: the server serves, changes work, notices are dropped with a log line', async () => {
  const work = mkdtempSync(join(tmpdir(), 'wg-push-'));
  const logs: string[] = [];
  const server = await startServer({
    port: 0,
    dataDir: join(work, 'db'),
    adminToken: ADMIN,
    log: (line) => logs.push(line),
    push: { url: 'mqtt://127.0.0.1:1' },
  });
  try {
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
    await admin.publish(release(1));
    const { licenseId, tokens } = await provisionDevices({ server: server.url, adminToken: ADMIN, model: 'synthetic', tier: 'basic', count: 1 });
    await admin.changeLicenseTier(licenseId, { tier: 'full' });
    await until(() => logs.some((line) => line.includes('notice is dropped')), 5_000, 'the dropped-notice log line');
    const device = await openDevice({ dir: join(work, 'device'), profile: 'm0-32k', server: server.url, token: tokens[0], publicKey: keys.publicKeyPem });
    const outcome = await device.checkForUpdate();
    assert.equal([outcome.kind, outcome.heldIntervals.length], ['install', 4], 'polling still brings the full tier');
    assert.is(server.noticesSent(), 0);
    assert.ok(
      logs.some((line) => /MQTT broker 127\.0\.0\.1:1: .*retrying/.test(line)),
      logs.join('\n'),
    );
  } finally {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});

requiring(uvuTest, MOSQUITTO_REQUIREMENT)('Mosquitto (MQTT_URL): notices arrive through it; a forged notice changes nothing', async () => {
  // A prefix of this run's own: Mosquitto is shared by everything on the machine.
  const prefix = `weightgate-test-${randomBytes(6).toString('hex')}`;
  const setup = await setUp({ url: MOSQUITTO_URL }, prefix);
  try {
    assert.is(setup.server.pushUrl, MOSQUITTO_URL);
    const { device, subscription, notices, checks } = await pushedDevice(setup, 0);
    try {
      assert.match(device.pushChannel()!.topic, new RegExp(`^${prefix}/devices/\\d+$`));
      await setup.admin.changeLicenseTier(setup.licenseId, { tier: 'full' });
      await until(() => checks() === 1 && device.status().heldIntervals.length === 4, 10_000, 'the upgrade through Mosquitto');
      await setup.admin.publish(release(2));
      await until(() => checks() === 2 && device.status().version === 2, 10_000, 'version 2 through Mosquitto');

      // Anyone may publish on this Mosquitto: a forged "new version" notice makes
      // the device check once, and the server's answer leaves it as it is.
      const before = device.status();
      const forger = await mqtt.connectAsync(MOSQUITTO_URL, { reconnectPeriod: 0 });
      await forger.publishAsync(
        device.pushChannel()!.topic,
        JSON.stringify({ kind: 'version', model: 'synthetic', version: 99, at: new Date().toISOString() }),
      );
      await forger.endAsync();
      await until(() => checks() === 3, 10_000, 'the check the forged notice caused');
      assert.equal(device.status(), before, 'nothing changed on the device');
      assert.is(notices.length, 3);
      // Garbage on the topic is dropped unparsed.
      const noise = await mqtt.connectAsync(MOSQUITTO_URL, { reconnectPeriod: 0 });
      await noise.publishAsync(device.pushChannel()!.topic, 'not json');
      await noise.endAsync();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.is(checks(), 3);
    } finally {
      await subscription.close();
    }
  } finally {
    await tearDown(setup);
  }
});

test.run();

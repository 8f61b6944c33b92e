// A staged rollout with real simulated devices that act on push notices,
// driven by the CLI: version 2 released to 10 % of 20 devices reaches only
// that stage; its devices fail their self-test, roll back and report, and
// the rollout pauses by itself before anyone else is offered it. Resumed
// with the fault fixed and widened to 100 %, it reaches every device.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer } from '../../server/start.ts';
import { createClient } from '../../server/client.ts';
import { provisionDevices } from '../../server/provision.ts';
import { openDevice, type Device } from '../../device-sim/device.ts';
import { subscribePush, type PushSubscription } from '../../device-sim/push-client.ts';
import { keys, syntheticArtifact } from '../device-sim/fixtures.ts';

const ADMIN = 'rollout-admin-token-Qz4-0123456789';
const DEVICES = 20;
const release = (version: number) => syntheticArtifact({ version, seed: 80 + version, sizes: [784, 16, 10] });
const run = promisify(execFile);

async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.unreachable(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a 10 % rollout pauses itself on failed self-tests; resumed and widened it reaches all 20 devices', async () => {
  const work = mkdtempSync(join(tmpdir(), 'wg-rollout-'));
  const server = await startServer({ port: 0, dataDir: join(work, 'db'), adminToken: ADMIN, authCacheMs: 0, log: () => undefined, push: { port: 0 } });
  const admin = createClient({ server: server.url, token: ADMIN });
  const cli = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['bin/weightgate.js', ...args, '--server', server.url, '--token', ADMIN]);
    return stdout;
  };
  const subscriptions: PushSubscription[] = [];
  try {
    await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
    await admin.publish(release(1));
    const { tokens } = await provisionDevices({ server: server.url, adminToken: ADMIN, model: 'synthetic', tier: 'basic', count: DEVICES });

    let broken = true;
    const fleet: Array<{ device: Device; id: number; notices: number; busy: Promise<void> }> = [];
    for (const [i, token] of tokens.entries()) {
      const device = await openDevice({
        dir: join(work, `device-${i}`),
        profile: 'm0-32k',
        server: server.url,
        token,
        publicKey: keys.publicKeyPem,
        selfTest: (artifact) => (broken && artifact.manifest.version === 2 ? 'injected fault: sensor calibration off' : null),
      });
      assert.is((await device.checkForUpdate()).kind, 'install');
      const channel = device.pushChannel()!;
      const member = { device, id: Number(channel.topic.split('/').at(-1)), notices: 0, busy: Promise.resolve() };
      const subscription = subscribePush(channel, token, () => {
        member.notices++;
        member.busy = member.busy.then(() =>
          device.checkForUpdate().then(
            () => undefined,
            () => undefined,
          ),
        );
      });
      await subscription.ready;
      subscriptions.push(subscription);
      fleet.push(member);
    }

    await admin.publish(release(2), { draft: true });
    const released = JSON.parse(await cli('versions', 'release', 'synthetic', '2', '--percent', '10', '--max-failure-percent', '20', '--json'));
    assert.equal([released.state, released.stage.devices], ['active', 2], JSON.stringify(released));

    // The stage's devices get the notice, try version 2, fail the self-test and report: the rollout pauses.
    await until(async () => (await admin.rollout('synthetic', 2)).state === 'paused', 20_000, 'the rollout to pause itself');
    const paused = await admin.rollout('synthetic', 2);
    assert.match(paused.pausedReason ?? '', /injected fault/);
    assert.ok(paused.stage.failed >= 1, JSON.stringify(paused.stage));
    await Promise.all(fleet.map((m) => m.busy));
    const noticed = fleet.filter((m) => m.notices > 0);
    assert.is(noticed.length, 2, 'the release notice went to the stage only');
    assert.ok(
      fleet.every((m) => m.device.status().version === 1),
      'no device runs version 2',
    );
    const rolledBack = await admin.listDevices({ state: 'rolled-back' });
    assert.ok(rolledBack.length >= 1 && rolledBack.every((d) => noticed.some((m) => m.id === d.id) && d.version === 1));
    // Outside the stage, a device that checks on its own is not offered version 2 either.
    assert.is((await fleet.find((m) => m.notices === 0)!.device.checkForUpdate()).kind, 'none');
    const shown = await cli('versions', 'rollout', 'synthetic', '2');
    assert.match(shown, /^synthetic version 2 rollout paused, stage 10 %, 2 devices: 0 installed, [12] failed, [01] pending; paused: .*injected fault/);

    broken = false;
    await cli('versions', 'resume', 'synthetic', '2');
    await until(async () => (await admin.rollout('synthetic', 2)).stage.installed === 2, 20_000, 'the stage to retry and install');
    const widened = JSON.parse(await cli('versions', 'widen', 'synthetic', '2', '--percent', '100', '--json'));
    assert.is(widened.state, 'complete');
    await until(() => fleet.every((m) => m.device.status().version === 2), 30_000, 'every device to run version 2');
    await Promise.all(fleet.map((m) => m.busy));

    const trail = (await admin.audit())
      .filter((e) => e.entityId === 'synthetic@2')
      .map((e) => e.action)
      .reverse();
    assert.equal(trail, ['version.stage', 'version.release', 'rollout.pause', 'rollout.resume', 'rollout.complete']);
  } finally {
    for (const subscription of subscriptions) await subscription.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();

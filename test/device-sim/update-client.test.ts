// The update client against a node:http stub that follows the device HTTP
// contract: install, up-to-date, resumable download, dynamic licensing
// (upgrade and downgrade), rollback attack, and the power-loss loop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from '../../device-sim/device.ts';
import { PowerCutError } from '../../device-sim/errors.ts';
import { randomPowerCut } from '../../device-sim/power-cut.ts';
import { readArtifact } from '../../formats/index.ts';
import { keys, randomSamples, syntheticArtifact } from './fixtures.ts';
import { startStubServer, type StubServer } from './stub-server.ts';

const publicKey = keys.publicKeyPem;
const tempDir = () => mkdtempSync(join(tmpdir(), 'wg-update-'));
const FULL = [0, 1, 2, 3];
const BASIC = [1, 2];
const release = (version: number, license: number[]) => syntheticArtifact({ version, seed: 10 + version, sizes: [784, 24, 10], license });

let stub: StubServer;
test.before(async () => {
  stub = await startStubServer();
});
test.after(async () => {
  await stub.close();
});

test('first check installs the full artifact; the next one is up to date', async () => {
  const v1 = release(1, FULL);
  stub.publish(v1);
  stub.grant('t-install', FULL);
  const device = await openDevice({ dir: tempDir(), profile: 'm0-32k', server: stub.url, token: 't-install', publicKey });
  const outcome = await device.checkForUpdate();
  assert.equal([outcome.kind, outcome.toVersion, outcome.heldIntervals, outcome.bytesSent, outcome.patchBytes], ['install', 1, FULL, v1.length, null]);
  const again = await device.checkForUpdate();
  assert.equal([again.kind, again.bytesSent], ['none', 0]);
});

test('a broken download resumes with a Range request and is verified', async () => {
  const v1 = release(1, FULL);
  stub.publish(v1);
  stub.grant('t-resume', FULL);
  stub.ranges.length = 0;
  stub.breakDownloadsAfter(1000, 2);
  const device = await openDevice({ dir: tempDir(), profile: 'm0-32k', server: stub.url, token: 't-resume', publicKey });
  const outcome = await device.checkForUpdate();
  assert.is(outcome.toVersion, 1);
  assert.equal(stub.ranges, ['bytes=1000-', 'bytes=2000-']);
  assert.is(outcome.bytesSent, v1.length, 'no byte came twice');
  assert.is(device.status().sha256, readArtifact(v1).sha256);
});

test('a bad token is a typed server error and changes nothing', async () => {
  const device = await openDevice({ dir: tempDir(), profile: 'm0-32k', server: stub.url, token: 'nobody', publicKey });
  try {
    await device.checkForUpdate();
    assert.unreachable();
  } catch (error: any) {
    assert.is(error.code, 'SERVER_ERROR');
    assert.match(error.message, /UNAUTHORIZED \(HTTP 401\)/);
  }
  assert.is(device.status().version, 0);
});

test('dynamic licensing: an upgrade brings the added intervals, a downgrade drops them', async () => {
  stub.publish(release(1, BASIC));
  stub.publish(release(1, FULL));
  stub.grant('t-license', BASIC);
  const device = await openDevice({ dir: tempDir(), profile: 'm0-32k', server: stub.url, token: 't-license', publicKey });
  const install = await device.checkForUpdate();
  assert.equal([install.kind, install.heldIntervals], ['install', BASIC]);
  const samples = randomSamples(50, 784);
  const basicPredictions = device.infer(samples, 50).predictions;

  stub.grant('t-license', FULL);
  const upgrade = await device.checkForUpdate();
  assert.equal([upgrade.kind, upgrade.fromHeldIntervals, upgrade.heldIntervals, upgrade.toVersion], ['license-upgrade', BASIC, FULL, 1]);
  assert.ok(upgrade.patchBytes !== null, 'the upgrade came as a patch');
  assert.is(upgrade.bytesSent, upgrade.patchBytes);
  assert.ok(upgrade.bytesSent < upgrade.fullArtifactBytes, `patch ${upgrade.bytesSent} B < artifact ${upgrade.fullArtifactBytes} B`);
  assert.is(device.artifact()!.segments.length > readArtifact(release(1, BASIC)).segments.length, true);
  const fullPredictions = device.infer(samples, 50).predictions;
  assert.not.equal(Array.from(fullPredictions), Array.from(basicPredictions), 'the added weights change the outputs');

  stub.grant('t-license', BASIC);
  const downgrade = await device.checkForUpdate();
  assert.equal([downgrade.kind, downgrade.heldIntervals], ['license-downgrade', BASIC]);
  assert.ok(downgrade.patchBytes !== null && downgrade.bytesSent === downgrade.patchBytes);
  assert.equal(Array.from(device.infer(samples, 50).predictions), Array.from(basicPredictions));
});

test('a small patch comes inside the answer: no second request; a corrupt one is downloaded instead', async () => {
  stub.publish(release(1, BASIC));
  stub.publish(release(1, FULL));
  stub.grant('t-inline', BASIC);
  const device = await openDevice({ dir: tempDir(), profile: 'm0-32k', server: stub.url, token: 't-inline', publicKey });
  await device.checkForUpdate();
  const served = stub.patchesServed;
  const inlined = stub.patchesInlined;

  stub.grant('t-inline', FULL);
  const upgrade = await device.checkForUpdate();
  assert.equal([upgrade.kind, upgrade.heldIntervals], ['license-upgrade', FULL]);
  assert.is(stub.patchesInlined, inlined + 1, 'the patch came inside the answer (m0-32k takes up to 8 KiB)');
  assert.is(stub.patchesServed, served, 'and was not downloaded');
  assert.is(upgrade.bytesSent, upgrade.patchBytes);

  // One flipped byte: the hash the answer promised no longer holds; the device downloads the patch.
  stub.inlineMode = 'corrupt';
  try {
    stub.grant('t-inline', BASIC);
    const downgrade = await device.checkForUpdate();
    assert.equal([downgrade.kind, downgrade.heldIntervals], ['license-downgrade', BASIC]);
    assert.is(stub.patchesInlined, inlined + 2);
    assert.is(stub.patchesServed, served + 1, 'the corrupt inline patch was not used: downloaded instead');
  } finally {
    stub.inlineMode = 'honest';
  }

  // A device that takes no patch inline (inlinePatchBytes 0) does not ask for it.
  const plain = await openDevice({ dir: tempDir(), profile: 'm0-32k', server: stub.url, token: 't-inline', publicKey, inlinePatchBytes: 0 });
  await plain.checkForUpdate();
  stub.grant('t-inline', FULL);
  await plain.checkForUpdate();
  assert.is(stub.patchesInlined, inlined + 2, 'not inlined');
  assert.is(stub.patchesServed, served + 2, 'downloaded');
});

test('the server offering an older version is refused (rollback attack)', async () => {
  const rogue = await startStubServer();
  try {
    rogue.publish(release(1, FULL));
    rogue.grant('t', FULL);
    const device = await openDevice({ dir: tempDir(), profile: 'm0-32k', server: rogue.url, token: 't', publicKey });
    device.installArtifact(release(2, FULL));
    try {
      await device.checkForUpdate();
      assert.unreachable();
    } catch (error: any) {
      assert.is(error.code, 'ROLLBACK_REFUSED');
    }
    assert.is(device.status().version, 2);
  } finally {
    await rogue.close();
  }
});

for (const patches of [true, false])
  test(`power-loss loop (${patches ? 'patch' : 'full artifact'}): after a cut at a random point of download, apply or switch the device runs old or new, complete and verified`, async () => {
    const server = await startStubServer({ patches });
    try {
      const v1 = release(1, FULL);
      const v2 = release(2, FULL);
      const known = new Map([
        [readArtifact(v1).sha256, 1],
        [readArtifact(v2).sha256, 2],
      ]);
      server.publish(v1);
      server.publish(v2);
      server.grant('t', FULL);
      const samples = randomSamples(3, 784);
      const cutsByPhase: Record<string, number> = { download: 0, apply: 0, switch: 0 };
      for (let seed = 0; seed < 30; seed++) {
        const dir = tempDir();
        const setup = await openDevice({ dir, profile: 'm0-32k', publicKey });
        setup.installArtifact(v1);
        const plan = randomPowerCut(seed + (patches ? 0 : 1000), v2.length);
        const device = await openDevice({ dir, profile: 'm0-32k', server: server.url, token: 't', publicKey, powerCut: plan });
        try {
          await device.checkForUpdate();
        } catch (error) {
          assert.instance(error, PowerCutError, `seed ${seed}: ${(error as Error).message}`);
          cutsByPhase[plan.phase]++;
        }
        // Reboot: whatever state the flash is in, a complete verified version runs.
        const rebooted = await openDevice({ dir, profile: 'm0-32k', server: server.url, token: 't', publicKey });
        const status = rebooted.status();
        assert.is(known.get(status.sha256!), status.version, `seed ${seed} (${plan.phase}@${plan.afterBytes}): running ${status.sha256}`);
        assert.is(rebooted.infer(samples, 3).predictions.length, 3);
        // And the next check finishes the update.
        await rebooted.checkForUpdate();
        assert.is(rebooted.status().version, 2, `seed ${seed}: update completes after the reboot`);
      }
      assert.ok(cutsByPhase.download > 0 && cutsByPhase.apply > 0 && cutsByPhase.switch > 0, JSON.stringify(cutsByPhase));
    } finally {
      await server.close();
    }
  });

test.run();

// The device's flash lifecycle with local installs: A/B slots, reboot,
// corrupted slot at boot, rollback after a failing self-test, rollback
// attack, signature, and RAM budget enforced at install.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from '../../device-sim/device.ts';
import { keys, syntheticArtifact, randomSamples } from './fixtures.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { diffArtifacts, readArtifact } from '../../formats/index.ts';

const v1 = syntheticArtifact({ version: 1, seed: 1 });
const v2 = syntheticArtifact({ version: 2, seed: 2 });
const publicKey = keys.publicKeyPem;
const tempDir = () => mkdtempSync(join(tmpdir(), 'wg-device-'));

test('install into slot A, update into slot B, both survive a reboot', async () => {
  const dir = tempDir();
  let device = await openDevice({ dir, profile: 'm0-32k', publicKey });
  assert.is(device.status().version, 0);
  const first = device.installArtifact(v1);
  assert.equal([first.kind, first.slot, first.toVersion], ['install', 'A', 1]);
  const second = device.installArtifact(v2);
  assert.equal([second.kind, second.slot, second.fromVersion, second.toVersion], ['version', 'B', 1, 2]);
  device = await openDevice({ dir, profile: 'm0-32k', publicKey });
  const status = device.status();
  assert.equal([status.version, status.slot, status.confirmed, status.bootIssues], [2, 'B', true, []]);
  const result = device.infer(randomSamples(5, 784), 5);
  assert.is(result.predictions.length, 5);
  assert.ok(result.arenaHighWaterBytes <= result.arenaBytes);
});

test('a corrupted active slot is detected at boot and the device falls back to the other slot', async () => {
  const dir = tempDir();
  const device = await openDevice({ dir, profile: 'm0-32k', publicKey });
  device.installArtifact(v1);
  device.installArtifact(v2);
  const slotB = join(dir, 'slot-b.bin');
  const bytes = readFileSync(slotB);
  bytes[Math.floor(bytes.length / 2)] ^= 0x40;
  writeFileSync(slotB, bytes);
  const rebooted = await openDevice({ dir, profile: 'm0-32k', publicKey });
  const status = rebooted.status();
  assert.equal([status.version, status.slot], [1, 'A']);
  assert.match(status.bootIssues.join('\n'), /slot B hashes to/);
  const again = await openDevice({ dir, profile: 'm0-32k', publicKey });
  assert.equal([again.status().version, again.status().bootIssues], [1, []], 'the fallback was recorded');
});

test('with both slots corrupted the device boots with no model rather than a damaged one', async () => {
  const dir = tempDir();
  const device = await openDevice({ dir, profile: 'm0-32k', publicKey });
  device.installArtifact(v1);
  device.installArtifact(v2);
  for (const name of ['slot-a.bin', 'slot-b.bin']) {
    const bytes = readFileSync(join(dir, name));
    bytes[100] ^= 1;
    writeFileSync(join(dir, name), bytes);
  }
  const rebooted = await openDevice({ dir, profile: 'm0-32k', publicKey });
  assert.is(rebooted.status().version, 0);
  assert.throws(() => rebooted.infer(new Uint8Array(784), 1), /holds no verified artifact/);
});

test('a failing self-test rolls back to the old slot', async () => {
  const dir = tempDir();
  const device = await openDevice({
    dir,
    profile: 'm0-32k',
    publicKey,
    selfTest: (artifact) => (artifact.manifest.version === 2 ? 'reference output mismatch' : null),
  });
  device.installArtifact(v1);
  assert.throws(
    () => device.installArtifact(v2),
    (error: any) => error.code === 'SELF_TEST_FAILED',
  );
  assert.equal([device.status().version, device.status().slot], [1, 'A']);
  const rebooted = await openDevice({ dir, profile: 'm0-32k', publicKey });
  assert.equal([rebooted.status().version, rebooted.status().slot, rebooted.status().confirmed], [1, 'A', true]);
});

test('a version that does not fit the RAM fails its self-test and is rolled back', async () => {
  const dir = tempDir();
  const device = await openDevice({ dir, profile: 'm0-32k', publicKey });
  device.installArtifact(v1);
  const tooWide = syntheticArtifact({ version: 3, sizes: [784, 9000, 10], pruned: 0.999 });
  assert.throws(
    () => device.installArtifact(tooWide),
    (error: any) => error.code === 'SELF_TEST_FAILED' && /RAM/.test(error.message),
  );
  assert.is(device.status().version, 1);
  assert.is(device.infer(randomSamples(1, 784), 1).predictions.length, 1);
});

test('older versions are refused (rollback attack), and so are unsigned or foreign-key artifacts', async () => {
  const dir = tempDir();
  const device = await openDevice({ dir, profile: 'm0-32k', publicKey });
  device.installArtifact(v2);
  assert.throws(
    () => device.installArtifact(v1),
    (error: any) => error.code === 'ROLLBACK_REFUSED',
  );
  const unsigned = syntheticArtifact({ version: 3, signed: false });
  assert.throws(
    () => device.installArtifact(unsigned),
    (error: any) => error.code === 'UNSIGNED' || /sign/i.test(error.message),
  );
  const other = syntheticArtifact({ version: 3, model: 'another-model' });
  assert.throws(
    () => device.installArtifact(other),
    (error: any) => error.code === 'WRONG_MODEL',
  );
  assert.is(device.status().version, 2);
});

test('an artifact larger than a slot is refused with a flash BudgetError before anything is written', async () => {
  const dir = tempDir();
  const profile = resolveProfile('m0-32k', { flash: '16k' });
  const device = await openDevice({ dir, profile, publicKey });
  assert.throws(
    () => device.installArtifact(v1),
    (error: any) => error.code === 'FLASH_BUDGET_EXCEEDED',
  );
  assert.is(device.status().version, 0);
});

test('a patch applies against its base; a patch for another base version is refused', async () => {
  const dir = tempDir();
  const device = await openDevice({ dir, profile: 'm0-32k', publicKey });
  device.installArtifact(v1);
  const v3 = syntheticArtifact({ version: 3, seed: 3 });
  const wrongBase = diffArtifacts(v2, v3);
  assert.throws(
    () => device.installPatch(wrongBase),
    (error: any) => error.code === 'PATCH_WRONG_BASE',
  );
  assert.is(device.status().version, 1);
  const outcome = device.installPatch(diffArtifacts(v1, v2));
  assert.equal([outcome.kind, outcome.toVersion, outcome.sha256], ['version', 2, readArtifact(v2).sha256]);
  assert.throws(
    () => device.installPatch(diffArtifacts(v1, v3)),
    (error: any) => error.code === 'PATCH_WRONG_BASE',
  );
});

test.run();

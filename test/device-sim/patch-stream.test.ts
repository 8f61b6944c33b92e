// Patching on the device: the target is streamed into the inactive slot with
// working memory from the RAM arena (inference pauses meanwhile); the apply's
// peak and the arena high-water are reported; a RAM budget too small for the
// apply is a RAM BudgetError that leaves the running slot and the state
// record as they were.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from '../../device-sim/device.ts';
import { BudgetError } from '../../device-sim/errors.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { diffArtifacts, readArtifact } from '../../formats/index.ts';
import { keys, randomSamples, syntheticArtifact } from './fixtures.ts';

const publicKey = keys.publicKeyPem;
const tempDir = () => mkdtempSync(join(tmpdir(), 'wg-patch-stream-'));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

const basic = syntheticArtifact({ version: 1, seed: 1, license: [1, 2] });
const full = syntheticArtifact({ version: 1, seed: 1 });
const v2 = syntheticArtifact({ version: 2, seed: 2 });

test('m0-32k: a license upgrade then a new version, each streamed into the inactive slot inside the arena', async () => {
  const dir = tempDir();
  const device = await openDevice({ dir, profile: 'm0-32k', publicKey });
  const install = device.installArtifact(basic);
  assert.is(install.applyWorkingBytes, null, 'a full artifact is copied, not patched');
  const ramBytes = device.profile.ramBytes;

  const upgrade = device.installPatch(diffArtifacts(basic, full));
  assert.equal([upgrade.kind, upgrade.slot, upgrade.heldIntervals], ['license-upgrade', 'B', [0, 1, 2, 3]]);
  assert.ok(same(readFileSync(join(dir, 'slot-b.bin')), full), 'slot B holds the full-license artifact exactly');

  const version = device.installPatch(diffArtifacts(full, v2));
  assert.equal([version.kind, version.slot, version.toVersion], ['version', 'A', 2]);
  assert.ok(same(readFileSync(join(dir, 'slot-a.bin')), v2), 'slot A holds v2 exactly');
  for (const outcome of [upgrade, version]) {
    assert.ok(outcome.applyWorkingBytes! > 0, 'the apply took working memory from the arena');
    assert.ok(outcome.applyWorkingBytes! <= 4096, `apply took ${outcome.applyWorkingBytes} B`);
    assert.ok(outcome.arenaHighWaterBytes! >= outcome.applyWorkingBytes!, 'the arena high-water covers the apply');
    assert.ok(outcome.arenaHighWaterBytes! <= ramBytes, `high-water ${outcome.arenaHighWaterBytes} B within the ${ramBytes} B profile`);
  }
  const result = device.infer(randomSamples(3, 784), 3);
  assert.ok(result.arenaHighWaterBytes >= version.arenaHighWaterBytes! && result.arenaHighWaterBytes <= result.arenaBytes);

  const rebooted = await openDevice({ dir, profile: 'm0-32k', publicKey });
  assert.equal([rebooted.status().version, rebooted.status().slot, rebooted.status().bootIssues], [2, 'A', []]);
});

test('the paper-sized 784-128-64-10 model patches to a new version within 4 KiB of arena on m0-32k', async () => {
  const sizes = [784, 128, 64, 10];
  const from = syntheticArtifact({ version: 1, seed: 4, sizes, pruned: 0.9, license: [1, 2] });
  const to = syntheticArtifact({ version: 2, seed: 5, sizes, pruned: 0.9 });
  const device = await openDevice({ dir: tempDir(), profile: 'm0-32k', publicKey });
  device.installArtifact(from);
  const outcome = device.installPatch(diffArtifacts(from, to));
  assert.is(outcome.sha256, readArtifact(to).sha256);
  assert.ok(outcome.applyWorkingBytes! <= 4096, `apply took ${outcome.applyWorkingBytes} B of arena`);
  assert.ok(outcome.arenaHighWaterBytes! <= device.profile.ramBytes);
});

test('a RAM budget too small for the apply: RAM BudgetError naming the bytes; the running slot and state untouched', async () => {
  // How much RAM installing and running v1 takes, and applying the patch, on a roomy profile.
  const probe = await openDevice({ dir: tempDir(), profile: 'm0-32k', publicKey });
  const installed = probe.installArtifact(full);
  const running = installed.arenaHighWaterBytes;
  const patch = diffArtifacts(full, v2);
  const applying = probe.installPatch(patch).applyWorkingBytes!;
  const ram = applying - 16;
  assert.ok(ram >= running, `the apply (${applying} B) needs more than installing and running v1 (${running} B)`);

  const dir = tempDir();
  const profile = resolveProfile('m0-32k', { ram: String(ram) });
  const device = await openDevice({ dir, profile, publicKey });
  device.installArtifact(full);
  const slotA = readFileSync(join(dir, 'slot-a.bin'));
  const state = [readFileSync(join(dir, 'state-0.bin')), readFileSync(join(dir, 'state-1.bin'))];
  try {
    device.installPatch(patch);
    assert.unreachable('the patch applied in a too-small arena');
  } catch (error) {
    assert.instance(error, BudgetError);
    const budget = error as BudgetError;
    assert.is(budget.code, 'RAM_BUDGET_EXCEEDED');
    assert.is(budget.budgetBytes, ram);
    assert.ok(budget.neededBytes > budget.budgetBytes);
    assert.match(budget.message, new RegExp(`applying the patch: .* needs ${budget.neededBytes} bytes of RAM \\(arena\\) but the profile has ${ram}`));
  }
  assert.ok(same(readFileSync(join(dir, 'slot-a.bin')), slotA), 'the running slot is untouched');
  assert.ok(
    same(readFileSync(join(dir, 'state-0.bin')), state[0]!) && same(readFileSync(join(dir, 'state-1.bin')), state[1]!),
    'the state record is untouched',
  );
  assert.equal([device.status().version, device.status().slot], [1, 'A']);
  assert.is(device.infer(randomSamples(1, 784), 1).predictions.length, 1, 'the old model still runs');
  const rebooted = await openDevice({ dir, profile, publicKey });
  assert.equal([rebooted.status().version, rebooted.status().slot, rebooted.status().bootIssues], [1, 'A', []]);
});

test.run();

// The execution image on a device: programmed into the slot at install,
// read in place at boot, rebuilt when damaged or torn by a power cut, and
// given up for the coded kernels (with a note) when the slot cannot hold it.
// Whichever kernels run, the predictions are the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from '../../device-sim/device.ts';
import { PowerCutError } from '../../device-sim/errors.ts';
import { Arena } from '../../device-sim/arena.ts';
import { buildExecImage } from '../../device-sim/exec-image.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { diffArtifacts, readArtifact } from '../../formats/index.ts';
import { keys, randomSamples, syntheticArtifact } from './fixtures.ts';

const publicKey = keys.publicKeyPem;
const v1 = syntheticArtifact({ version: 1, seed: 21, sizes: [784, 24, 10] });
const v2 = syntheticArtifact({ version: 2, seed: 22, sizes: [784, 24, 10] });
const samples = randomSamples(60, 784, 5);
const tempDir = () => mkdtempSync(join(tmpdir(), 'wg-image-'));
const imageFile = (dir: string, slot: 'a' | 'b') => join(dir, `slot-${slot}.image.bin`);

test('install programs the image after the artifact; the image and coded kernels predict the same', async () => {
  const dir = tempDir();
  const device = await openDevice({ dir, profile: 'm0-32k', publicKey });
  device.installArtifact(v1);
  const status = device.status();
  assert.is(status.kernel, 'image');
  assert.is(status.kernelNote, null);
  assert.ok(existsSync(imageFile(dir, 'a')));
  assert.is(statSync(imageFile(dir, 'a')).size, status.imageBytes);
  const artifact = readArtifact(v1);
  assert.equal(new Uint8Array(readFileSync(imageFile(dir, 'a'))), buildExecImage(artifact, new Arena(32 * 1024)), 'the image is a function of the artifact');

  const coded = await openDevice({ dir: tempDir(), profile: 'm0-32k', publicKey, kernel: 'coded' });
  coded.installArtifact(v1);
  assert.is(coded.status().kernel, 'coded');
  assert.is(coded.status().imageBytes, 0);
  assert.equal(device.infer(samples, 60).predictions, coded.infer(samples, 60).predictions);
});

test('a license change builds the new image from the running one and the gained segments: equal to a build from scratch', async () => {
  // Synthetic models hold 4 intervals; basic holds 2 of them.
  const full = syntheticArtifact({ version: 1, seed: 23, sizes: [784, 24, 10] });
  const basic = syntheticArtifact({ version: 1, seed: 23, sizes: [784, 24, 10], license: [0, 1] });
  for (const [what, from, to] of [
    ['upgrade', basic, full],
    ['downgrade', full, basic],
  ] as const) {
    const dir = tempDir();
    const device = await openDevice({ dir, profile: 'm0-32k', publicKey });
    device.installArtifact(from);
    const outcome = device.installPatch(diffArtifacts(from, to));
    assert.is(outcome.kind, what === 'upgrade' ? 'license-upgrade' : 'license-downgrade');
    const slot = outcome.slot === 'A' ? 'a' : 'b';
    assert.equal(
      new Uint8Array(readFileSync(imageFile(dir, slot))),
      buildExecImage(readArtifact(to), new Arena(32 * 1024)),
      `${what}: the image a fresh build makes`,
    );
    const fresh = await openDevice({ dir: tempDir(), profile: 'm0-32k', publicKey });
    fresh.installArtifact(to);
    assert.equal(device.infer(samples, 60).predictions, fresh.infer(samples, 60).predictions, `${what}: the same predictions as a fresh install`);
  }
});

test('a damaged image is found at boot and rebuilt; the artifact is untouched', async () => {
  const dir = tempDir();
  const device = await openDevice({ dir, profile: 'm0-32k', publicKey });
  device.installArtifact(v1);
  const expected = device.infer(samples, 60).predictions;
  const good = readFileSync(imageFile(dir, 'a'));
  for (const damage of ['flip', 'truncate', 'delete'] as const) {
    if (damage === 'delete') writeFileSync(imageFile(dir, 'a'), new Uint8Array(0));
    else if (damage === 'truncate') writeFileSync(imageFile(dir, 'a'), good.subarray(0, good.length >> 1));
    else {
      const flipped = Uint8Array.from(good);
      flipped[flipped.length - 9] ^= 0x40;
      writeFileSync(imageFile(dir, 'a'), flipped);
    }
    const rebooted = await openDevice({ dir, profile: 'm0-32k', publicKey });
    assert.is(rebooted.status().version, 1, damage);
    assert.is(rebooted.status().kernel, 'image', damage);
    assert.equal(readFileSync(imageFile(dir, 'a')), good, `${damage}: rebuilt bit for bit`);
    assert.equal(rebooted.infer(samples, 60).predictions, expected, damage);
  }
});

test('a power cut while the image is programmed leaves the new version confirmed at boot with a good image', async () => {
  const dir = tempDir();
  const setup = await openDevice({ dir, profile: 'm0-32k', publicKey });
  setup.installArtifact(v1);
  const stateBytes = statSync(join(dir, 'state-1.bin')).size;
  // The switch phase writes the trial record, then the new slot's image: cut 100 bytes into the image.
  const device = await openDevice({ dir, profile: 'm0-32k', publicKey, powerCut: { phase: 'switch', afterBytes: stateBytes + 100 } });
  try {
    device.installArtifact(v2);
    assert.unreachable('the power cut should have stopped the install');
  } catch (error) {
    assert.instance(error, PowerCutError);
  }
  assert.is(statSync(imageFile(dir, 'b')).size, 100, 'the image write was torn');
  const rebooted = await openDevice({ dir, profile: 'm0-32k', publicKey });
  const status = rebooted.status();
  assert.equal([status.version, status.slot, status.confirmed, status.kernel], [2, 'B', true, 'image']);
  assert.is(statSync(imageFile(dir, 'b')).size, status.imageBytes);
  const reference = await openDevice({ dir: tempDir(), profile: 'm0-32k', publicKey, kernel: 'coded' });
  reference.installArtifact(v2);
  assert.equal(rebooted.infer(samples, 60).predictions, reference.infer(samples, 60).predictions);
});

test('a slot that holds the artifact but not its image runs the coded kernels and says why', async () => {
  const slotBytes = v1.length + 256;
  const profile = resolveProfile('m0-32k', { flash: String(8192 + 2 * slotBytes) });
  const dir = tempDir();
  const device = await openDevice({ dir, profile, publicKey });
  device.installArtifact(v1);
  const status = device.status();
  assert.is(status.kernel, 'coded');
  assert.match(status.kernelNote!, /FLASH|flash/);
  assert.match(status.kernelNote!, new RegExp(`${slotBytes}`));
  assert.not.ok(existsSync(imageFile(dir, 'a')) && statSync(imageFile(dir, 'a')).size > 0, 'nothing half-written is left');
  assert.is(device.infer(samples, 5).predictions.length, 5);
});

test.run();

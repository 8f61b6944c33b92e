// A convolutional model end to end: `build` trains cnn-mnist (tiny settings,
// a slice of the digits) and a next version with --from, both signed; the
// server stores them; a device installs the basic tier, takes the license
// upgrade and the new version by patch, survives a power cut during an
// update, and predicts what TF.js predicts from the artifact it holds.
// test: optimized-wasm (it trains with TF.js in this process)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, readArtifact } from '../../formats/index.ts';
import { runBuild, type BuildOptions } from '../../pipeline/build.ts';
import { openDevice } from '../../device-sim/device.ts';
import { PowerCutError } from '../../device-sim/errors.ts';
import { startServer } from '../../server/start.ts';
import { createClient } from '../../server/client.ts';
import { provisionDevices } from '../../server/provision.ts';
import { tfReference } from '../fixtures/tf-reference.ts';
import { digitSlice, digitSliceDir, TINY_BUILD } from '../pipeline/helpers.ts';

const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `wg-cnn-e2e-${name}-`));
const ADMIN = 'admin-token-for-cnn-e2e-000001';

test('build a CNN, publish it, upgrade its license and take a new version by patch, through a power cut', async () => {
  const keys = generateKeyPair();
  const tiny: Omit<BuildOptions, 'outDir'> = { ...TINY_BUILD, data: `idx:${await digitSliceDir()}`, seed: 5 };
  const v1Dir = tempDir('v1');
  const v1 = await runBuild({ ...tiny, preset: 'cnn-mnist', outDir: v1Dir, key: keys.privateKeyPem });
  const v2 = await runBuild({ fromDir: v1Dir, outDir: tempDir('v2'), key: keys.privateKeyPem });
  const fullOf = (result: typeof v1) => result.artifacts.find((a) => a.tier === 'full')!.bytes;

  const server = await startServer({ port: 0, dataDir: tempDir('db'), adminToken: ADMIN, authCacheMs: 0, log: () => undefined });
  try {
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
    await admin.publish(fullOf(v1));
    const { licenseId, tokens } = await provisionDevices({ server: server.url, adminToken: ADMIN, model: 'cnn-mnist', tier: 'basic', count: 1 });
    const dir = tempDir('device');
    const open = (powerCut?: { phase: 'apply'; afterBytes: number }) =>
      openDevice({ dir, profile: 'm4-256k', server: server.url, token: tokens[0], publicKey: keys.publicKeyPem, ...(powerCut ? { powerCut } : {}) });
    const device = await open();
    const install = await device.checkForUpdate();
    assert.equal([install.kind, install.toVersion], ['install', 1]);

    await admin.changeLicenseTier(licenseId, { tier: 'full' });
    const upgrade = await device.checkForUpdate();
    assert.is(upgrade.kind, 'license-upgrade');
    assert.ok(
      upgrade.patchBytes !== null && upgrade.bytesSent < upgrade.fullArtifactBytes,
      `by patch: ${upgrade.bytesSent} of ${upgrade.fullArtifactBytes} bytes`,
    );

    // What the device predicts is what TF.js predicts from the full artifact of version 1.
    await tf.setBackend('cpu');
    const digits = await digitSlice(3, 40);
    const reference = tfReference(readArtifact(fullOf(v1)));
    const expected = Array.from({ length: 40 }, (_, i) => {
      const logits = reference.logits(digits.samples.subarray(i * 784, (i + 1) * 784));
      return logits.indexOf(Math.max(...logits));
    });
    reference.dispose();
    assert.equal(Array.from(device.infer(digits.samples, 40).predictions), expected);

    // Version 2, with a power cut in the middle of its apply: version 1 boots, the retry installs 2.
    await admin.publish(fullOf(v2));
    const cut = await open({ phase: 'apply', afterBytes: 64 });
    await cut.checkForUpdate().then(
      () => assert.unreachable('the power cut should stop the update'),
      (error) => assert.instance(error, PowerCutError),
    );
    const rebooted = await open();
    assert.is(rebooted.status().version, 1);
    const update = await rebooted.checkForUpdate();
    assert.equal([update.kind, update.fromVersion, update.toVersion], ['version', 1, 2]);
    assert.ok(update.patchBytes !== null, 'version 2 came as a patch');
    assert.is(rebooted.status().kernel, 'image');
  } finally {
    await server.close();
  }
});

test.run();

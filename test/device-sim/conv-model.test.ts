// A convolutional model on the simulated device: the interpreter's logits
// equal TF.js's ops on the artifact's own decoded tensors (both segment
// codings, coded and image kernels), its scratch is what the planner predicted and less than the
// naive sum, and the device installs it, takes a license upgrade and a new
// version by patch, survives a power cut mid-update, all against the real
// server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeArtifact, readArtifact, type Artifact } from '../../formats/index.ts';
import { tfReference } from '../fixtures/tf-reference.ts';
import { Arena } from '../../device-sim/arena.ts';
import { createInterpreter } from '../../device-sim/interpreter.ts';
import { createGraphInterpreter } from '../../device-sim/graph-interpreter.ts';
import { openDevice } from '../../device-sim/device.ts';
import { PowerCutError } from '../../device-sim/errors.ts';
import { checkFirmwareSupport } from '../../device-sim/firmware-plan.ts';
import { prepareExecImage } from '../../device-sim/exec-image.ts';
import { startServer } from '../../server/start.ts';
import { createClient } from '../../server/client.ts';
import { provisionDevices } from '../../server/provision.ts';
import { convModel } from '../fixtures/conv-model.ts';
import { keys, randomSamples } from './fixtures.ts';

const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `wg-conv-${name}-`));
const SAMPLE = 144;

/** TF.js's own ops over the artifact's decoded tensors: the reference the device must meet. */
function tfLogits(artifact: Artifact, raw: Uint8Array): Float32Array {
  const reference = tfReference(artifact);
  try {
    return reference.logits(raw);
  } finally {
    reference.dispose();
  }
}

function assertNear(ours: ArrayLike<number>, theirs: ArrayLike<number>, label: string): void {
  assert.is(ours.length, theirs.length, label);
  for (let i = 0; i < ours.length; i++) {
    assert.ok(Math.abs(ours[i]! - theirs[i]!) <= 1e-4 * (1 + Math.abs(theirs[i]!)), `${label} logit ${i}: ${ours[i]} vs ${theirs[i]}`);
  }
}

test('logits equal TF.js on the decoded tensors, range and Rice; the scratch is planned', async () => {
  await tf.setBackend('cpu');
  const samples = randomSamples(20, SAMPLE, 5);
  for (const coding of ['range', 'rice'] as const) {
    const artifact = readArtifact(encodeArtifact(convModel({ coding })));
    const arena = new Arena(64 * 1024);
    const interpreter = createInterpreter(artifact, arena);
    for (let s = 0; s < 20; s++) {
      const raw = samples.subarray(s * SAMPLE, (s + 1) * SAMPLE);
      assert.is(interpreter.outputSize, 10);
      assertNear(interpreter.logits(raw), tfLogits(artifact, raw), `${coding} sample ${s}`);
    }
    // The execution image gives the same logits (its own summation order: within f32 rounding).
    const built = prepareExecImage(artifact, new Arena(64 * 1024), 1 << 20);
    assert.ok(built.image, `the image of a convolutional model builds: ${built.note}`);
    const fromImage = createInterpreter(artifact, new Arena(64 * 1024), { image: built.image });
    for (let s = 0; s < 20; s++) {
      const raw = samples.subarray(s * SAMPLE, (s + 1) * SAMPLE);
      assertNear(fromImage.logits(raw), tfLogits(artifact, raw), `${coding} image sample ${s}`);
    }
    // The same artifact with only the basic tier's segments runs too, and differs.
    const basic = readArtifact(encodeArtifact(convModel({ coding }), { heldIntervals: [0, 2] }));
    const first = samples.subarray(0, SAMPLE);
    const basicLogits = Array.from(createInterpreter(basic, new Arena(64 * 1024)).logits(first));
    assertNear(basicLogits, tfLogits(basic, first), `${coding} basic tier`);
    assert.not.equal(basicLogits, Array.from(tfLogits(artifact, first)), 'the basic tier computes something else');
  }
  const artifact = readArtifact(encodeArtifact(convModel()));
  const arena = new Arena(64 * 1024);
  const { plan } = createGraphInterpreter(artifact, arena, { chunkEntries: 64 });
  assert.ok(plan.plannedBytes < plan.naiveBytes, `planned ${plan.plannedBytes} B < naive ${plan.naiveBytes} B`);
  // Buffers alive at the same step never share bytes: the largest two neighbouring maps both fit.
  const out = (label: string) => plan.buffers.find((b) => b.label === label)!;
  const a = out('out conv_1');
  const b = out('out pool_1');
  assert.ok(a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset, 'conv_1 and pool_1 outputs are apart');
  assert.ok(arena.highWaterBytes() >= plan.plannedBytes);
});

test('what a convolutional model cannot run on is refused by name', () => {
  const artifact = readArtifact(encodeArtifact(convModel()));
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'none';
    } catch (error) {
      return `${(error as { code?: string }).code}: ${(error as Error).message}`;
    }
  };
  assert.is(
    code(() => createInterpreter(artifact, new Arena(64 * 1024), { arithmetic: 'int' })),
    'none',
    'the int path runs it with the coded kernels',
  );
  const image = prepareExecImage(artifact, new Arena(256 * 1024), 1 << 20).image;
  assert.ok(image);
  assert.is(
    code(() => createInterpreter(artifact, new Arena(256 * 1024), { arithmetic: 'int', image })),
    'none',
    'the int path runs it from the execution image too',
  );
  assert.is(
    code(() => checkFirmwareSupport(artifact)),
    'none',
    'the C library runs it on every path and kernel',
  );
  assert.match(
    code(() => createInterpreter(artifact, new Arena(1024))),
    /RAM|BUDGET|bytes/,
  );
});

test('install, license upgrade and new version by patch, and a power cut, against the real server', async () => {
  const server = await startServer({ port: 0, dataDir: tempDir('db'), adminToken: 'admin-token-for-conv-model-0001', authCacheMs: 0, log: () => undefined });
  try {
    const admin = createClient({ server: server.url, token: 'admin-token-for-conv-model-0001' });
    await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
    const release = (version: number) => encodeArtifact(convModel({ version, seed: version === 1 ? 3 : 4 }), { privateKey: keys.privateKeyPem });
    await admin.publish(release(1));
    const { licenseId, tokens } = await provisionDevices({
      server: server.url,
      adminToken: 'admin-token-for-conv-model-0001',
      model: 'synthetic-cnn',
      tier: 'basic',
      count: 1,
    });
    const dir = tempDir('dev');
    const device = await openDevice({ dir, profile: 'm0-32k', server: server.url, token: tokens[0], publicKey: keys.publicKeyPem });
    const install = await device.checkForUpdate();
    assert.equal([install.kind, install.toVersion], ['install', 1]);
    assert.is(device.status().kernel, 'image', 'a convolutional model runs from its execution image');
    const samples = randomSamples(30, SAMPLE, 9);
    const basic = Array.from(device.infer(samples, 30).predictions);

    await admin.changeLicenseTier(licenseId, { tier: 'full' });
    const upgrade = await device.checkForUpdate();
    assert.is(upgrade.kind, 'license-upgrade');
    assert.ok(
      upgrade.patchBytes !== null && upgrade.bytesSent < upgrade.fullArtifactBytes,
      `upgrade by patch (${upgrade.bytesSent} of ${upgrade.fullArtifactBytes} bytes)`,
    );
    const full = readArtifact(release(1));
    const expected = Array.from({ length: 30 }, (_, s) => {
      const logits = tfLogits(full, samples.subarray(s * SAMPLE, (s + 1) * SAMPLE));
      return logits.indexOf(Math.max(...logits));
    });
    assert.equal(Array.from(device.infer(samples, 30).predictions), expected, 'the full tier predicts as TF.js does');
    assert.not.equal(expected, basic);

    await admin.publish(release(2));
    const update = await device.checkForUpdate();
    assert.equal([update.kind, update.fromVersion, update.toVersion], ['version', 1, 2]);
    assert.ok(update.patchBytes !== null, 'the new version came as a patch');

    // A power cut while version 3 is applied: the device boots version 2 and takes 3 on the next check.
    await admin.publish(release(3));
    const cut = await openDevice({
      dir,
      profile: 'm0-32k',
      server: server.url,
      token: tokens[0],
      publicKey: keys.publicKeyPem,
      powerCut: { phase: 'apply', afterBytes: 200 },
    });
    await cut.checkForUpdate().then(
      () => assert.unreachable('the power cut should stop the update'),
      (error) => assert.instance(error, PowerCutError),
    );
    const rebooted = await openDevice({ dir, profile: 'm0-32k', server: server.url, token: tokens[0], publicKey: keys.publicKeyPem });
    assert.is(rebooted.status().version, 2, 'still version 2 after the cut');
    const retry = await rebooted.checkForUpdate();
    assert.equal([retry.kind, retry.toVersion], ['version', 3]);
    assert.is(rebooted.infer(samples, 30).predictions.length, 30);
  } finally {
    await server.close();
  }
});

test.run();

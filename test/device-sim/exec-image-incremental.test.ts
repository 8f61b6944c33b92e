// Transcoding only what changed: an execution image built with the running
// model's image at hand (buildExecImage's `previous`) copies the layers
// whose weight segments did not change and decodes the rest. Whatever the
// update, the result must be byte for byte the image a full transcode
// makes; and for a centroids-only version no layer may be decoded at all.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arena } from '../../device-sim/arena.ts';
import { openDevice } from '../../device-sim/device.ts';
import { buildExecImage, openExecImage, type ExecImage } from '../../device-sim/exec-image.ts';
import { denseChain, diffArtifacts, encodeArtifact, readArtifact, type Artifact, type ModelInput } from '../../formats/index.ts';
import { changeCentroids, changeWeights } from '../fixtures/model-versions.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';
import { keys, randomSamples } from './fixtures.ts';

const sign = (input: ModelInput, license?: number[]) => readArtifact(encodeArtifact(input, { heldIntervals: license, privateKey: keys.privateKeyPem }));

function imageOf(artifact: Artifact): ExecImage {
  const opened = openExecImage(buildExecImage(artifact, new Arena(1 << 20)), artifact);
  if (typeof opened === 'string') throw new Error(opened);
  return opened;
}

/** The incremental image of `next` against `before`'s, and the full one. */
function both(before: Artifact, next: Artifact): { incremental: Uint8Array; full: Uint8Array } {
  const previous = { artifact: before, image: imageOf(before) };
  return { incremental: buildExecImage(next, new Arena(1 << 20), previous), full: buildExecImage(next, new Arena(1 << 20)) };
}

for (const kernelEncoding of ['codebook-sparse', 'int8', 'dense-f32'] as const) {
  test(`${kernelEncoding}: every kind of update gives the image a full transcode gives`, () => {
    const v1 = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.75, bits: 4, intervals: 4, seed: 3, kernelEncoding });
    const ids = v1.intervals.map((i) => i.id);
    const full = sign(v1);
    const basic = sign(v1, ids.slice(1, 3));
    const cases: [string, Artifact, Artifact][] = [
      ['license upgrade', basic, full],
      ['license downgrade', full, basic],
      ['weights moved', full, sign(changeWeights(v1, 0.1, 9))],
      ['the same artifact', full, full],
    ];
    if (kernelEncoding === 'codebook-sparse') cases.push(['centroids fine-tuned', full, sign(changeCentroids(v1, 0.002))]);
    for (const [name, before, next] of cases) {
      const { incremental, full: whole } = both(before, next);
      assert.ok(Buffer.from(incremental).equals(Buffer.from(whole)), `${kernelEncoding}, ${name}: the incremental image differs from a full transcode`);
    }
  });
}

test('centroids fine-tuned: no weight segment is decoded, the table comes from the new manifest', () => {
  const v1 = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.75, bits: 4, intervals: 4, seed: 5 });
  const before = sign(v1);
  const next = sign(changeCentroids(v1, 0.002));
  assert.is.not(next.sha256, before.sha256);
  // Segments byte-identical, codebooks not: the case the reuse is for.
  const weights = denseChain(next.manifest.layers)!.map((l) => l.kernel);
  assert.ok(next.segments.every((s, i) => Buffer.from(s.data).equals(Buffer.from(before.segments[i]!.data))));
  assert.ok(weights.some((w) => next.manifest.tensors[w]!.codebook!.some((c, j) => c !== before.manifest.tensors[w]!.codebook![j])));
  // A previous image whose entries are deliberately wrong (but whose shape is right) shows through:
  // the weights were copied from it, not decoded.
  const previous = imageOf(before);
  const tampered = previous.bytes.slice();
  const reopened = openExecImage(tampered, before, { built: true }) as ExecImage;
  const entries = reopened.layers[0]!.entries;
  entries[0] = entries[0]! ^ 1; // another column in the first row
  const incremental = buildExecImage(next, new Arena(1 << 20), { artifact: before, image: reopened });
  const full = buildExecImage(next, new Arena(1 << 20));
  assert.not.ok(Buffer.from(incremental).equals(Buffer.from(full)), 'the weights were decoded again, not copied');
  // and with the true previous image, the same bytes
  assert.ok(Buffer.from(buildExecImage(next, new Arena(1 << 20), { artifact: before, image: previous })).equals(Buffer.from(full)));
});

test('a device patched to a centroids-only version runs the full transcode bit for bit', async () => {
  const v1 = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.75, bits: 4, intervals: 4, seed: 6 });
  const a = encodeArtifact(v1, { privateKey: keys.privateKeyPem });
  const b = encodeArtifact(changeCentroids(v1, 0.002), { privateKey: keys.privateKeyPem });
  const samples = randomSamples(16, 40, 3);
  const patched = await openDevice({ dir: mkdtempSync(join(tmpdir(), 'wg-inc-')), publicKey: keys.publicKeyPem });
  patched.installArtifact(a);
  patched.installPatch(diffArtifacts(a, b));
  const fresh = await openDevice({ dir: mkdtempSync(join(tmpdir(), 'wg-inc-')), publicKey: keys.publicKeyPem });
  fresh.installArtifact(b);
  assert.is(patched.status().sha256, fresh.status().sha256);
  assert.is(patched.status().kernel, 'image');
  assert.equal(Array.from(patched.infer(samples, 16).predictions), Array.from(fresh.infer(samples, 16).predictions));
  // after a reboot the image in flash opens (its body hash holds)
  const rebooted = await openDevice({ dir: patched.dir, publicKey: keys.publicKeyPem });
  assert.is(rebooted.status().kernel, 'image');
  assert.equal(Array.from(rebooted.infer(samples, 16).predictions), Array.from(fresh.infer(samples, 16).predictions));
});

test.run();

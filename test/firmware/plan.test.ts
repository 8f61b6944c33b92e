// docs/arithmetic.md's arena plan (device-sim/firmware-plan.ts) and
// `weightgate firmware plan` through the real CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeArtifact, readArtifact } from '../../formats/index.ts';
import { execImageBytes } from '../../device-sim/exec-image.ts';
import { checkFirmwareSupport, firmwarePlan, layerOutputs } from '../../device-sim/firmware-plan.ts';
import { syntheticArtifact, syntheticModel } from '../device-sim/fixtures.ts';
import { convModel } from '../fixtures/conv-model.ts';

const work = mkdtempSync(join(tmpdir(), 'wg-firmware-cli-'));
const small = join(work, 'small.wgm');
writeFileSync(small, syntheticArtifact({ sizes: [784, 16, 10], signed: false }));

function runCli(args: string[]) {
  const result = spawnSync(process.execPath, ['bin/weightgate.js', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the plan by hand: 784-16-10 codebook-sparse, 16 centroids over four intervals', () => {
  const artifact = readArtifact(syntheticArtifact({ sizes: [784, 16, 10], signed: false }));
  const plan = firmwarePlan(artifact);
  assert.is(plan.layerBytes, 2 * 16);
  assert.is(plan.activationBytes, 4 * (16 + 10));
  // The largest segment: dense_0/kernel (12544 elements, e = 13), four local centroids (codeBits 2):
  // models (13 + 1) * 5 + 4 = 74 -> 148 bytes, + 4 * 4 centroids.
  assert.is(plan.decoderBytes, 148 + 16);
  assert.is(plan.arenaCodedBytes, 32 + 104 + 164);
  assert.is(plan.arenaImageBytes, 32 + 104);
  assert.is(plan.imageBytes, execImageBytes(artifact));
  assert.is(plan.flashImageBytes, artifact.bytes.length + plan.imageBytes);
});

test('int8 and dense-f32 segments plan models only; a hidden sigmoid is unsupported', () => {
  const int8 = firmwarePlan(readArtifact(syntheticArtifact({ sizes: [100, 3, 2], encoding: 'int8', signed: false })));
  // dense_0/kernel: 300 elements, e = 8: (8 + 1) * 5 + 1 = 46 models -> 92 bytes
  assert.is(int8.decoderBytes, 92);
  const input = syntheticModel({ sizes: [8, 4, 2] });
  input.layers[0]!.activation = 'sigmoid';
  assert.throws(() => firmwarePlan(readArtifact(encodeArtifact(input))), /sigmoid is not supported/);
});

test('a Rice build plans no decoder models; an input that does not feed the first layer is unsupported', () => {
  const input = syntheticModel({ sizes: [100, 3, 2], encoding: 'int8' });
  const rice = firmwarePlan(readArtifact(encodeArtifact({ ...input, tensors: input.tensors.map((t) => ({ ...t, coding: 'rice' as const })) })));
  assert.is(rice.decoderBytes, 0, 'int8 and dense-f32 Rice segments: no models, no centroids');
  const unchained = syntheticModel({ sizes: [8, 4, 2] });
  unchained.preprocess = { ...unchained.preprocess, inputShape: [9] };
  assert.throws(() => firmwarePlan(readArtifact(encodeArtifact(unchained))), /reads 8 inputs where the preprocessed input has 9/);
});

test('a convolutional model: every output map and the input map planned; both paths with either kernel', () => {
  const artifact = readArtifact(encodeArtifact(convModel()));
  // 12x12x1 -> conv 12x12x6 -> pool 6x6x6 -> dw 4x4x12 -> avg 4x4x12 -> pw 4x4x8 -> gap 8 -> dense 10
  assert.equal(layerOutputs(artifact), [864, 216, 192, 192, 128, 8, 10]);
  const plan = firmwarePlan(artifact, 'f32');
  assert.is(plan.layerBytes, 7 * 16);
  // even layers' largest output 864; odd: 216, above the input map's 144 (kept as binary32 in the odd region)
  assert.is(plan.activationBytes, 4 * (864 + 216));
  assert.is(plan.arenaImageBytes, 7 * 16 + 4 * (864 + 216));
  assert.is(plan.arenaCodedBytes, plan.arenaImageBytes + plan.decoderBytes);
  assert.is(plan.imageBytes, execImageBytes(artifact), "the image of its weighted layers, device-sim's and the library's");
  assert.ok(plan.imageBytes > 0);
  assert.is(plan.flashImageBytes, plan.flashCodedBytes + plan.imageBytes);
  assert.not.throws(() => checkFirmwareSupport(artifact, 'f32', 'coded'));
  assert.not.throws(() => checkFirmwareSupport(artifact, 'f32', 'image'));
  assert.not.throws(() => checkFirmwareSupport(artifact, 'int', 'coded'));
  assert.not.throws(() => checkFirmwareSupport(artifact, 'int', 'image'));
  assert.equal(firmwarePlan(artifact, 'int'), plan, 'the int path plans the same arena: int32 where f32 keeps binary32');
  assert.equal(firmwarePlan(artifact), plan, 'without a path: every path and kernel runs it');
});

test('the input map counts when it is the largest odd one; relu6 runs on both paths; a plan past 4 GiB is 0xffffffff', () => {
  const small = convModel();
  const head = {
    ...small,
    preprocess: { ...small.preprocess, inputShape: [12, 12] },
    layers: [{ ...small.layers[0]!, activation: 'relu6' as const }, small.layers[1]!],
    tensors: small.tensors.slice(0, 2),
  };
  const artifact = readArtifact(encodeArtifact(head));
  assert.equal(layerOutputs(artifact), [864, 216]);
  assert.is(firmwarePlan(artifact, 'f32').activationBytes, 4 * (864 + 216));
  const dense = syntheticModel({ sizes: [8, 4, 2] });
  dense.layers[0]!.activation = 'relu6';
  const relu6 = readArtifact(encodeArtifact(dense));
  assert.is(relu6.manifest.formatVersion, 2);
  assert.not.throws(() => checkFirmwareSupport(relu6, 'f32', 'image'));
  assert.not.throws(() => checkFirmwareSupport(relu6), 'relu6 on every path and kernel');
  assert.ok(firmwarePlan(relu6, 'f32').imageBytes > 0, 'an image holds a Dense-only model');
  // 4096 x 4096 x 1 -> a 1x1 conv of 64 channels: 2^30 values, 4 GiB of map
  const huge = {
    ...small,
    preprocess: { ...small.preprocess, inputShape: [4096, 4096, 1] },
    layers: [{ ...small.layers[0]!, window: [1, 1] as [number, number], units: 64 }],
    tensors: [
      { ...small.tensors[0]!, shape: [1, 1, 1, 64], values: new Float32Array(64).fill(0.5), codebook: Float32Array.from([0.5]), bits: 1 },
      { ...small.tensors[1]!, shape: [64], values: new Float32Array(64) },
    ],
  };
  const plan = firmwarePlan(readArtifact(encodeArtifact(huge)), 'f32');
  assert.is(plan.arenaCodedBytes, 0xffffffff);
  assert.is(plan.arenaImageBytes, 0xffffffff);
});

test('weightgate firmware plan prints the arenas and the flash; --json for scripts', () => {
  const text = runCli(['firmware', 'plan', small]);
  assert.is(text.status, 0, text.stderr);
  const plan = firmwarePlan(readArtifact(syntheticArtifact({ sizes: [784, 16, 10], signed: false })));
  assert.ok(text.stdout.startsWith(`arena ${plan.arenaCodedBytes} bytes`), text.stdout);
  assert.match(text.stdout, `arena ${plan.arenaImageBytes} bytes with the image kernels`);
  assert.match(text.stdout, `flash ${plan.flashImageBytes} bytes`);
  const json = runCli(['firmware', 'plan', small, '--json', '--arithmetic', 'int']);
  assert.is(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.is(report.arithmetic, 'int');
  assert.is(report.arenaCodedBytes, plan.arenaCodedBytes);
  assert.is(report.imageBytes, plan.imageBytes);
  assert.match(runCli(['firmware', 'plan', '--help']).stdout, /Example:/);
});

test('weightgate firmware plan of a convolutional model: the same arena and the image on both paths', () => {
  const cnn = join(work, 'cnn.wgm');
  writeFileSync(cnn, encodeArtifact(convModel()));
  const text = runCli(['firmware', 'plan', cnn]);
  assert.is(text.status, 0, text.stderr);
  const plan = firmwarePlan(readArtifact(encodeArtifact(convModel())), 'f32');
  assert.ok(text.stdout.startsWith(`arena ${plan.arenaCodedBytes} bytes`), text.stdout);
  assert.match(text.stdout, `flash ${plan.flashImageBytes} bytes with the image kernels`);
  assert.match(text.stdout, /7 layers \(conv2d, max-pool2d, depthwise-conv2d, avg-pool2d, global-avg-pool2d, dense\)/);
  const int = runCli(['firmware', 'plan', cnn, '--arithmetic', 'int']);
  assert.is(int.status, 0, int.stderr);
  assert.ok(int.stdout.startsWith(`arena ${plan.arenaCodedBytes} bytes`), int.stdout);
  assert.match(int.stdout, `flash ${plan.flashImageBytes} bytes with the image kernels`);
});

test('bad input exits 2 with a coded error', () => {
  const bad = join(work, 'bad.wgm');
  writeFileSync(bad, new Uint8Array(7));
  const damaged = runCli(['firmware', 'plan', bad]);
  assert.is(damaged.status, 2);
  assert.match(damaged.stderr, /^weightgate: error [A-Z_]+: /);
  const usage = runCli(['firmware', 'plan', small, '--arithmetic', 'f16']);
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /error BAD_USAGE: --arithmetic must be f32 or int/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();

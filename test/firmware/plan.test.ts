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
import { firmwarePlan } from '../../device-sim/firmware-plan.ts';
import { syntheticArtifact, syntheticModel } from '../device-sim/fixtures.ts';

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

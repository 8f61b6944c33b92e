// `weightgate device ...` through the real CLI: JSON fields, exit codes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keys, syntheticArtifact } from './fixtures.ts';
import { startStubServer } from './stub-server.ts';

const work = mkdtempSync(join(tmpdir(), 'wg-device-cli-'));
const small = join(work, 'small.wgm');
const wide = join(work, 'wide.wgm');
const publicKeyFile = join(work, 'publisher.pem');
writeFileSync(small, syntheticArtifact({ sizes: [784, 16, 10] }));
writeFileSync(wide, syntheticArtifact({ sizes: [784, 9000, 10], pruned: 0.999 }));
writeFileSync(publicKeyFile, keys.publicKeyPem);

/** Runs the CLI without blocking this process (a stub server may need to answer it). */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/weightgate.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('device infer --json reports accuracy, latency, arena and flash, and exits 0 when it fits', async () => {
  const result = await runCli(['device', 'infer', small, '--profile', 'm0-32k', '--limit', '50', '--public-key', publicKeyFile, '--json']);
  assert.is(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.is(report.fits, true);
  assert.is(report.samples, 50);
  assert.ok(report.accuracy >= 0 && report.accuracy <= 1);
  assert.ok(report.latencyUs.median > 0 && report.latencyUs.p99 >= report.latencyUs.median);
  assert.ok(report.arenaHighWaterBytes > 0 && report.arenaHighWaterBytes <= report.arenaBytes);
  assert.is(report.arenaBytes, 32 * 1024);
  assert.is(report.kernel, 'image');
  assert.ok(report.imageBytes > 0);
  assert.is(report.flashBytes, report.artifactBytes + report.imageBytes);

  const coded = await runCli(['device', 'infer', small, '--profile', 'm0-32k', '--limit', '50', '--kernel', 'coded', '--allow-unsigned', '--json']);
  assert.is(coded.status, 0, coded.stderr);
  const codedReport = JSON.parse(coded.stdout);
  assert.equal([codedReport.kernel, codedReport.imageBytes, codedReport.flashBytes], ['coded', 0, report.artifactBytes]);
  assert.is(codedReport.accuracy, report.accuracy, 'both kernels classify alike');

  const bad = await runCli(['device', 'infer', small, '--kernel', 'fast', '--allow-unsigned']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--kernel must be image or coded/);
  assert.is(report.arithmetic, 'f32');
});

test('device infer --arithmetic int runs the int path; a bad value exits 2', async () => {
  const result = await runCli(['device', 'infer', small, '--profile', 'm0-32k', '--limit', '50', '--arithmetic', 'int', '--allow-unsigned', '--json']);
  assert.is(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal([report.arithmetic, report.kernel, report.samples], ['int', 'image', 50]);
  assert.ok(report.accuracy >= 0 && report.accuracy <= 1);
  const bad = await runCli(['device', 'infer', small, '--arithmetic', 'f16', '--allow-unsigned']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /error BAD_INPUT: arithmetic must be f32 or int/);
});

test('device infer exits 1 with a budget message when the artifact does not fit', async () => {
  const result = await runCli(['device', 'infer', wide, '--profile', 'm0-32k', '--allow-unsigned', '--json']);
  assert.is(result.status, 1);
  const report = JSON.parse(result.stdout);
  assert.is(report.fits, false);
  assert.ok(report.arenaHighWaterBytes > report.arenaBytes);
  assert.match(result.stderr, /weightgate: error DOES_NOT_FIT: .*RAM \(arena\)/);
});

test('bad usage exits 2', async () => {
  const result = await runCli(['device', 'infer', small, '--profile', 'z80', '--allow-unsigned']);
  assert.is(result.status, 2);
  assert.match(result.stderr, /unknown profile "z80"/);
});

test('device run --once installs from the server and a second run finds it up to date', async () => {
  const stub = await startStubServer();
  try {
    stub.publish(syntheticArtifact({ version: 1, sizes: [784, 16, 10] }));
    stub.grant('cli-device', [0, 1, 2, 3]);
    const dir = join(work, 'flash');
    const args = [
      'device',
      'run',
      '--server',
      stub.url,
      '--token',
      'cli-device',
      '--dir',
      dir,
      '--profile',
      'm0-32k',
      '--public-key',
      publicKeyFile,
      '--once',
      '--json',
    ];
    const first = await runCli(args);
    assert.is(first.status, 0, first.stderr);
    const events = first.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal([events[0].event, events[0].version], ['boot', 0]);
    assert.equal([events[1].event, events[1].kind, events[1].toVersion], ['check', 'install', 1]);
    const second = await runCli(args);
    const again = second.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal([again[0].version, again[0].slot, again[1].kind], [1, 'A', 'none']);

    // A power cut while writing the next version's slot: reboot on v1, then the update completes.
    stub.publish(syntheticArtifact({ version: 2, sizes: [784, 16, 10], seed: 9 }));
    const cut = await runCli([...args.filter((a) => a !== '--once'), '--power-cut', 'apply:3000', '--max-checks', '2', '--interval', '0']);
    assert.is(cut.status, 0, cut.stderr);
    const cutEvents = cut.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(
      cutEvents.map((e) => [e.event, e.version ?? e.toVersion ?? e.phase]),
      [
        ['boot', 1],
        ['power-cut', 'apply'],
        ['boot', 1],
        ['check', 2],
      ],
    );
    const update = cutEvents[3];
    assert.ok(update.patchBytes > 0 && update.applyWorkingBytes > 0, `v2 came as a patch applied in ${update.applyWorkingBytes} bytes of arena`);
    assert.ok(update.arenaHighWaterBytes >= update.applyWorkingBytes && update.arenaHighWaterBytes <= 32 * 1024);
    const status = await runCli(['device', 'status', '--dir', dir, '--profile', 'm0-32k', '--public-key', publicKeyFile, '--json']);
    assert.equal([JSON.parse(status.stdout).version, JSON.parse(status.stdout).slot], [2, 'B']);
  } finally {
    await stub.close();
  }
});

test('device infer, run and fleet need --public-key or an explicit --allow-unsigned, which warns', async () => {
  const unreachable = 'http://127.0.0.1:1';
  for (const args of [
    ['device', 'infer', small, '--limit', '5'],
    ['device', 'run', '--server', unreachable, '--token', 't', '--dir', join(work, 'no-key'), '--once'],
    ['device', 'fleet', '--server', unreachable, '--count', '1', '--admin-token', 'a', '--model', 'm'],
  ]) {
    const refused = await runCli(args);
    assert.is(refused.status, 2, `${args[1]}: ${refused.stderr}`);
    assert.match(refused.stderr, /^weightgate: error PUBLIC_KEY_REQUIRED: .*--public-key.*--allow-unsigned/, args[1]);
  }
  const allowed = await runCli(['device', 'infer', small, '--limit', '5', '--allow-unsigned', '--json']);
  assert.is(allowed.status, 0, allowed.stderr);
  assert.match(allowed.stderr, /^weightgate: warning: --allow-unsigned: /m);
  const signedCheck = await runCli(['device', 'infer', small, '--limit', '5', '--public-key', publicKeyFile, '--json']);
  assert.not.match(signedCheck.stderr, 'warning');
});

test.run();

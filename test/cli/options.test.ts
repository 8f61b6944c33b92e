// Option values: numbers are checked with a clear message (no "NaN"), flash
// is reported as flash and slots as slots, fleet progress is drawn on a TTY
// only, and `device status` does not create a missing directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticArtifact } from '../device-sim/fixtures.ts';
import { startStubServer } from '../device-sim/stub-server.ts';
import { recordingServer, runCli } from './helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'wg-cli-options-'));
const small = join(work, 'small.wgm');
writeFileSync(small, syntheticArtifact({ sizes: [784, 16, 10], signed: false }));

test('build: a non-number or out-of-range value is refused with what it should be', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--epochs', 'abc'], /BAD_OPTION: --epochs must be an integer 0\.\.1000, got "abc"/],
    [['--epochs', '2.5'], /--epochs must be an integer/],
    [['--epochs', ''], /--epochs must be an integer/],
    [['--sparsity', '1.5'], /--sparsity must be a number 0\.\.1 \(below 1\), got "1\.5"/],
    [['--bits', '0x4'], /--bits must be an integer 1\.\.8, got "0x4"/],
    [['--seed', '-1'], /--seed must be an integer/],
    [['--max-bytes', '10k'], /--max-bytes must be an integer/],
    [['--min-accuracy', 'high'], /--min-accuracy must be a number 0\.\.1/],
    [['--tolerance', 'NaN'], /--tolerance must be a number/],
    [['--prune-rounds', '0'], /--prune-rounds must be an integer 1\.\.100/],
  ];
  for (const [args, expected] of cases) {
    const result = await runCli(['build', '--preset', 'paper-109k', '--out', join(work, 'never'), ...args]);
    assert.is(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, expected, args.join(' '));
    assert.not.match(result.stderr, / NaN: /, args.join(' '));
  }
  assert.not.ok(existsSync(join(work, 'never')), 'nothing written');
});

test('device and serve: numbers are checked too', async () => {
  const url = 'http://127.0.0.1:1';
  const cases: Array<[string[], RegExp]> = [
    [
      ['device', 'run', '--server', url, '--token', 't', '--allow-unsigned', '--interval', 'soon', '--dir', join(work, 'd1')],
      /--interval must be a number of seconds 0\.\.86400, got "soon"/,
    ],
    [
      ['device', 'fleet', '--server', url, '--count', '1', '--admin-token', 'a', '--model', 'm', '--allow-unsigned', '--timeout', 'x'],
      /--timeout must be a number of seconds/,
    ],
    [
      ['device', 'fleet', '--server', url, '--count', '1', '--admin-token', 'a', '--model', 'm', '--allow-unsigned', '--workers', '1.5'],
      /--workers must be an integer/,
    ],
    [['device', 'infer', small, '--allow-unsigned', '--limit', '1e3x'], /--limit must be a positive integer/],
    [['serve', '--port', '80x'], /--port must be an integer 0\.\.65535, got "80x"/],
    [['serve', '--max-body-mb', '0'], /--max-body-mb must be an integer 1\.\./],
  ];
  for (const [args, expected] of cases) {
    const result = await runCli(args);
    assert.is(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, expected, args.join(' '));
  }
});

test('--flash is reported as flash, and the slot it leaves as a slot', async () => {
  const result = await runCli(['device', 'infer', small, '--allow-unsigned', '--flash', '16k', '--limit', '1']);
  assert.is(result.status, 1, result.stderr);
  assert.match(result.stderr, /16384-byte flash/);
  assert.match(result.stderr, /slots? of 4096 bytes/);
  assert.not.match(result.stderr, 'the profile has 4096');
});

test('device fleet writes plain progress lines, no carriage returns, when stderr is not a terminal', async () => {
  const stub = await startStubServer();
  try {
    stub.publish(syntheticArtifact({ version: 1, sizes: [784, 16, 10], signed: false }));
    stub.grant('a', [0, 1, 2, 3]);
    stub.grant('b', [0, 1, 2, 3]);
    const tokens = join(work, 'tokens.txt');
    writeFileSync(tokens, 'a\nb\n');
    const result = await runCli([
      'device',
      'fleet',
      '--server',
      stub.url,
      '--count',
      '2',
      '--tokens-file',
      tokens,
      '--allow-unsigned',
      '--profile',
      'm0-32k',
      '--dir',
      join(work, 'fleet'),
    ]);
    assert.is(result.status, 0, result.stderr);
    assert.not.match(result.stderr, '\r');
    assert.match(result.stderr, /^2\/2 devices$/m);
  } finally {
    await stub.close();
  }
});

test('device status refuses a missing directory instead of creating it', async () => {
  const missing = join(work, 'typo');
  const result = await runCli(['device', 'status', '--dir', missing]);
  assert.is(result.status, 2, result.stderr);
  assert.match(result.stderr, /NO_DEVICE_DIR: .*typo.*does not exist/);
  assert.not.ok(existsSync(missing));
  const server = await recordingServer(() => ({ status: 401, body: { code: 'BAD_TOKEN', message: 'no' } }));
  try {
    await runCli(['device', 'run', '--server', server.url, '--token', 't', '--allow-unsigned', '--once', '--dir', missing]);
    assert.ok(existsSync(missing), 'device run creates its flash directory');
  } finally {
    await server.close();
  }
});

test.run();

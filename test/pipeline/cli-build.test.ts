// `weightgate build` through the real CLI: --json on stdout, budgets exit 1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { generateKeyPair, keyIdOf } from '../../formats/index.ts';
import { tempDir, writeTinyModel } from './helpers.ts';

const modelPath = writeTinyModel(tempDir());
const fast = ['--model', modelPath, '--epochs', '1', '--prune-rounds', '1', '--prune-epochs', '0', '--centroid-epochs', '0', '--intervals', '4', '--tiers', 'basic:0.3'];

function runCli(args: string[]) {
  return spawnSync(process.execPath, ['bin/weightgate.js', 'build', ...args], { encoding: 'utf8' });
}

test('--json prints the report on stdout; progress goes to stderr', () => {
  const out = tempDir();
  const result = runCli([...fast, '--out', out, '--json']);
  assert.is(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.is(report.tiers[report.tiers.length - 1].name, 'full');
  assert.match(result.stderr, /backend: /);
});

test('an impossible --max-bytes exits 1 with one line naming the budget', () => {
  const result = runCli([...fast, '--out', tempDir(), '--max-bytes', '100']);
  assert.is(result.status, 1);
  const errorLines = result.stderr.split('\n').filter((l) => l.startsWith('weightgate: error'));
  assert.is(errorLines.length, 1);
  assert.match(errorLines[0], /MAX_BYTES: full artifact full\.wgm is \d+ bytes, over --max-bytes 100/);
});

test('an impossible --min-accuracy exits 1; a bad flag value exits 2', () => {
  const low = runCli([...fast, '--out', tempDir(), '--min-accuracy', '0.999']);
  assert.is(low.status, 1);
  assert.match(low.stderr, /MIN_ACCURACY/);
  const bad = runCli([...fast, '--out', tempDir(), '--bits', 'many']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /BAD_OPTION: --bits/);
});

test('every summary says who signed; --from a signed build needs --key or --allow-unsigned', () => {
  const keys = tempDir();
  const pair = generateKeyPair();
  const key = join(keys, 'weightgate.key');
  writeFileSync(key, pair.privateKeyPem);
  const keyId = keyIdOf(pair.publicKeyPem);
  const v1 = tempDir();
  const signed = runCli([...fast, '--out', v1, '--key', key]);
  assert.is(signed.status, 0, signed.stderr);
  assert.match(signed.stdout, `signed by key ${keyId}`);

  const started = Date.now();
  const refused = runCli(['--from', v1, '--out', tempDir(), '--centroid-epochs', '0']);
  assert.is(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /^weightgate: error KEY_REQUIRED: .*signed by key [0-9a-f]{16}.*--key.*--allow-unsigned/m);
  assert.ok(Date.now() - started < 15000, 'refused before any work');

  const unsigned = runCli(['--from', v1, '--out', tempDir(), '--centroid-epochs', '0', '--allow-unsigned']);
  assert.is(unsigned.status, 0, unsigned.stderr);
  assert.match(unsigned.stdout, 'UNSIGNED');
  assert.match(unsigned.stderr, /warning: .*UNSIGNED/);
  const next = runCli(['--from', v1, '--out', tempDir(), '--centroid-epochs', '0', '--key', key]);
  assert.is(next.status, 0, next.stderr);
  assert.match(next.stdout, `v2 signed by key ${keyId}`);

  const plain = runCli([...fast, '--out', tempDir()]);
  assert.match(plain.stdout, 'UNSIGNED');
});

test.run();

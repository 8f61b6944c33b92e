// `weightgate build` through the real CLI: --json on stdout, budgets exit 1.
// test: own-process (several CPU-seconds: it balances better alone)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { generateKeyPair, keyIdOf } from '../../formats/index.ts';
import { tempDir, writeTinyModel } from './helpers.ts';

const modelPath = writeTinyModel(tempDir());
const fast = [
  '--model',
  modelPath,
  '--epochs',
  '1',
  '--prune-rounds',
  '1',
  '--prune-epochs',
  '0',
  '--centroid-epochs',
  '0',
  '--intervals',
  '4',
  '--tiers',
  'basic:0.3',
  // A fixed setting: the search (max-drop.test.ts) is not what these tests are about.
  '--sparsity',
  '0.95',
];

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
  assert.match(errorLines[0], /artifacts written to .* for inspection/);
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

test('every input is checked before any work: key, model, data, out dir, tiers, --from = --out', () => {
  const dir = tempDir();
  const pair = generateKeyPair();
  const pub = join(dir, 'weightgate.pub');
  writeFileSync(pub, pair.publicKeyPem);
  const notJson = join(dir, 'broken.json');
  writeFileSync(notJson, '{ not json');
  const fileAsDir = join(dir, 'a-file');
  writeFileSync(fileAsDir, 'x');
  const cases: Array<[string[], RegExp]> = [
    [[...fast, '--out', tempDir(), '--key', pub], /BAD_KEY: --key .*weightgate\.pub is a public key.*private key \(weightgate\.key/],
    [[...fast, '--out', tempDir(), '--key', join(dir, 'missing.key')], /--key .*missing\.key: cannot read/],
    [['--model', join(dir, 'missing.json'), '--out', tempDir()], /MODEL_NOT_FOUND/],
    [['--model', notJson, '--out', tempDir()], /BAD_MODEL_JSON/],
    [[...fast, '--out', tempDir(), '--data', `idx:${join(dir, 'no-such-dir')}`], /NOT_FOUND: .*no-such-dir/],
    [[...fast, '--out', join(fileAsDir, 'out')], /BAD_OPTION: --out .*a-file.*cannot (create|write)/],
    [[...fast, '--out', tempDir(), '--tiers', 'basic'], /--tiers/],
  ];
  for (const [args, expected] of cases) {
    const result = runCli(args);
    assert.is(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, expected);
    assert.not.match(result.stderr, /backend: /, `${args.join(' ')}: refused before loading the backend`);
  }
  const v1 = tempDir();
  assert.is(runCli([...fast, '--out', v1]).status, 0);
  const same = runCli(['--from', v1, '--out', v1]);
  assert.is(same.status, 2);
  assert.match(same.stderr, /BAD_OPTION: --out .* is the --from directory; .*another --out/);
  mkdirSync(join(v1, 'sub'));
  const sameViaDots = runCli(['--from', join(v1, 'sub', '..'), '--out', v1]);
  assert.is(sameViaDots.status, 2);
});

test.run();

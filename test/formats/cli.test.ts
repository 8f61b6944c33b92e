// The formats commands through the real CLI (node bin/weightgate.js): exit
// codes 0 ok, 1 failed check, 2 bad input, and what they print.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeArtifact } from '../../formats/index.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';
import { convModel } from '../fixtures/conv-model.ts';
import { changeWeights } from '../fixtures/model-versions.ts';

const dir = mkdtempSync(join(tmpdir(), 'wg-formats-cli-'));
const v1 = syntheticModel({ sizes: [30, 10, 4], sparsity: 0.7, bits: 3, intervals: 4, seed: 5 });
const a = join(dir, 'a.wgm');
const b = join(dir, 'b.wgm');
writeFileSync(a, encodeArtifact(v1, { heldIntervals: [0, 1] }));
writeFileSync(b, encodeArtifact(changeWeights(v1, 0.2, 1)));

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/weightgate.js', ...args], { encoding: 'utf8' });
}

test('keys generate, sign, verify (ok, wrong key, unsigned)', () => {
  assert.is(cli('keys', 'generate', '--out', join(dir, 'k1')).status, 0);
  assert.is(cli('keys', 'generate', '--out', join(dir, 'k2')).status, 0);
  assert.match(readFileSync(join(dir, 'k1', 'weightgate.key'), 'utf8'), 'BEGIN PRIVATE KEY');
  assert.match(readFileSync(join(dir, 'k1', 'weightgate.pub'), 'utf8'), 'BEGIN PUBLIC KEY');
  assert.is(cli('keys', 'generate', '--out', join(dir, 'k1')).status, 2, 'refuses to overwrite');

  const unsigned = cli('verify', a, '--pubkey', join(dir, 'k1', 'weightgate.pub'));
  assert.is(unsigned.status, 1);
  assert.match(unsigned.stderr, /^weightgate: error UNSIGNED: /);

  const signedPath = join(dir, 'signed.wgm');
  assert.is(cli('sign', a, '--key', join(dir, 'k1', 'weightgate.key'), '--out', signedPath).status, 0);
  const ok = cli('verify', signedPath, '--pubkey', join(dir, 'k1', 'weightgate.pub'), '--json');
  assert.is(ok.status, 0, ok.stderr);
  assert.is(JSON.parse(ok.stdout).valid, true);
  const wrong = cli('verify', signedPath, '--pubkey', join(dir, 'k2', 'weightgate.pub'));
  assert.is(wrong.status, 1);
  assert.match(wrong.stderr, 'BAD_SIGNATURE');
  // A flipped weight byte: the segment no longer matches its signed hash.
  const tampered = readFileSync(signedPath);
  tampered[tampered.length - 8]! ^= 0x10;
  writeFileSync(join(dir, 'tampered.wgm'), tampered);
  const bad = cli('verify', join(dir, 'tampered.wgm'), '--pubkey', join(dir, 'k1', 'weightgate.pub'));
  assert.is(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /^weightgate: error HASH_MISMATCH: .*tampered\.wgm/);
});

test('inspect --json of an artifact has the documented fields', () => {
  const r = cli('inspect', a, '--json');
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.is(j.kind, 'artifact');
  assert.is(j.model, 'synthetic-mlp');
  assert.is(j.version, 1);
  assert.is(j.bytes, readFileSync(a).length);
  assert.match(j.sha256, /^[0-9a-f]{64}$/);
  assert.equal(j.heldIntervals, [0, 1]);
  assert.is(j.signed, false);
  assert.is(j.tensors.length, 4);
  for (const key of ['name', 'shape', 'encoding', 'nonzero', 'bytes']) assert.ok(key in j.tensors[0], key);
  assert.is(j.intervals.length, 4);
  assert.is(j.tiers.length, 2);
  assert.is(cli('inspect', a).status, 0);
});

test("inspect shows a convolutional model's layers: kind, window, strides, padding", () => {
  const file = join(dir, 'cnn.wgm');
  writeFileSync(file, encodeArtifact(convModel()));
  const text = cli('inspect', file);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, 'layers (format version 2):');
  assert.match(text.stdout, /conv_1 +conv2d 3x3 stride 1x1 same {2}1 -> 6 {2}relu/);
  assert.match(text.stdout, /pool_1 +max-pool2d 2x2 stride 2x2 valid {2}6 -> 6\n/);
  assert.match(text.stdout, /gap +global-avg-pool2d {2}8 -> 8\n/);
  const json = JSON.parse(cli('inspect', file, '--json').stdout);
  assert.is(json.formatVersion, 2);
  assert.equal(json.layers[2], {
    kind: 'depthwise-conv2d',
    name: 'dw_1',
    inputs: 6,
    units: 12,
    activation: 'relu',
    kernel: 2,
    bias: 3,
    window: [3, 3],
    strides: [1, 1],
    padding: 'valid',
  });
});

test('diff + patch reproduce the target; inspect reads the patch', () => {
  const p = join(dir, 'ab.wgp');
  const out = join(dir, 'b2.wgm');
  const d = cli('diff', a, b, '--out', p, '--json');
  assert.is(d.status, 0, d.stderr);
  assert.ok(JSON.parse(d.stdout).bytes > 0);
  const r = cli('patch', a, p, '--out', out);
  assert.is(r.status, 0, r.stderr);
  assert.equal(readFileSync(out), readFileSync(b));
  const i = JSON.parse(cli('inspect', p, '--json').stdout);
  assert.is(i.kind, 'patch');
  assert.is(i.toVersion, 2);
  const wrongBase = cli('patch', b, p, '--out', join(dir, 'x.wgm'));
  assert.is(wrongBase.status, 2);
  assert.match(wrongBase.stderr, 'WRONG_BASE');
  const damaged = readFileSync(p);
  damaged[damaged.length - 3]! ^= 0x40;
  writeFileSync(join(dir, 'damaged.wgp'), damaged);
  const r2 = cli('patch', a, join(dir, 'damaged.wgp'), '--out', join(dir, 'y.wgm'));
  assert.is(r2.status, 2);
  assert.match(r2.stderr, /^weightgate: error [A-Z_]+: .*damaged\.wgp/);
});

test('export-c writes an aligned C array with its length', () => {
  const h = join(dir, 'model.h');
  assert.is(cli('export-c', a, '--out', h, '--name', 'g_model').status, 0);
  const text = readFileSync(h, 'utf8');
  assert.match(text, 'alignas(16) static const unsigned char g_model[] = {');
  assert.match(text, `static const unsigned int g_model_len = ${readFileSync(a).length};`);
  assert.match(text, /--extern/, 'the header says how to keep one copy');
  assert.is(cli('export-c', a, '--out', h, '--name', '9bad').status, 2);
});

const C_FILES = {
  'a.c': '#include "model.h"\nconst unsigned char *a_ptr(void) { return g_model; }\nunsigned a_len(void) { return g_model_len; }\n',
  'b.c': '#include "model.h"\nconst unsigned char *b_ptr(void) { return g_model; }\nunsigned b_len(void) { return g_model_len; }\n',
  'main.c':
    '#include <stdint.h>\nconst unsigned char *a_ptr(void); const unsigned char *b_ptr(void); unsigned a_len(void); unsigned b_len(void);\n' +
    'int main(void) {\n  if (a_len() != b_len() || a_ptr()[4] != b_ptr()[4]) return 1;\n' +
    '  if ((uintptr_t)a_ptr() % 16 != 0 || (uintptr_t)b_ptr() % 16 != 0) return 2;\n' +
    '  return a_ptr() == b_ptr() ? 10 : 11;  /* 10: one copy, 11: a copy per file */\n}\n',
};

/** Compiles a.c and b.c (both include model.h) with main.c into one program and runs it; null without a C compiler. */
function compileTwoUnits(work: string, defineInA: string | null): { build: ReturnType<typeof spawnSync>; run: ReturnType<typeof spawnSync> | null } | null {
  const cc = process.env.CC ?? 'cc';
  if (spawnSync(cc, ['--version']).status !== 0) return null;
  for (const [name, text] of Object.entries(C_FILES)) writeFileSync(join(work, name), name === 'a.c' && defineInA ? `#define ${defineInA}\n${text}` : text);
  const exe = join(work, 'prog');
  const build = spawnSync(cc, ['-std=c11', '-Wall', '-Wextra', '-Werror', '-o', exe, 'a.c', 'b.c', 'main.c'], { cwd: work, encoding: 'utf8' });
  return { build, run: build.status === 0 ? spawnSync(exe, [], { encoding: 'utf8' }) : null };
}

test('export-c: a header included from two C files links (static), and --extern keeps one copy', () => {
  const plain = join(dir, 'cc-static');
  mkdirSync(plain);
  assert.is(cli('export-c', a, '--out', join(plain, 'model.h'), '--name', 'g_model').status, 0);
  const linked = compileTwoUnits(plain, null);
  if (linked === null) {
    console.log('skip: export-c link test needs a C compiler (cc, or $CC); apt-get install gcc');
    return;
  }
  assert.is(linked.build.status, 0, String(linked.build.stderr));
  assert.is(linked.run!.status, 11, 'each translation unit has its own static copy');

  const shared = join(dir, 'cc-extern');
  mkdirSync(shared);
  const r = cli('export-c', a, '--out', join(shared, 'model.h'), '--name', 'g_model', '--extern');
  assert.is(r.status, 0, r.stderr);
  const text = readFileSync(join(shared, 'model.h'), 'utf8');
  assert.match(text, 'extern const unsigned char g_model[];');
  assert.match(text, '#ifdef G_MODEL_DEFINE');
  const one = compileTwoUnits(shared, 'G_MODEL_DEFINE');
  assert.is(one!.build.status, 0, String(one!.build.stderr));
  assert.is(one!.run!.status, 10, 'one copy, defined where G_MODEL_DEFINE is set');
});

test('bad input: damaged file, missing file, bad usage exit 2 with one line', () => {
  const damaged = join(dir, 'damaged.wgm');
  writeFileSync(damaged, readFileSync(a).subarray(0, 100));
  const r = cli('inspect', damaged);
  assert.is(r.status, 2);
  assert.match(r.stderr, /^weightgate: error [A-Z_]+: .*damaged\.wgm/);
  assert.is(r.stderr.trim().split('\n').length, 1);
  assert.is(cli('inspect', join(dir, 'nope.wgm')).status, 2);
  assert.is(cli('diff', a).status, 2);
  const help = cli('--help');
  for (const cmd of ['inspect', 'keys', 'sign', 'verify', 'diff', 'patch', 'export-c']) assert.match(help.stdout, new RegExp(`\\n  ${cmd} `), cmd);
  const patchHelp = cli('patch', '--help');
  assert.is(patchHelp.status, 0);
  assert.match(patchHelp.stdout, '--pubkey');
});

test('recode: a Rice build of the full artifact, signed or explicitly unsigned; a partial one is refused', () => {
  const out = join(dir, 'b.rice.wgm');
  assert.is(cli('recode', b, '--coding', 'rice', '--out', out).status, 2, 'the manifest changes: --key or --allow-unsigned');
  const done = cli('recode', b, '--coding', 'rice', '--allow-unsigned', '--out', out, '--json');
  assert.is(done.status, 0, done.stderr);
  assert.equal({ coding: JSON.parse(done.stdout).coding, signed: JSON.parse(done.stdout).signed }, { coding: 'rice', signed: false });
  const shown = cli('inspect', out, '--json');
  assert.ok(
    JSON.parse(shown.stdout).tensors.every((t: { coding: string }) => t.coding === 'rice'),
    'inspect names the coding',
  );
  assert.match(cli('inspect', out).stdout, /codebook-sparse\/3b rice/);
  const back = join(dir, 'b.range.wgm');
  assert.is(cli('recode', out, '--coding', 'range', '--allow-unsigned', '--out', back).status, 0);
  assert.equal(readFileSync(back), readFileSync(b), 'range -> rice -> range gives the original bytes');
  const partial = cli('recode', a, '--coding', 'rice', '--allow-unsigned', '--out', join(dir, 'x.wgm'));
  assert.is(partial.status, 2);
  assert.match(partial.stderr, /BAD_INPUT.*full tier/);
  assert.is(cli('recode', b, '--coding', 'huffman', '--allow-unsigned', '--out', out).status, 2);
});

test.run();

// runBuild end to end on a tiny model (784-16-10): artifacts per tier, nested
// licenses, signatures, C headers, determinism, and the next version (--from).
// test: optimized-wasm (it trains with TF.js in this process)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTensor, generateKeyPair, readArtifact } from '../../formats/index.ts';
import { runBuild, type BuildOptions } from '../../pipeline/build.ts';
import { tempDir, writeTinyModel } from './helpers.ts';

const modelPath = writeTinyModel(tempDir());
const base: Omit<BuildOptions, 'outDir'> = {
  modelPath,
  epochs: 1,
  sparsity: 0.8,
  bits: 3,
  intervals: 8,
  tiers: 'basic:0.5',
  pruneRounds: 1,
  pruneEpochs: 1,
  centroidEpochs: 1,
  seed: 7,
};
const keys = generateKeyPair();
const firstDir = tempDir();
// Built inside the first test, not at import: uvu imports every test file
// before running any, and other files' tests may switch the TF.js backend.
let first: Awaited<ReturnType<typeof runBuild>>;

test('one signed artifact per tier plus full, with nested licenses and a report', async () => {
  first = await runBuild({ ...base, outDir: firstDir, key: keys.privateKeyPem, c: true });
  assert.equal(
    first.artifacts.map((a) => a.tier),
    ['basic', 'full'],
  );
  const [basic, full] = first.artifacts.map((a) => readArtifact(a.bytes, { publicKey: keys.publicKeyPem, requireSignature: true }));
  assert.is(full.heldIntervals.length, 8);
  assert.ok(basic.heldIntervals.length < full.heldIntervals.length);
  for (const id of basic.heldIntervals) assert.ok(full.heldIntervals.includes(id));
  assert.ok(basic.bytes.length < full.bytes.length);
  const report = JSON.parse(readFileSync(join(firstDir, 'report.json'), 'utf8'));
  for (const key of ['model', 'params', 'denseFloat32Bytes', 'nonzero', 'sparsity', 'bits', 'backend', 'accuracy', 'tiers', 'seconds'])
    assert.ok(key in report, key);
  assert.is(report.params, 784 * 16 + 16 + 16 * 10 + 10);
  assert.is(report.denseFloat32Bytes, report.params * 4);
  assert.ok(Math.abs(report.sparsity - 0.8) < 0.01);
  assert.ok(report.tiers[0].validationAccuracy >= 0.5);
  assert.is(report.tiers[1].name, 'full');
  assert.is(report.tiers[1].artifactBytes, readFileSync(join(firstDir, 'full.wgm')).length);
  assert.is(report.signed, true);
  assert.ok(readFileSync(join(firstDir, 'full.h'), 'utf8').includes('alignas(16) static const unsigned char'));
  assert.ok(readFileSync(join(firstDir, 'report.md'), 'utf8').includes('109,386'));
  assert.ok(readFileSync(join(firstDir, 'report.svg'), 'utf8').startsWith('<svg'));
  assert.ok(existsSync(join(firstDir, 'state.json')) && existsSync(join(firstDir, 'state.bin')));
});

test('the artifact reports the tiers and preprocess a device needs', () => {
  const full = readArtifact(first.artifacts[1].bytes);
  assert.equal(
    full.manifest.tiers.map((t) => t.name),
    ['basic', 'full'],
  );
  assert.is(full.manifest.preprocess.scale, Math.fround(1 / 255));
  assert.is(full.manifest.tensors[0].encoding, 'codebook-sparse');
  assert.ok(full.manifest.tensors[0].codebook!.length <= 8);
});

test('biases are int8 by default, decoded exactly as the build measured them', () => {
  const full = readArtifact(first.artifacts[1].bytes);
  first.modelInput.tensors.forEach((tensor, i) => {
    if (tensor.licensed) return;
    assert.is(full.manifest.tensors[i].encoding, 'int8', tensor.name);
    const decoded = decodeTensor(full, i);
    assert.ok(
      decoded.every((v, j) => v === tensor.values[j] || (v === 0 && tensor.values[j] === 0)),
      tensor.name,
    );
  });
  assert.equal(first.report.biases, ['int8', 'int8']);
  assert.ok(readFileSync(join(firstDir, 'report.md'), 'utf8').includes('biases int8.'));
});

test('--float-biases keeps them as trained, in float32', async () => {
  const kept = await runBuild({ ...base, floatBiases: true, outDir: tempDir(), key: keys.privateKeyPem });
  const full = readArtifact(kept.artifacts[kept.artifacts.length - 1].bytes);
  const biases = kept.modelInput.tensors.map((t, i) => ({ t, i })).filter(({ t }) => !t.licensed);
  assert.ok(biases.length > 0);
  for (const { t, i } of biases) assert.is(full.manifest.tensors[i].encoding, 'dense-f32', t.name);
  assert.equal(kept.report.biases, ['dense-f32', 'dense-f32']);
  assert.ok(full.bytes.length > first.artifacts[1].bytes.length);
});

test('--coding rice codes every tensor in Rice bits, same weights and tiers; --from keeps the coding', async () => {
  const riceDir = tempDir();
  const riced = await runBuild({ ...base, coding: 'rice', outDir: riceDir, key: keys.privateKeyPem });
  const range = readArtifact(first.artifacts[1].bytes);
  const full = readArtifact(riced.artifacts[riced.artifacts.length - 1].bytes);
  assert.ok(full.manifest.tensors.every((t) => t.coding === 'rice'));
  assert.ok(range.manifest.tensors.every((t) => t.coding === undefined));
  for (let t = 0; t < full.manifest.tensors.length; t++) assert.equal(decodeTensor(full, t), decodeTensor(range, t), full.manifest.tensors[t].name);
  // (Tiers may differ: the greedy order weighs accuracy by bytes, and bytes differ.)
  const next = await runBuild({ fromDir: riceDir, outDir: tempDir(), key: keys.privateKeyPem });
  assert.ok(readArtifact(next.artifacts[1].bytes).manifest.tensors.every((t) => t.coding === 'rice'));
});

test('same inputs and seed give byte-identical artifacts', async () => {
  const again = await runBuild({ ...base, outDir: tempDir(), key: keys.privateKeyPem });
  for (let i = 0; i < first.artifacts.length; i++) {
    assert.is(Buffer.compare(Buffer.from(again.artifacts[i].bytes), Buffer.from(first.artifacts[i].bytes)), 0, first.artifacts[i].tier);
  }
});

test('--from makes version 2: same intervals and tiers, byte-identical segments', async () => {
  const next = await runBuild({ fromDir: firstDir, outDir: tempDir(), key: keys.privateKeyPem });
  assert.is(next.report.version, 2);
  assert.ok(next.report.from);
  assert.is(next.report.from!.changedSegments.length, 0);
  assert.ok(next.report.from!.segments > 0);
  const before = readArtifact(first.artifacts[1].bytes).manifest;
  const after = readArtifact(next.artifacts[1].bytes).manifest;
  assert.equal(after.intervals, before.intervals);
  assert.equal(
    after.tiers.map((t) => t.intervals),
    before.tiers.map((t) => t.intervals),
  );
  // Only the codebooks moved, and each centroid keeps 16 significant bits: at most 3 bytes of it change.
  assert.ok(after.tensors.some((t, i) => t.codebook && t.codebook.some((c, j) => c !== before.tensors[i].codebook![j])));
  const lowByte = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0]! & 0xff;
  for (const t of before.tensors) for (const c of t.codebook ?? []) assert.is(lowByte(c), 0, `v1 ${t.name}: ${c}`);
  // v2: rounded too, except a centroid held at its interval's edge (rounding would take it out)
  const bounds = before.intervals.flatMap((iv) => [iv.lower, iv.upper]);
  for (const t of after.tensors) {
    for (const c of t.codebook ?? []) {
      if (lowByte(c) !== 0)
        assert.ok(
          bounds.some((b) => Math.abs(c - b) <= Math.abs(b) * 2 ** -15),
          `v2 ${t.name}: ${c} is neither rounded nor at an interval's edge`,
        );
    }
  }
});

test('int8 encoding builds nested tiers from the int8-rounded weights', async () => {
  const int8 = await runBuild({ ...base, encoding: 'int8', outDir: tempDir() });
  const full = readArtifact(int8.artifacts[int8.artifacts.length - 1].bytes);
  assert.is(full.manifest.tensors[0].encoding, 'int8');
  assert.is(int8.report.encoding, 'int8');
  assert.ok(int8.report.tiers[0].intervals.every((id) => full.heldIntervals.includes(id)));
});

test('bad options are typed errors with exit code 2', async () => {
  for (const bad of [{ sparsity: 1.5 }, { bits: 9 }, { order: 'random' as 'paper' }, { tiers: 'x' }]) {
    try {
      await runBuild({ ...base, ...bad, outDir: tempDir() });
      assert.unreachable(JSON.stringify(bad));
    } catch (error) {
      assert.is((error as { exitCode?: number }).exitCode, 2, JSON.stringify(bad));
    }
  }
});

test.run();

// The conformance vectors (scripts/gen-conformance.ts) the C library is
// tested against: generated twice they are the same bytes, and every record
// agrees with what device-sim computes now, by a path other than the
// generator's where there is one, so the generator cannot silently rot.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { readArtifact } from '../../formats/index.ts';
import { generateConformance, openStatus } from '../../scripts/gen-conformance.ts';
import { layerOutputs } from '../../device-sim/firmware-plan.ts';
import { checkBad, checkExpected, checkPlansAndImages, checkRefusals, checkUnsigned, readVectors } from './vectors.ts';

const dir = mkdtempSync(join(tmpdir(), 'wg-conformance-'));
const summary = generateConformance(dir);
const vectors = readVectors(dir);
const { records, file, keyHex, publicKey, models, samples } = vectors;

function listFiles(root: string, under = root): string[] {
  return readdirSync(under).flatMap((name) => {
    const path = join(under, name);
    return statSync(path).isDirectory() ? listFiles(root, path) : [relative(root, path)];
  });
}

test('the index is well formed: one key, models with samples, every (arith, kernel) expected or refused, a plan each', () => {
  assert.is(records('key').length, 1);
  assert.match(keyHex, /^[0-9a-f]{64}$/);
  assert.ok(models.size >= 8, `${models.size} models`);
  assert.ok(models.has('paper'), 'the paper-shaped model');
  assert.equal(
    models.get('paper')!.artifact.manifest.layers.map((l) => l.units),
    [128, 64, 10],
  );
  const encodings = new Set<string>();
  for (const [name, model] of models) {
    for (const t of model.artifact.manifest.tensors) encodings.add(`${t.name.endsWith('bias') ? 'bias' : 'kernel'} ${t.encoding}`);
    const s = samples.get(name);
    assert.ok(s, `samples of ${name}`);
    assert.is(s!.bytes.length, s!.count * model.inputs, `${name} samples`);
    const { manifest } = model.artifact;
    assert.is(
      model.inputs,
      manifest.preprocess.inputShape.reduce((a, b) => a * b, 1),
      `${name} inputs`,
    );
    assert.is(model.outputs, layerOutputs(model.artifact).at(-1), `${name} outputs`);
    const paths = (kind: string) =>
      records(kind)
        .filter((r) => r[1] === name)
        .map((r) => `${r[2]} ${r[3]}`)
        .sort();
    // every model (convolutional, Dense-only, relu6) runs on both paths with both kernels, and has its execution image
    assert.equal(paths('expect'), ['f32 coded', 'f32 image', 'int coded', 'int image'], `${name} expects`);
    assert.is(paths('expect').length + paths('refuse').length, 4, `${name}: every path expected or refused`);
    assert.is(records('plan').filter((r) => r[1] === name).length, 1);
    assert.is(records('image').filter((r) => r[1] === name).length, 1);
  }
  assert.is(encodings.size, 6, `every encoding of kernels and biases: ${[...encodings]}`);
  const kinds = new Set([...models.values()].flatMap((m) => m.artifact.manifest.layers.map((l) => l.kind)));
  assert.equal([...kinds].sort(), ['avg-pool2d', 'conv2d', 'dense', 'depthwise-conv2d', 'global-avg-pool2d', 'max-pool2d'], 'every layer kind');
  const windows = [...models.values()].flatMap((m) => m.artifact.manifest.layers.filter((l) => 'window' in l));
  assert.ok(
    windows.some((l) => 'strides' in l && l.strides[0] > l.window[0]),
    'a stride larger than its window',
  );
  assert.ok(
    windows.some((l) => 'padding' in l && l.padding === 'same' && l.strides[0] === 2),
    "'same' padding with stride 2",
  );
  assert.ok(
    [...models.values()].some((m) => m.artifact.manifest.layers.some((l) => l.kind === 'depthwise-conv2d' && l.units / l.inputs > 1)),
    'a depthwise multiplier over 1',
  );
  for (const [name] of models) {
    // every model comes Rice-coded too (NAME-rice...: same weights, samples and outputs, checked as generated)
    if (!name.includes('-rice'))
      assert.ok(
        [...models.keys()].some((n) => n.includes('-rice') && n.replace('-rice', '') === name),
        `${name} has a Rice twin`,
      );
  }
  const licenses = new Set([...models.values()].map((m) => m.artifact.heldIntervals.join(',')));
  assert.ok(licenses.size >= 4, `full, tier and partial licenses: ${[...licenses].join(' | ')}`);
  const names = records('bad').map((r) => r[1]);
  assert.is(new Set(names).size, names.length, 'bad names are unique');
  assert.is(summary.bad, names.length);
});

test('expected logits and classes are what device-sim gives now (image kernels through check-artifact, coded without image)', () => {
  checkExpected(vectors);
});

test("the refusals are the support check's (and device-sim's, on the int path): none, every model runs on every path and kernel", () => {
  assert.is(checkRefusals(vectors), 0);
  assert.is(summary.refusals, 0);
});

test('int logits: the coded and image kernels agree exactly; f32: they classify the same and differ in the last bits at most', () => {
  for (const [name] of models) {
    const coded = records('expect').filter((r) => r[1] === name && r[3] === 'coded');
    for (const [, , arith, , codedPath] of coded) {
      const imageRecord = records('expect').find((r) => r[1] === name && r[2] === arith && r[3] === 'image');
      if (!imageRecord) continue;
      const imagePath = imageRecord[4]!;
      const a = file(codedPath!);
      const b = file(imagePath);
      if (arith === 'int') {
        assert.equal(a, b, `${name} int`);
        continue;
      }
      const va = new DataView(a.buffer, a.byteOffset);
      const vb = new DataView(b.buffer, b.byteOffset);
      for (let at = 0; at < a.length; at += 4) {
        const x = va.getFloat32(at, true);
        const y = vb.getFloat32(at, true);
        assert.ok(Math.abs(x - y) <= 1e-4 * Math.max(1, Math.abs(x)), `${name} f32 at ${at}: ${x} vs ${y}`);
      }
    }
  }
});

test('plans are firmwarePlan, images are the ones device-sim builds and opens', () => {
  checkPlansAndImages(vectors);
});

test('bad artifacts: each status is what opening it with the key gives; unsigned ones open without a key', () => {
  const statuses = checkBad(vectors);
  for (const code of ['WG_E_TRUNCATED', 'WG_E_HASH_MISMATCH', 'WG_E_BAD_SIGNATURE', 'WG_E_UNSIGNED', 'WG_E_BAD_IDENTIFIER', 'WG_E_OUT_OF_BOUNDS']) {
    assert.ok(statuses.has(code), `some vector gives ${code}`);
  }
  assert.ok(
    records('bad').some((r) => r[1]!.startsWith('conv')),
    'damaged convolutional artifacts',
  );
  assert.ok(records('unsigned').length > 0);
  for (const [, name, path, inputs, outputs] of records('unsigned')) {
    const artifact = readArtifact(file(path!));
    assert.is(artifact.signature, null, name);
    assert.is(artifact.manifest.layers[0]!.inputs, Number(inputs));
    assert.is(artifact.manifest.layers.at(-1)!.units, Number(outputs));
    assert.is(openStatus(file(path!), publicKey), 'WG_E_UNSIGNED');
  }
});

test('unsigned records: forged Rice segments, damaged unsigned artifacts and layer graphs give their statuses on each path', () => {
  assert.ok(checkUnsigned(vectors, 'forged').size > 1);
  const damaged = checkUnsigned(vectors, 'badunsigned');
  assert.ok(damaged.has('WG_E_UNSUPPORTED'), 'some damaged unsigned artifact is a model the firmware does not run');
  assert.ok(
    records('badunsigned').some((r) => r[1]!.startsWith('conv')),
    'a convolutional one',
  );
  const graphs = checkUnsigned(vectors, 'badgraph');
  for (const code of ['WG_OK', 'WG_E_BAD_VALUE', 'WG_E_UNSUPPORTED', 'WG_E_UNSUPPORTED_VERSION']) assert.ok(graphs.has(code), `some layer graph gives ${code}`);
  assert.ok(
    records('badgraph').every((r) => /^graph-v[123]-/.test(r[1]!)),
    'badgraph names carry their manifest version',
  );
  for (const [, name, path] of records('badgraph')) {
    const version = /^graph-v(\d)-/.exec(name!)![1];
    const artifact = file(path!);
    // the manifest's format_version, as the reader sees it (when it reads it)
    try {
      assert.is(String(readArtifact(artifact).manifest.formatVersion), version, name);
    } catch (error) {
      if (!(error instanceof Error) || !('code' in error)) throw error;
    }
  }
});

test('regenerating gives the same bytes', () => {
  const again = mkdtempSync(join(tmpdir(), 'wg-conformance-'));
  try {
    generateConformance(again);
    const files = listFiles(dir).sort();
    assert.equal(listFiles(again).sort(), files);
    for (const f of files) assert.equal(readFileSync(join(again, f)), readFileSync(join(dir, f)), f);
  } finally {
    rmSync(again, { recursive: true, force: true });
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();

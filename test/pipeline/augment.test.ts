// --augment: each training sample shifted by a few pixels, a new shift each
// epoch. The shift itself on exact pixels, the geometry it applies to, its
// determinism in training, and the flag end to end (report.json says it).
// test: optimized-wasm (it trains with TF.js in this process)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../../pipeline/backend.ts';
import { loadDataset, type DatasetSplit } from '../../pipeline/datasets.ts';
import { loadLayersModel } from '../../pipeline/model-json.ts';
import { resolveOptions } from '../../pipeline/build-options.ts';
import type { BuildReport } from '../../pipeline/report.ts';
import { augmentationFor, sampleGeometry, shiftSamples, trainWeights } from '../../pipeline/train.ts';
import { tempDir, writeTinyModel } from './helpers.ts';

/** A random source that returns `values` in turn (each in [0, 1)). */
function scripted(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

/** The draw that makes shiftSamples pick `shift` in [-pixels, pixels]. */
const draw = (shift: number, pixels: number) => (shift + pixels + 0.5) / (2 * pixels + 1);

test('a shift moves each pixel by (dx, dy), fills what comes in with 0 and drops what goes out', () => {
  // One 3 x 4 sample, one channel: value = 10 * row + column + 1.
  const sample = Float32Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4) + 1);
  const batch = sample.slice();
  const augmentation = { geometry: { height: 3, width: 4, channels: 1 }, pixels: 1 };
  shiftSamples(batch, 1, augmentation, scripted([draw(1, 1), draw(-1, 1)]), new Float32Array(12));
  // dx = +1 (right), dy = -1 (up): row r of the result is row r + 1 moved right by one.
  assert.equal(Array.from(batch), [0, 11, 12, 13, 0, 21, 22, 23, 0, 0, 0, 0]);

  const still = sample.slice();
  shiftSamples(still, 1, augmentation, scripted([draw(0, 1)]), new Float32Array(12));
  assert.equal(still, sample, 'a (0, 0) shift leaves the sample as it is');
});

test('channels move together; each sample of a batch gets its own shift', () => {
  // Two 2 x 2 samples of two channels (channels last).
  const batch = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18]);
  const augmentation = { geometry: { height: 2, width: 2, channels: 2 }, pixels: 2 };
  // First sample: dx = -1, dy = 0; second: dx = 0, dy = +1.
  shiftSamples(batch, 2, augmentation, scripted([draw(-1, 2), draw(0, 2), draw(0, 2), draw(1, 2)]), new Float32Array(8));
  assert.equal(Array.from(batch.subarray(0, 8)), [3, 4, 0, 0, 7, 8, 0, 0]);
  assert.equal(Array.from(batch.subarray(8)), [0, 0, 0, 0, 11, 12, 13, 14]);
});

test('only spatial inputs are shifted: [h, w] and [h, w, c], not a flat vector; 0 pixels is no augmentation', () => {
  assert.equal(sampleGeometry([28, 28]), { height: 28, width: 28, channels: 1 });
  assert.equal(sampleGeometry([32, 32, 3]), { height: 32, width: 32, channels: 3 });
  assert.is(sampleGeometry([784]), null);
  assert.is(augmentationFor([784], 2), undefined);
  assert.is(augmentationFor([28, 28], 0), undefined);
  assert.is(augmentationFor([28, 28], undefined), undefined);
  assert.equal(augmentationFor([28, 28, 1], 1), { geometry: { height: 28, width: 28, channels: 1 }, pixels: 1 });
});

await selectBackend();
const dataset = await loadDataset('mnist');
const dir = tempDir();
const modelPath = writeTinyModel(dir);
const { spec, weights } = await loadLayersModel(modelPath);
const head = (split: DatasetSplit, count: number): DatasetSplit => ({
  samples: split.samples.subarray(0, count * 784),
  labels: split.labels.subarray(0, count),
  count,
});
const small = head(dataset.train, 600);
const train = (augment: number, inputShape = spec.inputShape) =>
  trainWeights({ ...spec, inputShape }, weights, small, dataset.classes, { epochs: 1, seed: 7, augment });

test('training with shifts is reproducible, and differs from training without; a flat input is never shifted', async () => {
  assert.equal(spec.inputShape.length, 2, 'the fixture takes 28 x 28 samples');
  const [once, again, none] = [await train(1), await train(1), await train(0)];
  assert.equal(once.kernels[0], again.kernels[0], 'the same seed gives the same weights');
  assert.not.equal(once.kernels[0], none.kernels[0], 'shifted samples train other weights');
  const flat = await train(1, [784]);
  assert.equal(flat.kernels[0], (await train(0, [784])).kernels[0], 'a [784] input is not spatial: --augment does nothing');
});

const build = (...args: string[]) =>
  spawnSync(
    process.execPath,
    ['bin/weightgate.js', 'build', '--model', modelPath, '--sparsity', '0.5', '--bits', '4', '--prune-epochs', '1', '--centroid-epochs', '1'].concat([
      '--intervals',
      '4',
      '--tiers',
      'basic:0.3',
      '--max-drop',
      '100',
      ...args,
    ]),
    { encoding: 'utf8' },
  );

test('the default: 1 pixel for a preset, 0 for a model file; given, it is what was given', async () => {
  const resolved = async (options: Parameters<typeof resolveOptions>[0]) => (await resolveOptions(options)).augment;
  assert.is(await resolved({ preset: 'paper-109k', outDir: join(dir, 'p') }), 1);
  assert.is(await resolved({ preset: 'paper-109k', augment: 0, outDir: join(dir, 'p0') }), 0);
  assert.is(await resolved({ modelPath, outDir: join(dir, 'm') }), 0);
  assert.is(await resolved({ modelPath, augment: 3, outDir: join(dir, 'm3') }), 3);
});

test('--augment reaches every stage of a build and report.json says so; a bad value exits 2 naming the flag', () => {
  const out = join(dir, 'augmented');
  const run = build('--augment', '2', '--out', out);
  assert.is(run.status, 0, run.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BuildReport;
  assert.is(report.augment, 2);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /samples shifted up to 2 px in training/);

  for (const bad of ['-1', '9', '1.5']) {
    const refused = build('--augment', bad, '--out', join(dir, `bad${bad}`));
    assert.is(refused.status, 2, `--augment ${bad}: ${refused.stderr}`);
    assert.match(refused.stderr, /--augment/);
  }
});

test.run();

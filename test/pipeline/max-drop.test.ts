// The accuracy budget (--max-drop): the search keeps the full tier within
// the budget of the input model and picks the smallest artifact that does;
// an impossible budget exits 1 with the closest result written; the input
// model's accuracy is what TF.js itself measures.
// test: optimized-wasm (it trains with TF.js in this process)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runBuild } from '../../pipeline/build.ts';
import { loadDataset } from '../../pipeline/datasets.ts';
import { loadLayersModel } from '../../pipeline/model-json.ts';
import { trainWeights } from '../../pipeline/train.ts';
import { selectBackend } from '../../pipeline/backend.ts';
import type { BuildReport } from '../../pipeline/report.ts';
import type { SearchReport, SearchTrial } from '../../pipeline/search.ts';
import { tempDir, writeTinyModel } from './helpers.ts';

await selectBackend();
const dataset = await loadDataset('mnist');
// A 784-16-10 model someone trained: two epochs from the random fixture.
const { spec, weights } = await loadLayersModel(writeTinyModel(tempDir()));
const trained = await trainWeights(spec, weights, dataset.train, dataset.classes, { epochs: 2, seed: 3 });
const modelPath = writeTinyModel(tempDir(), 16, trained);
const quick = { pruneEpochs: 1, centroidEpochs: 0, intervals: 4, tiers: 'basic:0.3' };
/** `weightgate build` on the fixture with no fine-tuning, through the real CLI. */
const buildCli = (...args: string[]) =>
  spawnSync(
    process.execPath,
    ['bin/weightgate.js', 'build', '--model', modelPath, '--prune-epochs', '0', '--centroid-epochs', '0', '--intervals', '4', '--tiers', 'basic:0.3', ...args],
    { encoding: 'utf8' },
  );

/** The smallest ladder trial within the budget: what the ladder chose before any rebuild. */
const ladderChoiceOf = (search: SearchReport): SearchTrial | undefined =>
  search.trials.filter((t) => t.schedule === 'ladder' && t.withinBudget).sort((a, b) => a.fullBytes - b.fullBytes)[0];

/** The trials the search may choose: the ladder's within the budget, and a rebuild's within it and no less accurate on validation than the ladder's choice. */
function eligibleTrials(search: SearchReport): SearchTrial[] {
  const floor = ladderChoiceOf(search)?.validationAccuracy ?? -Infinity;
  return search.trials.filter((t) => t.withinBudget && (t.schedule === 'ladder' || t.validationAccuracy >= floor));
}

const chosenTrial = (search: SearchReport): SearchTrial =>
  search.trials.find((t) => t.sparsity === search.chosen.sparsity && t.bits === search.chosen.bits && t.schedule === search.chosen.schedule)!;

test("the input model's accuracy is TF.js's own evaluation of the loaded model", async () => {
  const dir = join(modelPath, '..');
  const json = JSON.parse(readFileSync(modelPath, 'utf8'));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: new Uint8Array(readFileSync(join(dir, 'weights.bin'))).buffer,
    }),
  );
  const { samples, labels, count } = dataset.validation;
  const x = tf.tensor3d(
    Float32Array.from(samples, (v) => v / 255),
    [count, 28, 28],
  );
  const predicted = (model.predict(x) as tf.Tensor).argMax(1).dataSync();
  let correct = 0;
  for (let i = 0; i < count; i++) if (predicted[i] === labels[i]) correct++;
  const { report } = await runBuild({ modelPath, ...quick, sparsity: 0.5, bits: 6, outDir: tempDir() });
  assert.is(report.inputValidationAccuracy, correct / count);
  assert.ok(correct / count > 0.8, `the fixture is trained (${correct} of ${count})`);
});

test('--max-drop searches: the full tier stays within the budget, and the choice is the smallest that does', async () => {
  const outDir = tempDir();
  const { report } = await runBuild({ modelPath, ...quick, maxDrop: 3, outDir });
  const search = report.search!;
  assert.ok(search, 'a search ran');
  assert.ok(search.met, 'a setting met the budget');
  const full = report.tiers[report.tiers.length - 1];
  assert.ok((report.inputValidationAccuracy! - full.validationAccuracy) * 100 <= 3, 'the full tier is within 3 points');
  const eligible = eligibleTrials(search);
  const chosen = chosenTrial(search);
  assert.ok(eligible.includes(chosen), 'the chosen setting is within the budget');
  assert.is(chosen.fullBytes, Math.min(...eligible.map((t) => t.fullBytes)));
  assert.is(report.bits, search.chosen.bits);
  assert.ok(Math.abs(report.sparsity - search.chosen.sparsity) < 0.01, `sparsity ${report.sparsity} is the chosen ${search.chosen.sparsity}`);
  // The search measured that setting's artifact before licensing: the written one adds only the tier table.
  const added = full.artifactBytes - chosen.fullBytes;
  assert.ok(added >= 0 && added < 256, `the tier table adds ${added} bytes`);
  assert.ok(search.trials.length >= 2, 'it climbed past the first sparsity');
  assert.match(readFileSync(join(outDir, 'report.md'), 'utf8'), /## Search within --max-drop 3/);
});

test('an impossible budget exits 1 with one line, and the closest result is written', () => {
  const outDir = tempDir();
  const run = buildCli('--search-sparsities', '0.995', '--max-drop', '0.5', '--out', outDir);
  assert.is(run.status, 1, run.stderr);
  const errors = run.stderr.split('\n').filter((line) => line.startsWith('weightgate: error'));
  assert.is(errors.length, 1, run.stderr);
  // 4 codebook sizes on the ladder, 4 again rebuilt from dense.
  assert.match(errors[0], /MAX_DROP: no setting tried \(8, in report.json "search"\) keeps the full tier within --max-drop 0.5/);
  assert.ok(existsSync(join(outDir, 'full.wgm')), 'the closest result is written');
  const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as BuildReport;
  assert.is(report.search!.met, false);
  const best = Math.max(...report.search!.trials.map((t) => t.validationAccuracy));
  assert.is(report.tiers[report.tiers.length - 1].validationAccuracy, best, 'the closest setting is the one written');
});

test('the budget is the default (1 point); with --sparsity it is only checked, and --max-drop 100 lets anything through', () => {
  const checked = buildCli('--sparsity', '0.99', '--out', tempDir());
  assert.is(checked.status, 1, checked.stderr);
  assert.match(checked.stderr, /MAX_DROP: full artifact full\.wgm is [\d.]+ points below the input model's validation accuracy, over --max-drop 1 /);
  assert.not.match(checked.stderr, /search:/);
  const loose = buildCli('--sparsity', '0.99', '--max-drop', '100', '--out', tempDir());
  assert.is(loose.status, 0, loose.stderr);
  assert.match(loose.stdout, /validation accuracy: input model [\d.]+%, full tier [\d.]+ points below \(--max-drop 100\)/);
});

test('a sparsity that misses the budget gets --recovery-epochs more fine-tuning, in rounds of --prune-epochs, then the search stops', async () => {
  const sparsities = [0.5, 0.995];
  const { report } = await runBuild({ modelPath, ...quick, recoveryEpochs: 2, searchSparsities: sparsities, outDir: tempDir() });
  const search = report.search!;
  const at = (sparsity: number) => search.trials.filter((t) => t.sparsity === sparsity && t.schedule === 'ladder');
  assert.equal([...new Set(at(0.5).map((t) => t.fineTuneEpochs))], [1], 'a sparsity within the budget at once gets no recovery');
  assert.ok(
    at(0.995).every((t) => !t.withinBudget),
    'the fixture cannot keep its accuracy with 0.5 % of its weights',
  );
  assert.equal([...new Set(at(0.995).map((t) => t.fineTuneEpochs))], [1, 2, 3], 'one round of 1 epoch, then two recovery rounds');
  assert.is(search.chosen.sparsity, 0.5);
  const none = await runBuild({ modelPath, ...quick, recoveryEpochs: 0, searchSparsities: sparsities, outDir: tempDir() });
  const ladder = none.report.search!.trials.filter((t) => t.schedule === 'ladder');
  assert.equal([...new Set(ladder.map((t) => t.fineTuneEpochs))], [1], '--recovery-epochs 0: no recovery');
});

test("the search rebuilds the ladder's choice from the dense model in --prune-rounds rounds; --no-rebuild skips it", async () => {
  const sparsities = [0.5, 0.8, 0.995];
  const { report } = await runBuild({ modelPath, ...quick, pruneRounds: 2, searchSparsities: sparsities, outDir: tempDir() });
  const search = report.search!;
  const rebuilt = search.trials.filter((t) => t.schedule === 'rebuild');
  const ladderChoice = ladderChoiceOf(search)!;
  assert.ok(rebuilt.length > 0, 'a rebuild ran');
  assert.equal([...new Set(rebuilt.map((t) => t.sparsity))], [ladderChoice.sparsity], "only the ladder's choice is rebuilt");
  assert.ok(
    rebuilt.every((t) => t.fineTuneEpochs === 2),
    'a rebuild fine-tunes 2 rounds x 1 epoch',
  );
  assert.is(rebuilt[0]!.bits, 3, 'codebooks from the fewest bits again');
  const eligible = eligibleTrials(search);
  const chosen = chosenTrial(search);
  assert.ok(eligible.includes(chosen), 'the chosen setting is eligible');
  assert.is(chosen.fullBytes, Math.min(...eligible.map((t) => t.fullBytes)), 'the smallest eligible, either schedule');
  const lastRebuild = rebuilt[rebuilt.length - 1]!;
  if (lastRebuild.withinBudget && lastRebuild.validationAccuracy >= ladderChoice.validationAccuracy) {
    assert.ok(
      rebuilt.slice(0, -1).every((t) => !t.withinBudget || t.validationAccuracy < ladderChoice.validationAccuracy),
      'the rebuild stops at its first eligible size',
    );
  }

  const skipped = await runBuild({ modelPath, ...quick, rebuild: false, searchSparsities: sparsities, outDir: tempDir() });
  assert.ok(skipped.report.search!.trials.length > 0);
  assert.ok(
    skipped.report.search!.trials.every((t) => t.schedule === 'ladder'),
    '--no-rebuild: the ladder only',
  );
  const cli = buildCli('--search-sparsities', '0.5', '--no-rebuild', '--json', '--out', tempDir());
  assert.is(cli.status, 0, cli.stderr);
  assert.ok(
    (JSON.parse(cli.stdout) as BuildReport).search!.trials.every((t) => t.schedule === 'ladder'),
    'the CLI passes --no-rebuild',
  );
});

test('--recovery-epochs must be a whole number of epochs', () => {
  const run = buildCli('--recovery-epochs', '-1', '--out', tempDir());
  assert.is(run.status, 2, run.stderr);
  assert.match(run.stderr, /--recovery-epochs/);
});

test('a default build searches within 1 point', async () => {
  const { report } = await runBuild({ modelPath, ...quick, searchSparsities: [0.5, 0.9], outDir: tempDir() });
  assert.is(report.maxDrop, 1);
  assert.ok(report.search && report.search.trials.length >= 1, 'a search ran');
  const drop = (report.inputValidationAccuracy! - report.tiers[report.tiers.length - 1].validationAccuracy) * 100;
  assert.is(report.search!.met, drop <= 1 + 1e-9, `met says whether the full tier (${drop} points below) is within 1`);
});

test.run();

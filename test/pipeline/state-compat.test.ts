// state.json written before layer kinds (a Dense chain whose layers have no
// `kind`) still loads, and `build --from` on it makes the next version.
// test: optimized-wasm (it trains with TF.js in this process)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readArtifact } from '../../formats/index.ts';
import { runBuild } from '../../pipeline/build.ts';
import { loadState } from '../../pipeline/state.ts';
import { tempDir, writeTinyModel } from './helpers.ts';

test('an old state.json (Dense layers without kind) loads as Dense and builds version 2 with the same segments', async () => {
  const firstDir = tempDir();
  const first = await runBuild({
    modelPath: writeTinyModel(tempDir()),
    outDir: firstDir,
    epochs: 1,
    sparsity: 0.8,
    bits: 3,
    intervals: 6,
    tiers: 'basic:0.3',
    pruneRounds: 1,
    pruneEpochs: 0,
    centroidEpochs: 0,
    seed: 2,
  });
  // What a build before layer kinds wrote: the same file without `kind`.
  const file = join(firstDir, 'state.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(
    json.spec.layers.map((l: { kind?: string }) => l.kind),
    ['dense', 'dense'],
  );
  for (const layer of json.spec.layers) delete layer.kind;
  writeFileSync(file, JSON.stringify(json, null, 2));

  const state = await loadState(firstDir);
  assert.equal(
    state.spec.layers.map((l) => [l.kind, l.inputs, l.units]),
    [
      ['dense', 784, 16],
      ['dense', 16, 10],
    ],
  );
  const next = await runBuild({ fromDir: firstDir, outDir: tempDir() });
  assert.is(next.report.version, 2);
  assert.is(next.report.from!.changedSegments.length, 0);
  const before = readArtifact(first.artifacts[first.artifacts.length - 1].bytes).manifest;
  const after = readArtifact(next.artifacts[next.artifacts.length - 1].bytes).manifest;
  assert.equal(after.layers, before.layers);
});

test.run();

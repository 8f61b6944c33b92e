import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PipelineError } from '../../pipeline/errors.ts';
import { equalIntervals } from '../../pipeline/intervals.ts';
import { intervalIndexOf } from '../../formats/index.ts';
import { clampToInterval } from '../../pipeline/next-version.ts';
import { loadState, saveState, type BuildState } from '../../pipeline/state.ts';
import { tempDir } from './helpers.ts';

test('clampToInterval keeps a moved centroid inside its interval, as formats tests bounds', () => {
  const intervals = equalIntervals([Float32Array.from([-1, 0.5, 1])], 4);
  for (let p = 0; p < 4; p++) {
    for (const v of [-5, -1, -0.5, -0.3, 0, 0.2, 0.5, 0.9, 1, 7]) {
      assert.is(intervalIndexOf(clampToInterval(v, intervals, p), intervals), p, `v ${v} into ${p}`);
    }
  }
  assert.is(clampToInterval(0.1, intervals, 2), Math.fround(0.1));
});

const state: BuildState = {
  spec: { name: 'm', inputShape: [2, 2], layers: [{ kind: 'dense', name: 'a', inputs: 4, units: 2, activation: 'softmax' }] },
  data: 'mnist',
  version: 3,
  bits: 2,
  seed: 5,
  intervals: [
    { id: 0, lower: -1, upper: 0 },
    { id: 1, lower: 0, upper: 1 },
  ],
  tiers: [{ name: 'full', target: null, intervals: [0, 1] }],
  biases: [Float32Array.from([0.5, -0.25])],
  shared: [{ codebook: Float32Array.from([-0.5, 0.25, 0.75]), codes: Uint8Array.from([0, 255, 2, 1, 255, 255, 0, 1]) }],
};

test('the saved build state reads back exactly', async () => {
  const dir = tempDir();
  await saveState(dir, state);
  const back = await loadState(dir);
  assert.equal(back.spec, state.spec);
  assert.equal(Array.from(back.biases[0]), Array.from(state.biases[0]));
  assert.equal(Array.from(back.shared[0].codebook), Array.from(state.shared[0].codebook));
  assert.equal(Array.from(back.shared[0].codes), Array.from(state.shared[0].codes));
  assert.is(back.version, 3);
});

test('a damaged state is BAD_STATE naming the file', async () => {
  const dir = tempDir();
  await saveState(dir, state);
  writeFileSync(join(dir, 'state.bin'), new Uint8Array(3));
  try {
    await loadState(dir);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, PipelineError);
    assert.is((error as PipelineError).code, 'BAD_STATE');
    assert.ok((error as Error).message.includes('state.bin'));
  }
  try {
    await loadState(tempDir());
    assert.unreachable();
  } catch (error) {
    assert.is((error as PipelineError).code, 'BAD_STATE');
  }
});

test.run();

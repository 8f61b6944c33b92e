// A trained CNN (the cnn-mnist preset, tiny settings, a slice of the real
// digits) on the int path: it classifies real digits as the f32 path does,
// nearly always, and its int logits stay near the f32 ones.
// test: optimized-wasm (it trains with TF.js in this process)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readArtifact } from '../../formats/index.ts';
import { runBuild } from '../../pipeline/build.ts';
import { Arena } from '../../device-sim/arena.ts';
import { createInterpreter } from '../../device-sim/interpreter.ts';
import { digitSlice, digitSliceDir, TINY_BUILD, tempDir } from '../pipeline/helpers.ts';

test('a trained CNN on the int path classifies 200 real digits as the f32 path does (at least 97 %)', async () => {
  const result = await runBuild({ ...TINY_BUILD, data: `idx:${await digitSliceDir()}`, seed: 5, preset: 'cnn-mnist', outDir: tempDir() });
  const artifact = readArtifact(result.artifacts.find((a) => a.tier === 'full')!.bytes);
  const f32 = createInterpreter(artifact, new Arena(1 << 20));
  const int = createInterpreter(artifact, new Arena(1 << 20), { arithmetic: 'int' });
  const digits = await digitSlice(5, 200);
  let same = 0;
  let right = 0;
  for (let i = 0; i < 200; i++) {
    const raw = digits.samples.subarray(i * 784, (i + 1) * 784);
    const reference = Array.from(f32.logits(raw));
    const { values, exponent } = int.intLogits(raw);
    const scale = Math.max(...reference.map(Math.abs));
    values.forEach((v, j) => assert.ok(Math.abs(v * 2 ** -exponent - reference[j]!) <= 0.05 * scale, `digit ${i} logit ${j}`));
    const cls = int.classify(raw);
    if (cls === f32.classify(raw)) same++;
    if (cls === digits.labels[i]) right++;
  }
  assert.ok(same >= 194, `int and f32 agree on ${same} of 200 digits`);
  assert.ok(right >= 120, `the int path gets ${right} of 200 digits right`);
});

test.run();

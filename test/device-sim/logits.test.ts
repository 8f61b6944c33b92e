// The interpreter's logits: the last layer's output before a softmax, what
// the C library returns; invoke() still applies the softmax.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readArtifact } from '../../formats/index.ts';
import { Arena } from '../../device-sim/arena.ts';
import { prepareExecImage } from '../../device-sim/exec-image.ts';
import { createInterpreter } from '../../device-sim/interpreter.ts';
import { applyActivation, argmax } from '../../device-sim/kernels/dense-reference.ts';
import { randomSamples, syntheticArtifact } from './fixtures.ts';

for (const kernel of ['image', 'coded'] as const) {
  test(`${kernel} kernels: softmax of the logits is invoke's output, and the class is their argmax`, () => {
    const artifact = readArtifact(syntheticArtifact({ sizes: [64, 12, 5], seed: 3 }));
    const arena = new Arena(64 * 1024);
    const image = kernel === 'image' ? prepareExecImage(artifact, arena, 1 << 20).image : null;
    arena.rewind(0);
    const interpreter = createInterpreter(artifact, arena, { image });
    const samples = randomSamples(8, 64, 5);
    for (let s = 0; s < 8; s++) {
      const sample = samples.subarray(s * 64, (s + 1) * 64);
      const logits = Float32Array.from(interpreter.logits(sample));
      assert.ok(logits.some((v) => v < 0 || v > 1) || logits.reduce((a, b) => a + b, 0) !== 1, 'logits are not probabilities');
      const probabilities = Float32Array.from(logits);
      applyActivation('softmax', probabilities);
      assert.equal(Float32Array.from(interpreter.invoke(sample)), probabilities, `sample ${s}`);
      assert.is(interpreter.classify(sample), argmax(logits));
    }
  });
}

test('a linear last layer: logits and invoke agree', () => {
  const artifact = readArtifact(syntheticArtifact({ sizes: [32, 6, 3], seed: 8, finalActivation: 'linear' }));
  const interpreter = createInterpreter(artifact, new Arena(64 * 1024));
  const sample = randomSamples(1, 32, 2);
  assert.equal(Float32Array.from(interpreter.logits(sample)), Float32Array.from(interpreter.invoke(sample)));
});

test.run();

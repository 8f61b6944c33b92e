import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accumulateEntries,
  accumulateEntriesFromRaw,
  addEntries,
  applyActivation,
  argmax,
} from '../../device-sim/kernels/dense-reference.ts';

// A 3x2 kernel [[1, 2], [0, -1], [3, 0]] given as sparse entries, x = [1, 2, 3].
const positions = Uint32Array.from([0, 1, 3, 4]);
const values = Float32Array.from([1, 2, -1, 3]);

test('sparse entries accumulate x · K in row-major [inputs, units] layout', () => {
  const out = new Float32Array(2);
  accumulateEntries(positions, values, 4, 2, Float32Array.from([1, 2, 3]), out);
  assert.equal(Array.from(out), [1 * 1 + 3 * 3, 1 * 2 + 2 * -1]);
});

test('raw bytes are preprocessed on the fly', () => {
  const out = new Float32Array(2);
  // raw [2, 4, 6] with scale 0.5, offset 0 is x = [1, 2, 3]
  accumulateEntriesFromRaw(positions, values, 4, 2, Uint8Array.from([2, 4, 6]), 0.5, 0, out);
  assert.equal(Array.from(out), [10, 0]);
});

test('only `count` entries of a chunk are used', () => {
  const out = new Float32Array(2);
  accumulateEntries(positions, values, 1, 2, Float32Array.from([1, 2, 3]), out);
  assert.equal(Array.from(out), [1, 0]);
});

test('bias entries add by position, activations apply in place', () => {
  const out = Float32Array.from([-1, 2]);
  addEntries(Uint32Array.from([1]), Float32Array.from([0.5]), 1, out);
  assert.equal(Array.from(out), [-1, 2.5]);
  applyActivation('relu', out);
  assert.equal(Array.from(out), [0, 2.5]);
  const logits = Float32Array.from([1, 3, 2]);
  applyActivation('softmax', logits);
  assert.ok(Math.abs(logits.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.is(argmax(logits), 1);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accumulateEntries, accumulateEntriesFromRaw, addEntries, applyActivation, argmax } from '../../device-sim/kernels/dense-reference.ts';

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

test('f32 path: each product is rounded to binary32 before it is summed, and zero inputs add nothing', () => {
  // 32 + 1.360107421875 * 0.987060546875 is 33.34251… summed in double, 33.34250… with the product rounded first.
  const out = Float32Array.from([32, -0]);
  accumulateEntries(Uint32Array.from([0, 3]), Float32Array.from([0.987060546875, 5]), 2, 2, Float32Array.from([1.360107421875, 0]), out);
  const f = Math.fround;
  assert.is(out[0], f(32 + f(1.360107421875 * 0.987060546875)));
  assert.is.not(out[0], f(32 + 1.360107421875 * 0.987060546875));
  assert.ok(Object.is(out[1], -0), 'a zero input is skipped: -0 stays -0');
  // preprocess rounds raw * scale before adding the offset
  const raw = new Float32Array(1);
  accumulateEntriesFromRaw(Uint32Array.from([0]), Float32Array.from([1]), 1, 1, Uint8Array.from([3]), f(0.1), f(0.7), raw);
  assert.is(raw[0], f(f(3 * f(0.1)) + f(0.7)));
});

test.run();

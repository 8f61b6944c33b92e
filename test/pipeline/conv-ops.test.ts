// The convolutions' custom gradients (pipeline/conv-ops.ts), which stand in
// for the kernels TF.js' wasm backend lacks, against the cpu backend's
// native gradients; and the forward pass of every layer kind against plain
// loops.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import type { Padding } from '../../formats/index.ts';
import { selectBackend } from '../../pipeline/backend.ts';
import { conv2dCustomGradient, depthwiseConv2dCustomGradient, missingTrainingKernels } from '../../pipeline/conv-ops.ts';
import { createRandom } from '../../pipeline/random.ts';

const random = createRandom(11);
const values = (n: number) => Float32Array.from({ length: n }, () => random() * 2 - 1);

function close(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  assert.equal(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const e = expected.dataSync();
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i] - e[i]) > 1e-4 * (1 + Math.abs(e[i]))) assert.unreachable(`${what}: at ${i} ${a[i]} != ${e[i]}`);
  }
}

const CASES: Array<{ input: [number, number, number, number]; window: [number, number]; strides: [number, number]; padding: Padding; multiplier: number }> = [
  { input: [2, 7, 6, 3], window: [3, 3], strides: [1, 1], padding: 'valid', multiplier: 1 },
  { input: [2, 7, 6, 3], window: [3, 3], strides: [1, 1], padding: 'same', multiplier: 2 },
  { input: [1, 9, 8, 2], window: [3, 2], strides: [2, 2], padding: 'same', multiplier: 1 },
  { input: [3, 8, 9, 2], window: [3, 3], strides: [2, 3], padding: 'valid', multiplier: 3 },
  { input: [2, 5, 5, 4], window: [1, 1], strides: [1, 1], padding: 'valid', multiplier: 1 },
  { input: [1, 6, 6, 2], window: [4, 4], strides: [2, 2], padding: 'same', multiplier: 1 },
];

test('the wasm backend lacks the convolutions’ filter gradients (what conv-ops.ts stands in for)', async () => {
  if ((await selectBackend()) !== 'wasm') return;
  assert.equal(missingTrainingKernels('wasm'), ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']);
  assert.equal(missingTrainingKernels('wasm', ['dense', 'conv2d', 'max-pool2d']), ['Conv2DBackpropFilter']);
  assert.equal(missingTrainingKernels('cpu'), []);
});

test('custom gradients equal the cpu backend’s native ones: conv2d and depthwise, valid and same, strides 1..3', async () => {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    for (const c of CASES) {
      const [, , , channels] = c.input;
      const what = JSON.stringify(c);
      const x = tf.tensor4d(values(c.input.reduce((a, b) => a * b, 1)), c.input);
      const units = 5;
      const w = tf.tensor4d(values(c.window[0] * c.window[1] * channels * units), [c.window[0], c.window[1], channels, units]);
      const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.range(0, y.size).reshape(y.shape).mul(0.01).sin()));
      const native = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.padding)))([x, w]);
      const custom = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(conv2dCustomGradient(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.padding)))([x, w]);
      close(custom[0], native[0], `conv2d dx ${what}`);
      close(custom[1], native[1], `conv2d dW ${what}`);
      const dataOnly = tf.grad((b: tf.Tensor) => loss(conv2dCustomGradient(x, b as tf.Tensor4D, c.strides, c.padding, true)))(w);
      close(dataOnly, native[1], `conv2d dW (x is data) ${what}`);

      const d = tf.tensor4d(values(c.window[0] * c.window[1] * channels * c.multiplier), [c.window[0], c.window[1], channels, c.multiplier]);
      const nativeD = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.padding)))([x, d]);
      const customD = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(depthwiseConv2dCustomGradient(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.padding)))([
        x,
        d,
      ]);
      close(customD[0], nativeD[0], `depthwise dx ${what}`);
      close(customD[1], nativeD[1], `depthwise dW ${what}`);
      close(depthwiseConv2dCustomGradient(x, d, c.strides, c.padding), tf.depthwiseConv2d(x, d, c.strides, c.padding), `depthwise forward ${what}`);
    }
  } finally {
    await tf.setBackend(previous);
  }
});

test.run();

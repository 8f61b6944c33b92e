// The device's spatial operators (device-sim/kernels/conv.ts) against TF.js's
// own ops on the cpu backend: random shapes, windows, strides and both
// paddings; the entry kernels fed only the non-zero entries of a random
// kernel, in random segments (each ascending) and random chunk sizes, as
// the segment decoder would; then the geometry's edge cases by name, and the
// f32 path's rounding rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import type { Padding } from '../../formats/model.ts';
import { padBefore } from '../../formats/artifact/layer-graph.ts';
import {
  addBiasEntries,
  avgPool2d,
  conv2dEntries,
  depthwiseConv2dEntries,
  globalAvgPool2d,
  maxPool2d,
  windowOutput,
  type MapShape,
  type WindowParams,
} from '../../device-sim/kernels/conv.ts';

const RUNS = 50;

interface Case {
  shape: MapShape;
  params: WindowParams;
  /** Output channels of a Conv2D, and the depth multiplier of a DepthwiseConv2D. */
  units: number;
  seed: number;
}

/** mulberry32: a small seeded generator, so a failing case replays from its seed. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values in [-1, 1) with about `zeros` of them exactly 0 (ReLU outputs, pruned weights). */
function randomValues(n: number, random: () => number, zeros: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = random() < zeros ? 0 : random() * 2 - 1;
  return out;
}

const caseArb = (maxUnits: number): fc.Arbitrary<Case> =>
  fc
    .record({
      height: fc.integer({ min: 1, max: 12 }),
      width: fc.integer({ min: 1, max: 12 }),
      channels: fc.integer({ min: 1, max: 5 }),
      kh: fc.integer({ min: 1, max: 4 }),
      kw: fc.integer({ min: 1, max: 4 }),
      sh: fc.integer({ min: 1, max: 3 }),
      sw: fc.integer({ min: 1, max: 3 }),
      padding: fc.constantFrom<Padding>('valid', 'same'),
      units: fc.integer({ min: 1, max: maxUnits }),
      seed: fc.integer(),
    })
    // A 'valid' window larger than the map has no output: the manifest check refuses such a layer.
    .filter((r) => r.padding === 'same' || (r.height >= r.kh && r.width >= r.kw))
    .map((r) => ({
      shape: { height: r.height, width: r.width, channels: r.channels },
      params: { window: [r.kh, r.kw], strides: [r.sh, r.sw], padding: r.padding },
      units: r.units,
      seed: r.seed,
    }));

function describe(c: Case): string {
  const { shape, params } = c;
  return `[${shape.height}, ${shape.width}, ${shape.channels}] window [${params.window}] strides [${params.strides}] ${params.padding} units ${c.units} seed ${c.seed}`;
}

/** Within float32 tolerance: relative 1e-4, absolute 1e-4 near zero. */
function assertClose(actual: Float32Array, expected: Float32Array | Int32Array | Uint8Array, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= 1e-4 * Math.max(1, Math.abs(e)))) assert.unreachable(`${what}: index ${i} is ${a}, TF.js gives ${e}`);
  }
}

function outSize(s: MapShape): number {
  return s.height * s.width * s.channels;
}

/**
 * The non-zero entries of `kernel` as the device receives them: split into
 * 1..3 segments (each position goes to a random one; each segment ascending;
 * the segments in random order), then cut into chunks of random sizes
 * through one pair of fixed chunk buffers, each chunk handed to `feed`. A
 * chunk may span two segments (the device's never does), so positions within
 * one call may also descend: the kernels must not rely on their order.
 */
function streamEntries(kernel: Float32Array, random: () => number, feed: (positions: Uint32Array, values: Float32Array, count: number) => void): void {
  const segments: number[][] = Array.from({ length: 1 + Math.floor(random() * 3) }, () => []);
  for (let p = 0; p < kernel.length; p++) if (kernel[p] !== 0) segments[Math.floor(random() * segments.length)]!.push(p);
  for (let i = segments.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [segments[i], segments[j]] = [segments[j]!, segments[i]!];
  }
  const stream = segments.flat();
  const capacity = 1 + Math.floor(random() * 16);
  const positions = new Uint32Array(capacity);
  const values = new Float32Array(capacity);
  // Stale data beyond `count` must never be read.
  positions.fill(0xffffffff);
  values.fill(Number.NaN);
  let at = 0;
  while (at < stream.length) {
    const count = Math.min(1 + Math.floor(random() * capacity), stream.length - at);
    for (let k = 0; k < count; k++) {
      positions[k] = stream[at + k]!;
      values[k] = kernel[stream[at + k]!]!;
    }
    feed(positions, values, count);
    at += count;
  }
}

function tfPad(params: WindowParams): 'valid' | 'same' {
  return params.padding;
}

/** Conv2D through the entry kernel + bias entries, against tf.conv2d(x, K) + b. */
function checkConv2d(c: Case): void {
  const { shape, params, units } = c;
  const random = generator(c.seed);
  const [kh, kw] = params.window;
  const input = randomValues(outSize(shape), random, 0.25);
  const kernel = randomValues(kh * kw * shape.channels * units, random, 0.3);
  const bias = randomValues(units, random, 0.3);
  const outShape = windowOutput(shape, params, units);
  const output = new Float32Array(outSize(outShape));
  streamEntries(kernel, random, (p, v, n) => conv2dEntries(input, shape, params, units, p, v, n, output));
  streamEntries(bias, random, (p, v, n) => addBiasEntries(p, v, n, units, output));
  const expected = tf.tidy(() => {
    const x = tf.tensor3d(input, [shape.height, shape.width, shape.channels]);
    const y = tf.conv2d(x, tf.tensor4d(kernel, [kh, kw, shape.channels, units]), params.strides, tfPad(params)).add(tf.tensor1d(bias));
    assert.equal(y.shape, [outShape.height, outShape.width, outShape.channels], `conv2d shape, ${describe(c)}`);
    return y.dataSync() as Float32Array;
  });
  assertClose(output, expected, `conv2d ${describe(c)}`);
}

/** DepthwiseConv2D (multiplier = units) through the entry kernel + bias entries, against tf.depthwiseConv2d(x, K) + b. */
function checkDepthwise(c: Case): void {
  const { shape, params, units: multiplier } = c;
  const random = generator(c.seed);
  const [kh, kw] = params.window;
  const outC = shape.channels * multiplier;
  const input = randomValues(outSize(shape), random, 0.25);
  const kernel = randomValues(kh * kw * shape.channels * multiplier, random, 0.3);
  const bias = randomValues(outC, random, 0.3);
  const outShape = windowOutput(shape, params, outC);
  const output = new Float32Array(outSize(outShape));
  streamEntries(kernel, random, (p, v, n) => depthwiseConv2dEntries(input, shape, params, multiplier, p, v, n, output));
  streamEntries(bias, random, (p, v, n) => addBiasEntries(p, v, n, outC, output));
  const expected = tf.tidy(() => {
    const x = tf.tensor3d(input, [shape.height, shape.width, shape.channels]);
    const y = tf.depthwiseConv2d(x, tf.tensor4d(kernel, [kh, kw, shape.channels, multiplier]), params.strides, tfPad(params)).add(tf.tensor1d(bias));
    assert.equal(y.shape, [outShape.height, outShape.width, outShape.channels], `depthwise shape, ${describe(c)}`);
    return y.dataSync() as Float32Array;
  });
  assertClose(output, expected, `depthwise ${describe(c)}`);
}

/** maxPool2d and avgPool2d against tf.maxPool and tf.avgPool. The output is filled with garbage first: the pools overwrite it. */
function checkPools(c: Case): void {
  const { shape, params } = c;
  const random = generator(c.seed);
  const input = randomValues(outSize(shape), random, 0.25);
  const outShape = windowOutput(shape, params, shape.channels);
  for (const kind of ['max', 'avg'] as const) {
    const output = new Float32Array(outSize(outShape)).fill(12345);
    (kind === 'max' ? maxPool2d : avgPool2d)(input, shape, params, output);
    const expected = tf.tidy(() => {
      const x = tf.tensor3d(input, [shape.height, shape.width, shape.channels]);
      const y = (kind === 'max' ? tf.maxPool : tf.avgPool)(x, params.window, params.strides, tfPad(params));
      assert.equal(y.shape, [outShape.height, outShape.width, outShape.channels], `${kind} pool shape, ${describe(c)}`);
      return y.dataSync() as Float32Array;
    });
    assertClose(output, expected, `${kind} pool ${describe(c)}`);
  }
}

function checkGlobal(c: Case): void {
  const { shape } = c;
  const input = randomValues(outSize(shape), generator(c.seed), 0.25);
  const output = new Float32Array(shape.channels).fill(12345);
  globalAvgPool2d(input, shape, output);
  const expected = tf.tidy(() => tf.mean(tf.tensor3d(input, [shape.height, shape.width, shape.channels]), [0, 1]).dataSync() as Float32Array);
  assertClose(output, expected, `global avg pool ${describe(c)}`);
}

function checkAll(c: Case): void {
  checkConv2d(c);
  checkDepthwise(c);
  checkPools(c);
  checkGlobal(c);
}

test.before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

test('conv2dEntries + addBiasEntries equal tf.conv2d + bias over random shapes, sparse kernels, segments and chunks', () => {
  fc.assert(fc.property(caseArb(5), checkConv2d), { numRuns: RUNS });
});

test('depthwiseConv2dEntries + addBiasEntries equal tf.depthwiseConv2d + bias (multiplier 1..3)', () => {
  fc.assert(fc.property(caseArb(3), checkDepthwise), { numRuns: RUNS });
});

test('maxPool2d and avgPool2d equal tf.maxPool and tf.avgPool (padded cells neither maxed nor counted)', () => {
  fc.assert(fc.property(caseArb(1), checkPools), { numRuns: RUNS });
});

test('globalAvgPool2d equals tf.mean over axes [0, 1]', () => {
  fc.assert(fc.property(caseArb(1), checkGlobal), { numRuns: RUNS });
});

const edge = (height: number, width: number, channels: number, window: [number, number], strides: [number, number], padding: Padding, units = 2): Case => ({
  shape: { height, width, channels },
  params: { window, strides, padding },
  units,
  seed: height * 1000 + width * 100 + window[0] * 10 + strides[0],
});

test('edge: stride larger than the window (input cells skipped between windows)', () => {
  for (const padding of ['valid', 'same'] as const) {
    checkAll(edge(7, 8, 2, [2, 1], [3, 3], padding));
    checkAll(edge(9, 5, 3, [1, 1], [3, 2], padding));
  }
});

test("edge: window larger than the input with 'same' padding", () => {
  checkAll(edge(2, 3, 2, [4, 4], [1, 1], 'same'));
  checkAll(edge(3, 1, 1, [4, 3], [2, 3], 'same'));
  checkAll(edge(1, 2, 3, [4, 4], [3, 3], 'same'));
});

test('edge: a 1x1 map', () => {
  checkAll(edge(1, 1, 1, [1, 1], [1, 1], 'valid', 1));
  checkAll(edge(1, 1, 4, [1, 1], [2, 3], 'valid', 3));
  checkAll(edge(1, 1, 2, [3, 3], [1, 1], 'same'));
  checkAll(edge(1, 1, 2, [2, 4], [2, 2], 'same'));
});

test('edge: even and odd padding totals (the odd one pads more after than before)', () => {
  // size 5, window 3, stride 1: total 2, 1 before and 1 after.
  assert.is(padBefore(5, 3, 1, 'same'), 1);
  checkAll(edge(5, 5, 2, [3, 3], [1, 1], 'same'));
  // size 6, window 4, stride 1: total 3, 1 before, 2 after.
  assert.is(padBefore(6, 4, 1, 'same'), 1);
  checkAll(edge(6, 6, 2, [4, 4], [1, 1], 'same'));
  // size 6, window 3, stride 2: 3 outputs, total 1, 0 before, 1 after.
  assert.is(padBefore(6, 3, 2, 'same'), 0);
  checkAll(edge(6, 6, 2, [3, 3], [2, 2], 'same'));
  // Mixed: odd total along the height, even along the width.
  checkAll(edge(6, 5, 3, [4, 3], [1, 1], 'same'));
  // size 4, window 2, stride 1: total 1, 0 before, 1 after.
  assert.is(padBefore(4, 2, 1, 'same'), 0);
  checkAll(edge(4, 4, 1, [2, 2], [1, 1], 'same'));
});

test('windowOutput: the layer-graph sizes, channels from the caller', () => {
  assert.equal(windowOutput({ height: 7, width: 8, channels: 3 }, { window: [2, 1], strides: [3, 3], padding: 'valid' }, 5), {
    height: 2,
    width: 3,
    channels: 5,
  });
  assert.equal(windowOutput({ height: 7, width: 8, channels: 3 }, { window: [2, 1], strides: [3, 3], padding: 'same' }, 5), {
    height: 3,
    width: 3,
    channels: 5,
  });
  assert.equal(windowOutput({ height: 2, width: 2, channels: 1 }, { window: [3, 3], strides: [1, 1], padding: 'valid' }, 1), {
    height: 0,
    width: 0,
    channels: 1,
  });
});

test('entry kernels: a hand-computed case, accumulation into a pre-filled output, only `count` entries read', () => {
  // 3x3 map, 1 channel, 2x2 kernel [[1, 0], [0, 2]] (only the two non-zero entries), valid, stride 1.
  const input = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const shape = { height: 3, width: 3, channels: 1 };
  const params: WindowParams = { window: [2, 2], strides: [1, 1], padding: 'valid' };
  const output = Float32Array.from([10, 20, 30, 40]);
  // a third entry beyond `count` would add 100 * x
  conv2dEntries(input, shape, params, 1, Uint32Array.from([0, 3, 1]), Float32Array.from([1, 2, 100]), 2, output);
  // out[oy, ox] = x[oy, ox] + 2 x[oy + 1, ox + 1]
  assert.equal(Array.from(output), [10 + 1 + 10, 20 + 2 + 12, 30 + 4 + 16, 40 + 5 + 18]);
  addBiasEntries(Uint32Array.from([0]), Float32Array.from([0.5]), 1, 1, output);
  assert.equal(Array.from(output), [21.5, 34.5, 50.5, 63.5]);
  // Depthwise, 2 channels, multiplier 2, 1x1 window: entry (0, 0, ci = 1, m = 0) = position 2 feeds output channel 2.
  const dw = new Float32Array(2 * 1 * 4);
  depthwiseConv2dEntries(
    Float32Array.from([1, 2, 3, 4]),
    { height: 2, width: 1, channels: 2 },
    { window: [1, 1], strides: [1, 1], padding: 'valid' },
    2,
    Uint32Array.from([2]),
    Float32Array.from([3]),
    1,
    dw,
  );
  assert.equal(Array.from(dw), [0, 0, 6, 0, 0, 0, 12, 0]);
});

test('f32 path: each product rounded to binary32 before it is summed, zero inputs skipped (a -0 sum stays -0)', () => {
  const f = Math.fround;
  // The Dense kernel's example: 32 + 1.360107421875 * 0.987060546875 differs with the product rounded first.
  const shape = { height: 1, width: 2, channels: 1 };
  const params: WindowParams = { window: [1, 1], strides: [1, 1], padding: 'valid' };
  const output = Float32Array.from([32, -0]);
  conv2dEntries(Float32Array.from([1.360107421875, 0]), shape, params, 1, Uint32Array.from([0]), Float32Array.from([0.987060546875]), 1, output);
  assert.is(output[0], f(32 + f(1.360107421875 * 0.987060546875)));
  assert.is.not(output[0], f(32 + 1.360107421875 * 0.987060546875));
  assert.ok(Object.is(output[1], -0));
  const dw = Float32Array.from([32, -0]);
  depthwiseConv2dEntries(Float32Array.from([1.360107421875, 0]), shape, params, 1, Uint32Array.from([0]), Float32Array.from([0.987060546875]), 1, dw);
  assert.equal(Array.from(dw), Array.from(output));
  assert.ok(Object.is(dw[1], -0));
});

test('pools: max ignores padding even when every input cell is negative; avg divides by the cells inside only', () => {
  // 2x2 map, 3x3 'same' window: every window holds the whole map (padding 1 before, 1 after).
  const input = Float32Array.from([-1, -2, -3, -4]);
  const shape = { height: 2, width: 2, channels: 1 };
  const params: WindowParams = { window: [3, 3], strides: [1, 1], padding: 'same' };
  const max = new Float32Array(4);
  maxPool2d(input, shape, params, max);
  assert.equal(Array.from(max), [-1, -1, -1, -1]);
  const avg = new Float32Array(4);
  avgPool2d(input, shape, params, avg);
  assert.equal(Array.from(avg), [-2.5, -2.5, -2.5, -2.5]);
});

test.run();

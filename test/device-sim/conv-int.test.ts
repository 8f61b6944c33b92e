// docs/arithmetic.md's "Convolutional layers (int path)": the int kernels
// of kernels/conv-int.ts against loops over their definition (exact
// integers, BigInt where a sum could pass 2^53), relu6's clamp at its
// edges, the pooling division's halves, and whole convolutional models on
// the int path against a plain transcription of the document over decoded
// tensors (bit for bit), the coded kernels and the execution image's alike
// (exact sums: the image's order gives the same integers), and against the
// f32 path (within the quantisation error).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  createRandom,
  decodeTensor,
  elementCount,
  encodeArtifact,
  isWeighted,
  layerShapes,
  readArtifact,
  type Artifact,
  type Layer,
  type ModelInput,
  type Padding,
  type TensorInput,
} from '../../formats/index.ts';
import { kernelShape, outputLength, padBefore } from '../../formats/artifact/layer-graph.ts';
import { Arena } from '../../device-sim/arena.ts';
import { prepareExecImage } from '../../device-sim/exec-image.ts';
import { createInterpreter } from '../../device-sim/interpreter.ts';
import { addIntBiasMapEntries, convIntEntries, globalAvgPoolInt, poolInt, termsOf } from '../../device-sim/kernels/conv-int.ts';
import { preprocess } from '../../device-sim/kernels/dense-reference.ts';
import { activationBound, applyIntActivation, fitExponent, rdiv, relu6Cap, rnd, rsh } from '../../device-sim/kernels/int-reference.ts';
import { convModel } from '../fixtures/conv-model.ts';
import { randomSamples } from './fixtures.ts';

/** round(a / k), halves away from zero, in BigInt (no double anywhere). */
function bigRdiv(a: bigint, k: bigint): bigint {
  const m = a < 0n ? -a : a;
  const q = (2n * m + k) / (2n * k);
  return a < 0n ? -q : q;
}

test('rdiv rounds a / k to the nearest integer, halves away from zero, exactly up to 2^51', () => {
  assert.equal(
    [rdiv(5, 2), rdiv(-5, 2), rdiv(7, 4), rdiv(-7, 4), rdiv(6, 4), rdiv(-6, 4), rdiv(1, 3), rdiv(2, 3), rdiv(-2, 3), rdiv(0, 9)],
    [3, -3, 2, -2, 2, -2, 0, 1, -1, 0],
  );
  assert.ok(Object.is(rdiv(-1, 3), 0), 'no -0');
  // a half below and above, far from 0, with a divisor near 2^24 (a global pool's cells)
  const k = 2 ** 24 - 3;
  for (const a of [2 ** 38 * 3 + Math.floor(k / 2), 2 ** 38 * 3 + Math.ceil(k / 2), 32767 * k, -32767 * k + 1, 2 ** 51 - 1]) {
    assert.is(rdiv(a, k), Number(bigRdiv(BigInt(a), BigInt(k))), `rdiv(${a}, ${k})`);
  }
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 45), max: 2 ** 45 }), fc.integer({ min: 1, max: 2 ** 24 }), (a, n) => {
      assert.is(rdiv(a, n), Number(bigRdiv(BigInt(a), BigInt(n))));
    }),
    { numRuns: 2000 },
  );
});

test('relu6 clamps at floor(6 * 2^fa): exact for negative exponents, no clamp from 29 on', () => {
  assert.equal([-100, -3, -2, -1, 0, 1, 10, 28].map(relu6Cap), [0, 0, 1, 3, 6, 12, 6144, 6 * 2 ** 28]);
  assert.is(relu6Cap(29), Number.POSITIVE_INFINITY);
  assert.is(relu6Cap(200), Number.POSITIVE_INFINITY);
  for (const fa of [-3, -2, -1, 0, 5, 28]) {
    const cap = relu6Cap(fa);
    assert.is(cap, Math.floor(6 * 2 ** fa), `fa ${fa}`);
    const acc = Int32Array.from([-(2 ** 31), -1, 0, Math.max(0, cap - 1), cap, cap + 1, 2 ** 31 - 1]);
    applyIntActivation('relu6', acc, fa);
    assert.equal(Array.from(acc), [0, 0, 0, Math.max(0, cap - 1), cap, cap, cap], `fa ${fa}`);
  }
  const big = Int32Array.from([-5, 2 ** 31 - 1, 7]);
  applyIntActivation('relu6', big, 29);
  assert.equal(Array.from(big), [0, 2 ** 31 - 1, 7], 'fa 29: only the relu part');
  const relu = Int32Array.from([-5, 2 ** 31 - 1]);
  applyIntActivation('relu', relu, -5);
  assert.equal(Array.from(relu), [0, 2 ** 31 - 1], 'relu does not clamp');
});

test('termsOf: the products feeding one output (the activation bound of docs/arithmetic.md)', () => {
  const window = { window: [3, 5] as [number, number], strides: [1, 1] as [number, number], padding: 'same' as Padding };
  assert.is(termsOf({ kind: 'dense', name: 'd', inputs: 784, units: 10, activation: 'relu', kernel: 0, bias: -1 }), 784);
  assert.is(termsOf({ kind: 'conv2d', name: 'c', inputs: 4, units: 8, activation: 'relu', kernel: 0, bias: -1, ...window }), 60);
  assert.is(termsOf({ kind: 'depthwise-conv2d', name: 'dw', inputs: 4, units: 12, activation: 'relu', kernel: 0, bias: -1, ...window }), 15);
  assert.is(termsOf({ kind: 'max-pool2d', name: 'p', inputs: 4, units: 4, ...window }), 0);
  assert.is(activationBound(60), 32767);
  assert.is(activationBound(9 * 64), 14563);
});

// ---- the kernels against loops over docs/format.md 3.1.1's definitions

interface Geometry {
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padding: Padding;
  last: number;
  depthwise: boolean;
}

const geometry = fc.record({
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 9 }),
  c: fc.integer({ min: 1, max: 4 }),
  kh: fc.integer({ min: 1, max: 4 }),
  kw: fc.integer({ min: 1, max: 4 }),
  sh: fc.integer({ min: 1, max: 3 }),
  sw: fc.integer({ min: 1, max: 3 }),
  padding: fc.constantFrom<Padding>('valid', 'same'),
  last: fc.integer({ min: 1, max: 3 }),
  depthwise: fc.boolean(),
});

function sides(g: Geometry): { oh: number; ow: number; pt: number; pl: number } {
  return {
    oh: outputLength(g.h, g.kh, g.sh, g.padding),
    ow: outputLength(g.w, g.kw, g.sw, g.padding),
    pt: padBefore(g.h, g.kh, g.sh, g.padding),
    pl: padBefore(g.w, g.kw, g.sw, g.padding),
  };
}

test('property: convIntEntries (conv2d and depthwise) equals the sum over the definition, whatever the chunking', () => {
  fc.assert(
    fc.property(geometry, fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: -3, max: 9 }), (g, seed, chunk, fw) => {
      const { oh, ow, pt, pl } = sides(g);
      fc.pre(oh >= 1 && ow >= 1);
      const random = createRandom(seed);
      const X = 32767;
      const input = Int32Array.from({ length: g.h * g.w * g.c }, () => (random() < 0.2 ? 0 : Math.floor(random() * (2 * X + 1)) - X));
      const kernel = Float32Array.from({ length: g.kh * g.kw * g.c * g.last }, () => (random() < 0.4 ? 0 : Math.fround((random() - 0.5) * 2 ** (1 - fw))));
      const outC = g.depthwise ? g.c * g.last : g.last;
      const ours = new Int32Array(oh * ow * outC);
      const held = [...kernel.keys()].filter((p) => kernel[p] !== 0);
      for (let at = 0; at < held.length; at += chunk) {
        const part = held.slice(at, at + chunk);
        const values = Float32Array.from(part, (p) => kernel[p]!);
        convIntEntries(
          input,
          { height: g.h, width: g.w, channels: g.c },
          { window: [g.kh, g.kw], strides: [g.sh, g.sw], padding: g.padding },
          g.last,
          g.depthwise ? 0 : 1,
          Uint32Array.from(part),
          values,
          part.length,
          2 ** fw,
          ours,
        );
      }
      const theirs = new Array<number>(ours.length).fill(0);
      const wq = (ky: number, kx: number, i: number, j: number) => rnd(kernel[((ky * g.kw + kx) * g.c + i) * g.last + j]! * 2 ** fw);
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++)
          for (let o = 0; o < outC; o++)
            for (let ky = 0; ky < g.kh; ky++)
              for (let kx = 0; kx < g.kw; kx++) {
                const iy = oy * g.sh + ky - pt;
                const ix = ox * g.sw + kx - pl;
                if (iy < 0 || ix < 0 || iy >= g.h || ix >= g.w) continue;
                const channels = g.depthwise ? [Math.floor(o / g.last)] : [...Array(g.c).keys()];
                for (const i of channels) theirs[(oy * ow + ox) * outC + o] += input[(iy * g.w + ix) * g.c + i]! * wq(ky, kx, i, g.depthwise ? o % g.last : o);
              }
      assert.equal(Array.from(ours), theirs);
    }),
    { numRuns: 300 },
  );
});

test('addIntBiasMapEntries adds rsh(rnd(b * 2^fb), fb - fa) into every cell of its channel', () => {
  const out = new Int32Array(3 * 4);
  addIntBiasMapEntries(Uint32Array.from([1, 3]), Float32Array.from([0.75, -0.375]), 2, 4, 2 ** 4, 2, out);
  // rnd(0.75 * 16) = 12, rsh(12, 2) = 3; rnd(-0.375 * 16) = -6, rsh(-6, 2) = -2 (a half: away from zero)
  assert.equal(Array.from(out), [0, 3, 0, -2, 0, 3, 0, -2, 0, 3, 0, -2]);
});

test('property: poolInt (max, avg) and globalAvgPoolInt equal loops over the cells inside the input, in BigInt', () => {
  fc.assert(
    fc.property(geometry, fc.integer({ min: 1, max: 1e6 }), (g, seed) => {
      const { oh, ow, pt, pl } = sides(g);
      fc.pre(oh >= 1 && ow >= 1);
      const random = createRandom(seed);
      // small values: many exact halves in the averages
      const input = Int32Array.from({ length: g.h * g.w * g.c }, () => (random() < 0.5 ? Math.floor(random() * 7) - 3 : Math.floor(random() * 65535) - 32767));
      const map = { height: g.h, width: g.w, channels: g.c };
      const params = { window: [g.kh, g.kw] as [number, number], strides: [g.sh, g.sw] as [number, number], padding: g.padding };
      const max = new Int32Array(oh * ow * g.c);
      const avg = new Int32Array(oh * ow * g.c);
      poolInt(input, map, params, false, max);
      poolInt(input, map, params, true, avg);
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++)
          for (let k = 0; k < g.c; k++) {
            const cells: number[] = [];
            for (let ky = 0; ky < g.kh; ky++)
              for (let kx = 0; kx < g.kw; kx++) {
                const y = oy * g.sh + ky - pt;
                const x = ox * g.sw + kx - pl;
                if (y >= 0 && x >= 0 && y < g.h && x < g.w) cells.push(input[(y * g.w + x) * g.c + k]!);
              }
            const o = (oy * ow + ox) * g.c + k;
            assert.ok(cells.length >= 1);
            assert.is(max[o], Math.max(...cells));
            assert.is(
              avg[o],
              Number(
                bigRdiv(
                  cells.reduce((s, v) => s + BigInt(v), 0n),
                  BigInt(cells.length),
                ),
              ),
            );
            assert.ok(Math.abs(avg[o]!) <= Math.max(...cells.map(Math.abs)), 'a mean never grows a magnitude');
          }
      const global = new Int32Array(g.c);
      globalAvgPoolInt(input, map, global);
      for (let k = 0; k < g.c; k++) {
        let sum = 0n;
        for (let cell = 0; cell < g.h * g.w; cell++) sum += BigInt(input[cell * g.c + k]!);
        assert.is(global[k], Number(bigRdiv(sum, BigInt(g.h * g.w))));
      }
    }),
    { numRuns: 300 },
  );
});

test('avg-pool halves round away from zero; global-avg over a large map stays exact', () => {
  const out = new Int32Array(2);
  // windows of 2 cells summing to 5 and -5
  poolInt(Int32Array.from([2, 3, -2, -3]), { height: 1, width: 4, channels: 1 }, { window: [1, 2], strides: [1, 2], padding: 'valid' }, true, out);
  assert.equal(Array.from(out), [3, -3]);
  // 'same' 2x2 over a 3x3 map: the last row and column are windows of 2 and 1 cells (padding not counted)
  const same = new Int32Array(9);
  poolInt(
    Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 10]),
    { height: 3, width: 3, channels: 1 },
    { window: [2, 2], strides: [1, 1], padding: 'same' },
    true,
    same,
  );
  // cell (0,0): 1+2+4+5 = 12 / 4 = 3; (0,2): 3+6 = 9 / 2 = 4.5 -> 5; (2,2): 10
  assert.equal([same[0], same[2], same[8]], [3, 5, 10]);
  // 2048 x 2048 cells of +-32767 in one channel and a constant in another: sums near 2^37
  const side = 2048;
  const cells = side * side;
  const big = new Int32Array(cells * 2);
  let expected = 0n;
  for (let i = 0; i < cells; i++) {
    const v = i % 3 === 0 ? -32767 : 32767;
    big[2 * i] = v;
    big[2 * i + 1] = 32767;
    expected += BigInt(v);
  }
  const global = new Int32Array(2);
  globalAvgPoolInt(big, { height: side, width: side, channels: 2 }, global);
  assert.is(global[0], Number(bigRdiv(expected, BigInt(cells))));
  assert.is(global[1], 32767);
  assert.is(global[0], 10922, '(1/3 of 32767, rounded)');
});

// ---- whole models: a plain transcription of the document

function holds(artifact: Artifact, tensor: number): boolean {
  return artifact.segments.some((s) => s.tensor === tensor && s.count > 0);
}

/** docs/arithmetic.md's int path over convolutional layers, written out over dense decoded tensors. */
function documentIntGraph(artifact: Artifact, raw: Uint8Array): { values: number[]; exponent: number } {
  const { preprocess: pre, layers, tensors } = artifact.manifest;
  const shapes = layerShapes(
    pre.inputShape,
    layers,
    (t) => tensors[t]?.shape,
    (d) => {
      throw new Error(d);
    },
  );
  const maxAbs = (values: Float32Array) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const p = layers.map((layer) => {
    if (!isWeighted(layer)) return null;
    const kernel = decodeTensor(artifact, layer.kernel);
    const fw = fitExponent(maxAbs(kernel), 127)!;
    const hasBias = layer.bias >= 0 && holds(artifact, layer.bias);
    const bias = hasBias ? decodeTensor(artifact, layer.bias) : new Float32Array(layer.units);
    const fb = hasBias ? fitExponent(maxAbs(bias), 2 ** 30)! : 64;
    const n = layer.kind === 'dense' ? layer.inputs : layer.window[0] * layer.window[1] * (layer.kind === 'conv2d' ? layer.inputs : 1);
    return {
      wq: Array.from(kernel, (w) => rnd(w * 2 ** fw)),
      bq: Array.from(bias, (b) => rnd(b * 2 ** fb)),
      fw,
      fb,
      hasBias,
      X: Math.min(32767, Math.floor((2 ** 30 - 1) / (n * 128))),
    };
  });
  const ahead = (from: number) => p.slice(from).find((q) => q !== null) ?? null;
  const first = ahead(0);
  const X0 = first ? first.X : 32767;
  const M0 = Math.max(Math.abs(pre.offset), Math.abs(preprocess(255, pre.scale, pre.offset)));
  let fx = fitExponent(M0, X0)!;
  if (first?.hasBias) fx = Math.min(fx, first.fb - first.fw);
  const S = rnd(pre.scale * 2 ** (fx + 15));
  const O = rnd(pre.offset * 2 ** (fx + 15));
  let x = Array.from(raw, (r) => Math.max(-X0, Math.min(X0, rsh(r * S + O, 15))));
  for (let l = 0; l < layers.length; l++) {
    const layer: Layer = layers[l]!;
    const [h, w, c] = shapes[l]!.input.length === 3 ? shapes[l]!.input : shapes[l]!.input.length === 2 ? [...shapes[l]!.input, 1] : [1, 1, 0];
    const out = new Array<number>(elementCount(shapes[l]!.output)).fill(0);
    if (layer.kind === 'global-avg-pool2d') {
      for (let k = 0; k < c!; k++) {
        let sum = 0n;
        for (let cell = 0; cell < h! * w!; cell++) sum += BigInt(x[cell * c! + k]!);
        out[k] = Number(bigRdiv(sum, BigInt(h! * w!)));
      }
      x = out;
      continue;
    }
    const q = p[l];
    let fa = fx;
    if (layer.kind === 'dense') {
      fa = fx + q!.fw;
      for (let i = 0; i < layer.inputs; i++) for (let j = 0; j < layer.units; j++) out[j] += x[i]! * q!.wq[i * layer.units + j]!;
    } else {
      const [kh, kw] = layer.window;
      const [sh, sw] = layer.strides;
      const oh = outputLength(h!, kh, sh, layer.padding);
      const ow = outputLength(w!, kw, sw, layer.padding);
      const pt = padBefore(h!, kh, sh, layer.padding);
      const pl = padBefore(w!, kw, sw, layer.padding);
      const oc = layer.units;
      const m = layer.kind === 'depthwise-conv2d' ? oc / c! : oc;
      if (q) fa = fx + q.fw;
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++)
          for (let o = 0; o < oc; o++) {
            const inside: number[] = [];
            let acc = 0;
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * sh + ky - pt;
                const ix = ox * sw + kx - pl;
                if (iy < 0 || ix < 0 || iy >= h! || ix >= w!) continue;
                const at = (iy * w! + ix) * c!;
                if (layer.kind === 'conv2d') for (let i = 0; i < c!; i++) acc += x[at + i]! * q!.wq[((ky * kw + kx) * c! + i) * m + o]!;
                else if (layer.kind === 'depthwise-conv2d') acc += x[at + Math.floor(o / m)]! * q!.wq[((ky * kw + kx) * c! + Math.floor(o / m)) * m + (o % m)]!;
                else inside.push(x[at + o]!);
              }
            const cell = (oy * ow + ox) * oc + o;
            if (layer.kind === 'max-pool2d') out[cell] = Math.max(...inside);
            else if (layer.kind === 'avg-pool2d') out[cell] = Number(bigRdiv(BigInt(inside.reduce((s, v) => s + v, 0)), BigInt(inside.length)));
            else out[cell] = acc;
          }
    }
    if (!q) {
      x = out;
      continue;
    }
    const units = isWeighted(layer) ? layer.units : 0;
    if (q.hasBias) for (let j = 0; j < out.length; j++) out[j] += rsh(q.bq[j % units]!, q.fb - fa);
    const activation = 'activation' in layer ? layer.activation : 'linear';
    for (let j = 0; j < out.length; j++) {
      if (activation === 'relu' || activation === 'relu6') out[j] = Math.max(out[j]!, 0);
      if (activation === 'relu6' && fa < 29) out[j] = Math.min(out[j]!, Math.floor(6 * 2 ** fa));
      assert.ok(Math.abs(out[j]!) < 2 ** 31, 'accumulators stay int32');
    }
    if (l === layers.length - 1) return { values: out, exponent: fa };
    const next = ahead(l + 1);
    const A = Math.max(...out.map(Math.abs));
    let s = 0;
    while (rsh(A, s) > (next ? next.X : 32767) || (next?.hasBias && fa - s + next.fw > next.fb)) s++;
    x = out.map((a) => rsh(a, s));
    fx = fa - s;
  }
  return { values: x, exponent: fx };
}

/** A random chain: conv2d, then any of depthwise / pooling / conv, a global pool or a flattened map, Dense (or a map) last. */
function randomCnn(seed: number): ModelInput {
  const random = createRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  let h = int(3, 10);
  let w = int(3, 10);
  let c = int(1, 3);
  const inputShape = c === 1 && random() < 0.5 ? [h, w] : [h, w, c];
  const layers: Layer[] = [];
  const tensors: TensorInput[] = [];
  const activations = ['linear', 'relu', 'relu6'] as const;
  const encoding = () => pick(['int8', 'dense-f32'] as const);
  const weights = (shape: number[], scale: number, licensed: boolean): number => {
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (random() < 0.3 ? 0 : (random() - 0.5) * scale));
    tensors.push({ name: `t${tensors.length}`, shape, encoding: encoding(), values, licensed });
    return tensors.length - 1;
  };
  const weighted = (layer: Record<string, unknown> & { kind: Layer['kind']; units: number }) => {
    const l = { ...layer, name: `l${layers.length}`, inputs: c, kernel: 0, bias: -1 } as unknown as Layer & { kernel: number; bias: number };
    l.kernel = weights(kernelShape(l)!, pick([0.2, 1, 6]), true);
    if (random() < 0.8) l.bias = weights([layer.units], pick([0.1, 2]), random() < 0.3);
    layers.push(l);
  };
  const windowed = (): { window: [number, number]; strides: [number, number]; padding: Padding } => ({
    window: [int(1, 3), int(1, 3)],
    strides: [int(1, 2), int(1, 3)],
    padding: pick(['valid', 'same'] as const),
  });
  const advance = (win: ReturnType<typeof windowed>, units: number): boolean => {
    const oh = outputLength(h, win.window[0], win.strides[0], win.padding);
    const ow = outputLength(w, win.window[1], win.strides[1], win.padding);
    if (oh < 1 || ow < 1) return false;
    h = oh;
    w = ow;
    c = units;
    return true;
  };
  // now and then a wide layer: its terms (past 256) lower the bound the layer before is rescaled to
  const wide = () => (random() < 0.3 ? int(24, 40) : int(1, 5));
  {
    const win = windowed();
    const units = wide();
    const inputs = c;
    if (advance(win, units)) {
      c = inputs;
      weighted({ kind: 'conv2d', units, activation: pick(activations), ...win });
      c = units;
    } else {
      c = inputs;
      weighted({ kind: 'conv2d', units, activation: pick(activations), window: [1, 1], strides: [1, 1], padding: 'valid' });
      c = units;
    }
  }
  for (let k = int(0, 3); k > 0; k--) {
    const kind = pick(['depthwise-conv2d', 'max-pool2d', 'avg-pool2d', 'conv2d'] as const);
    const win = windowed();
    const inputs = c;
    const units = kind === 'depthwise-conv2d' ? inputs * int(1, 3) : kind === 'conv2d' ? wide() : inputs;
    if (!advance(win, units)) continue;
    if (kind === 'max-pool2d' || kind === 'avg-pool2d') {
      layers.push({ kind, name: `l${layers.length}`, inputs, units, ...win } as Layer);
    } else {
      c = inputs;
      weighted({ kind, units, activation: pick(activations), ...win });
      c = units;
    }
  }
  const tail = pick(['gap-dense', 'flat-dense', 'gap', 'map'] as const);
  if (tail === 'gap' || tail === 'gap-dense') {
    layers.push({ kind: 'global-avg-pool2d', name: `l${layers.length}`, inputs: c, units: c });
    h = 1;
    w = 1;
  }
  if (tail === 'gap-dense' || tail === 'flat-dense') {
    c = h * w * c;
    weighted({ kind: 'dense', units: int(2, 6), activation: pick(['linear', 'softmax', 'relu6'] as const) });
  }
  return {
    model: 'random-cnn',
    version: 1,
    preprocess: { inputShape, scale: pick([1 / 255, 1 / 127.5, 0.01]), offset: pick([0, -1, 0.25]) },
    layers,
    tensors,
    intervals: [
      { id: 0, lower: -100, upper: 0 },
      { id: 1, lower: 0, upper: 100 },
    ],
    tiers: [{ name: 'full', intervals: [0, 1], accuracy: 0.9 }],
  };
}

/** The int path with the coded kernels and from the execution image: both the document's values and exponent. */
function checkAgainstDocument(artifact: Artifact, samples: Uint8Array, count: number, what: string): void {
  const interpreter = createInterpreter(artifact, new Arena(1 << 22), { arithmetic: 'int' });
  const arena = new Arena(1 << 22);
  const image = prepareExecImage(artifact, arena, 1 << 24).image!;
  const fromImage = createInterpreter(artifact, arena, { arithmetic: 'int', image });
  const size = interpreter.inputSize;
  for (let s = 0; s < count; s++) {
    const raw = samples.subarray(s * size, (s + 1) * size);
    const expected = documentIntGraph(artifact, raw);
    const got = interpreter.intLogits(raw);
    assert.equal(Array.from(got.values), expected.values, `${what} sample ${s}`);
    assert.is(got.exponent, expected.exponent, `${what} sample ${s} exponent`);
    const viaImage = fromImage.intLogits(raw);
    assert.equal(Array.from(viaImage.values), expected.values, `${what} sample ${s}, image`);
    assert.is(viaImage.exponent, expected.exponent, `${what} sample ${s} exponent, image`);
    assert.is(fromImage.classify(raw), interpreter.classify(raw), `${what} sample ${s} class, image`);
  }
}

for (const license of [undefined, 'basic'] as const) {
  for (const coding of ['range', 'rice'] as const) {
    test(`the fixtures' CNN: int logits are the document's (license ${license ?? 'full'}, ${coding})`, () => {
      const input = convModel({ coding });
      const heldIntervals = license ? input.tiers[0]!.intervals : undefined;
      const artifact = readArtifact(encodeArtifact(input, { heldIntervals }));
      const samples = randomSamples(4, 144, 5);
      samples.fill(0, 0, 144); // a blank sample
      checkAgainstDocument(artifact, samples, 4, 'conv');
    });
  }
}

test("property: random convolutional chains (every kind, strides, padding, relu6, offsets, partial licenses): int logits are the document's", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e9 }), fc.boolean(), (seed, partial) => {
      const input = randomCnn(seed);
      const artifact = readArtifact(encodeArtifact(input, { heldIntervals: partial ? [1] : undefined }));
      const size = elementCount(input.preprocess.inputShape);
      const samples = randomSamples(3, size, seed % 1000);
      samples.fill(255, 0, size);
      checkAgainstDocument(artifact, samples, 3, `seed ${seed}${partial ? ' partial' : ''}`);
    }),
    { numRuns: 60 },
  );
});

test("the int path from the execution image gives the coded kernels' logits and exponent, across tiers and seeds", () => {
  for (const seed of [3, 11]) {
    const input = convModel({ seed });
    for (const tier of input.tiers) {
      const artifact = readArtifact(encodeArtifact(input, { heldIntervals: tier.intervals }));
      const coded = createInterpreter(artifact, new Arena(1 << 20), { arithmetic: 'int' });
      const arena = new Arena(1 << 20);
      const image = prepareExecImage(artifact, arena, 1 << 24).image!;
      const fromImage = createInterpreter(artifact, arena, { arithmetic: 'int', image });
      const samples = randomSamples(6, 144, seed);
      for (let s = 0; s < 6; s++) {
        const raw = samples.subarray(s * 144, (s + 1) * 144);
        const a = coded.intLogits(raw);
        const expected = { values: Array.from(a.values), exponent: a.exponent };
        const b = fromImage.intLogits(raw);
        assert.equal({ values: Array.from(b.values), exponent: b.exponent }, expected, `seed ${seed}, ${tier.name}, sample ${s}`);
        assert.equal(Array.from(fromImage.logits(raw)), Array.from(coded.logits(raw)));
      }
    }
  }
});

test('int logits * 2^-exponent are close to the f32 logits; the classes mostly agree (the fixtures CNN, several seeds)', () => {
  let agree = 0;
  let total = 0;
  for (const seed of [3, 4, 5, 6]) {
    const artifact = readArtifact(encodeArtifact(convModel({ seed, sparsity: 0.3, bits: 5 })));
    const f32 = createInterpreter(artifact, new Arena(1 << 20));
    const int = createInterpreter(artifact, new Arena(1 << 20), { arithmetic: 'int' });
    const samples = randomSamples(20, 144, seed);
    for (let s = 0; s < 20; s++) {
      const raw = samples.subarray(s * 144, (s + 1) * 144);
      const reference = Array.from(f32.logits(raw));
      const { values, exponent } = int.intLogits(raw);
      const approx = Array.from(values, (v) => v * 2 ** -exponent);
      const scale = Math.max(1e-3, ...reference.map(Math.abs));
      approx.forEach((v, j) => assert.ok(Math.abs(v - reference[j]!) <= 0.06 * scale, `seed ${seed} sample ${s} logit ${j}: int ${v} vs f32 ${reference[j]}`));
      assert.equal(Array.from(int.logits(raw)), approx.map(Math.fround), 'logits() is the int logits scaled');
      total++;
      if (int.classify(raw) === f32.classify(raw)) agree++;
    }
  }
  assert.ok(agree >= 0.9 * total, `the classes agree on ${agree} of ${total}`);
});

test('a map as the output: the logits are the last pooling layer values at the exponent passed through it', () => {
  const input = convModel();
  input.layers = input.layers.slice(0, 2); // conv 12x12x6 relu, max-pool 6x6x6
  input.tensors = input.tensors.slice(0, 2);
  const artifact = readArtifact(encodeArtifact(input));
  const int = createInterpreter(artifact, new Arena(1 << 20), { arithmetic: 'int' });
  const f32 = createInterpreter(artifact, new Arena(1 << 20));
  assert.is(int.outputSize, 216);
  const raw = randomSamples(1, 144, 8);
  const { values, exponent } = int.intLogits(raw);
  const reference = f32.logits(raw);
  const scale = Math.max(...Array.from(reference, Math.abs));
  // rescaled toward 32767 (only pooling follows the conv), so at least 15 bits of the largest value
  assert.ok(Math.max(...Array.from(values, Math.abs)) > 16383 && Math.max(...Array.from(values, Math.abs)) <= 32767);
  values.forEach((v, j) => assert.ok(Math.abs(v * 2 ** -exponent - reference[j]!) <= 0.03 * scale, `value ${j}`));
  checkAgainstDocument(artifact, raw, 1, 'conv-pool');
});

test('relu6 on a Dense-only model runs on the int path, both kernels; sigmoid does not', async () => {
  const { syntheticModel } = await import('./fixtures.ts');
  const input = syntheticModel({ sizes: [30, 12, 4], seed: 6, finalActivation: 'linear' });
  input.layers[0]!.activation = 'relu6';
  input.preprocess = { ...input.preprocess, scale: 6 / 255 };
  const artifact = readArtifact(encodeArtifact(input));
  const arena = new Arena(1 << 20);
  const image = prepareExecImage(artifact, arena, 1 << 24).image!;
  const coded = createInterpreter(artifact, new Arena(1 << 20), { arithmetic: 'int' });
  const fromImage = createInterpreter(artifact, arena, { arithmetic: 'int', image });
  const samples = randomSamples(4, 30, 2);
  for (let s = 0; s < 4; s++) {
    const raw = samples.subarray(s * 30, (s + 1) * 30);
    const a = coded.intLogits(raw);
    const expected = documentIntGraph(artifact, raw);
    assert.equal(Array.from(a.values), expected.values);
    assert.is(a.exponent, expected.exponent);
    const b = fromImage.intLogits(raw);
    assert.equal([Array.from(b.values), b.exponent], [expected.values, expected.exponent]);
  }
  input.layers[0]!.activation = 'sigmoid';
  assert.throws(() => createInterpreter(readArtifact(encodeArtifact(input)), new Arena(1 << 20), { arithmetic: 'int' }), /activation sigmoid/);
});

test.run();

// docs/arithmetic.md's int path: its rounding helpers, the interpreter
// against a direct transcription of the document over dense decoded
// tensors, coded and image kernels giving identical int logits on random
// models, and int logits close to the f32 ones.
import { test } from 'uvu';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { denseChain, decodeTensor, encodeArtifact, readArtifact, type Artifact } from '../../formats/index.ts';
import { Arena } from '../../device-sim/arena.ts';
import { prepareExecImage } from '../../device-sim/exec-image.ts';
import { createInterpreter, type Interpreter } from '../../device-sim/interpreter.ts';
import { preprocess } from '../../device-sim/kernels/dense-reference.ts';
import { activationBound, fitExponent, rnd, rsh } from '../../device-sim/kernels/int-reference.ts';
import { randomSamples, syntheticArtifact, syntheticModel } from './fixtures.ts';

test('rnd rounds halves away from zero; rsh is a rounding shift on the magnitude', () => {
  assert.equal([rnd(2.5), rnd(-2.5), rnd(2.4999), rnd(-0.5), rnd(0.49), rnd(-3)], [3, -3, 2, -1, 0, -3]);
  assert.ok(Object.is(rnd(-0.2), 0), 'no -0');
  assert.equal([rsh(5, 1), rsh(-5, 1), rsh(4, 1), rsh(-6, 2), rsh(7, 0), rsh(-(2 ** 31), 31), rsh(2 ** 31 - 1, 32)], [3, -3, 2, -2, 7, -1, 0]);
  assert.equal([rsh(3, 2), rsh(-2, 2), rsh(-1, 2)], [1, -1, 0]);
});

test('fit finds the largest exponent that keeps the rounded magnitude within the limit', () => {
  assert.is(fitExponent(0, 127), 64);
  assert.is(fitExponent(1, 127), 6); // 64 <= 127, 128 > 127
  assert.is(fitExponent(0.9375, 127), 7); // 120
  assert.is(fitExponent(127.4, 127), 0);
  assert.is(fitExponent(127.5, 127), -1); // rnd(127.5) = 128
  assert.is(fitExponent(Number.POSITIVE_INFINITY, 127), null);
  assert.is(fitExponent(Number.NaN, 127), null);
  assert.is(activationBound(784), 10699);
  assert.is(activationBound(10), 32767);
});

/** docs/arithmetic.md's int path, written out over dense decoded tensors. */
function documentInt(artifact: Artifact, raw: Uint8Array): { values: number[]; exponent: number } {
  const { preprocess: pre } = artifact.manifest;
  const layers = denseChain(artifact.manifest.layers)!;
  const holds = (tensor: number) => artifact.segments.some((s) => s.tensor === tensor && s.count > 0);
  const maxAbs = (values: Float32Array) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const p = layers.map((layer) => {
    const kernel = decodeTensor(artifact, layer.kernel);
    const fw = fitExponent(maxAbs(kernel), 127)!;
    const hasBias = layer.bias >= 0 && holds(layer.bias);
    const bias = hasBias ? decodeTensor(artifact, layer.bias) : new Float32Array(layer.units);
    const fb = hasBias ? fitExponent(maxAbs(bias), 2 ** 30)! : 64;
    return { layer, wq: kernel.map((w) => rnd(w * 2 ** fw)), bq: Array.from(bias, (b) => rnd(b * 2 ** fb)), fw, fb, hasBias, X: activationBound(layer.inputs) };
  });
  const M0 = Math.max(Math.abs(pre.offset), Math.abs(preprocess(255, pre.scale, pre.offset)));
  let fx = fitExponent(M0, p[0]!.X)!;
  if (p[0]!.hasBias) fx = Math.min(fx, p[0]!.fb - p[0]!.fw);
  const S = rnd(pre.scale * 2 ** (fx + 15));
  const O = rnd(pre.offset * 2 ** (fx + 15));
  let xq = Array.from(raw, (r) => Math.max(-p[0]!.X, Math.min(p[0]!.X, rsh(r * S + O, 15))));
  for (let l = 0; ; l++) {
    const { layer, wq, bq, fw, hasBias, fb } = p[l]!;
    const fa = fx + fw;
    const acc = new Array<number>(layer.units).fill(0);
    for (let i = 0; i < layer.inputs; i++) for (let j = 0; j < layer.units; j++) acc[j] += xq[i]! * wq[i * layer.units + j]!;
    if (hasBias) for (let j = 0; j < layer.units; j++) acc[j] += rsh(bq[j]!, fb - fa);
    if (layer.activation === 'relu') for (let j = 0; j < layer.units; j++) acc[j] = Math.max(acc[j]!, 0);
    for (const a of acc) assert.ok(Math.abs(a) < 2 ** 31, 'accumulators stay int32');
    if (l === layers.length - 1) return { values: acc, exponent: fa };
    const next = p[l + 1]!;
    const A = Math.max(...acc.map(Math.abs));
    let s = 0;
    while (rsh(A, s) > next.X || (next.hasBias && fa - s + next.fw > next.fb)) s++;
    xq = acc.map((a) => rsh(a, s));
    fx = fa - s;
  }
}

function interpreters(artifact: Artifact): { coded: Interpreter; image: Interpreter; f32: Interpreter } {
  const arena = new Arena(1 << 20);
  const image = prepareExecImage(artifact, arena, 1 << 24).image;
  if (!image) throw new Error('no image');
  arena.rewind(0);
  return {
    coded: createInterpreter(artifact, new Arena(1 << 20), { arithmetic: 'int' }),
    image: createInterpreter(artifact, arena, { arithmetic: 'int', image }),
    f32: createInterpreter(artifact, new Arena(1 << 20)),
  };
}

for (const encoding of ['codebook-sparse', 'int8', 'dense-f32'] as const) {
  for (const license of [undefined, [1, 2], [3]]) {
    test(`int logits are the document's, on both kernels, and near the f32 ones (${encoding}, license ${license ?? 'full'})`, () => {
      const input = syntheticModel({ sizes: [100, 20, 12, 6], seed: 17, encoding, finalActivation: 'linear' });
      input.preprocess = { ...input.preprocess, scale: 1 / 127.5, offset: -1 };
      const artifact = readArtifact(encodeArtifact(input, { heldIntervals: license }));
      const { coded, image, f32 } = interpreters(artifact);
      const samples = randomSamples(6, 100, 3);
      for (let s = 0; s < 6; s++) {
        const raw = samples.subarray(s * 100, (s + 1) * 100);
        const expected = documentInt(artifact, raw);
        const got = coded.intLogits(raw);
        assert.equal(Array.from(got.values), expected.values, `sample ${s} coded`);
        assert.is(got.exponent, expected.exponent);
        const fromImage = image.intLogits(raw);
        assert.equal(Array.from(fromImage.values), expected.values, `sample ${s} image`);
        assert.is(fromImage.exponent, expected.exponent);
        const reference = Array.from(f32.logits(raw));
        const approx = Array.from(coded.logits(raw));
        const scale = Math.max(1e-3, ...reference.map(Math.abs));
        approx.forEach((v, j) => assert.ok(Math.abs(v - reference[j]!) <= 0.05 * scale, `sample ${s} logit ${j}: int ${v} vs f32 ${reference[j]}`));
      }
    });
  }
}

test('an int-path softmax model: invoke gives probabilities of the int logits, classify their argmax', () => {
  const artifact = readArtifact(syntheticArtifact({ sizes: [64, 10, 4], seed: 2 }));
  const { coded } = interpreters(artifact);
  const raw = randomSamples(1, 64, 9);
  const { values } = coded.intLogits(raw);
  const best = Array.from(values).indexOf(Math.max(...values));
  assert.is(coded.classify(raw), best);
  const probabilities = coded.invoke(raw);
  assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  assert.is(coded.arithmetic, 'int');
  assert.throws(() => interpreters(artifact).f32.intLogits(raw), /int arithmetic path/);
});

test('sigmoid and tanh are not on the int path', () => {
  const input = syntheticModel({ sizes: [8, 4, 2] });
  input.layers[0]!.activation = 'tanh';
  assert.throws(() => createInterpreter(readArtifact(encodeArtifact(input)), new Arena(1 << 16), { arithmetic: 'int' }), /activation tanh/);
});

test("property: on random Dense chains, encodings, sparsities, offsets and licenses, coded and image int logits are identical and the document's", () => {
  fc.assert(
    fc.property(
      fc.record({
        sizes: fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 2, maxLength: 4 }),
        seed: fc.integer({ min: 1, max: 1_000_000 }),
        pruned: fc.double({ min: 0, max: 1, noNaN: true }),
        encoding: fc.constantFrom('codebook-sparse' as const, 'int8' as const, 'dense-f32' as const),
        license: fc.subarray([0, 1, 2, 3], { minLength: 0 }),
        offset: fc.constantFrom(0, -1, 0.5),
        relu: fc.boolean(),
      }),
      ({ sizes, seed, pruned, encoding, license, offset, relu }) => {
        const input = syntheticModel({ sizes, seed, pruned, encoding, finalActivation: 'linear' });
        input.preprocess = { ...input.preprocess, offset };
        if (relu) input.layers[input.layers.length - 1]!.activation = 'relu';
        const artifact = readArtifact(encodeArtifact(input, { heldIntervals: license }));
        const { coded, image } = interpreters(artifact);
        const samples = randomSamples(3, sizes[0]!, seed);
        for (let s = 0; s < 3; s++) {
          const raw = samples.subarray(s * sizes[0]!, (s + 1) * sizes[0]!);
          raw.fill(0, 0, raw.length >> 1);
          const a = coded.intLogits(raw);
          const av = Array.from(a.values);
          const b = image.intLogits(raw);
          assert.equal(Array.from(b.values), av, `sample ${s}`);
          assert.is(b.exponent, a.exponent);
          const d = documentInt(artifact, raw);
          assert.equal(av, d.values, `sample ${s} vs document`);
          assert.is(a.exponent, d.exponent);
        }
      },
    ),
    { numRuns: 60, seed: 20261130 },
  );
});

test.run();

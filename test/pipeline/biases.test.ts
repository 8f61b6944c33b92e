// Biases rounded to int8 (pipeline/biases.ts): what the pipeline measures is
// what the device decodes, bit for bit, and the encoding follows from the
// values alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { decodeTensor, encodeArtifact, readArtifact, type ModelInput } from '../../formats/index.ts';
import { int8Exact, roundBiases } from '../../pipeline/biases.ts';

/** A one-layer model whose bias is `bias`: the artifact's bias tensor as a device decodes it. */
function throughArtifact(bias: Float32Array, encoding: 'int8' | 'dense-f32'): { encoding: string; decoded: Float32Array } {
  const units = bias.length;
  const input: ModelInput = {
    model: 'bias-test',
    version: 1,
    preprocess: { inputShape: [2], scale: 1, offset: 0 },
    layers: [{ kind: 'dense', name: 'd', inputs: 2, units, activation: 'linear', kernel: 0, bias: 1 }],
    tensors: [
      { name: 'd/kernel', shape: [2, units], encoding: 'dense-f32', values: new Float32Array(2 * units).fill(0.5), licensed: true },
      { name: 'd/bias', shape: [units], encoding, values: bias, licensed: false },
    ],
    intervals: [{ id: 0, lower: -1, upper: 1 }],
    tiers: [],
  };
  const artifact = readArtifact(encodeArtifact(input));
  return { encoding: artifact.manifest.tensors[1]!.encoding, decoded: decodeTensor(artifact, 1) };
}

const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i] || (v === 0 && b[i] === 0));

const biasArrays = fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: 1, maxLength: 64 }).map((values) => Float32Array.from(values));

test('rounded biases pass the int8 rule and come back from an artifact bit for bit', () => {
  fc.assert(
    fc.property(biasArrays, (bias) => {
      const [rounded] = roundBiases([bias]);
      assert.ok(int8Exact(rounded!));
      const { encoding, decoded } = throughArtifact(rounded!, 'int8');
      assert.is(encoding, 'int8');
      assert.ok(sameBits(decoded, rounded!), `${Array.from(rounded!)} came back as ${Array.from(decoded)}`);
    }),
    { numRuns: 300 },
  );
});

test('biases as trained fail the int8 rule, so they stay float32', () => {
  const trained = Float32Array.from([0.1234567, -0.0031, 0.75, -0.4999, 0.0000123]);
  assert.not.ok(int8Exact(trained));
  const [rounded] = roundBiases([trained]);
  assert.ok(rounded!.some((v, i) => v !== trained[i]));
  // rounding moves each bias by at most half a step of max|b| / 127
  const step = 0.75 / 127;
  for (let i = 0; i < trained.length; i++) assert.ok(Math.abs(rounded![i]! - trained[i]!) <= step / 2 + 1e-7, `bias ${i}`);
});

test('zero biases and a single bias are int8 as they are', () => {
  assert.ok(int8Exact(new Float32Array(10)));
  const [one] = roundBiases([Float32Array.from([-0.3])]);
  assert.is(one![0], Math.fround(-0.3));
  assert.ok(int8Exact(one!));
});

test.run();

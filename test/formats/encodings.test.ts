// Property-based round trips of every tensor encoding: decode(encode(x))
// equals x after the encoding's quantization, licensed or not, with any
// interval table that covers the values.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  createRandom,
  decodeTensor,
  encodeArtifact,
  intervalIndexOf,
  openSegment,
  quantizeInt8,
  readArtifact,
  readSegmentEntries,
  type ModelInput,
  type TensorEncoding,
} from '../../formats/index.ts';

const tensorCase = fc
  .record({
    rows: fc.integer({ min: 1, max: 24 }),
    cols: fc.integer({ min: 1, max: 24 }),
    rank1: fc.boolean(),
    encoding: fc.constantFrom<TensorEncoding>('dense-f32', 'int8', 'codebook-sparse'),
    bits: fc.integer({ min: 1, max: 8 }),
    density: fc.double({ min: 0, max: 1, noNaN: true }),
    licensed: fc.boolean(),
    intervals: fc.integer({ min: 1, max: 6 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .map((c) => {
    const random = createRandom(c.seed);
    const shape = c.rank1 ? [c.rows * c.cols] : [c.rows, c.cols];
    const n = c.rows * c.cols;
    const codebook = Float32Array.from({ length: 1 << c.bits }, () => random() * 3 - 1.5 || 0.5);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (random() >= c.density) continue;
      values[i] = c.encoding === 'codebook-sparse' ? codebook[Math.floor(random() * codebook.length)]! : random() * 3 - 1.5;
    }
    const width = 4 / c.intervals;
    const intervals = Array.from({ length: c.intervals }, (_, i) => ({ id: i * 3 + 1, lower: -2 + i * width, upper: -2 + (i + 1) * width }));
    return { ...c, shape, values, codebook, intervals };
  });

function modelOf(c: {
  shape: number[];
  values: Float32Array;
  encoding: TensorEncoding;
  codebook: Float32Array;
  bits: number;
  licensed: boolean;
  intervals: ModelInput['intervals'];
}): ModelInput {
  return {
    model: 'prop',
    version: 1,
    preprocess: { inputShape: [1], scale: 1, offset: 0 },
    layers: [],
    tensors: [
      {
        name: 't',
        shape: c.shape,
        encoding: c.encoding,
        values: c.values,
        codebook: c.encoding === 'codebook-sparse' ? c.codebook : undefined,
        bits: c.encoding === 'codebook-sparse' ? c.bits : undefined,
        licensed: c.licensed,
      },
    ],
    intervals: c.intervals,
    tiers: [],
  };
}

test('decode(encode(x)) == quantize(x) for every encoding (property)', () => {
  fc.assert(
    fc.property(tensorCase, (c) => {
      const artifact = readArtifact(encodeArtifact(modelOf(c)));
      const expected = c.encoding === 'int8' ? quantizeInt8(c.values, c.shape).dequantized : c.values;
      assert.equal(Array.from(decodeTensor(artifact, 0)), Array.from(expected));
      // Streaming with a 1-entry buffer gives the same entries.
      let seen = 0;
      const positions = new Uint32Array(1);
      const values = new Float32Array(1);
      artifact.segments.forEach((_, i) => {
        const cursor = openSegment(artifact, i);
        while (readSegmentEntries(cursor, positions, values) === 1) {
          assert.is(values[0], expected[positions[0]!]);
          seen++;
        }
      });
      assert.is(seen, Array.from(expected).filter((v) => v !== 0).length);
    }),
    { numRuns: 300, seed: 7 },
  );
});

test('a licensed tensor splits by interval; every license reads back its part', () => {
  fc.assert(
    fc.property(tensorCase, fc.func(fc.boolean()), (c, pick) => {
      const input = modelOf({ ...c, licensed: true });
      const license = c.intervals.map((i) => i.id).filter((id) => pick(id));
      const artifact = readArtifact(encodeArtifact(input, { heldIntervals: license }));
      const expected = c.encoding === 'int8' ? quantizeInt8(c.values, c.shape).dequantized : c.values;
      const decoded = decodeTensor(artifact, 0);
      c.values.forEach((v, p) => {
        const k = intervalIndexOf(v, c.intervals);
        const held = v !== 0 && license.includes(c.intervals[k]!.id);
        assert.is(decoded[p], held ? expected[p] : 0);
      });
    }),
    { numRuns: 150, seed: 8 },
  );
});

test('int8: one scale per column of a kernel, one scale for a rank-1 tensor', () => {
  assert.is(quantizeInt8(new Float32Array(12).fill(1), [3, 4]).scales.length, 4);
  assert.is(quantizeInt8(new Float32Array(12).fill(1), [12]).scales.length, 1);
  const { dequantized } = quantizeInt8(Float32Array.from([1, -0.5, 0.25, 0]), [4]);
  assert.equal(Array.from(dequantized), [1, Math.fround(-64 / 127), Math.fround(32 / 127), 0].map(Math.fround));
});

test.run();

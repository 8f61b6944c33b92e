// The Rice segment coding (docs/format.md §5.10): the spec's example bytes,
// round trips of every encoding with the same entries as the range coder,
// each way a stream can be refused, the manifest field, patches across
// codings, and the device's kernels on it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  applyPatch,
  decodeEntries,
  decodeTensor,
  diffArtifacts,
  encodeArtifact,
  FormatError,
  readArtifact,
  readManifest,
  recodeArtifact,
  SegmentCursor,
  type ModelInput,
  type TensorEncoding,
  type TensorInfo,
} from '../../formats/index.ts';
import { writeManifest } from '../../formats/artifact/manifest-writer.ts';
import { encodeSegment } from '../../formats/coding/segment-encoder.ts';
import { riceParameter } from '../../formats/coding/rice-code.ts';
import { validateSegment } from '../../formats/coding/segment-raw.ts';
import { BASE_INTERVAL } from '../../formats/model.ts';
import { firmwarePlan } from '../../device-sim/firmware-plan.ts';
import { loadArtifactOnProfile } from '../../device-sim/check-artifact.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';
import { changeWeights } from '../fixtures/model-versions.ts';
import { randomSamples } from '../device-sim/fixtures.ts';

const rice = (input: ModelInput): ModelInput => ({ ...input, tensors: input.tensors.map((t) => ({ ...t, coding: 'rice' as const })) });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.instance(error, FormatError, (error as Error).message);
    return (error as FormatError).code;
  }
  return 'OK';
}

/** A base-interval codebook-sparse tensor of `elements` with `centroids` centroids, Rice-coded. */
function codebookTensor(elements: number, centroids: number): TensorInfo {
  const codebook = Float32Array.from({ length: centroids }, (_, i) => i + 1);
  return { name: 't', shape: [elements], encoding: 'codebook-sparse', bits: 8, codebook, scales: null, nonzero: 0, licensed: false, coding: 'rice' };
}

function decodeAll(tensor: TensorInfo, count: number, data: Uint8Array): { positions: number[]; codes: number[] } {
  const cursor = new SegmentCursor(0, tensor, BASE_INTERVAL, [], count, data);
  const positions = new Uint32Array(count);
  const raws = new Uint32Array(count);
  assert.is(decodeEntries(cursor, positions, new Float32Array(count), raws), count);
  return { positions: [...positions], codes: [...raws] };
}

test("the spec's worked example: E 64, k 4, four entries are 9B 03 FB B0", () => {
  assert.is(riceParameter(64, 4), 4);
  const positions = Uint32Array.from([3, 4, 20, 50]);
  const codes = Uint8Array.from([1, 0, 3, 2]);
  const bytes = encodeSegment({ count: 4, positions, elements: 64, codes, codeBits: 2, coding: 'rice' });
  assert.equal([...bytes], [0x9b, 0x03, 0xfb, 0xb0]);
  assert.equal(decodeAll(codebookTensor(64, 4), 4, bytes), { positions: [3, 4, 20, 50], codes: [1, 0, 3, 2] });
});

test('the Rice parameter follows the density: floor(log2(floor(E / count))), 0 when dense', () => {
  assert.equal([riceParameter(100, 100), riceParameter(100, 60), riceParameter(100, 50), riceParameter(100_352, 7_000), riceParameter(1, 1)], [0, 0, 1, 3, 0]);
});

test('any ascending positions and codes decode as they were encoded (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 256 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (elements, centroids, seed) => {
      let state = seed;
      const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
      const density = next();
      const positions: number[] = [];
      for (let p = 0; p < elements; p++) if (next() < density) positions.push(p);
      if (positions.length === 0) positions.push(elements - 1);
      const codeBits = centroids <= 1 ? 0 : 32 - Math.clz32(centroids - 1);
      const codes = positions.map(() => Math.floor(next() * centroids));
      const bytes = encodeSegment({
        count: positions.length,
        positions: Uint32Array.from(positions),
        elements,
        codes: Uint8Array.from(codes),
        codeBits,
        coding: 'rice',
      });
      const tensor = codebookTensor(elements, centroids);
      assert.equal(decodeAll(tensor, positions.length, bytes), { positions, codes });
      validateSegment(0, tensor, BASE_INTERVAL, [], positions.length, bytes);
    }),
    { numRuns: 200 },
  );
});

test('a Rice stream is refused when truncated, padded, over-long, out of bounds or naming a missing centroid', () => {
  const example = (tensor: TensorInfo, bytes: number[]) => codeOf(() => validateSegment(0, tensor, BASE_INTERVAL, [], 4, Uint8Array.from(bytes)));
  const four = codebookTensor(64, 4);
  assert.is(example(four, [0x9b, 0x03, 0xfb, 0xb0]), 'OK');
  assert.is(example(four, [0x9b, 0x03, 0xfb]), 'TRUNCATED', 'the last entry needs the dropped byte');
  assert.is(example(four, [0x9b, 0x03, 0xfb, 0xb0, 0x00]), 'BAD_VALUE', 'a byte after the last entry');
  assert.is(example(four, [0x9b, 0x03, 0xfb, 0xb1]), 'BAD_VALUE', 'a padding bit set');
  assert.is(example(four, [0, 0, 0, 0, 0, 0, 0, 0]), 'OUT_OF_BOUNDS', 'q past E >> k stops the unary run');
  assert.is(example(four, [0x7f, 0x7f, 0x7f, 0x7f]), 'OUT_OF_BOUNDS', 'gaps of 32: positions 31, 63, then 95 in 64 elements');
  assert.is(example(four, [0xff, 0xff, 0xff, 0xff]), 'BAD_VALUE', 'gaps of 16 end at 63 in 28 bits; the 4 bits after are not 0');
  // Three centroids: code 3 (the third entry's) names none.
  assert.is(example(codebookTensor(64, 3), [0x9b, 0x03, 0xfb, 0xb0]), 'BAD_VALUE');
});

for (const encoding of ['codebook-sparse', 'int8', 'dense-f32'] as TensorEncoding[]) {
  test(`${encoding}: a Rice artifact holds the same entries as the range-coded one, in a few percent more bytes`, () => {
    const input = syntheticModel({ sizes: [64, 48, 10], sparsity: 0.9, seed: 4, kernelEncoding: encoding });
    const range = readArtifact(encodeArtifact(input));
    const riced = readArtifact(encodeArtifact(rice(input)));
    assert.ok(
      range.manifest.tensors.every((t) => t.coding === undefined),
      'the default writes no coding field',
    );
    assert.ok(riced.manifest.tensors.every((t) => t.coding === 'rice'));
    for (let t = 0; t < input.tensors.length; t++) assert.equal(decodeTensor(riced, t), decodeTensor(range, t), `tensor ${t}`);
    const streamBytes = (a: typeof range) => a.segments.reduce((sum, s) => sum + s.data.length, 0);
    const ratio = streamBytes(riced) / streamBytes(range);
    assert.ok(ratio > 0.8 && ratio < 1.35, `rice/range segment bytes ${ratio.toFixed(3)}`);
  });
}

test('the manifest refuses an unknown segment coding and round-trips rice', () => {
  const manifest = readArtifact(encodeArtifact(rice(syntheticModel({ sizes: [8, 4], seed: 2 })))).manifest;
  assert.equal(
    readManifest(writeManifest(manifest)).tensors.map((t) => t.coding),
    manifest.tensors.map(() => 'rice'),
  );
  const forged = structuredClone(manifest);
  (forged.tensors[0] as { coding?: string }).coding = 'huffman';
  assert.is(
    codeOf(() => readManifest(writeManifest(forged))),
    'BAD_VALUE',
  );
});

test('patches across codings: range to rice, rice to rice, rice to range give the target bytes', () => {
  const v1 = syntheticModel({ sizes: [96, 32, 10], sparsity: 0.85, seed: 6 });
  const v2 = changeWeights(v1, 0.1, 3);
  for (const [from, to] of [
    [v1, rice(v2)],
    [rice(v1), rice(v2)],
    [rice(v1), v2],
  ] as const) {
    const a = encodeArtifact(from);
    const b = encodeArtifact(to);
    assert.equal(applyPatch(a, diffArtifacts(a, b)), b);
  }
  // A license upgrade of a Rice build.
  const ids = v1.intervals.map((i) => i.id);
  const low = encodeArtifact(rice(v1), { heldIntervals: ids.slice(0, 2) });
  const full = encodeArtifact(rice(v1));
  assert.equal(applyPatch(low, diffArtifacts(low, full)), full);
});

test("the device's coded and image kernels give the range build's logits on a Rice build; its decoder needs no models", () => {
  const input = syntheticModel({ sizes: [784, 32, 10], sparsity: 0.9, seed: 8 });
  const samples = randomSamples(8, 784);
  const profile = resolveProfile('m0-32k');
  const outputs = (bytes: Uint8Array, kernel: 'coded' | 'image') => {
    const loaded = loadArtifactOnProfile(bytes, profile, { kernel });
    assert.is(loaded.report.kernel, kernel);
    return Array.from({ length: 8 }, (_, i) => [...loaded.interpreter!.logits(samples.subarray(i * 784, (i + 1) * 784))]);
  };
  const rangeBytes = encodeArtifact(input);
  const riceBytes = encodeArtifact(rice(input));
  const expected = outputs(rangeBytes, 'coded');
  assert.equal(outputs(riceBytes, 'coded'), expected);
  assert.equal(outputs(riceBytes, 'image'), outputs(rangeBytes, 'image'));
  const plan = (bytes: Uint8Array) => firmwarePlan(readArtifact(bytes));
  assert.ok(plan(riceBytes).decoderBytes < plan(rangeBytes).decoderBytes);
  assert.is(plan(riceBytes).arenaImageBytes, plan(rangeBytes).arenaImageBytes);
});

test('recoding an artifact gives the bytes its model encodes to in the other coding, both ways', () => {
  const input = syntheticModel({ sizes: [64, 24, 10], sparsity: 0.8, seed: 12 });
  const range = encodeArtifact(input);
  const riced = encodeArtifact(rice(input));
  assert.equal(recodeArtifact(readArtifact(range), 'rice'), riced);
  assert.equal(recodeArtifact(readArtifact(riced), 'range'), range);
  const ids = input.intervals.map((i) => i.id);
  const partial = readArtifact(encodeArtifact(input, { heldIntervals: ids.slice(0, 1) }));
  assert.is(
    codeOf(() => recodeArtifact(partial, 'rice')),
    'BAD_INPUT',
  );
});

test.run();

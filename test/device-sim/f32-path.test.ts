// docs/arithmetic.md's f32 path, transcribed over the decoded segments,
// against the interpreter bit for bit: the coded kernels sum each layer's
// kernel segments in manifest order, ascending positions within each, then
// its bias segments; the image kernels sum rows ascending, then every bias
// (+0 where none is held). Every product and sum is one binary32 rounding.
import { test } from 'uvu';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { denseChain, encodeArtifact, openSegment, readArtifact, readSegmentEntries, type Artifact } from '../../formats/index.ts';
import { Arena } from '../../device-sim/arena.ts';
import { prepareExecImage } from '../../device-sim/exec-image.ts';
import { createInterpreter } from '../../device-sim/interpreter.ts';
import { randomSamples, syntheticModel } from './fixtures.ts';

const f = Math.fround;

/** Every held entry of `tensor`, segment by segment in manifest order. */
function segmentsOf(artifact: Artifact, tensor: number): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  artifact.segments.forEach((segment, s) => {
    if (segment.tensor !== tensor) return;
    const cursor = openSegment(artifact, s);
    const positions = new Uint32Array(1);
    const values = new Float32Array(1);
    const entries: Array<[number, number]> = [];
    while (readSegmentEntries(cursor, positions, values) > 0) entries.push([positions[0]!, values[0]!]);
    out.push(entries);
  });
  return out;
}

function documentF32(artifact: Artifact, raw: Uint8Array, kernel: 'coded' | 'image'): number[] {
  const { preprocess } = artifact.manifest;
  const layers = denseChain(artifact.manifest.layers)!;
  let x = Array.from(raw, (r) => f(f(r * preprocess.scale) + preprocess.offset));
  layers.forEach((layer) => {
    const out = new Array<number>(layer.units).fill(0);
    const kernelSegments = segmentsOf(artifact, layer.kernel);
    const term = (p: number, w: number) => {
      const i = Math.floor(p / layer.units);
      if (x[i] === 0) return;
      const j = p % layer.units;
      out[j] = f(out[j]! + f(x[i]! * w));
    };
    const biasSegments = layer.bias >= 0 ? segmentsOf(artifact, layer.bias) : [];
    if (kernel === 'coded') {
      for (const entries of kernelSegments) for (const [p, w] of entries) term(p, w);
      for (const entries of biasSegments) for (const [p, b] of entries) out[p] = f(out[p]! + b);
    } else {
      const all = kernelSegments.flat().sort((a, b) => a[0] - b[0]);
      for (const [p, w] of all) term(p, w);
      const bias = new Array<number>(layer.units).fill(0);
      for (const entries of biasSegments) for (const [p, b] of entries) bias[p] = b;
      for (let j = 0; j < layer.units; j++) out[j] = f(out[j]! + bias[j]!);
    }
    if (layer.activation === 'relu') for (let j = 0; j < layer.units; j++) if (out[j]! < 0) out[j] = 0;
    x = out;
  });
  return x;
}

test("property: coded and image f32 logits are the document's, bit for bit, on random models", () => {
  fc.assert(
    fc.property(
      fc.record({
        sizes: fc.array(fc.integer({ min: 1, max: 90 }), { minLength: 2, maxLength: 4 }),
        seed: fc.integer({ min: 1, max: 1_000_000 }),
        pruned: fc.double({ min: 0, max: 1, noNaN: true }),
        encoding: fc.constantFrom('codebook-sparse' as const, 'int8' as const, 'dense-f32' as const),
        license: fc.subarray([0, 1, 2, 3], { minLength: 0 }),
        offset: fc.constantFrom(0, -1, 0.37),
        last: fc.constantFrom('linear' as const, 'softmax' as const),
      }),
      ({ sizes, seed, pruned, encoding, license, offset, last }) => {
        const input = syntheticModel({ sizes, seed, pruned, encoding, finalActivation: last });
        input.preprocess = { ...input.preprocess, scale: 1 / 127.5, offset };
        const artifact = readArtifact(encodeArtifact(input, { heldIntervals: license }));
        const arena = new Arena(1 << 20);
        const image = prepareExecImage(artifact, arena, 1 << 24).image!;
        arena.rewind(0);
        const interpreters = { image: createInterpreter(artifact, arena, { image }), coded: createInterpreter(artifact, new Arena(1 << 20)) };
        const samples = randomSamples(3, sizes[0]!, seed);
        for (let s = 0; s < 3; s++) {
          const raw = samples.subarray(s * sizes[0]!, (s + 1) * sizes[0]!);
          raw.fill(0, 0, raw.length >> 1);
          for (const kernel of ['coded', 'image'] as const) {
            const got = Array.from(interpreters[kernel].logits(raw));
            const expected = documentF32(artifact, raw, kernel);
            got.forEach((v, j) => assert.ok(Object.is(v, expected[j]), `${kernel} sample ${s} logit ${j}: ${v} vs ${expected[j]}`));
          }
        }
      },
    ),
    { numRuns: 60, seed: 20261130 },
  );
});

test.run();

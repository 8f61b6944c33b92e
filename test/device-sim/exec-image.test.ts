// The execution image (exec-image.ts) and the kernels that read it: the
// image holds exactly the artifact's weights, a damaged or foreign image is
// refused with a reason (never run, never an exception), the wasm kernels
// give the TypeScript reference's outputs bit for bit, and the committed
// wasm is what rows.wat assembles to.
import { test } from 'uvu';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { denseChain, decodeTensor, encodeArtifact, readArtifact, type Artifact } from '../../formats/index.ts';
import { Arena } from '../../device-sim/arena.ts';
import { buildExecImage, execImageBytes, openExecImage, type ExecImage } from '../../device-sim/exec-image.ts';
import { createInterpreter } from '../../device-sim/interpreter.ts';
import { evalImageLayer } from '../../device-sim/kernels/sparse-rows.ts';
import { wasmKernelOf } from '../../device-sim/kernels/sparse-rows-wasm.ts';
import { randomSamples, syntheticArtifact, syntheticModel } from './fixtures.ts';

function imageOf(artifact: Artifact, arena = new Arena(32 * 1024)): ExecImage {
  const opened = openExecImage(buildExecImage(artifact, arena), artifact);
  if (typeof opened === 'string') throw new Error(opened);
  return opened;
}

/** The layer's weights as a dense [inputs, units] matrix, read back from the image's rows. */
function denseFromImage(image: ExecImage, l: number): Float32Array {
  const layer = image.layers[l]!;
  const out = new Float32Array(layer.inputs * layer.units);
  let e = 0;
  for (let i = 0; i < layer.inputs; i++) {
    for (let n = 0; n < layer.counts[i]!; n++, e++) {
      const packed = layer.entries[e]!;
      const col = packed % 2 ** layer.colBits;
      out[i * layer.units + col] = layer.table ? layer.table[Math.floor(packed / 2 ** layer.colBits)]! : layer.values![e]!;
    }
  }
  return out;
}

for (const encoding of ['codebook-sparse', 'int8', 'dense-f32'] as const) {
  for (const license of [undefined, [1, 2]]) {
    test(`the image holds exactly the licensed weights and biases (${encoding}, license ${license ? `[${license}]` : 'full'})`, () => {
      const artifact = readArtifact(syntheticArtifact({ sizes: [784, 24, 10], seed: 5, encoding, license }));
      const arena = new Arena(32 * 1024);
      const image = imageOf(artifact, arena);
      assert.is(image.bytes.length, execImageBytes(artifact));
      assert.is(arena.usedBytes(), 0, 'the transcoder gives its working memory back');
      assert.ok(arena.highWaterBytes() > 0 && arena.highWaterBytes() < 4096, `transcoding worked in ${arena.highWaterBytes()} bytes of arena`);
      denseChain(artifact.manifest.layers)!.forEach((layer, l) => {
        assert.equal(denseFromImage(image, l), decodeTensor(artifact, layer.kernel), `layer ${l} kernel`);
        assert.equal(image.layers[l]!.bias, decodeTensor(artifact, layer.bias), `layer ${l} bias`);
      });
      assert.is(image.layers[0]!.table !== null, encoding === 'codebook-sparse');
    });
  }
}

test("every single-byte change of an image is refused with a reason, and a foreign artifact's image too", () => {
  const artifact = readArtifact(syntheticArtifact({ sizes: [64, 8, 4], seed: 9 }));
  const image = imageOf(artifact).bytes;
  for (let at = 0; at < image.length; at++) {
    const damaged = image.slice();
    damaged[at] ^= 0x5a;
    const result = openExecImage(damaged, artifact);
    assert.type(result, 'string', `byte ${at} changed`);
  }
  for (const cut of [0, 10, 79, 80, image.length - 1]) assert.type(openExecImage(image.subarray(0, cut).slice(), artifact), 'string');
  const other = readArtifact(syntheticArtifact({ sizes: [64, 8, 4], seed: 10 }));
  assert.match(openExecImage(image, other) as string, /another artifact/);
});

test('an image whose body hash was recomputed still has every count, column and index checked', () => {
  const artifact = readArtifact(syntheticArtifact({ sizes: [64, 6, 3], seed: 9 }));
  const image = imageOf(artifact);
  const forge = (mutate: (bytes: Uint8Array) => void): string => {
    const bytes = image.bytes.slice();
    mutate(bytes);
    bytes.set(createHash('sha256').update(bytes.subarray(80)).digest(), 40);
    const result = openExecImage(bytes, artifact);
    return typeof result === 'string' ? result : 'accepted';
  };
  const layer = image.layers[0]!;
  const countsAt = layer.counts.byteOffset - image.bytes.byteOffset;
  const entriesAt = layer.entries.byteOffset - image.bytes.byteOffset;
  assert.match(
    forge((b) => (b[countsAt] = 200)),
    /row 0 holds 200 weights|rows hold/,
  );
  assert.match(
    forge((b) => (b[countsAt] += 1)),
    /rows hold/,
  );
  assert.match(
    forge((b) => (b[entriesAt] = (b[entriesAt]! & 0xf8) | 0x07)),
    /column 7 of 6/,
  );
  assert.match(
    forge((b) => new DataView(b.buffer).setUint32(80 + 4, 9999, true)),
    /is 64x9999/,
  );
  assert.is(
    forge(() => undefined),
    'accepted',
    'the unchanged image (re-hashed) is accepted',
  );
});

test('wasm kernels give the TypeScript reference outputs bit for bit (offset 0 skips blank words; a non-zero offset does not)', () => {
  for (const offset of [0, -0.25]) {
    const input = syntheticModel({ sizes: [784, 40, 24, 10], seed: 4, finalActivation: 'linear' });
    input.preprocess = { ...input.preprocess, offset };
    const artifact = readArtifact(encodeArtifact(input));
    const arena = new Arena(32 * 1024);
    const image = imageOf(artifact, arena);
    assert.ok(
      image.layers.every((layer) => wasmKernelOf(layer) === 'table'),
      'these layers run in the specialised kernels',
    );
    const interpreter = createInterpreter(artifact, arena, { image });
    const samples = randomSamples(40, 784, 11);
    // Blank stretches, as in real images, so the four-zero-byte skip runs.
    for (let s = 0; s < 40; s++) samples.fill(0, s * 784, s * 784 + 300 + s * 7);
    const { scale } = artifact.manifest.preprocess;
    const layers = denseChain(artifact.manifest.layers)!;
    for (let s = 0; s < 40; s++) {
      const raw = samples.subarray(s * 784, (s + 1) * 784);
      const got = Float32Array.from(interpreter.invoke(raw));
      let x: Float32Array = new Float32Array(0);
      layers.forEach((layer, l) => {
        const out = new Float32Array(layer.units);
        evalImageLayer(image.layers[l]!, l === 0 ? { raw, scale, offset } : x, out);
        if (layer.activation === 'relu') for (let j = 0; j < out.length; j++) if (out[j]! < 0) out[j] = 0;
        x = out;
      });
      assert.equal(got, x, `sample ${s}, offset ${offset}`);
    }
  }
});

test('property: for random Dense chains, encodings, sparsities and licenses the image holds exactly the licensed weights, and the wasm kernels on it equal the reference', () => {
  const kernels = new Set<string>();
  fc.assert(
    fc.property(
      fc.record({
        sizes: fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 2, maxLength: 4 }),
        seed: fc.integer({ min: 1, max: 1_000_000 }),
        pruned: fc.double({ min: 0, max: 1, noNaN: true }),
        encoding: fc.constantFrom('codebook-sparse' as const, 'int8' as const, 'dense-f32' as const),
        license: fc.subarray([0, 1, 2, 3], { minLength: 1 }),
      }),
      ({ sizes, seed, pruned, encoding, license }) => {
        const artifact = readArtifact(syntheticArtifact({ sizes, seed, pruned, encoding, license, finalActivation: 'linear' }));
        const arena = new Arena(256 * 1024);
        const image = imageOf(artifact, arena);
        denseChain(artifact.manifest.layers)!.forEach((layer, l) => {
          assert.equal(denseFromImage(image, l), decodeTensor(artifact, layer.kernel), `layer ${l} kernel`);
        });
        kernels.add(image.layers.map(wasmKernelOf).join(','));
        const interpreter = createInterpreter(artifact, arena, { image });
        const { scale, offset } = artifact.manifest.preprocess;
        const samples = randomSamples(3, sizes[0]!, seed);
        for (let s = 0; s < 3; s++) {
          const raw = samples.subarray(s * sizes[0]!, (s + 1) * sizes[0]!);
          raw.fill(0, 0, raw.length >> 1);
          const got = Float32Array.from(interpreter.invoke(raw));
          let x = new Float32Array(0);
          denseChain(artifact.manifest.layers)!.forEach((layer, l) => {
            const out = new Float32Array(layer.units);
            evalImageLayer(image.layers[l]!, l === 0 ? { raw, scale, offset } : x, out);
            if (layer.activation === 'relu') for (let j = 0; j < out.length; j++) if (out[j]! < 0) out[j] = 0;
            x = out;
          });
          assert.equal(got, x, `sample ${s}`);
        }
      },
    ),
    { numRuns: 40, seed: 20261126 },
  );
  const seen = [...kernels].join(' ');
  assert.ok(seen.includes('table') && seen.includes('generic'), `both wasm kernels ran: ${seen}`);
});

test.run();

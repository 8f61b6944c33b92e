// The streaming patch applier (formats/patch/patch-stream.ts): byte-identical
// targets from a small fixed working memory, a peak that does not grow with
// the segments, the allocator's own error when it is too small, and damaged
// patches refused with a FormatError, never another exception or a hang.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  applyPatchToArtifact,
  bufferSink,
  diffArtifacts,
  encodeArtifact,
  fixedWorkingMemory,
  FormatError,
  generateKeyPair,
  readArtifact,
  readPatch,
  sha256Hex,
  streamPatchToArtifact,
  type ArtifactSink,
} from '../../formats/index.ts';
import { artifactHeader } from '../../formats/artifact/artifact-stream.ts';
import { buildArtifactBytes } from '../../formats/artifact/artifact-writer.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';
import { changeWeights, nextVersion } from '../fixtures/model-versions.ts';

const keys = generateKeyPair();
const KERNELS = ['codebook-sparse', 'int8', 'dense-f32'] as const;

/** Streams `patch` onto `from` with `memoryBytes` of working memory; returns the target's bytes and the result. */
function stream(from: Uint8Array, patch: Uint8Array, memoryBytes = 4096) {
  const memory = fixedWorkingMemory(memoryBytes);
  const sink = bufferSink();
  const result = streamPatchToArtifact(readArtifact(from), patch, sink, memory);
  assert.is(result.workingBytes, memory.peakBytes(), 'the applier measures what the allocator saw');
  assert.is(memory.mark(), 0, 'everything is released');
  return { bytes: sink.bytes(), result };
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

test('the header is buildArtifactBytes up to the segment data, for any segment length', () => {
  const a = readArtifact(
    encodeArtifact(syntheticModel({ sizes: [10, 4, 2], sparsity: 0.5, bits: 2, intervals: 3, seed: 1 }), { privateKey: keys.privateKeyPem }),
  );
  for (let length = 0; length < 40; length++) {
    const data = Uint8Array.from({ length }, (_, i) => (i * 37 + 1) & 0xff);
    const whole = buildArtifactBytes(a.manifestBytes, a.signature, a.heldIntervals, [data]);
    const { header, padding } = artifactHeader(a.manifestBytes, a.signature, a.heldIntervals, length);
    assert.equal(header.length + length + padding, whole.length, `length ${length}`);
    assert.ok(same(header, whole.subarray(0, header.length)), `header for ${length} segment bytes`);
    assert.ok(same(data, whole.subarray(header.length, header.length + length)));
    assert.ok(
      whole.subarray(header.length + length).every((b) => b === 0),
      'zero padding',
    );
  }
});

test('random versions and licenses of every kernel encoding stream to the exact target in 4 KiB (property)', () => {
  const models = KERNELS.map((kernelEncoding, i) => syntheticModel({ sizes: [40, 16, 6], sparsity: 0.75, bits: 4, intervals: 4, seed: 3 + i, kernelEncoding }));
  const ids = models[0]!.intervals.map((i) => i.id);
  const seen = { entryDelta: 0, byteDelta: 0, whole: 0, reused: 0 };
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: KERNELS.length - 1 }),
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 0, max: 50 }),
      fc.subarray(ids),
      fc.subarray(ids),
      fc.boolean(),
      (kernel, seed, percent, licenseA, licenseB, sameVersion) => {
        const v1 = models[kernel]!;
        const a = encodeArtifact(v1, { heldIntervals: licenseA, privateKey: keys.privateKeyPem });
        const b = encodeArtifact(sameVersion ? v1 : nextVersion(v1, percent / 100, seed), { heldIntervals: licenseB, privateKey: keys.privateKeyPem });
        const patch = diffArtifacts(a, b);
        const { bytes, result } = stream(a, patch);
        assert.ok(same(bytes, b), `${KERNELS[kernel]}: streamed target differs from the artifact the patch was made for`);
        assert.is(result.sha256, sha256Hex(b));
        assert.ok(result.sha256.startsWith(readPatch(patch).toSha256), 'the patch names the target by its SHA-256 prefix');
        assert.is(result.bytes, b.length);
        assert.ok(same(applyPatchToArtifact(readArtifact(a), patch).bytes, bytes), 'same bytes as applyPatchToArtifact (heap memory)');
        for (const key of Object.keys(seen) as Array<keyof typeof seen>) seen[key] += result[key];
      },
    ),
    { numRuns: 90, seed: 7 },
  );
  for (const [op, count] of Object.entries(seen)) assert.ok(count > 0, `no ${op} segment was exercised`);
});

test('a 100,000-element tensor patches within 4 KiB of working memory: the peak does not follow the segment size', () => {
  const peakOf = (sizes: number[]) => {
    const v1 = syntheticModel({ sizes, sparsity: 0.8, bits: 4, intervals: 8, seed: 5 });
    const a = encodeArtifact(v1, { heldIntervals: [0, 2, 4, 6] });
    const b = encodeArtifact(changeWeights(v1, 0.1, 6));
    const { bytes, result } = stream(a, diffArtifacts(a, b));
    assert.ok(same(bytes, b));
    assert.ok(result.entryDelta > 0, 'the kernel came as an entry delta');
    const largest = Math.max(...readArtifact(b).segments.map((s) => s.data.length));
    return { peak: result.workingBytes, largest };
  };
  const small = peakOf([40, 16, 6]);
  const large = peakOf([784, 128, 10]);
  assert.ok(large.largest > 4096, `largest segment ${large.largest} B fits the working memory on its own`);
  assert.ok(large.largest > 50 * small.largest, `segments grew ${large.largest / small.largest}x`);
  assert.ok(large.peak <= 4096, `peak ${large.peak} B`);
  assert.ok(large.peak - small.peak < 1024, `peak grew from ${small.peak} to ${large.peak} B`);
});

test('working memory too small: the allocator error, the source untouched, nothing past what was begun', () => {
  const v1 = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.75, bits: 4, intervals: 4, seed: 3 });
  const a = encodeArtifact(v1, { heldIntervals: [0] });
  const b = encodeArtifact(changeWeights(v1, 0.2, 3));
  const patch = diffArtifacts(a, b);
  const needed = stream(a, patch).result.workingBytes;
  const source = readArtifact(a);
  const before = Uint8Array.from(source.bytes);
  for (const memoryBytes of [16, needed - 8]) {
    let begun = -1;
    let appended = 0;
    const sink: ArtifactSink = {
      begin: (total) => void (begun = total),
      append: (bytes) => void (appended += bytes.length),
    };
    try {
      streamPatchToArtifact(source, patch, sink, fixedWorkingMemory(memoryBytes));
      assert.unreachable(`applied in ${memoryBytes} of the ${needed} bytes it needs`);
    } catch (error) {
      assert.instance(error, FormatError);
      assert.is((error as FormatError).code, 'TOO_LARGE');
      assert.match((error as Error).message, new RegExp(`working memory: .* needs \\d+ bytes in all, the allocator has ${memoryBytes}`));
    }
    assert.ok(same(source.bytes, before), 'the source artifact is untouched');
    assert.ok(appended <= Math.max(0, begun), `${appended} bytes appended for a ${begun}-byte target`);
    if (memoryBytes === 16) assert.is(begun, -1, 'nothing begun when not even the output page fits');
  }
});

test('a sink that refuses the target size stops the apply before any byte is written', () => {
  const v1 = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.75, bits: 4, intervals: 4, seed: 3 });
  const a = encodeArtifact(v1);
  const patch = diffArtifacts(a, encodeArtifact(changeWeights(v1, 0.1, 2)));
  let appended = 0;
  const sink: ArtifactSink = {
    begin: (total) => {
      throw new RangeError(`slot too small for ${total} bytes`);
    },
    append: (bytes) => void (appended += bytes.length),
  };
  assert.throws(() => streamPatchToArtifact(readArtifact(a), patch, sink, fixedWorkingMemory(4096)), /slot too small/);
  assert.is(appended, 0);
});

/** Streams a damaged patch: a FormatError, or exactly the target (a change that alters nothing). */
function checkDamaged(from: Uint8Array, target: Uint8Array, bytes: Uint8Array, label: string): 'error' | 'ok' {
  const source = readArtifact(from);
  const sink = bufferSink();
  try {
    streamPatchToArtifact(source, bytes, sink, fixedWorkingMemory(4096));
  } catch (error) {
    if (error instanceof FormatError) return 'error';
    throw new Error(`${label}: ${(error as Error).name}: ${(error as Error).message}`);
  }
  assert.ok(same(sink.bytes(), target), `${label} streamed different bytes`);
  return 'ok';
}

test('every truncation, byte flip and forged length of a patch is a FormatError or changes nothing', () => {
  const pairs = KERNELS.map((kernelEncoding, i) => {
    const model = syntheticModel({ sizes: [12, 6, 3], sparsity: 0.6, bits: 2, intervals: 3, seed: 11 + i, kernelEncoding });
    const from = encodeArtifact(model, { heldIntervals: [0, 2], privateKey: keys.privateKeyPem });
    const target = encodeArtifact(nextVersion(model, 0.3, 4), { heldIntervals: [0, 1, 2], privateKey: keys.privateKeyPem });
    return { kernelEncoding, from, target, patch: diffArtifacts(from, target) };
  });
  for (const { kernelEncoding, from, target, patch } of pairs) {
    assert.ok(readPatch(patch).delta > 0, `${kernelEncoding}: the patch has deltas`);
    assert.is(sha256Hex(stream(from, patch).bytes), sha256Hex(target));
    for (let n = 0; n < patch.length; n++) {
      assert.is(checkDamaged(from, target, patch.subarray(0, n), `${kernelEncoding} cut at ${n}`), 'error', `${kernelEncoding} cut at ${n} was accepted`);
    }
    for (let i = 0; i < patch.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bytes = Uint8Array.from(patch);
        bytes[i]! ^= flip;
        checkDamaged(from, target, bytes, `${kernelEncoding} byte ${i} ^ ${flip}`);
      }
    }
    for (const forged of [0xffffffff, 0x7fffffff, 0x80000000, 0x00010000, 0]) {
      for (let i = 0; i + 4 <= patch.length; i += 2) {
        const bytes = Uint8Array.from(patch);
        new DataView(bytes.buffer).setUint32(i, forged, true);
        checkDamaged(from, target, bytes, `${kernelEncoding} u32 at ${i} = ${forged}`);
      }
    }
  }
});

test.run();

// Decode once: a patch's entry deltas take the source segment's entries
// from the running execution image (imageSourceEntries) instead of decoding
// the segment again. The image must give back exactly what decoding gives,
// segment by segment; where it cannot (int8 and dense kernels, a codebook
// with repeated values) it declines and the applier decodes; and a patch
// applied either way makes the same target.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arena } from '../../device-sim/arena.ts';
import { openDevice } from '../../device-sim/device.ts';
import { buildExecImage, imageSourceEntries, openExecImage, type ExecImage } from '../../device-sim/exec-image.ts';
import {
  denseChain,
  bufferSink,
  decodeEntries,
  diffArtifacts,
  encodeArtifact,
  heapWorkingMemory,
  openSegment,
  readArtifact,
  segmentDecodeStats,
  streamPatchToArtifact,
  type Artifact,
  type EntryReader,
  type ModelInput,
} from '../../formats/index.ts';
import { changeWeights } from '../fixtures/model-versions.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';
import { keys } from './fixtures.ts';

const sign = (input: ModelInput, license?: number[]) => readArtifact(encodeArtifact(input, { heldIntervals: license, privateKey: keys.privateKeyPem }));

function imageOf(artifact: Artifact): ExecImage {
  const opened = openExecImage(buildExecImage(artifact, new Arena(1 << 20)), artifact);
  if (typeof opened === 'string') throw new Error(opened);
  return opened;
}

/** Every (position, stored form) a reader yields, and the same decoded from the segment. */
function fromReader(reader: EntryReader): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < reader.count; i++) {
    out.push([reader.position(), reader.raw()]);
    reader.next();
  }
  return out;
}

function decoded(artifact: Artifact, s: number): number[][] {
  const cursor = openSegment(artifact, s);
  const count = artifact.segments[s]!.count;
  const positions = new Uint32Array(count);
  const raws = new Uint32Array(count);
  decodeEntries(cursor, positions, new Float32Array(count), raws);
  return Array.from(positions, (p, i) => [p, raws[i]!]);
}

test('a codebook image gives back every held segment exactly as decoding it does', () => {
  for (const seed of [1, 2, 3]) {
    const input = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.7, bits: 4, intervals: 4, seed });
    for (const license of [undefined, input.intervals.map((i) => i.id).slice(1, 3)]) {
      const artifact = sign(input, license);
      const entries = imageSourceEntries(imageOf(artifact), artifact);
      let served = 0;
      artifact.segments.forEach((segment, s) => {
        const reader = entries(segment);
        const kernel = denseChain(artifact.manifest.layers)!.some((l) => l.kernel === segment.tensor);
        // Biases are dense: the image holds no entries of theirs to give.
        assert.is(reader === null, !kernel, `segment ${s}: ${kernel ? 'a kernel segment was declined' : 'a bias segment was served'}`);
        if (!reader) return;
        served++;
        assert.equal(fromReader(reader), decoded(artifact, s), `seed ${seed}, segment ${s}: the image's entries differ from the decoded ones`);
      });
      assert.ok(served >= 2);
    }
  }
});

test('int8 and dense kernels, and a codebook with a repeated value, are declined (the applier decodes)', () => {
  for (const kernelEncoding of ['int8', 'dense-f32'] as const) {
    const artifact = sign(syntheticModel({ sizes: [20, 8, 4], sparsity: 0.5, bits: 4, intervals: 2, seed: 4, kernelEncoding }));
    const entries = imageSourceEntries(imageOf(artifact), artifact);
    assert.ok(
      artifact.segments.every((s) => entries(s) === null),
      `${kernelEncoding}: served`,
    );
  }
  const input = syntheticModel({ sizes: [20, 8, 4], sparsity: 0.5, bits: 4, intervals: 2, seed: 5 });
  const k = input.tensors.findIndex((t) => t.codebook);
  const original = input.tensors[k]!.codebook!;
  // Two centroids of one value (the second's weights moved onto the first): the image keeps only the first index.
  const codebook = Float32Array.from(original);
  codebook[1] = codebook[0]!;
  const values = Float32Array.from(input.tensors[k]!.values, (v) => (v === original[1] ? original[0]! : v));
  const repeated = sign({ ...input, tensors: input.tensors.map((t, i) => (i === k ? { ...t, codebook, values } : t)) });
  const entries = imageSourceEntries(imageOf(repeated), repeated);
  const ofKernel = repeated.segments.filter((s) => s.tensor === k);
  assert.ok(ofKernel.length > 0 && ofKernel.every((s) => entries(s) === null));
});

test('a patch applied from the image makes the same target without decoding a source segment', () => {
  const v1 = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.7, bits: 4, intervals: 4, seed: 8 });
  const from = sign(v1);
  const to = sign(changeWeights(v1, 0.1, 11));
  const patch = diffArtifacts(from.bytes, to.bytes);
  const plain = bufferSink();
  const decodedApply = streamPatchToArtifact(from, patch, plain, heapWorkingMemory());
  assert.ok(decodedApply.entryDelta > 0, 'the patch has entry deltas');
  const fromImage = bufferSink();
  const sourceEntries = imageSourceEntries(imageOf(from), from);
  const before = segmentDecodeStats.opened;
  const imageApply = streamPatchToArtifact(from, patch, fromImage, heapWorkingMemory(), { sourceEntries });
  assert.is(segmentDecodeStats.opened, before, 'a source segment was decoded');
  assert.is(imageApply.sha256, to.sha256);
  assert.ok(Buffer.from(fromImage.bytes()).equals(Buffer.from(to.bytes)));
});

test('wrong entries from the caller make a target the apply refuses', () => {
  const v1 = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.7, bits: 4, intervals: 4, seed: 9 });
  const from = sign(v1);
  const to = sign(changeWeights(v1, 0.1, 12));
  const patch = diffArtifacts(from.bytes, to.bytes);
  // A caller whose entries are not the segment's (every stored form changed).
  const image = imageSourceEntries(imageOf(from), from);
  const sourceEntries = (segment: Parameters<typeof image>[0]): EntryReader | null => {
    const reader = image(segment);
    return reader && { count: reader.count, position: () => reader.position(), raw: () => reader.raw() ^ 1, next: () => reader.next() };
  };
  assert.throws(() => streamPatchToArtifact(from, patch, bufferSink(), heapWorkingMemory(), { sourceEntries }), /does not match the manifest's SHA-256/);
});

test('a device applies a weights-moved patch from its image: it decodes only what the new image needs', async () => {
  const v1 = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.7, bits: 4, intervals: 4, seed: 10 });
  const a = encodeArtifact(v1, { privateKey: keys.privateKeyPem });
  const b = encodeArtifact(changeWeights(v1, 0.1, 13), { privateKey: keys.privateKeyPem });
  const patch = diffArtifacts(a, b);
  const from = readArtifact(a);
  const to = readArtifact(b);
  // What building the new image from the running one decodes, alone.
  const previous = { artifact: from, image: imageOf(from) };
  let opened = segmentDecodeStats.opened;
  buildExecImage(to, new Arena(1 << 20), previous);
  const imageOnly = segmentDecodeStats.opened - opened;
  // What decoding the entry deltas' sources would add.
  const plain = streamPatchToArtifact(from, patch, bufferSink(), heapWorkingMemory());
  assert.ok(plain.entryDelta > 0);

  const device = await openDevice({ dir: mkdtempSync(join(tmpdir(), 'wg-src-')), publicKey: keys.publicKeyPem });
  device.installArtifact(a);
  opened = segmentDecodeStats.opened;
  const outcome = device.installPatch(patch);
  assert.is(segmentDecodeStats.opened - opened, imageOnly, 'the apply decoded source segments the image holds');
  assert.is(outcome.sha256, to.sha256);
  assert.is(device.status().kernel, 'image');
});

test('a Rice build: the device patches from its image into Rice segments, byte for byte the target', async () => {
  const rice = (input: ModelInput): ModelInput => ({ ...input, tensors: input.tensors.map((t) => ({ ...t, coding: 'rice' as const })) });
  const v1 = rice(syntheticModel({ sizes: [40, 16, 6], sparsity: 0.7, bits: 4, intervals: 4, seed: 14 }));
  const a = encodeArtifact(v1, { privateKey: keys.privateKeyPem });
  const b = encodeArtifact(rice(changeWeights(v1, 0.1, 15)), { privateKey: keys.privateKeyPem });
  const from = readArtifact(a);
  const entries = imageSourceEntries(imageOf(from), from);
  from.segments.forEach((segment, s) => {
    const reader = entries(segment);
    if (reader) assert.equal(fromReader(reader), decoded(from, s), `segment ${s}`);
  });
  const patch = diffArtifacts(a, b);
  const device = await openDevice({ dir: mkdtempSync(join(tmpdir(), 'wg-src-rice-')), publicKey: keys.publicKeyPem });
  device.installArtifact(a);
  const outcome = device.installPatch(patch);
  assert.is(outcome.sha256, readArtifact(b).sha256);
  assert.is(device.status().kernel, 'image');
});

test.run();

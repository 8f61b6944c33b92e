// The verifier's caps and checks, on manifests written directly (bypassing
// the encoder's input validation) so the reader is the only line of defence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeManifest } from '../../formats/artifact/manifest-writer.ts';
import { readManifest } from '../../formats/artifact/manifest-reader.ts';
import { BASE_INTERVAL, encodeArtifact, FormatError, readArtifact, type DenseLayer, type Manifest } from '../../formats/index.ts';
import { buildArtifactBytes } from '../../formats/artifact/artifact-writer.ts';
import { sha256 } from '../../formats/artifact/signing.ts';
import { MAX_TENSOR_ELEMENTS, MAX_TENSORS } from '../../formats/caps.ts';
import { convModel } from '../fixtures/conv-model.ts';
import { moveLayerField } from '../fixtures/flatbuffer-edit.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';

const base = readArtifact(encodeArtifact(syntheticModel({ sizes: [8, 4, 2], sparsity: 0.5, bits: 2, intervals: 2 }))).manifest;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    return error.code;
  }
  return 'none';
}

function variant(change: (m: Manifest) => void): Uint8Array {
  const m: Manifest = structuredClone(base);
  change(m);
  return writeManifest(m);
}

test('a well-formed manifest reads back equal', () => {
  const again = readManifest(writeManifest(base));
  assert.equal(
    again.tensors.map((t) => t.nonzero),
    base.tensors.map((t) => t.nonzero),
  );
  assert.is(again.segments.length, base.segments.length);
});

test('caps: too many tensors, too many elements', () => {
  const many = variant((m) => {
    m.tensors = Array.from({ length: MAX_TENSORS + 1 }, () => ({ ...base.tensors[1]! }));
    m.layers = [];
    m.segments = [];
  });
  assert.is(
    codeOf(() => readManifest(many)),
    'TOO_LARGE',
  );
  const huge = variant((m) => {
    m.tensors[1]!.shape = [MAX_TENSOR_ELEMENTS, 2];
    m.layers = [];
    m.segments = [];
  });
  assert.is(
    codeOf(() => readManifest(huge)),
    'TOO_LARGE',
  );
});

test('semantic checks: bad indices, shapes, enums, order, versions', () => {
  assert.is(
    codeOf(() => readManifest(variant((m) => void ((m.layers[0] as DenseLayer).kernel = 99)))),
    'BAD_VALUE',
  );
  assert.is(
    codeOf(() => readManifest(variant((m) => void (m.layers[0]!.inputs = 7)))),
    'BAD_VALUE',
  );
  assert.is(
    codeOf(() => readManifest(variant((m) => void (m.tensors[0]!.bits = 9)))),
    'BAD_VALUE',
  );
  assert.is(
    codeOf(() => readManifest(variant((m) => void m.segments.reverse()))),
    'BAD_VALUE',
  );
  assert.is(
    codeOf(() => readManifest(variant((m) => void (m.segments[0]!.count = 10_000)))),
    'BAD_VALUE',
  );
  assert.is(
    codeOf(() => readManifest(variant((m) => void (m.tiers[0]!.intervals = [42])))),
    'BAD_VALUE',
  );
  assert.is(
    codeOf(() => readManifest(variant((m) => void (m.intervals[1]!.id = m.intervals[0]!.id)))),
    'BAD_VALUE',
  );
  assert.is(
    codeOf(() => readManifest(variant((m) => void (m.formatVersion = 3)))),
    'UNSUPPORTED_VERSION',
  );
  // Version 2 is the graph version: a Dense-only manifest must not claim it.
  assert.is(
    codeOf(() => readManifest(variant((m) => void (m.formatVersion = 2)))),
    'BAD_VALUE',
  );
  assert.is(
    codeOf(() => readManifest(variant((m) => void (m.version = 0)))),
    'BAD_VALUE',
  );
});

test('a layer window field (version 2) outside its table is refused by the verifier', () => {
  const conv = writeManifest(readArtifact(encodeArtifact(convModel())).manifest);
  assert.is(readManifest(conv).formatVersion, 2);
  // Layer field slots 7-11: window_h, window_w, stride_h, stride_w, padding. Layer 0 is a 3x3 convolution.
  for (const slot of [7, 8]) {
    const moved = moveLayerField(conv, 0, slot, 'past-end');
    assert.is(
      codeOf(() => readManifest(moved)),
      'OUT_OF_BOUNDS',
      `slot ${slot}`,
    );
  }
  // Inside the table, a window field reads whatever byte is there: the layer rules judge it.
  assert.not.equal(
    codeOf(() => readManifest(moveLayerField(conv, 0, 7, 4))),
    'OUT_OF_BOUNDS',
  );
});

test('a manifest with padding or trailing bytes is not canonical', () => {
  const bytes = writeManifest(base);
  const longer = new Uint8Array(bytes.length + 4);
  longer.set(bytes);
  assert.is(
    codeOf(() => readManifest(longer)),
    'BAD_VALUE',
  );
});

test('a tiny artifact claiming 16 M entries fails fast as a FormatError', () => {
  const data = new Uint8Array(10).fill(0xa5);
  const manifest: Manifest = {
    ...structuredClone(base),
    layers: [],
    tensors: [
      {
        name: 'big',
        shape: [4096, 4096],
        encoding: 'codebook-sparse',
        bits: 2,
        codebook: Float32Array.from([0.5, -0.5]),
        scales: null,
        nonzero: 0,
        licensed: false,
      },
    ],
    segments: [{ tensor: 0, interval: BASE_INTERVAL, count: MAX_TENSOR_ELEMENTS, bytes: data.length, sha256: sha256(data) }],
  };
  const bytes = buildArtifactBytes(writeManifest(manifest), null, [], [data]);
  const started = process.memoryUsage().rss;
  assert.is(
    codeOf(() => readArtifact(bytes)),
    'TRUNCATED',
  );
  // No count-sized buffers: memory stays far below 16 M x 12 bytes.
  assert.ok(process.memoryUsage().rss - started < 64 * 1024 * 1024);
});

test('the encoder refuses what the reader would refuse', () => {
  const input = syntheticModel({ sizes: [8, 4, 2], sparsity: 0.5, bits: 2, intervals: 2 });
  assert.is(
    codeOf(() => encodeArtifact({ ...input, version: 0 })),
    'BAD_INPUT',
  );
  assert.is(
    codeOf(() => encodeArtifact({ ...input, model: '' })),
    'BAD_INPUT',
  );
  assert.is(
    codeOf(() => encodeArtifact({ ...input, tensors: [{ ...input.tensors[0]!, values: new Float32Array(3) }, ...input.tensors.slice(1)] })),
    'BAD_INPUT',
  );
  assert.is(
    codeOf(() => encodeArtifact({ ...input, tensors: [{ ...input.tensors[0]!, bits: 9 }, ...input.tensors.slice(1)] })),
    'BAD_INPUT',
  );
  assert.is(
    codeOf(() => encodeArtifact(input, { heldIntervals: [99] })),
    'BAD_INPUT',
  );
  const nan = Float32Array.from(input.tensors[1]!.values);
  nan[0] = NaN;
  assert.is(
    codeOf(() => encodeArtifact({ ...input, tensors: [input.tensors[0]!, { ...input.tensors[1]!, values: nan }, ...input.tensors.slice(2)] })),
    'BAD_INPUT',
  );
});

test.run();

// Convolutional models in the format (docs/format.md §3.1.1): version 2
// manifests carry every layer kind and read back equal; the writer refuses
// a chain whose shapes do not meet; the reader refuses forged layers;
// every truncation and byte change of a convolutional artifact is a
// FormatError or the same content.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeManifest } from '../../formats/artifact/manifest-writer.ts';
import { readManifest } from '../../formats/artifact/manifest-reader.ts';
import { outputLength, padBefore } from '../../formats/artifact/layer-graph.ts';
import { decodeTensor, encodeArtifact, FormatError, generateKeyPair, readArtifact, type Layer, type Manifest, type ModelInput } from '../../formats/index.ts';
import { CONV_INPUT_SHAPE, CONV_LAYERS, convModel } from '../fixtures/conv-model.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    return `${error.code}: ${error.message}`;
  }
  return 'none';
}

const model = convModel();
const bytes = encodeArtifact(model);
const artifact = readArtifact(bytes);

test('a convolutional model writes format version 2 and reads back its layers and tensors', () => {
  assert.is(artifact.manifest.formatVersion, 2);
  assert.equal(artifact.manifest.preprocess.inputShape, CONV_INPUT_SHAPE);
  assert.equal(
    artifact.manifest.layers.map((l) => ({ ...l })),
    model.layers,
  );
  model.tensors.forEach((tensor, t) => {
    assert.equal(artifact.manifest.tensors[t]!.shape, tensor.shape);
    assert.equal(Array.from(decodeTensor(artifact, t)), Array.from(tensor.values), `tensor ${tensor.name}`);
  });
  assert.equal(CONV_LAYERS.length, artifact.manifest.layers.length);
});

test('a dense-only model stays format version 1; relu6 alone makes version 2', () => {
  const dense = syntheticModel({ sizes: [8, 4, 2], intervals: 2 });
  assert.is(readArtifact(encodeArtifact(dense)).manifest.formatVersion, 1);
  dense.layers[0]!.activation = 'relu6';
  assert.is(readArtifact(encodeArtifact(dense)).manifest.formatVersion, 2);
});

test('geometry follows TensorFlow: valid and same sizes, padding split floor(pad / 2) before', () => {
  assert.is(outputLength(12, 3, 1, 'valid'), 10);
  assert.is(outputLength(12, 3, 2, 'valid'), 5);
  assert.is(outputLength(2, 3, 1, 'valid'), 0);
  assert.is(outputLength(12, 3, 2, 'same'), 6);
  assert.is(outputLength(5, 4, 2, 'same'), 3);
  // pad = (3 - 1) * 2 + 4 - 5 = 3: 1 before, 2 after
  assert.is(padBefore(5, 4, 2, 'same'), 1);
  assert.is(padBefore(12, 2, 1, 'same'), 0);
  assert.is(padBefore(12, 3, 1, 'valid'), 0);
});

function withLayer(index: number, change: (layer: Record<string, unknown>) => void): ModelInput {
  const m = convModel();
  const layer = { ...m.layers[index]! } as Record<string, unknown>;
  change(layer);
  m.layers[index] = layer as unknown as Layer;
  return m;
}

test('the writer refuses a chain whose shapes or windows do not meet, naming the layer', () => {
  const cases: Array<[string, ModelInput, RegExp]> = [
    ['zero window', withLayer(1, (l) => void (l.window = [0, 2])), /pool_1.*window/],
    ['zero stride', withLayer(0, (l) => void (l.strides = [1, 0])), /conv_1.*strides/],
    ['bad padding', withLayer(0, (l) => void (l.padding = 'full')), /conv_1.*padding/],
    ['channels do not meet', withLayer(2, (l) => void (l.inputs = 5)), /dw_1/],
    ['depthwise outputs not a multiple', withLayer(2, (l) => void (l.units = 13)), /dw_1/],
    ['pool changes channels', withLayer(3, (l) => void (l.units = 6)), /pool_2/],
    ['valid window larger than the map', withLayer(2, (l) => void (l.window = [9, 9])), /dw_1.*does not fit/],
    ['dense reads the wrong count', withLayer(6, (l) => void (l.inputs = 9)), /dense_1/],
    ['kernel shape', withLayer(4, (l) => void (l.window = [3, 3])), /pw_1.*kernel shape/],
    ['unknown kind', withLayer(5, (l) => void (l.kind = 'flatten')), /kind "flatten"/],
  ];
  for (const [label, input, pattern] of cases) {
    const outcome = codeOf(() => encodeArtifact(input));
    assert.ok(outcome.startsWith('BAD_INPUT'), `${label}: ${outcome}`);
    assert.match(outcome, pattern, label);
  }
  // A spatial first layer needs a map: a flat input shape is refused.
  const flat = convModel();
  flat.preprocess = { ...flat.preprocess, inputShape: [144] };
  assert.match(
    codeOf(() => encodeArtifact(flat)),
    /conv_1.*feature map/,
  );
});

function forged(change: (m: Manifest) => void): Uint8Array {
  const m: Manifest = structuredClone(artifact.manifest);
  change(m);
  return writeManifest(m);
}

test('the reader refuses forged layers with BAD_VALUE, an unknown version with UNSUPPORTED_VERSION', () => {
  const cases: Array<[string, Uint8Array, string]> = [
    ['version 1 with convolutions', forged((m) => void (m.formatVersion = 1)), 'BAD_VALUE'],
    ['version 3', forged((m) => void (m.formatVersion = 3)), 'UNSUPPORTED_VERSION'],
    ['a pool with an activation', forged((m) => void Object.assign(m.layers[1]!, { activation: 'relu' })), 'BAD_VALUE'],
    ['a pool with a kernel', forged((m) => void Object.assign(m.layers[1]!, { kernel: 2 })), 'BAD_VALUE'],
    ['global pooling with a window', forged((m) => void Object.assign(m.layers[5]!, { window: [2, 2], strides: [1, 1], padding: 'valid' })), 'BAD_VALUE'],
    ['a window past the map', forged((m) => void Object.assign(m.layers[2]!, { window: [40, 3] })), 'BAD_VALUE'],
    ['a kernel of the wrong shape', forged((m) => void Object.assign(m.layers[0]!, { units: 7 })), 'BAD_VALUE'],
  ];
  for (const [label, manifest, code] of cases) {
    const outcome = codeOf(() => readManifest(manifest));
    assert.ok(outcome.startsWith(code), `${label}: ${outcome}`);
  }
  // The untouched manifest reads.
  assert.is(
    codeOf(() => readManifest(forged(() => {}))),
    'none',
  );
});

test('every truncation and byte change of a signed convolutional artifact is refused or reads the same', () => {
  const keys = generateKeyPair();
  const signed = encodeArtifact(convModel({ sparsity: 0.8, intervals: 2 }), { privateKey: keys.privateKeyPem });
  const content = (a: ReturnType<typeof readArtifact>) =>
    JSON.stringify({ layers: a.manifest.layers, tensors: a.manifest.tensors.map((_, t) => Array.from(decodeTensor(a, t))) });
  const original = content(readArtifact(signed, { publicKey: keys.publicKeyPem }));
  let refused = 0;
  const check = (variant: Uint8Array, label: string) => {
    try {
      assert.is(content(readArtifact(variant, { publicKey: keys.publicKeyPem })), original, `${label} read as different content`);
    } catch (error) {
      if (!(error instanceof FormatError)) throw new Error(`${label}: ${(error as Error).message}`);
      refused++;
    }
  };
  for (let n = 0; n < signed.length; n++) check(signed.subarray(0, n), `truncated to ${n}`);
  for (let i = 0; i < signed.length; i++) {
    const variant = signed.slice();
    variant[i] ^= 0x5a;
    check(variant, `byte ${i} changed`);
  }
  assert.ok(refused >= signed.length, `${refused} variants refused`);
});

test.run();

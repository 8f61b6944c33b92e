// The convolutional presets built end to end with tiny settings on a slice
// of the digits: signed artifacts formats' reader accepts, with the layer
// kinds, kernel shapes and input shape of the preset; and a next version
// (--from) of a CNN keeps every segment.
// test: optimized-wasm (it trains with TF.js in this process)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeTensor, generateKeyPair, readArtifact } from '../../formats/index.ts';
import { runBuild, type BuildOptions } from '../../pipeline/build.ts';
import { kernelShape, parameterCount, weightedLayers } from '../../pipeline/model.ts';
import { PRESET_NAMES, presetSpec } from '../../pipeline/presets.ts';
import { digitSliceDir, tempDir, TINY_BUILD } from './helpers.ts';

// 1,200 training digits (100 of them validation) and 300 test digits.
const tiny: Omit<BuildOptions, 'outDir'> = { ...TINY_BUILD, data: `idx:${await digitSliceDir()}`, seed: 3 };
const keys = generateKeyPair();

const EXPECTED: Record<string, string[]> = {
  'cnn-mnist': ['conv2d', 'max-pool2d', 'conv2d', 'max-pool2d', 'dense', 'dense'],
  'dscnn-mnist': ['conv2d', 'depthwise-conv2d', 'conv2d', 'depthwise-conv2d', 'conv2d', 'global-avg-pool2d', 'dense'],
};

test('the presets are the ones listed, and the CNNs have 25-60 k parameters', () => {
  for (const name of Object.keys(EXPECTED)) assert.ok(PRESET_NAMES.includes(name), name);
  for (const name of Object.keys(EXPECTED)) {
    const params = parameterCount(presetSpec(name));
    assert.ok(params > 25_000 && params < 60_000, `${name}: ${params}`);
  }
});

const cnnDir = tempDir();

for (const preset of Object.keys(EXPECTED)) {
  test(`${preset} builds signed artifacts formats reads back: layer kinds, kernel shapes, input shape`, async () => {
    const outDir = preset === 'cnn-mnist' ? cnnDir : tempDir();
    const result = await runBuild({ ...tiny, preset, outDir, key: keys.privateKeyPem });
    assert.equal(
      result.artifacts.map((a) => a.tier),
      ['basic', 'full'],
    );
    const spec = presetSpec(preset);
    for (const { bytes } of result.artifacts) {
      const { manifest } = readArtifact(bytes, { publicKey: keys.publicKeyPem, requireSignature: true });
      assert.equal(
        manifest.layers.map((l) => l.kind),
        EXPECTED[preset],
      );
      assert.equal(manifest.preprocess.inputShape, [28, 28, 1]);
      assert.equal(
        manifest.tensors.filter((t) => t.licensed).map((t) => t.shape),
        weightedLayers(spec).map(kernelShape),
      );
    }
    const full = readArtifact(result.artifacts[1].bytes);
    // The artifact holds exactly the weights the build measured.
    result.modelInput.tensors.forEach((tensor, i) => {
      assert.ok(
        decodeTensor(full, i).every((v, j) => v === tensor.values[j] || (v === 0 && tensor.values[j] === 0)),
        tensor.name,
      );
    });
    assert.is(result.report.params, parameterCount(spec));
    assert.ok(result.report.tiers[1].accuracy > 0.3, `full tier accuracy ${result.report.tiers[1].accuracy}`);
  });
}

test('--from a cnn-mnist build: version 2 with every segment byte-identical, only codebooks moved', async () => {
  const next = await runBuild({ fromDir: cnnDir, outDir: tempDir(), key: keys.privateKeyPem });
  assert.is(next.report.version, 2);
  assert.is(next.report.from!.changedSegments.length, 0);
  const after = readArtifact(next.artifacts[1].bytes).manifest;
  assert.equal(
    after.layers.map((l) => l.kind),
    EXPECTED['cnn-mnist'],
  );
});

test.run();

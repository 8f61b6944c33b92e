// The pipeline's model spec: weighted layers and their kernel shapes,
// formats' layers with tensor indices, old specs without layer kinds, and
// how pruning shares a sparsity among layers (3x3 layers left whole).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kernelShape, parameterCount, specFromJson, specShapes, toFormatsLayers, weightedLayers } from '../../pipeline/model.ts';
import { presetSpec } from '../../pipeline/presets.ts';
import { allocateSparsity, isPrunable } from '../../pipeline/prune.ts';

test('presets: weighted layers, kernel shapes in TF.js layout, parameter counts, feature maps', () => {
  const cnn = presetSpec('cnn-mnist');
  assert.equal(weightedLayers(cnn).map(kernelShape), [
    [3, 3, 1, 8],
    [3, 3, 8, 16],
    [400, 128],
    [128, 10],
  ]);
  assert.is(parameterCount(cnn), 53_866);
  assert.equal(
    specShapes(cnn).map((s) => s.output),
    [[26, 26, 8], [13, 13, 8], [11, 11, 16], [5, 5, 16], [128], [10]],
  );
  const dscnn = presetSpec('dscnn-mnist');
  assert.equal(weightedLayers(dscnn).map(kernelShape), [
    [3, 3, 1, 32],
    [3, 3, 32, 1],
    [1, 1, 32, 96],
    [3, 3, 96, 1],
    [1, 1, 96, 512],
    [512, 10],
  ]);
  assert.is(parameterCount(dscnn), 59_562);
  assert.equal(specShapes(dscnn)[4].output, [4, 4, 512]);
  assert.is(parameterCount(presetSpec('paper-109k')), 109_386);
});

test('formats layers: weighted layer i has tensors 2i and 2i + 1; pooling layers none', () => {
  const layers = toFormatsLayers(presetSpec('cnn-mnist'));
  assert.equal(
    layers.map((l) => ('kernel' in l ? [l.kind, l.kernel, l.bias] : [l.kind])),
    [['conv2d', 0, 1], ['max-pool2d'], ['conv2d', 2, 3], ['max-pool2d'], ['dense', 4, 5], ['dense', 6, 7]],
  );
});

test('a spec saved before layer kinds reads as Dense layers; anything else is refused', () => {
  const old = { name: 'm', inputShape: [28, 28], layers: [{ name: 'a', inputs: 784, units: 16, activation: 'relu' }] };
  assert.equal(specFromJson(old)?.layers, [{ kind: 'dense', name: 'a', inputs: 784, units: 16, activation: 'relu' }]);
  assert.is(specFromJson({ ...old, layers: [{ kind: 'lstm', name: 'x' }] }), null);
  assert.is(specFromJson({ ...old, layers: [{ name: 'a', inputs: 784, units: 16, activation: 'gelu' }] }), null);
  assert.is(specFromJson({ ...old, inputShape: [0] }), null);
  const cnn = presetSpec('cnn-mnist');
  assert.equal(specFromJson(JSON.parse(JSON.stringify(cnn))), cnn);
});

test('pruning allocation: 3x3 layers over one channel and depthwise kernels keep every weight, the rest share the target', () => {
  const dscnn = presetSpec('dscnn-mnist');
  const layers = weightedLayers(dscnn);
  assert.equal(layers.map(isPrunable), [false, false, true, false, true, true]);
  const sizes = layers.map((l) => kernelShape(l).reduce((a, b) => a * b, 1));
  const s = allocateSparsity(
    sizes,
    0.9,
    -0.4,
    layers.map((l) => !isPrunable(l)),
  );
  assert.equal([s[0], s[1], s[3]], [0, 0, 0]);
  const mean = s.reduce((acc, v, i) => acc + v * sizes[i], 0) / sizes.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(mean - 0.9) < 1e-6, `mean ${mean}`);
  // Dense layers: every one is prunable, and the allocation is the one before layer kinds.
  const mlp = weightedLayers(presetSpec('paper-109k'));
  assert.ok(mlp.every(isPrunable));
  // Fixed layers that alone hold more than the target allows: every layer shares it.
  assert.equal(allocateSparsity([10, 1000], 0.999, -0.4, [true, false]), allocateSparsity([10, 1000], 0.999, -0.4));
});

test.run();

// The loader on convolutional models that TF.js itself makes and saves
// (tf.sequential and a tf.model chain, in both topology layouts): our
// forward pass gives TF.js' own predictions, BatchNormalization folded in;
// each chain it cannot represent is a typed error naming the layer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../../pipeline/backend.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import { forwardLogits, kernelTensors } from '../../pipeline/forward.ts';
import { loadLayersModel } from '../../pipeline/model-json.ts';
import { inputWidth, weightedLayers, type ModelSpec, type ModelWeights } from '../../pipeline/model.ts';
import { createRandom } from '../../pipeline/random.ts';
import { tempDir } from './helpers.ts';
import { saveLayersModel, type TopologyLayout } from './layers-models.ts';

const LAYOUTS: TopologyLayout[] = ['tfjs-native', 'keras-converter'];
const random = createRandom(5);

/** Random values for every weight, positive variances for BatchNormalization: the folding must matter. */
function randomize(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    layer.setWeights(
      weights.map((w, i) => {
        const values = Float32Array.from({ length: w.size }, () => random() * 2 - 1);
        const name = layer.weights[i].name;
        if (name.endsWith('/moving_variance')) for (let j = 0; j < values.length; j++) values[j] = 0.2 + Math.abs(values[j]) * 2;
        if (name.endsWith('/gamma')) for (let j = 0; j < values.length; j++) values[j] = 0.5 + values[j] * 0.4;
        return tf.tensor(values, w.shape);
      }),
    );
  }
}

/** Our forward pass with the last layer's softmax applied, as model.predict gives it. */
function ourPredictions(spec: ModelSpec, weights: ModelWeights, x: Float32Array, n: number): Float32Array {
  return tf.tidy(() => {
    const kernels = kernelTensors(spec, weights.kernels);
    const biases = weights.biases.map((b) => tf.tensor1d(b));
    const logits = forwardLogits(spec, kernels, biases, tf.tensor2d(x, [n, inputWidth(spec)]));
    const last = spec.layers[spec.layers.length - 1];
    return ('activation' in last && last.activation === 'softmax' ? tf.softmax(logits) : logits).dataSync() as Float32Array;
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= 2e-5 + 2e-4 * Math.abs(expected[i])))
      assert.unreachable(`${what}: at ${i} ours ${actual[i]}, TF.js ${expected[i]}`);
  }
}

async function samePredictions(model: tf.LayersModel, inputShape: number[], layout: TopologyLayout) {
  const path = await saveLayersModel(model, tempDir(), layout);
  const { spec, weights } = await loadLayersModel(path);
  const n = 6;
  const width = inputShape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n * width }, () => random());
  const expected = tf.tidy(() => (model.predict(tf.tensor(x, [n, ...inputShape])) as tf.Tensor).dataSync() as Float32Array);
  assertClose(ourPredictions(spec, weights, x, n), expected, layout);
  return { spec, weights, path };
}

function sequentialCnn(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, useBias: false }));
  model.add(tf.layers.batchNormalization({ epsilon: 0.01 }));
  model.add(tf.layers.reLU({}));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }));
  model.add(tf.layers.batchNormalization({}));
  model.add(tf.layers.reLU({ maxValue: 6 }));
  model.add(tf.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'relu' }));
  model.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }));
  model.add(tf.layers.flatten({}));
  model.add(tf.layers.dense({ units: 12 }));
  model.add(tf.layers.batchNormalization({}));
  model.add(tf.layers.activation({ activation: 'tanh' }));
  model.add(tf.layers.dropout({ rate: 0.3 }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  randomize(model);
  return model;
}

function functionalCnn(): tf.LayersModel {
  const input = tf.input({ shape: [144] });
  let h = tf.layers.reshape({ targetShape: [12, 12, 1] }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu6' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', useBias: false }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ scale: false }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 16, kernelSize: 1, activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 10 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.softmax().apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: h });
  randomize(model);
  return model;
}

test('a tf.sequential CNN (conv, BatchNormalization, pools, depthwise, flatten, dense) predicts as TF.js does, in both layouts', async () => {
  await selectBackend();
  const model = sequentialCnn();
  for (const layout of LAYOUTS) {
    const { spec, weights } = await samePredictions(model, [12, 12, 1], layout);
    assert.equal(
      spec.layers.map((l) => [l.kind, 'activation' in l ? l.activation : null]),
      [
        ['conv2d', 'relu'],
        ['max-pool2d', null],
        ['depthwise-conv2d', 'relu6'],
        ['conv2d', 'relu'],
        ['avg-pool2d', null],
        ['dense', 'tanh'],
        ['dense', 'softmax'],
      ],
    );
    assert.equal(spec.inputShape, [12, 12, 1]);
    const depthwise = spec.layers[2];
    assert.ok(depthwise.kind === 'depthwise-conv2d' && depthwise.units === 8 && depthwise.padding === 'same');
    // use_bias false: the folded BatchNormalization gives the conv its bias
    assert.ok(weights.biases[0].some((b) => b !== 0));
    assert.is(weightedLayers(spec).length, weights.kernels.length);
  }
});

test('a tf.model chain (Reshape at the input, strides, same / valid, GAP, Softmax layer) predicts as TF.js does, in both layouts', async () => {
  const model = functionalCnn();
  for (const layout of LAYOUTS) {
    const { spec } = await samePredictions(model, [144], layout);
    assert.equal(spec.inputShape, [12, 12, 1]);
    assert.equal(
      spec.layers.map((l) => l.kind),
      ['conv2d', 'depthwise-conv2d', 'conv2d', 'global-avg-pool2d', 'dense'],
    );
    const last = spec.layers[4];
    assert.ok(last.kind === 'dense' && last.activation === 'softmax');
  }
});

async function rejects(model: tf.LayersModel | (() => string), code: string, mentions: string[], edit?: (json: any) => void): Promise<void> {
  const path = typeof model === 'function' ? model() : await saveLayersModel(model, tempDir(), 'tfjs-native');
  if (edit) {
    const json = JSON.parse(readFileSync(path, 'utf8'));
    edit(json);
    writeFileSync(path, JSON.stringify(json));
  }
  try {
    await loadLayersModel(path);
  } catch (error) {
    assert.instance(error, PipelineError, String(error));
    assert.is((error as PipelineError).code, code, (error as Error).message);
    for (const m of mentions) assert.ok((error as Error).message.includes(m), `"${(error as Error).message}" should mention ${m}`);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

const seq = (...layers: tf.layers.Layer[]) => {
  const model = tf.sequential({ layers });
  randomize(model);
  return model;
};
const conv = (config: Partial<Parameters<typeof tf.layers.conv2d>[0]> = {}) => tf.layers.conv2d({ filters: 2, kernelSize: 3, ...config });

test('refusals: each chain the artifact cannot hold is a typed error naming the layer', async () => {
  const input = { inputShape: [8, 8, 1] };
  // BatchNormalization after a nonlinear activation, after a pooling layer, on the input
  await rejects(seq(conv({ ...input, activation: 'relu', name: 'c1' }), tf.layers.batchNormalization({ name: 'bn_after_relu' })), 'UNSUPPORTED_LAYER', [
    'bn_after_relu',
    'relu',
  ]);
  await rejects(
    seq(conv({ ...input }), tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.batchNormalization({ name: 'bn_after_pool' })),
    'UNSUPPORTED_LAYER',
    ['bn_after_pool', 'max-pool2d'],
  );
  await rejects(seq(tf.layers.batchNormalization({ ...input, name: 'bn_first' }), conv()), 'UNSUPPORTED_LAYER', ['bn_first', 'input']);
  // an activation layer after a pooling layer; a ReLU with another cap
  await rejects(
    seq(conv({ ...input }), tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.activation({ activation: 'relu', name: 'late_relu' })),
    'UNSUPPORTED_LAYER',
    ['late_relu'],
  );
  await rejects(seq(conv({ ...input }), tf.layers.reLU({ maxValue: 3, name: 'relu3' })), 'UNSUPPORTED_LAYER', ['relu3', 'max_value']);
  // softmax anywhere but a Dense layer
  await rejects(seq(conv({ ...input, activation: 'softmax', name: 'pixel_softmax' })), 'UNSUPPORTED_LAYER', ['pixel_softmax', 'softmax']);
  // dilation, groups, channels_first
  await rejects(seq(conv({ ...input, dilationRate: 2, name: 'dilated' })), 'UNSUPPORTED_LAYER', ['dilated', 'dilation_rate']);
  await rejects(seq(conv({ ...input, name: 'grouped' })), 'UNSUPPORTED_LAYER', ['grouped', 'groups'], (json) => {
    json.modelTopology.config.layers[0].config.groups = 2;
  });
  await rejects(seq(conv({ ...input, name: 'nchw' })), 'UNSUPPORTED_LAYER', ['nchw', 'channels_first'], (json) => {
    json.modelTopology.config.layers[0].config.data_format = 'channels_first';
  });
  // a Reshape that is not a no-op on the flat data; a Dense on a feature map (no Flatten)
  await rejects(seq(conv({ ...input }), tf.layers.reshape({ targetShape: [4, 9, 2], name: 'reshuffle' }), conv({ name: 'c_after' })), 'UNSUPPORTED_LAYER', [
    'reshuffle',
    'c_after',
  ]);
  await rejects(seq(conv({ ...input }), tf.layers.dense({ units: 3, name: 'per_pixel' })), 'UNSUPPORTED_LAYER', ['per_pixel', 'Flatten']);
  // a residual add in a functional model
  const x = tf.input({ shape: [8, 8, 2] });
  const a = conv({ padding: 'same', name: 'branch' }).apply(x) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'residual' }).apply([x, a]) as tf.SymbolicTensor;
  await rejects(tf.model({ inputs: x, outputs: sum }), 'UNSUPPORTED_LAYER', ['residual']);
  // sizes against the weight files: a wrong kernel shape, a truncated file
  await rejects(seq(conv({ ...input, name: 'sized' }), tf.layers.flatten(), tf.layers.dense({ units: 10 })), 'SHAPE_MISMATCH', ['sized/kernel'], (json) => {
    json.weightsManifest[0].weights[0].shape = [3, 3, 2, 1];
  });
  const truncated = await saveLayersModel(
    seq(tf.layers.depthwiseConv2d({ ...input, kernelSize: 3 }), tf.layers.flatten(), tf.layers.dense({ units: 10 })),
    tempDir(),
    'keras-converter',
  );
  const bin = join(truncated, '..', 'weights.bin');
  writeFileSync(bin, readFileSync(bin).subarray(0, 20));
  await rejects(() => truncated, 'BAD_WEIGHTS', ['weights.bin', 'truncated']);
});

test.run();

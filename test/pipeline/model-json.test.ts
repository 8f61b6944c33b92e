import { SHARED_MODELS, SHARED_MODELS_FOLDER } from '../shared-models.ts';
import { requiring } from '../requirements.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PipelineError } from '../../pipeline/errors.ts';
import { loadLayersModel } from '../../pipeline/model-json.ts';
import { tempDir, writeTinyModel } from './helpers.ts';

async function rejects(promise: Promise<unknown>, code: string, mentions: string[]): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, PipelineError);
    assert.is((error as PipelineError).code, code);
    for (const m of mentions) assert.ok((error as Error).message.includes(m), `"${(error as Error).message}" should mention ${m}`);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

const SHARED = SHARED_MODELS;

requiring(test, SHARED_MODELS_FOLDER)('the three shared models load: Keras-converted Model, tfjs-native Sequential and Model', async () => {
  const digits = await loadLayersModel(`${SHARED}/digitsjs-mnist-mlp/model.json`);
  assert.equal(
    digits.spec.layers.map((l) => l.units),
    [200, 100, 400, 100, 10],
  );
  assert.equal(digits.spec.inputShape, [28, 28]);
  assert.is(digits.weights.kernels[2].length, 100 * 400);
  for (const name of ['nnv-fashion-mnist-dense', 'nnv-mnist-dense']) {
    const { spec, weights } = await loadLayersModel(`${SHARED}/${name}/model.json`);
    assert.equal(
      spec.layers.map((l) => [l.kind, l.inputs, l.units, 'activation' in l ? l.activation : null]),
      [
        ['dense', 784, 64, 'relu'],
        ['dense', 64, 10, 'softmax'],
      ],
    );
    assert.equal(spec.inputShape, [28, 28, 1]);
    assert.is(weights.biases[1].length, 10);
  }
  // The bytes are read in manifest order: the first kernel value is the file's first float.
  const raw = readFileSync(`${SHARED}/nnv-mnist-dense/weights.bin`);
  const { weights } = await loadLayersModel(`${SHARED}/nnv-mnist-dense/model.json`);
  assert.is(weights.kernels[0][0], raw.readFloatLE(0));
});

test('damaged model.json: invalid JSON and a missing topology are BAD_MODEL_JSON naming the file', async () => {
  const dir = tempDir();
  const path = writeTinyModel(dir);
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.slice(0, text.length - 20));
  await rejects(loadLayersModel(path), 'BAD_MODEL_JSON', [path]);
  writeFileSync(path, JSON.stringify({ weightsManifest: [] }));
  await rejects(loadLayersModel(path), 'BAD_MODEL_JSON', [path, 'modelTopology']);
  await rejects(loadLayersModel(join(dir, 'absent.json')), 'MODEL_NOT_FOUND', ['absent.json']);
});

test('an unsupported layer is UNSUPPORTED_LAYER naming the layer and its class', async () => {
  const dir = tempDir();
  const path = writeTinyModel(dir);
  const json = JSON.parse(readFileSync(path, 'utf8'));
  json.modelTopology.config.layers.splice(2, 0, { class_name: 'Conv2D', config: { name: 'conv_x', filters: 4 } });
  writeFileSync(path, JSON.stringify(json));
  await rejects(loadLayersModel(path), 'UNSUPPORTED_LAYER', ['conv_x', 'Conv2D', path]);
});

test('a truncated or oversized weights file is BAD_WEIGHTS naming it; a wrong shape is SHAPE_MISMATCH', async () => {
  const dir = tempDir();
  const path = writeTinyModel(dir);
  const bin = join(dir, 'weights.bin');
  const bytes = readFileSync(bin);
  writeFileSync(bin, bytes.subarray(0, bytes.length - 8));
  await rejects(loadLayersModel(path), 'BAD_WEIGHTS', ['weights.bin', 'truncated']);
  writeFileSync(bin, Buffer.concat([bytes, Buffer.alloc(4)]));
  await rejects(loadLayersModel(path), 'BAD_WEIGHTS', ['weights.bin']);
  writeFileSync(bin, bytes);
  const json = JSON.parse(readFileSync(path, 'utf8'));
  json.weightsManifest[0].weights[1].shape = [15];
  json.weightsManifest[0].weights[0].shape = [784, 16];
  json.weightsManifest[0].weights.push({ name: 'pad', shape: [1], dtype: 'float32' });
  writeFileSync(path, JSON.stringify(json));
  await rejects(loadLayersModel(path), 'SHAPE_MISMATCH', ['dense_a/bias']);
});

test.run();

// Each stage alone on a small model (784-16-10) and a slice of the digits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { selectBackend } from '../../pipeline/backend.ts';
import { fineTuneCentroids } from '../../pipeline/centroid-tuning.ts';
import { loadDataset, type DatasetSplit } from '../../pipeline/datasets.ts';
import { evaluateAccuracy } from '../../pipeline/evaluate.ts';
import { countNonzero, type ModelSpec } from '../../pipeline/model.ts';
import { allocateSparsity, magnitudeMask, pruneIteratively } from '../../pipeline/prune.ts';
import { kmeans1d, NO_CODE, sharedKernels, shareWeights } from '../../pipeline/share.ts';
import { initialWeights, trainWeights } from '../../pipeline/train.ts';

const spec: ModelSpec = {
  name: 'tiny',
  inputShape: [28, 28],
  layers: [
    { kind: 'dense', name: 'a', inputs: 784, units: 16, activation: 'relu' },
    { kind: 'dense', name: 'b', inputs: 16, units: 10, activation: 'softmax' },
  ],
};

function slice(split: DatasetSplit, count: number): DatasetSplit {
  return { samples: split.samples.subarray(0, count * 784), labels: split.labels.subarray(0, count), count };
}

const data = await loadDataset('mnist');
const train = slice(data.train, 2000);
const validation = data.validation;

test('the backend is one of tensorflow / wasm / cpu and computes', async () => {
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(await selectBackend()));
});

let trained = initialWeights(spec, 1);

test('train: three epochs on 2,000 digits beat chance by far', async () => {
  const before = evaluateAccuracy(spec, trained, validation, 784);
  trained = await trainWeights(spec, trained, train, 10, { epochs: 3, seed: 1, learningRate: 0.003 });
  const after = evaluateAccuracy(spec, trained, validation, 784);
  assert.ok(after > 0.75, `accuracy ${after}`);
  assert.ok(after > before + 0.3);
});

test('prune: allocation averages to the target, and the first (largest) layer is pruned hardest', () => {
  const sizes = [100352, 8192, 640];
  const s = allocateSparsity(sizes, 0.9);
  const mean = s.reduce((acc, v, i) => acc + v * sizes[i], 0) / sizes.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(mean - 0.9) < 1e-6);
  assert.ok(s[0] > s[1] && s[1] > s[2]);
  assert.equal(allocateSparsity([10, 10], 0), [0, 0]);
});

test('prune: magnitudeMask keeps exactly the k largest magnitudes', () => {
  const mask = magnitudeMask(Float32Array.from([0.1, -0.9, 0.3, 0, -0.2, 0.5]), 3);
  assert.equal(Array.from(mask), [0, 1, 1, 0, 0, 1]);
  assert.is(
    magnitudeMask(Float32Array.from([1, 1, 1, 1]), 2).reduce((a, b) => a + b, 0),
    2,
  );
});

test('prune: iterative pruning reaches the sparsity and fine-tuning keeps masked weights at zero', async () => {
  const result = await pruneIteratively(spec, trained, train, 10, { sparsity: 0.8, rounds: 2, epochsPerRound: 1, seed: 1 });
  const kernels = result.weights.kernels;
  const total = kernels.reduce((n, k) => n + k.length, 0);
  const sparsity = 1 - countNonzero(kernels) / total;
  assert.ok(Math.abs(sparsity - 0.8) < 0.002, `sparsity ${sparsity}`);
  for (let l = 0; l < kernels.length; l++) {
    for (let i = 0; i < kernels[l].length; i++) {
      if (result.masks[l][i] === 0) assert.is(kernels[l][i], 0);
    }
  }
  assert.ok(evaluateAccuracy(spec, result.weights, validation, 784) > 0.7);
  trained = result.weights;
});

test('share: k-means gives at most 2^b ascending centroids; every weight becomes one, zeros stay zero', async () => {
  const centroids = kmeans1d(Float32Array.from([1, 1.1, 5, 5.2, 9, -3, -3.1]), 4);
  assert.ok(centroids.length <= 4);
  for (let i = 1; i < centroids.length; i++) assert.ok(centroids[i] >= centroids[i - 1]);
  for (const bits of [2, 4]) {
    const shared = shareWeights(trained, bits);
    const kernels = sharedKernels(shared);
    shared.forEach((layer, l) => {
      assert.ok(layer.codebook.length <= 1 << bits);
      assert.ok(new Set(kernels[l]).size <= (1 << bits) + 1);
      for (let i = 0; i < kernels[l].length; i++) {
        assert.is(kernels[l][i] === 0, trained.kernels[l][i] === 0);
        if (layer.codes[i] !== NO_CODE) assert.is(kernels[l][i], layer.codebook[layer.codes[i]]);
      }
    });
  }
});

test('share: centroid fine-tuning moves centroids, never codes', async () => {
  const shared = shareWeights(trained, 3);
  const tuned = await fineTuneCentroids(spec, trained, shared, slice(train, 500), 10, { epochs: 1, seed: 3, learningRate: 0.001 });
  tuned.forEach((layer, l) => {
    assert.is(layer.codes, shared[l].codes);
    assert.is(layer.codebook.length, shared[l].codebook.length);
  });
  assert.ok(tuned.some((layer, l) => layer.codebook.some((c, i) => c !== shared[l].codebook[i])));
});

test.run();

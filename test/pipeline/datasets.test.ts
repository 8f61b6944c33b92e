import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset, mnistDigits } from '../../pipeline/datasets.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import { parseIdx } from '../../pipeline/idx.ts';
import { idxBytes, tempDir, writeIdxDir } from './helpers.ts';

async function rejects(promise: Promise<unknown>, code: string, mention: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, PipelineError);
    assert.is((error as PipelineError).code, code);
    assert.ok((error as Error).message.includes(mention), `"${(error as Error).message}" should name ${mention}`);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('mnist: 7,000 / 1,000 / 2,000 raw bytes, labels 0..9, the same split every time', async () => {
  const a = await loadDataset('mnist');
  assert.equal([a.train.count, a.validation.count, a.test.count], [7000, 1000, 2000]);
  assert.is(a.train.samples.length, 7000 * 784);
  assert.equal(a.inputShape, [28, 28]);
  let max = 0;
  for (const v of a.test.samples) if (v > max) max = v;
  assert.is(max, 255);
  const classes = new Set(a.train.labels);
  assert.is(classes.size, 10);
  const b = await loadDataset('mnist');
  assert.equal(Buffer.compare(Buffer.from(a.test.samples), Buffer.from(b.test.samples)), 0);
  const other = await loadDataset('mnist', { seed: 2 });
  assert.not.equal(Buffer.compare(Buffer.from(a.test.labels), Buffer.from(other.test.labels)), 0);
});

test('mnist: the cached digits are the parsed ones; a damaged cache is parsed again and rewritten', async () => {
  const cacheDir = tempDir();
  const parsed = await mnistDigits({ cacheDir: null });
  assert.is(parsed.labels.length, 10000);
  assert.is(parsed.samples.length, 10000 * 784);
  assert.equal(readdirSync(cacheDir), [], 'no cache with cacheDir null');
  const first = await mnistDigits({ cacheDir });
  const [file] = readdirSync(cacheDir);
  assert.match(file, /^mnist-[0-9a-f]{16}\.bin$/);
  assert.is(statSync(join(cacheDir, file)).size, 4 + 10000 * 785);
  const cached = await mnistDigits({ cacheDir });
  for (const got of [first, cached]) {
    assert.ok(Buffer.from(got.samples).equals(Buffer.from(parsed.samples)));
    assert.ok(Buffer.from(got.labels).equals(Buffer.from(parsed.labels)));
  }
  // Cut short, or of another length: not used, parsed again, and the cache is whole again.
  for (const damaged of [Buffer.alloc(0), Buffer.alloc(100), readFileSync(join(cacheDir, file)).subarray(0, 4 + 10000 * 785 - 1)]) {
    writeFileSync(join(cacheDir, file), damaged);
    const again = await mnistDigits({ cacheDir });
    assert.ok(Buffer.from(again.samples).equals(Buffer.from(parsed.samples)));
    assert.is(statSync(join(cacheDir, file)).size, 4 + 10000 * 785);
  }
  assert.equal(readdirSync(cacheDir), [file], 'no temporary file left');
});

test('idx: plain and gzipped directories load; train splits into train + validation', async () => {
  for (const gzip of [false, true]) {
    const dir = tempDir();
    writeIdxDir(dir, 24, 6, gzip);
    const data = await loadDataset(`idx:${dir}`);
    assert.is(data.train.count + data.validation.count, 24);
    assert.is(data.validation.count, 2);
    assert.is(data.test.count, 6);
    assert.is(data.test.labels[3], 3);
  }
});

test('idx: a wrong magic number is BAD_MAGIC naming the file', async () => {
  const dir = tempDir();
  writeIdxDir(dir, 12, 3, false);
  const file = join(dir, 't10k-labels-idx1-ubyte');
  writeFileSync(file, idxBytes([3], new Uint8Array(3), 0x0803));
  await rejects(loadDataset(`idx:${dir}`), 'BAD_MAGIC', file);
});

test('idx: truncated data is TRUNCATED, extra bytes and count mismatches are SIZE_MISMATCH', async () => {
  const dir = tempDir();
  writeIdxDir(dir, 12, 3, false);
  const images = join(dir, 'train-images-idx3-ubyte');
  writeFileSync(images, idxBytes([12, 28, 28], new Uint8Array(11 * 784)));
  await rejects(loadDataset(`idx:${dir}`), 'TRUNCATED', images);
  writeFileSync(images, idxBytes([12, 28, 28], new Uint8Array(12 * 784 + 5)));
  await rejects(loadDataset(`idx:${dir}`), 'SIZE_MISMATCH', images);
  writeFileSync(images, idxBytes([11, 28, 28], new Uint8Array(11 * 784)));
  await rejects(loadDataset(`idx:${dir}`), 'SIZE_MISMATCH', 'train-labels-idx1-ubyte');
  writeFileSync(images, idxBytes([12, 28, 28], new Uint8Array(12 * 784)));
  unlinkSync(join(dir, 't10k-images-idx3-ubyte'));
  const gz = join(dir, 't10k-images-idx3-ubyte.gz');
  writeFileSync(gz, new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]));
  await rejects(loadDataset(`idx:${dir}`), 'TRUNCATED', 't10k-images');
});

test('idx: a header shorter than its dimensions is TRUNCATED; a missing dir is NOT_FOUND; bad spec is BAD_SPEC', async () => {
  assert.throws(
    () => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0]), 3, 'x.idx'),
    (e: PipelineError) => e.code === 'TRUNCATED' && e.message.startsWith('x.idx'),
  );
  await rejects(loadDataset('idx:/nonexistent/dir'), 'NOT_FOUND', '/nonexistent/dir');
  await rejects(loadDataset('cifar'), 'BAD_SPEC', 'cifar');
});

test.run();

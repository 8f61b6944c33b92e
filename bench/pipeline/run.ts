// The pipeline benchmark (not a timed test): `build` with default options
// (the --max-drop 1 search) for the paper's two MLPs on MNIST digits and on
// Fashion-MNIST. Per run: the setting the search chose and how far the full
// tier is below the input model on validation (the budget's measure),
// full-tier bytes, ratio to dense float32 (437,544 / 407,080 B), test
// accuracy of the full artifact against the dense model trained the same way
// (same run, before pruning), and build seconds. Targets: full tier
// <= 10,900 B within 1.0 point of dense; paper-109k on MNIST in under 120 s on 2 cores.
//
//   npx tsx bench/pipeline/run.ts            all four runs, writes bench/results/pipeline.json
//   npx tsx bench/pipeline/run.ts --quick    MNIST only
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBuild, type ProgressSink } from '../../pipeline/build.ts';

const FASHION = 'idx:/usr/share/datasets/fashion-mnist';
const TARGET_BYTES = 10_900;

interface Row {
  preset: string;
  data: string;
  backend: string;
  denseFloat32Bytes: number;
  fullBytes: number;
  ratio: number;
  denseAccuracy: number | null;
  fullAccuracy: number;
  pointsBelowDense: number | null;
  /** The search's choice (null: fixed settings) and the full tier's points below the input model on validation. */
  chosen: { sparsity: number; bits: number } | null;
  validationDrop: number | null;
  tiers: Array<{ name: string; bytes: number; accuracy: number }>;
  seconds: number;
  meetsBytes: boolean;
  meetsAccuracy: boolean;
}

const logProgress: ProgressSink = {
  start() {},
  update() {},
  stop() {},
  log(line) {
    process.stderr.write(`  ${line}\n`);
  },
};

export async function runPipelineBench(options: { quick?: boolean } = {}): Promise<object> {
  const runs: Array<[string, string]> = [
    ['paper-109k', 'mnist'],
    ['paper-101k', 'mnist'],
  ];
  if (!options.quick) runs.push(['paper-109k', FASHION], ['paper-101k', FASHION]);
  const rows: Row[] = [];
  for (const [preset, data] of runs) {
    process.stderr.write(`pipeline bench: build --preset ${preset} --data ${data}\n`);
    const outDir = join(tmpdir(), `wg-bench-${preset}-${process.pid}`);
    const started = performance.now();
    const { report } = await runBuild({ preset, data, outDir }, logProgress);
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    rmSync(outDir, { recursive: true, force: true });
    const full = report.tiers[report.tiers.length - 1];
    const gap = report.accuracy.dense === null ? null : Math.round((report.accuracy.dense - full.accuracy) * 10000) / 100;
    rows.push({
      preset,
      data: data === 'mnist' ? 'mnist' : 'fashion-mnist',
      backend: report.backend,
      denseFloat32Bytes: report.denseFloat32Bytes,
      fullBytes: full.artifactBytes,
      ratio: Math.round(report.compressionRatio * 10) / 10,
      denseAccuracy: report.accuracy.dense,
      fullAccuracy: full.accuracy,
      pointsBelowDense: gap,
      chosen: report.search?.chosen ?? null,
      validationDrop: report.inputValidationAccuracy === null ? null : Math.round((report.inputValidationAccuracy - full.validationAccuracy) * 10000) / 100,
      tiers: report.tiers.map((t) => ({ name: t.name, bytes: t.artifactBytes, accuracy: t.accuracy })),
      seconds,
      meetsBytes: full.artifactBytes <= TARGET_BYTES,
      meetsAccuracy: gap !== null && gap <= 1.0,
    });
  }
  for (const r of rows) process.stdout.write(`${r.preset} ${r.data}: ${r.fullBytes} B, ${r.ratio}x, test ${r.fullAccuracy}, ${r.seconds} s\n`);
  const result = { targetBytes: TARGET_BYTES, cpus: (await import('node:os')).cpus().length, rows };
  const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  const out = join(resultsDir, 'pipeline.json');
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`pipeline bench: wrote ${out}\n`);
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runPipelineBench({ quick: process.argv.includes('--quick') });
}

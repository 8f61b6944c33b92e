// `npm run bench`: runs bench/formats, bench/pipeline (and its seeds run), bench/server,
// bench/device, bench/push (and its scale run), bench/firmware,
// bench/patches and bench/cnn one after another (never at once: they would measure each
// other), then writes bench/results/latest.json and latest.md, one table of
// every figure beside its target and its same-run reference.
//
//   npm run bench                  all of them
//   npm run bench -- formats device   only these (the others' last results are reused)
//   npm run bench -- --summary         no run: rebuild the table from the last results
//
// Every run ends by rewriting the README's generated blocks (bench/readme.ts).
//
// Timed figures need a quiet machine: run nothing else meanwhile.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReadme } from './readme.ts';
import { summarizeFirmware } from './firmware/summary.ts';
import {
  renderSummaryMarkdown,
  summarizeDevice,
  summarizeFormats,
  summarizeCnn,
  summarizePatches,
  summarizePipeline,
  summarizePipelineSeeds,
  summarizePush,
  summarizePushScale,
  summarizeServer,
  type BenchRun,
  renderMeasuredLine,
  type SummaryRow,
} from './summary.ts';

interface Bench {
  name: string;
  run: () => Promise<object>;
  summarize: (result: object) => SummaryRow[];
}

const BENCHES: Bench[] = [
  { name: 'formats', run: async () => (await import('./formats/run.ts')).runFormatsBench(), summarize: summarizeFormats },
  { name: 'pipeline', run: async () => (await import('./pipeline/run.ts')).runPipelineBench(), summarize: summarizePipeline },
  { name: 'pipeline-seeds', run: async () => (await import('./pipeline/seeds.ts')).runPipelineSeedsBench(), summarize: summarizePipelineSeeds },
  { name: 'server', run: async () => (await import('./server/run.ts')).runServerBench(), summarize: summarizeServer },
  { name: 'device', run: runDeviceBenchOnBuild, summarize: summarizeDevice },
  { name: 'push', run: async () => (await import('./push/run.ts')).runPushBench(), summarize: summarizePush },
  { name: 'push-scale', run: async () => (await import('./push/scale.ts')).runPushScaleBench(), summarize: summarizePushScale },
  { name: 'firmware', run: runFirmwareBenchOnBuild, summarize: summarizeFirmware },
  { name: 'patches', run: runPatchesBenchOnBuild, summarize: summarizePatches },
  { name: 'cnn', run: async () => (await import('./cnn/run.ts')).runCnnBench(), summarize: summarizeCnn },
];

/**
 * The device and firmware benches measure the artifact a default `build
 * --preset paper-109k` writes (the device bench also checks its accuracy
 * per tier against that build's report): built once per run, on first use,
 * unless BENCH_ARTIFACT / BUILD_DIR already name one.
 */
let sharedBuild: string | null = null;

async function paperBuild(): Promise<void> {
  if (process.env.BENCH_ARTIFACT || process.env.BUILD_DIR) return;
  const { runBuild } = await import('../pipeline/build.ts');
  sharedBuild = mkdtempSync(join(tmpdir(), 'wg-bench-build-'));
  process.stderr.write(`bench: building paper-109k with the default options into ${sharedBuild}\n`);
  await runBuild({ preset: 'paper-109k', outDir: sharedBuild });
  process.env.BENCH_ARTIFACT = join(sharedBuild, 'full.wgm');
  process.env.BUILD_DIR = sharedBuild;
}

async function runDeviceBenchOnBuild(): Promise<object> {
  const { runDeviceBench } = await import('./device/run.ts');
  await paperBuild();
  return runDeviceBench();
}

async function runFirmwareBenchOnBuild(): Promise<object> {
  const { runFirmwareBench } = await import('./firmware/run.ts');
  await paperBuild();
  return runFirmwareBench(process.env.BENCH_ARTIFACT!);
}

async function runPatchesBenchOnBuild(): Promise<object> {
  const { runPatchesBench } = await import('./patches/run.ts');
  await paperBuild();
  return runPatchesBench(process.env.BUILD_DIR!);
}

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

async function main(args: string[]): Promise<void> {
  // Measure the program as `weightgate` runs it (bin/weightgate.js); the benches are imported after this line.
  process.env.NODE_ENV ??= 'production';
  // The machine's load when the run starts: timed figures are read beside it.
  const startLoad = loadavg();
  const summaryOnly = args.includes('--summary');
  const selected = args.filter((arg) => arg !== '--summary');
  const unknown = selected.filter((name) => !BENCHES.some((b) => b.name === name));
  if (unknown.length) {
    process.stderr.write(`npm run bench: unknown bench ${unknown.join(', ')}; choose from ${BENCHES.map((b) => b.name).join(', ')}\n`);
    process.exit(2);
  }
  // bench/server drives load with wrk: say so now, not after the benches before it have run.
  const wantsServer = !summaryOnly && (selected.length === 0 || selected.includes('server'));
  if (wantsServer && spawnSync('wrk', ['--version']).error) {
    process.stderr.write('npm run bench: bench/server needs wrk (apt-get install wrk); install it or run the other benches by name\n');
    process.exit(2);
  }
  mkdirSync(resultsDir, { recursive: true });
  const results: Record<string, { fresh: boolean; seconds: number | null; result: object | null }> = {};
  for (const bench of BENCHES) {
    const wanted = !summaryOnly && (selected.length === 0 || selected.includes(bench.name));
    if (!wanted) {
      const file = `${resultsDir}${bench.name}.json`;
      results[bench.name] = { fresh: false, seconds: null, result: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null };
      continue;
    }
    process.stderr.write(`\n== bench/${bench.name} ==\n`);
    const started = performance.now();
    // Every result carries the time it was measured (the summary dates its rows by it).
    const result = { when: new Date().toISOString(), ...(await bench.run()) };
    results[bench.name] = { fresh: true, seconds: Math.round((performance.now() - started) / 100) / 10, result };
    // Every bench's detail sits in results/<name>.json, whoever ran it.
    writeFileSync(`${resultsDir}${bench.name}.json`, JSON.stringify(result, null, 2) + '\n');
  }
  const rows = BENCHES.flatMap((bench) => {
    const entry = results[bench.name];
    return entry?.result ? bench.summarize(entry.result) : [];
  });
  // A summary-only run keeps the date and machine of the run that measured.
  const previousFile = `${resultsDir}latest.json`;
  const stored = existsSync(previousFile) ? JSON.parse(readFileSync(previousFile, 'utf8')) : null;
  const previous = summaryOnly ? stored : null;
  const machine = previous?.machine ?? { cpus: cpus().length, cpu: cpus()[0]?.model ?? '', node: process.version, loadavg: startLoad };
  const when = previous?.when ?? new Date().toISOString();
  // Each area's own date and machine: this run's for the benches it ran, else
  // what the stored summary recorded, else the result's own `when`.
  const fresh = previous?.fresh ?? BENCHES.filter((bench) => results[bench.name]?.fresh).map((bench) => bench.name);
  const measured: Record<string, BenchRun> = {};
  for (const bench of BENCHES) {
    const result = results[bench.name]?.result as { when?: string } | null | undefined;
    if (!result) continue;
    measured[bench.name] = fresh.includes(bench.name)
      ? (previous?.measured?.[bench.name] ?? { when, ...machine })
      : (stored?.measured?.[bench.name] ?? { when: result.when ?? null });
  }
  const latest = { when, machine, fresh, measured, rows, results };
  writeFileSync(previousFile, JSON.stringify(latest, null, 2) + '\n');
  const markdown = `${renderMeasuredLine(latest)}\n\n${renderSummaryMarkdown(rows)}`;
  writeFileSync(`${resultsDir}latest.md`, markdown);
  process.stdout.write('\n' + markdown);
  if (sharedBuild) rmSync(sharedBuild, { recursive: true, force: true });
  const readme = fileURLToPath(new URL('../README.md', import.meta.url));
  const changed = writeReadme(readme, resultsDir);
  process.stderr.write(`\nwrote ${resultsDir}latest.json and latest.md${changed ? '; README.md tables updated' : ''}\n`);
}

await main(process.argv.slice(2));

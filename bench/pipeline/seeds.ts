// How much the headline build depends on its seed (not a timed test): the
// default `build --preset paper-109k` (the --max-drop 1 search) at several
// seeds, against the earlier ladder (whole-point steps) and without sample shifts, to
// see whether the choice the search makes on its 1,000-digit validation
// split holds on the 2,000-digit test split. The seed sets the initial weights and the
// shuffling; the data split stays the same.
//
// Per build: the setting chosen, the validation drop against the input
// model (the budget's measure), the test drop against the dense model, and
// the full tier's bytes unsigned and signed (the artifact signed here with a
// throwaway Ed25519 key: a signature costs the same bytes whatever the key).
// The 64x target of the paper-109k artifact is at most 6,837 B signed.
//
// Builds are deterministic for a seed, so they run two at a time (child
// processes, the compiled CLI); their seconds are wall time beside the other
// build, not a timing of one alone.
//
//   npx tsx bench/run-all.ts pipeline-seeds      (writes bench/results/pipeline-seeds.json and the README block)
//   BENCH_SEEDS=1,2,3,4,5 npx tsx bench/pipeline/seeds.ts   (default seeds 1-4)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, signArtifact } from '../../formats/index.ts';
import { DEFAULTS } from '../../pipeline/build-options.ts';
import { fullTierDrop, type BuildReport } from '../../pipeline/report.ts';
import type { SearchSchedule } from '../../pipeline/search.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SEEDS = (process.env.BENCH_SEEDS ?? '1,2,3,4').split(',').map(Number);
/** The 64x target: dense float32 bytes / 64, signed. */
const TARGET_SIGNED_BYTES = 6_837;
const MAX_DROP = DEFAULTS.maxDrop;

/** The ladder before its half-point steps (96.5 and 97.5 %). */
const WHOLE_STEPS = DEFAULTS.searchSparsities.filter((x) => Math.round(x * 1000) % 10 === 0);
/**
 * The builds compared: today's default (a preset trains on samples shifted
 * by up to a pixel; the ladder climbs in half points from 96 to 98 %); the
 * earlier default, whole points only; and the default without the shifts
 * (--augment 0).
 */
const LADDERS: Array<{ name: string; sparsities: number[]; augment: number }> = [
  { name: 'default', sparsities: DEFAULTS.searchSparsities, augment: DEFAULTS.presetAugment },
  { name: 'whole-point steps', sparsities: WHOLE_STEPS, augment: DEFAULTS.presetAugment },
  { name: '--augment 0', sparsities: DEFAULTS.searchSparsities, augment: 0 },
];

interface Row {
  ladder: string;
  seed: number;
  sparsity: number;
  bits: number;
  /** How the chosen masks were reached: on the ladder, or rebuilt from dense (--prune-rounds). */
  schedule: SearchSchedule;
  /** The build's wall time, two builds sharing the machine. */
  seconds: number;
  /** Points below the input model on validation (what the search may look at). */
  validationDrop: number;
  /** Points below the dense model on test (never used to choose). */
  testDrop: number;
  fullBytes: number;
  signedBytes: number;
  denseFloat32Bytes: number;
  withinBudget: boolean;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function build(seed: number, sparsities: number[], augment: number, outDir: string): Promise<void> {
  const args = ['bin/weightgate.js', 'build', '--preset', 'paper-109k', '--seed', String(seed), '--search-sparsities', sparsities.join(',')];
  args.push('--augment', String(augment), '--out', outDir);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    // Exit 1: no setting met the budget; the closest was written and is reported as such.
    child.on('close', (code) => (code === 0 || code === 1 ? resolve() : reject(new Error(`build --seed ${seed} exited ${code}: ${stderr.slice(-500)}`))));
  });
}

async function measure(ladder: (typeof LADDERS)[number], seed: number, key: string): Promise<Row> {
  const outDir = mkdtempSync(join(tmpdir(), `wg-bench-seeds-${seed}-`));
  try {
    process.stderr.write(`pipeline-seeds: ${ladder.name} ladder, seed ${seed}\n`);
    await build(seed, ladder.sparsities, ladder.augment, outDir);
    const full = new Uint8Array(readFileSync(join(outDir, 'full.wgm')));
    const report: BuildReport = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8'));
    return {
      ladder: ladder.name,
      seed,
      sparsity: report.search!.chosen.sparsity,
      bits: report.search!.chosen.bits,
      schedule: report.search!.chosen.schedule,
      seconds: report.seconds.total,
      validationDrop: round2(fullTierDrop(report)!),
      testDrop: round2((report.accuracy.dense! - report.accuracy.quantized) * 100),
      fullBytes: full.length,
      signedBytes: signArtifact(full, key).length,
      denseFloat32Bytes: report.denseFloat32Bytes,
      withinBudget: report.search!.met,
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

export async function runPipelineSeedsBench(): Promise<object> {
  const { privateKeyPem } = generateKeyPair();
  const jobs = LADDERS.flatMap((ladder) => SEEDS.map((seed) => ({ ladder, seed })));
  const rows: Row[] = new Array(jobs.length);
  const loadBefore = loadavg();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      rows[i] = await measure(jobs[i]!.ladder, jobs[i]!.seed, privateKeyPem);
    }
  };
  await Promise.all([worker(), worker()]);
  const summaries = LADDERS.map(({ name, sparsities }) => {
    const mine = rows.filter((r) => r.ladder === name);
    return {
      ladder: name,
      sparsities,
      builds: mine.length,
      /** Within the budget on validation (the build's contract). */
      withinValidationBudget: mine.filter((r) => r.validationDrop <= MAX_DROP + 1e-9).length,
      /** Within 1 point of dense on test too (the README's check). */
      withinOnTest: mine.filter((r) => r.testDrop <= MAX_DROP + 1e-9).length,
      /** Signed full tier at most the 64x target. */
      within64x: mine.filter((r) => r.signedBytes <= TARGET_SIGNED_BYTES).length,
      signedBytes: { min: Math.min(...mine.map((r) => r.signedBytes)), max: Math.max(...mine.map((r) => r.signedBytes)) },
      worstTestDrop: Math.max(...mine.map((r) => r.testDrop)),
    };
  });
  return {
    when: new Date().toISOString(),
    model: 'paper-109k on the MNIST digits, default build (--max-drop 1 search)',
    seeds: SEEDS,
    maxDrop: MAX_DROP,
    targetSignedBytes: TARGET_SIGNED_BYTES,
    rows,
    summaries,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', loadBefore: loadBefore.map(round2), loadAfter: loadavg().map(round2) },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runPipelineSeedsBench();
  writeFileSync(join(root, 'bench', 'results', 'pipeline-seeds.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify((result as { summaries: unknown }).summaries, null, 2)}\n`);
}

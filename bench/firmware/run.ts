// bench/firmware as one of `npm run bench`'s benches: instructions per
// sample (count.ts, on the given artifact and the synthetic 80 % one), code
// size per Cortex-M target (firmware/size/report.sh, then size.ts), and the
// arena the library plans for the artifact (device-sim's firmwarePlan, the
// formula wg_plan computes on the part), and the update half's figures
// (update.ts: patches applied by the C library on simulated flash, its code
// size), and what each update kind costs the device's CPU (update-cost.ts:
// Cortex-M4F instructions in QEMU against one SHA-256 and one Ed25519
// verification). Returns count.ts's JSON with `size`, `plan`, `update` and
// `updateCost` added;
// run-all writes it to bench/results/firmware.json.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readArtifact } from '../../formats/index.ts';
import { firmwarePlan } from '../../device-sim/firmware-plan.ts';
import { loadArtifactOnProfile, scoreSplit } from '../../device-sim/check-artifact.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { loadDataset } from '../../pipeline/datasets.ts';
import { measureUpdate } from './update.ts';
import { measureUpdateCost } from './update-cost.ts';

/**
 * What each arithmetic path costs in accuracy, per tier: the test split
 * classified by device-sim on the f32 and the int path (the C library
 * computes exactly the same, bit for bit), beside the pipeline's figure.
 */
async function tierAccuracy(buildDir: string): Promise<object[]> {
  const report = JSON.parse(readFileSync(join(buildDir, 'report.json'), 'utf8'));
  const { test } = await loadDataset('mnist');
  const rows: object[] = [];
  for (const tier of report.tiers ?? []) {
    const file = join(buildDir, `${tier.name}.wgm`);
    if (!existsSync(file)) continue;
    const bytes = new Uint8Array(readFileSync(file));
    const score = (arithmetic: 'f32' | 'int') => scoreSplit(loadArtifactOnProfile(bytes, resolveProfile('m4-256k', { arithmetic })), test).accuracy;
    rows.push({ tier: tier.name, pipeline: tier.accuracy, f32: score('f32'), int: score('int'), samples: test.count });
  }
  return rows;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function step(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`bench/firmware: ${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
}

/**
 * `recount: false` keeps bench/results/firmware.json's instruction counts
 * (they depend only on the kernels' code, not on the load) and redoes the
 * rest: for a change that touched open or the build, not invoke.
 */
export async function runFirmwareBench(artifactPath: string, options: { recount?: boolean } = {}): Promise<object> {
  if (options.recount !== false) step('npx', ['--no-install', 'tsx', 'bench/firmware/count.ts', '--artifact', artifactPath, '--also-synthetic', '--also-rice']);
  step('sh', ['firmware/size/report.sh']);
  step('npx', ['--no-install', 'tsx', 'bench/firmware/size.ts']);
  const results = join(ROOT, 'bench/results/');
  const counts = JSON.parse(readFileSync(`${results}firmware.json`, 'utf8'));
  const size = JSON.parse(readFileSync(`${results}firmware-size.json`, 'utf8'));
  const plan = firmwarePlan(readArtifact(new Uint8Array(readFileSync(artifactPath))));
  const buildDir = dirname(artifactPath);
  const accuracy = existsSync(join(buildDir, 'report.json')) ? await tierAccuracy(buildDir) : [];
  const artifact = counts.runs?.[0]?.artifact?.model ?? artifactPath;
  // The update half: patches applied by the C library on simulated flash (update.ts).
  const update = existsSync(join(buildDir, 'basic.wgm')) ? measureUpdate(artifactPath, artifact) : null;
  // What each update kind costs the device's CPU, in Cortex-M4F instructions (update-cost.ts).
  const updateCost = measureUpdateCost();
  return { ...counts, size, plan: { artifact, ...plan, arenaTargetBytes: 4096 }, accuracy, update, updateCost };
}

// bench/firmware as one of `npm run bench`'s benches: instructions per
// sample (count.ts, on the given artifact and the synthetic 80 % one), code
// size per Cortex-M target (firmware/size/report.sh, then size.ts), and the
// arena the library plans for the artifact (device-sim's firmwarePlan, the
// formula wg_plan computes on the part). Returns count.ts's JSON with `size`
// and `plan` added; run-all writes it to bench/results/firmware.json.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readArtifact } from '../../formats/index.ts';
import { firmwarePlan } from '../../device-sim/firmware-plan.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function step(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`bench/firmware: ${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
}

export async function runFirmwareBench(artifactPath: string): Promise<object> {
  step('npx', ['--no-install', 'tsx', 'bench/firmware/count.ts', '--artifact', artifactPath, '--also-synthetic']);
  step('sh', ['firmware/size/report.sh']);
  step('npx', ['--no-install', 'tsx', 'bench/firmware/size.ts']);
  const results = join(ROOT, 'bench/results/');
  const counts = JSON.parse(readFileSync(`${results}firmware.json`, 'utf8'));
  const size = JSON.parse(readFileSync(`${results}firmware-size.json`, 'utf8'));
  const plan = firmwarePlan(readArtifact(new Uint8Array(readFileSync(artifactPath))));
  return { ...counts, size, plan: { artifact: counts.runs?.[0]?.artifact?.model ?? artifactPath, ...plan, arenaTargetBytes: 4096 } };
}

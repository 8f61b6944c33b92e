// Device benchmark (not a test), bounded:
//   1. paper-109k full tier on the device: arena high-water vs the 4 KiB
//      target; median per-sample latency vs TF.js dense float32 at batch 1
//      on the pipeline's backend, same run, same samples (target >= 5x);
//   2. the arena each kind of update takes to apply (patching.ts);
//   3. a fleet of DEVICES (default 1,000) simulated devices reaching a newly
//      published version on the server with PostgreSQL (target < 10 s,
//      bytes per device = the patch size).
//
//   npx tsx bench/device/run.ts
//   (DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres when it
//    answers, else embedded PGlite; DEVICES=n and FLEET_WORKERS=n to change
//    the fleet (default 1,000 devices in 2 worker threads); FLEET_PRUNED=0.8
//    for an 80 %-pruned fleet artifact (default 0.95, the pipeline's);
//    BENCH_ARTIFACT=DIR/full.wgm to time a pipeline build's artifact instead
//    of the synthetic one; BUILD_DIR=DIR to compare the device's accuracy
//    per tier with that build's report.json)
//
// Writes bench/results/device.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { measureLatency } from './latency.ts';
import { measureFleet } from './fleet.ts';
import { compareTierAccuracy } from './tier-accuracy.ts';
import { measurePatching } from './patching.ts';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const log = (line: string) => process.stderr.write(`[bench/device] ${line}\n`);

async function reachable(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export async function runDeviceBench(): Promise<object> {
  if (!process.env.DATABASE_URL && (await reachable(DEFAULT_DATABASE_URL))) process.env.DATABASE_URL = DEFAULT_DATABASE_URL;
  log('latency and arena: paper-109k full tier');
  const latency = await measureLatency({ artifactPath: process.env.BENCH_ARTIFACT, log });
  const tiers = process.env.BUILD_DIR ? await compareTierAccuracy(process.env.BUILD_DIR) : null;
  log('patching: arena taken by each kind of update on an m0-32k');
  const patching = await measurePatching({ buildDir: process.env.BUILD_DIR });
  const devices = Number(process.env.DEVICES ?? 1000);
  // The server keeps its own core: the devices get the others (one thread each; one on 2 cores).
  const workers = Number(process.env.FLEET_WORKERS ?? Math.max(1, cpus().length - 1));
  log(`fleet: ${devices} devices on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`);
  const fleet = await measureFleet({ devices, workers, log });
  const result = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    latency,
    tiers,
    patching,
    fleet,
    targets: {
      arenaWithin4KiB: latency.arenaHighWaterBytes <= 4096,
      patchingWithin4KiB: patching.rows.every((row) => row.arenaHighWaterBytes <= 4096),
      latency5xFasterThanTfjs: latency.speedup >= 5,
      fleetUnder10s: fleet.update.failures === 0 && fleet.update.seconds < 10,
      tierAccuracyMatchesPipeline: tiers ? tiers.every((t) => t.deviceAccuracy === t.pipelineAccuracy) : null,
      bytesPerDeviceIsPatch:
        fleet.update.patchBytes.length === 1 &&
        fleet.update.bytesPerDevice.min === fleet.update.patchBytes[0] &&
        fleet.update.bytesPerDevice.max === fleet.update.patchBytes[0],
    },
  };
  const out = fileURLToPath(new URL('../results/device.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  log(`wrote ${out}`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runDeviceBench(), null, 2));
}

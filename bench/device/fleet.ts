// A fleet of simulated devices (default 1,000) on one machine reaching a
// version newly published on the server, PostgreSQL when DATABASE_URL is set
// (a scratch database, dropped afterwards), else embedded PGlite.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { BENCH_FLASH_DIR } from './flash-dir.ts';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../formats/index.ts';
import { openFleet, type FleetSummary } from '../../device-sim/fleet.ts';
import { openWorkerFleet } from '../../device-sim/fleet-workers.ts';
import { provisionDevices } from '../../server/provision.ts';
import { createClient } from '../../server/client.ts';
import { startServer } from '../../server/start.ts';
import { openScratchDatabase } from '../../server/db/scratch-database.ts';
import { paperArtifact } from './paper-model.ts';

export interface FleetBenchResult {
  database: 'postgres' | 'pglite';
  devices: number;
  profile: string;
  /** Install of v1 on blank devices (full artifacts). */
  install: { seconds: number; reached: number; failures: number; bytesPerDevice: number };
  /** v2 published → every device runs v2. */
  update: {
    seconds: number;
    secondsToReach: { median: number; p99: number; max: number };
    reached: number;
    failures: number;
    errors: Record<string, number>;
    bytesPerDevice: { min: number; median: number; max: number };
    patchBytes: number[];
    fullArtifactBytes: number;
  };
  targetSeconds: number;
  /** Device worker threads beside the server's thread (0: all in the server's). */
  workers: number;
  /** The machine's load averages (1, 5, 15 min) as the update round starts and ends, and its cores. */
  load: { cores: number; before: number[]; after: number[] };
  /**
   * CPU seconds spent during the update round: by this process (server and
   * device threads) and by the whole machine (the database's processes and
   * anything else running beside them included).
   */
  cpu: { process: number; machine: number };
}

/**
 * Share of the paper-109k kernel weights pruned in the fleet's artifact:
 * the pipeline's default build keeps 5 % (bench/pipeline); FLEET_PRUNED=0.8
 * times the paper's 80 % setting instead.
 */
const PRUNED = Number(process.env.FLEET_PRUNED ?? 0.95);

export async function measureFleet(
  options: { devices?: number; concurrency?: number; workers?: number; log?: (line: string) => void } = {},
): Promise<FleetBenchResult> {
  const log = options.log ?? (() => undefined);
  const count = options.devices ?? 1000;
  const adminToken = `bench-admin-${randomBytes(12).toString('hex')}`;
  // The devices' flash (and PGlite's data, when it runs): see flash-dir.ts.
  const work = mkdtempSync(join(BENCH_FLASH_DIR, 'wg-fleet-bench-'));
  const database = process.env.DATABASE_URL ? await openScratchDatabase(process.env.DATABASE_URL, 'wg_device_bench') : null;
  const server = await startServer({ port: 0, databaseUrl: database?.url, dataDir: join(work, 'db'), adminToken, log: () => undefined });
  try {
    const keys = generateKeyPair();
    const admin = createClient({ server: server.url, token: adminToken });
    await admin.registerPublisherKey(keys.publicKeyPem, 'bench');
    await admin.publish(paperArtifact({ version: 1, pruned: PRUNED, privateKey: keys.privateKeyPem }));
    log(`registering ${count} devices`);
    const { tokens } = await provisionDevices({ server: server.url, adminToken, model: 'paper-109k', tier: 'full', count });
    const fleetOptions = {
      server: server.url,
      tokens,
      baseDir: join(work, 'devices'),
      profile: 'm0-32k',
      publicKey: keys.publicKeyPem,
      concurrency: options.concurrency ?? 64,
    };
    // Device threads beside the server's thread; 0 = all in this thread.
    const workers = options.workers ?? 0;
    const threaded = workers > 0 ? await openWorkerFleet({ ...fleetOptions, workers }) : null;
    const local = threaded ? null : await openFleet(fleetOptions);
    const round = (targetVersion: number, label: string): Promise<FleetSummary> => {
      log(`${label}: ${count} devices${threaded ? ` in ${workers} worker threads` : ''}`);
      const roundOptions = { targetVersion, timeoutMs: 600_000 };
      return threaded
        ? threaded.round(roundOptions)
        : local!.round({ ...roundOptions, onDevice: (done, total) => done % 100 === 0 && log(`${label}: ${done}/${total}`) });
    };
    const install = await round(1, 'install v1');

    // v2: fine-tuning moved 5 % of the kept weights to another centroid.
    const v2 = paperArtifact({ version: 2, changed: 0.05, pruned: PRUNED, privateKey: keys.privateKeyPem });
    await admin.publish(v2);
    const before = loadavg();
    const processBefore = process.cpuUsage();
    const machineBefore = machineBusySeconds();
    const update = await round(2, 'update to v2');
    const processCpu = process.cpuUsage(processBefore);
    const machineCpu = machineBusySeconds() - machineBefore;
    const after = loadavg();
    await threaded?.close();
    return {
      database: database ? 'postgres' : 'pglite',
      devices: count,
      profile: 'm0-32k',
      install: { seconds: install.seconds, reached: install.reached, failures: install.failures, bytesPerDevice: install.bytesPerDevice.median },
      update: {
        seconds: update.seconds,
        secondsToReach: update.secondsToReach,
        reached: update.reached,
        failures: update.failures,
        errors: update.errors,
        bytesPerDevice: update.bytesPerDevice,
        patchBytes: update.patchBytes,
        fullArtifactBytes: v2.length,
      },
      targetSeconds: 10,
      workers,
      load: { cores: cpus().length, before: before.map((x) => Math.round(x * 100) / 100), after: after.map((x) => Math.round(x * 100) / 100) },
      cpu: { process: Math.round((processCpu.user + processCpu.system) / 1e4) / 100, machine: Math.round(machineCpu * 100) / 100 },
    };
  } finally {
    await server.close();
    await database?.drop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** CPU seconds every core of the machine has spent busy (not idle or waiting on I/O) since boot. */
function machineBusySeconds(): number {
  return cpus().reduce((sum, core) => sum + (core.times.user + core.times.nice + core.times.sys + core.times.irq) / 1000, 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const devices = Number(process.argv[2] ?? 1000);
  const workers = Number(process.argv[3] ?? 0);
  console.log(JSON.stringify(await measureFleet({ devices, workers, log: (line) => console.error(line) }), null, 2));
}

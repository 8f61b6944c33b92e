// What the push benches share: a server with its embedded broker (on the
// PostgreSQL of DATABASE_URL in a scratch database, else PGlite), version 1
// of a synthetic model published, `devices` devices registered on one
// license, and those devices in child processes, so the bench's own process
// is the server alone. And the server's CPU over an idle window.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/start.ts';
import { openScratchDatabase } from '../../server/db/scratch-database.ts';
import { createClient, type Client } from '../../server/client.ts';
import { provisionDevices } from '../../server/provision.ts';
import { openWorkerFleet, type WorkerFleet } from '../../device-sim/fleet-workers.ts';
import { keys } from '../../test/device-sim/fixtures.ts';
import { BENCH_FLASH_DIR } from '../device/flash-dir.ts';

export interface BenchFleet {
  server: RunningServer;
  /** The admin's client. */
  client: Client;
  licenseId: number;
  fleet: WorkerFleet;
  database: 'postgres' | 'pglite';
  /** Seconds the devices took to register. */
  registerSeconds: number;
  /** Stops the devices and the server and deletes what they wrote. */
  close(): Promise<void>;
}

export async function openBenchFleet(options: {
  /** Names the scratch database and the work directory. */
  name: string;
  devices: number;
  processes: number;
  tier: string;
  firstRelease: Uint8Array;
  log: (line: string) => void;
}): Promise<BenchFleet> {
  const baseUrl = process.env.DATABASE_URL;
  const scratch = baseUrl ? await openScratchDatabase(baseUrl, `wg_bench_${options.name}`) : null;
  const work = mkdtempSync(join(BENCH_FLASH_DIR, `wg-bench-${options.name}-`));
  let server: RunningServer | null = null;
  let fleet: WorkerFleet | null = null;
  const close = async (): Promise<void> => {
    await fleet?.close();
    await server?.close();
    await scratch?.drop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const admin = `bench-admin-${randomBytes(12).toString('hex')}`;
    server = await startServer({ port: 0, dataDir: join(work, 'db'), databaseUrl: scratch?.url, adminToken: admin, log: options.log, push: { port: 0 } });
    const client = createClient({ server: server.url, token: admin });
    await client.registerPublisherKey(keys.publicKeyPem, 'bench');
    await client.publish(options.firstRelease);
    const started = performance.now();
    const { licenseId, tokens } = await provisionDevices({
      server: server.url,
      adminToken: admin,
      model: 'synthetic',
      tier: options.tier,
      count: options.devices,
      concurrency: 32,
    });
    const registerSeconds = (performance.now() - started) / 1000;
    options.log(`${options.devices} devices registered on one license in ${registerSeconds.toFixed(1)} s; opening them in ${options.processes} processes`);
    fleet = await openWorkerFleet({
      server: server.url,
      tokens,
      baseDir: work,
      profile: 'm0-32k',
      publicKey: keys.publicKeyPem,
      concurrency: 64,
      // The devices never restart during a bench: their flash in memory
      // spares each update the files' system calls (flash.ts).
      flash: 'memory',
      workers: options.processes,
      mode: 'processes',
    });
    return { server, client, licenseId, fleet, database: scratch ? 'postgres' : 'pglite', registerSeconds, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * This process's quietest CPU rate, in CPU seconds per second: `ms` split
 * into `slices` windows, the lowest of them. The server's own floor
 * (timers, the database driver, V8's threads), which idle costs are
 * measured above: the work a previous round leaves behind for a few
 * seconds (garbage collection, batched writes, sockets closing) is not
 * part of it, and measured over the whole window it made an idle fleet's
 * cost come out negative.
 */
export async function serverQuietCpuPerSecond(ms: number, slices = 6): Promise<number> {
  let quietest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < slices; i++) quietest = Math.min(quietest, (await serverIdleCpu(ms / slices)) / (ms / slices / 1000));
  return quietest;
}

/** This process's CPU seconds over `ms` of doing nothing on its own. */
export async function serverIdleCpu(ms: number): Promise<number> {
  const start = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/**
 * CPU seconds (user and system) used so far by this machine's PostgreSQL
 * processes, from /proc: what the database spends on a bench's work is the
 * difference of two calls. Null without /proc (not Linux). It counts every
 * PostgreSQL process of the machine, so it belongs to a bench run on a
 * machine with nothing else using the database.
 */
export function postgresCpuSeconds(): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // "PID (COMM) STATE ...": the command may hold spaces, so split after its closing parenthesis.
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const fields = stat.slice(close + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
    } catch {
      // the process ended while being read
    }
  }
  // Linux reports these in clock ticks of USER_HZ, 100 a second on every architecture Node runs on.
  return ticks / 100;
}

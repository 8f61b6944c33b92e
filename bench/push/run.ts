// Push against polling (not a test): a fleet of simulated devices (default
// 1,000) on one license, each subscribed to its own MQTT topic on the
// server's embedded broker; an operator raises the license's tier, and each
// device's latency from that command to running the new tier is measured.
// The devices run in child processes, so this process is the server alone.
// The tier is changed three times: basic -> full, the first change since the
// processes started (the server builds the patch, and the devices'
// JavaScript is not yet compiled for a patch install: a cost the C library
// on a device never pays), full -> basic, and basic -> full again, the
// measure. Each change's CPU time is counted in every
// process that took part (server, devices, PostgreSQL): on this machine's
// cores, that total over the core count is the least time the change could
// take, whatever the software did in between.
// The same fleet polling every 60 s is computed on a simulated clock: each
// device polls at its own random phase, then needs the same measured time
// to check and install. Idle cost: what an hour of an idle fleet costs the
// server, polling (60 update checks per device) against push (keep-alive
// pings), measured as this process's CPU time and scaled.
//
//   npx tsx bench/run-all.ts push     (DATABASE_URL: PostgreSQL scratch database; else PGlite)
//
// Writes bench/results/push.json.
import { cpus, loadavg } from 'node:os';
import type { WatchEvent } from '../../device-sim/fleet-workers.ts';
import { PUSH_KEEPALIVE_SECONDS } from '../../device-sim/push-client.ts';
import { syntheticArtifact } from '../../test/device-sim/fixtures.ts';
import { quantile } from '../stats.ts';
import { openBenchFleet, postgresCpuSeconds, serverIdleCpu, serverQuietCpuPerSecond, type BenchFleet } from './bench-fleet.ts';

const DEVICES = Number(process.env.BENCH_PUSH_DEVICES ?? 1000);
const POLL_SECONDS = 60;
/** A whole keep-alive period, so that every device's ping is in it. */
const IDLE_WINDOW_MS = PUSH_KEEPALIVE_SECONDS * 1000;
const PROCESSES = 2;
const BASELINE_WINDOW_MS = 30_000;

const progress = (line: string) => process.stderr.write(`[bench/push] ${line}\n`);
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A deterministic uniform [0, 1) sequence (mulberry32), for the polling phases. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const summary = (values: number[]) => ({
  p50: round(quantile(values, 0.5)),
  p99: round(quantile(values, 0.99)),
  max: round(Math.max(...values)),
});

/** One tier change by push, as each device saw it, and the CPU it took. */
interface Change {
  /** Milliseconds from the command to each device's notice (0: none came). */
  noticed: number[];
  /** Milliseconds from the command to each device running the new tier (0: it did not within the deadline). */
  done: number[];
  cpuSeconds: { server: number; devices: number | null; database: number | null };
}

/**
 * Changes the license's tier to `tier` and waits until every device runs
 * it (holds `intervals` intervals), or 300 s. The fleet must be watching,
 * with `listen` set to this change's listener.
 */
async function changeTier(bench: BenchFleet, tier: string, intervals: number, listen: (listener: Listener | null) => void): Promise<Change> {
  const { client, licenseId, fleet } = bench;
  const noticed = new Array<number>(DEVICES).fill(0);
  const done = new Array<number>(DEVICES).fill(0);
  const changedAt = performance.timeOrigin + performance.now();
  listen((event) => {
    if (event.event === 'notice' && noticed[event.device] === 0) noticed[event.device] = event.at - changedAt;
    if (event.event === 'update' && event.outcome.heldIntervals.length === intervals && done[event.device] === 0) done[event.device] = event.at - changedAt;
  });
  const devicesBefore = await fleet.cpuSeconds();
  const databaseBefore = bench.database === 'postgres' ? postgresCpuSeconds() : null;
  const serverBefore = process.cpuUsage();
  await client.changeLicenseTier(licenseId, { tier });
  const deadline = Date.now() + 300_000;
  while (done.some((ms) => ms === 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const server = process.cpuUsage(serverBefore);
  const databaseAfter = databaseBefore === null ? null : postgresCpuSeconds();
  const devicesAfter = await fleet.cpuSeconds();
  listen(null);
  return {
    noticed,
    done,
    cpuSeconds: {
      server: (server.user + server.system) / 1e6,
      devices: devicesBefore === null || devicesAfter === null ? null : devicesAfter - devicesBefore,
      database: databaseBefore === null || databaseAfter === null ? null : databaseAfter - databaseBefore,
    },
  };
}

type Listener = (event: WatchEvent) => void;

/** A change's latencies and CPU, as the results file keeps them. */
function describeChange(change: Change) {
  const reached = change.done.filter((ms) => ms > 0);
  const { server, devices, database } = change.cpuSeconds;
  const total = server + (devices ?? 0) + (database ?? 0);
  return {
    reached: reached.length,
    /** Command to the notice at the device: what push itself takes. */
    notice: summary(change.noticed.filter((ms) => ms > 0).map((ms) => ms / 1000)),
    /** Command to running the new tier, every device's install included; the installs share this machine's cores. */
    running: summary(reached.map((ms) => ms / 1000)),
    cpuSeconds: { server: round(server, 2), devices: devices === null ? null : round(devices, 2), database: database === null ? null : round(database, 2) },
    /** The change's CPU over the machine's cores: no schedule of this work on this machine ends sooner. */
    floorSeconds: round(total / cpus().length, 2),
  };
}

export async function runPushBench(): Promise<object> {
  const bench = await openBenchFleet({
    name: 'push',
    devices: DEVICES,
    processes: PROCESSES,
    tier: 'basic',
    firstRelease: syntheticArtifact({ version: 1, seed: 61, sizes: [784, 16, 10] }),
    log: progress,
  });
  const { server, fleet } = bench;
  try {
    const install = await fleet.round({ targetVersion: 1, timeoutMs: 600_000 });
    if (install.reached !== DEVICES) throw new Error(`only ${install.reached} of ${DEVICES} devices installed version 1`);

    // Idle, polling: what one up-to-date update check costs the server (this process), scaled to 60 an hour.
    progress('idle cost of polling: one up-to-date check per device');
    const pollCpu = process.cpuUsage();
    const pollStarted = performance.now();
    await fleet.round();
    const pollUsage = process.cpuUsage(pollCpu);
    const pollCpuSeconds = (pollUsage.user + pollUsage.system) / 1e6;
    const pollWallSeconds = (performance.now() - pollStarted) / 1000;

    // The server's own idle CPU, no device connected (timers, the database driver, V8's threads): subtracted below.
    const baselinePerSecond = await serverQuietCpuPerSecond(BASELINE_WINDOW_MS);
    progress(`subscribing ${DEVICES} devices to their topics`);
    let listener: Listener | null = null;
    const watch = await fleet.watch({ onEvent: (event) => listener?.(event) });
    if (watch.subscribed !== DEVICES) throw new Error(`only ${watch.subscribed} of ${DEVICES} devices subscribed: ${JSON.stringify(watch.unsubscribed)}`);
    const listen = (next: Listener | null) => {
      listener = next;
    };

    // Idle, push: connected and subscribed, nothing happening (keep-alive pings only).
    progress(`idle cost of push: ${IDLE_WINDOW_MS / 1000} s with every device connected`);
    const idleCpuSeconds = await serverIdleCpu(IDLE_WINDOW_MS);

    const loadBefore = loadavg();
    progress('license upgrade: basic -> full, by push (the first change since the processes started)');
    const first = await changeTier(bench, 'full', 4, listen);
    progress('license downgrade: full -> basic, by push');
    const downgrade = await changeTier(bench, 'basic', 2, listen);
    progress('license upgrade: basic -> full, by push (the measure)');
    const upgrade = await changeTier(bench, 'full', 4, listen);
    await watch.stop();
    const { noticed, done } = upgrade;
    const reached = done.filter((ms) => ms > 0);
    const pushSeconds = reached.map((ms) => ms / 1000);
    // Each device's own check and install: from its notice to running the new tier.
    const installMs = done.map((ms, i) => (ms > 0 ? ms - noticed[i]! : 0));

    // Polling at 60 s on a simulated clock: the wait for the device's next poll, plus the check and install it measured.
    const next = uniform(60);
    const pollSeconds = installMs.map((ms) => next() * POLL_SECONDS + ms / 1000);
    const measured = describeChange(upgrade);
    const firstChange = describeChange(first);

    const result = {
      when: new Date().toISOString(),
      devices: DEVICES,
      reached: reached.length,
      processes: PROCESSES,
      database: bench.database,
      flash: 'memory (the devices never restart)',
      model: 'synthetic 784-16-10, basic (2 of 4 intervals) to full',
      latencySeconds: {
        /** Command to the notice at the device: what push itself takes. */
        pushNotice: summary(noticed.filter((ms) => ms > 0).map((ms) => ms / 1000)),
        /** Command to running the new tier, every device's install included; the installs share this machine's cores. */
        push: summary(pushSeconds),
        polling60s: summary(pollSeconds),
        /** One device's update check, download and install of the upgrade (median), from its notice, under that load. */
        installMedian: round(quantile(installMs, 0.5) / 1000),
      },
      /** The server's CPU (this process) for the whole upgrade, per device. */
      serverCpuMsPerDevice: round((upgrade.cpuSeconds.server * 1000) / DEVICES, 2),
      /** Each change's latencies, CPU by process, and floor: the measure is the last upgrade. */
      changes: { firstUpgrade: firstChange, downgrade: describeChange(downgrade), upgrade: measured },
      idlePerDevicePerHour: {
        polling60s: {
          httpRequests: 3600 / POLL_SECONDS,
          cpuSeconds: round((((pollCpuSeconds - baselinePerSecond * pollWallSeconds) / DEVICES) * 3600) / POLL_SECONDS, 4),
        },
        push: {
          httpRequests: 0,
          cpuSeconds: round((((idleCpuSeconds - (baselinePerSecond * IDLE_WINDOW_MS) / 1000) / DEVICES) * 3_600_000) / IDLE_WINDOW_MS, 4),
        },
        /** The server's own idle CPU (no device connected; the quietest 5 s of 30), per second; subtracted from both. */
        serverBaselineCpuPerSecond: round(baselinePerSecond, 4),
      },
      measuredOn: {
        pollCheckCpuMs: round((pollCpuSeconds / DEVICES) * 1000, 3),
        pollWallSeconds: round(pollWallSeconds, 2),
        idleWindowSeconds: IDLE_WINDOW_MS / 1000,
        note: "CPU of this process: the server, its broker and database driver (PGlite's database too, when it is the one); the devices run in child processes",
      },
      noticesSent: server.noticesSent(),
      load: { cores: cpus().length, before: loadBefore.map((l) => round(l, 2)), after: loadavg().map((l) => round(l, 2)) },
      targets: { pushP99UnderOneSecond: reached.length === DEVICES && quantile(pushSeconds, 0.99) < 1, cpuFloorUnderOneSecond: measured.floorSeconds < 1 },
      devicesShareTheMachine: `${DEVICES} simulated devices install on the ${cpus().length} cores the server also uses; real devices install in parallel, each on its own CPU`,
    };
    progress(
      `notice p50 ${result.latencySeconds.pushNotice.p50} s p99 ${result.latencySeconds.pushNotice.p99} s; install median ${result.latencySeconds.installMedian} s; server ${result.serverCpuMsPerDevice} ms CPU per device`,
    );
    progress(
      `CPU of the change: server ${measured.cpuSeconds.server} s, devices ${measured.cpuSeconds.devices} s, PostgreSQL ${measured.cpuSeconds.database} s; floor on ${cpus().length} cores ${measured.floorSeconds} s; the first change's p99 ${firstChange.running.p99} s`,
    );
    progress(
      `push p50 ${result.latencySeconds.push.p50} s p99 ${result.latencySeconds.push.p99} s; polling at 60 s p50 ${result.latencySeconds.polling60s.p50} s p99 ${result.latencySeconds.polling60s.p99} s`,
    );
    return result;
  } finally {
    await bench.close();
  }
}

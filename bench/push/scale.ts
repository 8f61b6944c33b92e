// Push at fleet scale (not a test): 10,000 simulated devices (BENCH_SCALE_DEVICES)
// held connected to the server's embedded MQTT broker, the devices in child
// processes (bench-fleet.ts), so this process's memory and CPU are the
// server's alone. Measured: connections
// held, the server's memory per connected device, its CPU for an idle
// connected fleet, and the time from publishing a release to every device
// running it, each device acting on its notice.
//
//   npx tsx bench/run-all.ts push-scale   (DATABASE_URL: PostgreSQL scratch database; else PGlite)
//
// Writes bench/results/push-scale.json.
import { cpus, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PUSH_KEEPALIVE_SECONDS } from '../../device-sim/push-client.ts';
import { syntheticArtifact } from '../../test/device-sim/fixtures.ts';
import { quantile } from '../stats.ts';
import { openBenchFleet, serverIdleCpu, serverQuietCpuPerSecond } from './bench-fleet.ts';

const DEVICES = Number(process.env.BENCH_SCALE_DEVICES ?? 10_000);
/** Child processes holding the devices: enough that none holds more than 2,500. */
const PROCESSES = Math.max(2, Math.ceil(DEVICES / 2_500));
/** A whole keep-alive period, so that every device's ping is in it. */
const IDLE_WINDOW_MS = PUSH_KEEPALIVE_SECONDS * 1000;
const BASELINE_WINDOW_MS = 30_000;
const progress = (line: string) => process.stderr.write(`[bench/push-scale] ${line}\n`);
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const release = (version: number) => syntheticArtifact({ version, seed: 90 + version, sizes: [784, 16, 10] });

/** The server's memory after a full collection: what it holds, not what it has yet to free. */
function settledMemory(): { rss: number; heapUsed: number; external: number } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heapUsed, external };
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

export async function runPushScaleBench(): Promise<object> {
  const bench = await openBenchFleet({ name: 'scale', devices: DEVICES, processes: PROCESSES, tier: 'full', firstRelease: release(1), log: progress });
  const { server, client, fleet, registerSeconds } = bench;
  try {
    let started = performance.now();
    const first = await fleet.round({ targetVersion: 1, timeoutMs: 900_000 });
    progress(`version 1 installed on ${first.reached} devices in ${first.seconds} s (polling, one check each)`);

    // The server's own idle CPU, no device connected: subtracted from the connected fleet's.
    const baselinePerSecond = await serverQuietCpuPerSecond(BASELINE_WINDOW_MS);
    const before = settledMemory();
    started = performance.now();
    const reached = new Array<number>(DEVICES).fill(0);
    let released = 0;
    const watch = await fleet.watch({
      onUpdate: (device, outcome) => {
        if (released > 0 && outcome?.toVersion === 2 && reached[device] === 0) reached[device] = performance.now() - released;
      },
    });
    const subscribeSeconds = (performance.now() - started) / 1000;
    const connected = server.pushConnections();
    const after = settledMemory();
    progress(`${watch.subscribed} devices subscribed in ${round(subscribeSeconds, 1)} s; the broker holds ${connected} connections`);

    // Idle: every device connected, nothing changing. This process is the server alone.
    const idleSeconds = await serverIdleCpu(IDLE_WINDOW_MS);
    const netIdleSeconds = idleSeconds - (baselinePerSecond * IDLE_WINDOW_MS) / 1000;
    const held = server.pushConnections();

    const loadBefore = loadavg();
    progress('releasing version 2');
    const releaseCpu = process.cpuUsage();
    released = performance.now();
    await client.publish(release(2));
    // Only the subscribed devices hear of it; the others would wait for their next poll.
    const all = await until(() => reached.filter((ms) => ms > 0).length >= watch.subscribed, 900_000);
    const releaseUsage = process.cpuUsage(releaseCpu);
    const seconds = reached.filter((ms) => ms > 0).map((ms) => ms / 1000);
    await watch.stop();
    const perDevice = (bytes: number) => Math.round(bytes / Math.max(1, connected));
    const result = {
      when: new Date().toISOString(),
      devices: DEVICES,
      processes: PROCESSES,
      database: bench.database,
      flash: 'memory (the devices never restart)',
      model: 'synthetic 784-16-10, full tier',
      registerSeconds: round(registerSeconds, 1),
      firstInstall: { reached: first.reached, seconds: first.seconds },
      connections: {
        subscribed: watch.subscribed,
        unsubscribed: watch.unsubscribed,
        heldAtSubscribe: connected,
        heldAfterIdle: held,
        subscribeSeconds: round(subscribeSeconds, 1),
      },
      serverMemory: {
        rssBefore: before.rss,
        rssAfter: after.rss,
        heapBefore: before.heapUsed,
        heapAfter: after.heapUsed,
        rssPerDevice: perDevice(after.rss - before.rss),
        heapPerDevice: perDevice(after.heapUsed - before.heapUsed + (after.external - before.external)),
      },
      idle: {
        windowSeconds: IDLE_WINDOW_MS / 1000,
        serverCpuSeconds: round(idleSeconds),
        /** The server's own idle CPU with no device connected, per second (subtracted below). */
        serverBaselineCpuPerSecond: round(baselinePerSecond, 4),
        serverCpuSecondsPerDeviceHour: round((netIdleSeconds / Math.max(1, connected)) * (3_600_000 / IDLE_WINDOW_MS), 5),
      },
      release: {
        reached: seconds.length,
        all: all && seconds.length === DEVICES,
        p50: round(quantile(seconds, 0.5)),
        p99: round(quantile(seconds, 0.99)),
        max: round(Math.max(...seconds)),
        serverCpuSeconds: round((releaseUsage.user + releaseUsage.system) / 1e6, 1),
        updates: watch.updates(),
        failures: watch.failures(),
        noticesSent: server.noticesSent(),
      },
      load: { cores: cpus().length, before: loadBefore.map((l) => round(l, 2)), after: loadavg().map((l) => round(l, 2)) },
      note: `the server, its broker and the database share the machine's ${cpus().length} cores with the ${PROCESSES} processes that simulate the devices`,
    };
    progress(
      `release: ${result.release.reached}/${DEVICES} running version 2, p50 ${result.release.p50} s, p99 ${result.release.p99} s, max ${result.release.max} s; ` +
        `server memory ${result.serverMemory.rssPerDevice} B RSS, ${result.serverMemory.heapPerDevice} B heap per connected device`,
    );
    return result;
  } finally {
    await bench.close();
  }
}

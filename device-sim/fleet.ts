// Many simulated devices in one process: each has its own flash directory,
// arena and token; all poll the same server. The fleet summary answers "how
// long until the fleet runs version V, how many bytes did each device pull,
// what failed".
import { join } from 'node:path';
import { openDevice, type Device, type PublicKeyInput, type UpdateOutcome } from './device.ts';
import type { DeviceProfile } from './profiles.ts';
import { quantile } from './stats.ts';

export interface FleetOptions {
  server: string;
  /** One device token per device. */
  tokens: string[];
  /** Parent directory; device i lives in `<baseDir>/device-<i>`. */
  baseDir: string;
  profile?: string | DeviceProfile;
  publicKey?: PublicKeyInput;
  /** Checks in flight at once (each is one HTTP exchange plus a download). */
  concurrency?: number;
}

export interface FleetRoundOptions {
  /** Keep checking a device until it runs at least this version; default: one check each. */
  targetVersion?: number;
  /** Give up on devices still behind after this long. */
  timeoutMs?: number;
  /** Pause between two checks of a device that is still behind. */
  retryDelayMs?: number;
  /** Called after every finished device (for a progress line). */
  onDevice?: (done: number, total: number) => void;
}

export interface FleetSummary {
  devices: number;
  /** Devices that run targetVersion (or that finished their check without error). */
  reached: number;
  failures: number;
  /** Error code → how many devices ended with it. */
  errors: Record<string, number>;
  /** Wall time from the start of the round until the last device reached the target. */
  seconds: number;
  secondsToReach: { median: number; p99: number; max: number };
  bytesPerDevice: { min: number; median: number; max: number };
  totalBytes: number;
  /** Patch sizes the devices applied (distinct), and how many pulled a full artifact. */
  patchBytes: number[];
  fullDownloads: number;
  kinds: Record<string, number>;
}

export interface Fleet {
  readonly devices: Device[];
  round(options?: FleetRoundOptions): Promise<FleetSummary>;
}

export async function openFleet(options: FleetOptions): Promise<Fleet> {
  const devices: Device[] = [];
  for (let i = 0; i < options.tokens.length; i++) {
    devices.push(
      await openDevice({
        dir: join(options.baseDir, `device-${i}`),
        profile: options.profile,
        server: options.server,
        token: options.tokens[i],
        publicKey: options.publicKey,
      }),
    );
  }
  const concurrency = Math.max(1, options.concurrency ?? 64);

  async function round(roundOptions: FleetRoundOptions = {}): Promise<FleetSummary> {
    const { targetVersion, timeoutMs = 60_000, retryDelayMs = 200 } = roundOptions;
    const start = performance.now();
    const reachedAt = new Float64Array(devices.length).fill(-1);
    const bytes = new Float64Array(devices.length);
    const errors: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    const patchSizes = new Set<number>();
    let fullDownloads = 0;
    let next = 0;
    let done = 0;

    const account = (outcome: UpdateOutcome, i: number): void => {
      bytes[i] += outcome.bytesSent;
      kinds[outcome.kind] = (kinds[outcome.kind] ?? 0) + 1;
      if (outcome.kind !== 'none') {
        if (outcome.patchBytes !== null) patchSizes.add(outcome.patchBytes);
        else fullDownloads++;
      }
    };

    async function serve(i: number): Promise<void> {
      const device = devices[i];
      let lastError: string | null = null;
      for (;;) {
        try {
          account(await device.checkForUpdate(), i);
          lastError = null;
        } catch (error) {
          lastError = String((error as { code?: unknown }).code ?? 'ERROR');
        }
        const running = device.status().version;
        if (lastError === null && (targetVersion === undefined || running >= targetVersion)) {
          reachedAt[i] = performance.now() - start;
          return;
        }
        if (targetVersion === undefined || performance.now() - start > timeoutMs) break;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
      const code = lastError ?? 'NOT_REACHED';
      errors[code] = (errors[code] ?? 0) + 1;
    }

    async function worker(): Promise<void> {
      while (next < devices.length) {
        const i = next++;
        await serve(i);
        roundOptions.onDevice?.(++done, devices.length);
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));

    const reachedTimes = Float64Array.from(reachedAt.filter((t) => t >= 0)).map((ms) => ms / 1000);
    const seconds = reachedTimes.length ? Math.max(...reachedTimes) : (performance.now() - start) / 1000;
    const round3 = (v: number) => Math.round(v * 1000) / 1000;
    return {
      devices: devices.length,
      reached: reachedTimes.length,
      failures: devices.length - reachedTimes.length,
      errors,
      seconds: round3(seconds),
      secondsToReach: {
        median: round3(quantile(reachedTimes, 0.5)),
        p99: round3(quantile(reachedTimes, 0.99)),
        max: round3(quantile(reachedTimes, 1)),
      },
      bytesPerDevice: { min: quantile(bytes, 0), median: quantile(bytes, 0.5), max: quantile(bytes, 1) },
      totalBytes: bytes.reduce((a, b) => a + b, 0),
      patchBytes: [...patchSizes].sort((a, b) => a - b),
      fullDownloads,
      kinds,
    };
  }

  return { devices, round };
}

// Many simulated devices in one process: each has its own flash directory,
// arena and token; all poll the same server. The fleet summary answers "how
// long until the fleet runs version V, how many bytes did each device pull,
// what failed". fleet-workers.ts spreads a fleet over worker threads and
// merges the same samples.
import { join } from 'node:path';
import type { FlashStorage } from './flash.ts';
import { openDevice, type Device, type KernelChoice, type PublicKeyInput, type UpdateOutcome } from './device.ts';
import type { DeviceProfile } from './profiles.ts';
import { quantile } from './stats.ts';
import { subscribePush, type PushSubscription } from './push-client.ts';

export interface FleetOptions {
  server: string;
  /** One device token per device. */
  tokens: string[];
  /** Parent directory; device i lives in `<baseDir>/device-<firstIndex + i>`. */
  baseDir: string;
  firstIndex?: number;
  profile?: string | DeviceProfile;
  publicKey?: PublicKeyInput;
  /** Checks in flight at once (each is one HTTP exchange plus a download). */
  concurrency?: number;
  /** Kernels every device runs (device.ts); default 'image'. */
  kernel?: KernelChoice;
  /** Where every device keeps its flash (device.ts): 'files' under baseDir (default) or 'memory'. */
  flash?: FlashStorage;
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

/** Raw per-device results of one round; plain arrays so they cross worker threads. */
export interface FleetSamples {
  /** Seconds from the round's start until the device was done, -1 when it never was. */
  reachSeconds: number[];
  bytes: number[];
  errors: Record<string, number>;
  kinds: Record<string, number>;
  patchBytes: number[];
  fullDownloads: number;
  wallSeconds: number;
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
  roundSamples(options?: FleetRoundOptions): Promise<FleetSamples>;
  /**
   * Push: subscribes every device that its last check named a push channel
   * for, and has it check on each notice (a notice is only a hint: the check
   * decides), `concurrency` checks at a time, until `stop()`.
   */
  watch(options?: FleetWatchOptions): Promise<FleetWatch>;
}

export interface FleetWatchOptions {
  /** Called on each notice, before the check it causes. */
  onNotice?: (device: number) => void;
  /** Called after each check a notice caused. */
  onUpdate?: (device: number, outcome: UpdateOutcome | null, error: string | null) => void;
}

export interface FleetWatch {
  /** Devices subscribed (the others had no push channel, or the broker refused them). */
  subscribed: number;
  /** Devices that could not subscribe, by error code (REFUSED: the broker refused the token or the topic). */
  unsubscribed: Record<string, number>;
  notices(): number;
  updates(): number;
  failures(): number;
  stop(): Promise<void>;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Connections a watching fleet opens at once, and tries per device. */
const SUBSCRIBE_CONCURRENCY = 100;
const SUBSCRIBE_ATTEMPTS = 4;

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
}

/** Merges the samples of several fleets (worker threads) into one summary. */
export function summarizeFleet(parts: FleetSamples[]): FleetSummary {
  const reach = Float64Array.from(parts.flatMap((p) => p.reachSeconds.filter((s) => s >= 0)));
  const bytes = Float64Array.from(parts.flatMap((p) => p.bytes));
  const errors: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  for (const part of parts) {
    addCounts(errors, part.errors);
    addCounts(kinds, part.kinds);
  }
  const devices = bytes.length;
  return {
    devices,
    reached: reach.length,
    failures: devices - reach.length,
    errors,
    seconds: round3(reach.length === devices && devices > 0 ? quantile(reach, 1) : Math.max(0, ...parts.map((p) => p.wallSeconds))),
    secondsToReach: { median: round3(quantile(reach, 0.5)), p99: round3(quantile(reach, 0.99)), max: round3(quantile(reach, 1)) },
    bytesPerDevice: { min: quantile(bytes, 0), median: quantile(bytes, 0.5), max: quantile(bytes, 1) },
    totalBytes: bytes.reduce((a, b) => a + b, 0),
    patchBytes: [...new Set(parts.flatMap((p) => p.patchBytes))].sort((a, b) => a - b),
    fullDownloads: parts.reduce((a, p) => a + p.fullDownloads, 0),
    kinds,
  };
}

export async function openFleet(options: FleetOptions): Promise<Fleet> {
  const devices: Device[] = [];
  const firstIndex = options.firstIndex ?? 0;
  for (let i = 0; i < options.tokens.length; i++) {
    devices.push(
      await openDevice({
        dir: join(options.baseDir, `device-${firstIndex + i}`),
        profile: options.profile,
        server: options.server,
        token: options.tokens[i],
        publicKey: options.publicKey,
        kernel: options.kernel,
        flash: options.flash,
      }),
    );
  }
  const concurrency = Math.max(1, options.concurrency ?? 64);

  async function roundSamples(roundOptions: FleetRoundOptions = {}): Promise<FleetSamples> {
    const { targetVersion, timeoutMs = 60_000, retryDelayMs = 200 } = roundOptions;
    const start = performance.now();
    const samples: FleetSamples = {
      reachSeconds: new Array<number>(devices.length).fill(-1),
      bytes: new Array<number>(devices.length).fill(0),
      errors: {},
      kinds: {},
      patchBytes: [],
      fullDownloads: 0,
      wallSeconds: 0,
    };
    const patchSizes = new Set<number>();
    let next = 0;
    let done = 0;

    const account = (outcome: UpdateOutcome, i: number): void => {
      samples.bytes[i] += outcome.bytesSent;
      samples.kinds[outcome.kind] = (samples.kinds[outcome.kind] ?? 0) + 1;
      if (outcome.kind !== 'none') {
        if (outcome.patchBytes !== null) patchSizes.add(outcome.patchBytes);
        else samples.fullDownloads++;
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
        if (lastError === null && (targetVersion === undefined || device.status().version >= targetVersion)) {
          samples.reachSeconds[i] = (performance.now() - start) / 1000;
          return;
        }
        if (targetVersion === undefined || performance.now() - start > timeoutMs) break;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
      const code = lastError ?? 'NOT_REACHED';
      samples.errors[code] = (samples.errors[code] ?? 0) + 1;
    }

    async function worker(): Promise<void> {
      while (next < devices.length) {
        const i = next++;
        await serve(i);
        roundOptions.onDevice?.(++done, devices.length);
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
    samples.patchBytes = [...patchSizes];
    samples.wallSeconds = (performance.now() - start) / 1000;
    return samples;
  }

  async function watch(watchOptions: FleetWatchOptions = {}): Promise<FleetWatch> {
    let notices = 0;
    let updates = 0;
    let failures = 0;
    const queue: number[] = [];
    const queued = new Set<number>();
    let active = 0;
    const drain = (): void => {
      while (active < concurrency && queue.length > 0) {
        const i = queue.shift()!;
        queued.delete(i);
        active++;
        devices[i]!.checkForUpdate()
          .then(
            (outcome) => {
              if (outcome.kind !== 'none') updates++;
              watchOptions.onUpdate?.(i, outcome, null);
            },
            (error: { code?: string }) => {
              failures++;
              watchOptions.onUpdate?.(i, null, String(error.code ?? 'ERROR'));
            },
          )
          .finally(() => {
            active--;
            drain();
          });
      }
    };
    const subscriptions: PushSubscription[] = [];
    const unsubscribed: Record<string, number> = {};
    const onNotice = (i: number) => () => {
      notices++;
      watchOptions.onNotice?.(i);
      // A device with a check already waiting needs no second one.
      if (!queued.has(i)) {
        queued.add(i);
        queue.push(i);
        drain();
      }
    };
    // Devices connect SUBSCRIBE_CONCURRENCY at a time, each retrying a
    // connection that failed on its way (reset, timed out) a few times: a
    // refused token or topic is final.
    const subscribe = async (i: number): Promise<void> => {
      const channel = devices[i]!.pushChannel();
      if (!channel) return;
      let reason = 'ERROR';
      for (let attempt = 0; attempt < SUBSCRIBE_ATTEMPTS; attempt++) {
        const subscription = subscribePush(channel, options.tokens[i]!, onNotice(i));
        try {
          await subscription.ready;
          subscriptions.push(subscription);
          return;
        } catch (error) {
          await subscription.close();
          const code = (error as { code?: string | number }).code;
          reason = code === undefined ? 'REFUSED' : String(code);
          if (code === 4 || code === 5 || code === undefined) break;
          await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
        }
      }
      unsubscribed[reason] = (unsubscribed[reason] ?? 0) + 1;
    };
    let nextDevice = 0;
    await Promise.all(
      Array.from({ length: Math.min(SUBSCRIBE_CONCURRENCY, devices.length) }, async () => {
        while (nextDevice < devices.length) await subscribe(nextDevice++);
      }),
    );
    return {
      subscribed: subscriptions.length,
      unsubscribed,
      notices: () => notices,
      updates: () => updates,
      failures: () => failures,
      async stop() {
        await Promise.all(subscriptions.map((subscription) => subscription.close()));
      },
    };
  }

  return {
    devices,
    roundSamples,
    round: async (roundOptions) => summarizeFleet([await roundSamples(roundOptions)]),
    watch,
  };
}

// A fleet spread over workers: worker threads of this process, or child
// processes (`mode: 'processes'`, each its own Node with its own heap and
// event loop). Each worker opens its slice of the devices with openFleet and
// runs rounds when told, or watches: its devices subscribe to their push
// notices and check on each; the caller merges their samples and events.
// Devices are CPU-bound while verifying and patching, so on a multi-core
// machine this lets them run beside the server instead of taking turns with it.
//
// Both kinds speak the same messages (fleet-worker-main.ts):
//   parent → worker   { kind: 'init', options } (processes; threads get workerData),
//                     { kind: 'round', options }, { kind: 'watch' }, { kind: 'unwatch' }, { kind: 'cpu' }
//   worker → parent   replies, one per request in order: { kind: 'ready' } | { kind: 'samples', samples }
//                     | { kind: 'watching', subscribed } | { kind: 'watched', ... } | { kind: 'cpu', seconds }
//                     | { kind: 'error', message };
//                     and, while watching, events: { kind: 'event', ... } (a notice, an update, a failed check)
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KernelChoice, PublicKeyInput } from './device.ts';
import {
  summarizeFleet,
  type FleetOptions,
  type FleetRoundOptions,
  type FleetSamples,
  type FleetSummary,
  type FleetWatch,
  type FleetWatchOptions,
} from './fleet.ts';
import type { UpdateOutcome } from './device.ts';
import type { FlashStorage } from './flash.ts';
import type { DeviceProfile } from './profiles.ts';
import { compiledEntry } from '../bin/bundle.mjs';

export interface WorkerFleetOptions {
  server: string;
  tokens: string[];
  baseDir: string;
  profile?: string | DeviceProfile;
  publicKey?: string;
  concurrency?: number;
  kernel?: KernelChoice;
  /** Where every device keeps its flash (fleet.ts): 'files' under baseDir (default) or 'memory'. */
  flash?: FlashStorage;
  workers: number;
  /** 'threads' (default): worker threads of this process; 'processes': child processes. */
  mode?: 'threads' | 'processes';
}

export interface WorkerFleet {
  /** Devices over all workers. */
  readonly size: number;
  round(options?: Omit<FleetRoundOptions, 'onDevice'>): Promise<FleetSummary>;
  /** Every worker's devices subscribe to their push notices and check on each (Fleet.watch); device indexes are fleet-wide. */
  watch(options?: WorkerWatchOptions): Promise<FleetWatch>;
  /**
   * CPU seconds the workers' processes have used since they started (user
   * and system), summed; null for threads, which share this process's
   * count. The difference of two calls is what the devices spent between them.
   */
  cpuSeconds(): Promise<number | null>;
  close(): Promise<void>;
}

export interface WorkerWatchOptions extends FleetWatchOptions {
  /** Every event as the worker sent it, with the time it happened there (eventClock). */
  onEvent?: (event: WatchEvent) => void;
}

type Reply =
  | { kind: 'ready' }
  | { kind: 'samples'; samples: FleetSamples }
  | { kind: 'watching'; subscribed: number; unsubscribed: Record<string, number> }
  | { kind: 'watched' }
  | { kind: 'cpu'; seconds: number | null }
  | { kind: 'error'; message: string };

/** What a watching worker reports as it happens; `device` is the fleet-wide index. */
export type WatchEvent = { kind: 'event'; device: number; at: number } & (
  | { event: 'notice' }
  | { event: 'update'; outcome: UpdateOutcome }
  | { event: 'failure'; error: string }
);

/** When an event happened in the worker: milliseconds on the machine's clock (performance.timeOrigin + now), comparable across processes. */
export const eventClock = (): number => performance.timeOrigin + performance.now();

/** One worker, thread or process, behind the same small interface. */
interface Channel {
  send(message: unknown): void;
  /** The next reply (events go to the listener), in the order the requests were sent. */
  next(): Promise<Reply>;
  /** Where the worker's events go from now on (null: dropped). */
  listen(listener: ((event: WatchEvent) => void) | null): void;
  close(): Promise<void>;
}

/** Splits a worker's messages into events and replies; replies wait in order for next(). */
function demultiplex(onFailure: (listener: (error: Error) => void) => void): {
  channel: Pick<Channel, 'next' | 'listen'>;
  receive(message: Reply | WatchEvent): void;
} {
  const replies: Reply[] = [];
  const waiting: Array<{ resolve: (reply: Reply) => void; reject: (error: Error) => void }> = [];
  let failed: Error | null = null;
  let events: ((event: WatchEvent) => void) | null = null;
  const channel: Pick<Channel, 'next' | 'listen'> = {
    listen: (listener) => {
      events = listener;
    },
    next: () =>
      new Promise<Reply>((resolve, reject) => {
        if (replies.length > 0) resolve(replies.shift()!);
        else if (failed) reject(failed);
        else waiting.push({ resolve, reject });
      }),
  };
  onFailure((error) => {
    failed = error;
    for (const waiter of waiting.splice(0)) waiter.reject(error);
  });
  return {
    channel,
    receive(message) {
      if (message.kind === 'event') {
        events?.(message);
        return;
      }
      const waiter = waiting.shift();
      if (waiter) waiter.resolve(message);
      else replies.push(message);
    },
  };
}

/** How a worker starts: its entry module, and whether that is TypeScript needing tsx's loader. */
interface WorkerEntry {
  url: URL;
  tsx: boolean;
}

const SOURCE_ENTRY = new URL('./fleet-worker-main.ts', import.meta.url);

/**
 * The compiled entry from the CLI's build (scripts/build-cli.mjs) while that
 * build is up to date, which plain Node starts; otherwise the TypeScript
 * source through tsx, whose loader costs each worker about half a
 * CPU-second before it does anything. WEIGHTGATE_FROM_SOURCE=1 forces the
 * source, as it does for the command.
 */
async function workerEntry(): Promise<WorkerEntry> {
  const compiled = await compiledEntry('fleet-worker-main');
  return compiled ? { url: pathToFileURL(compiled), tsx: false } : { url: SOURCE_ENTRY, tsx: true };
}

function threadChannel(options: FleetOptions, entry: WorkerEntry): Channel {
  // Loader hooks given to the parent with --import do not reach worker
  // threads on Node 20, so a worker on the TypeScript source registers tsx
  // itself before loading it.
  const href = JSON.stringify(entry.url.href);
  const worker = entry.tsx
    ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${href}); })`, { eval: true, workerData: options })
    : new Worker(entry.url, { workerData: options });
  const { channel, receive } = demultiplex((fail) => {
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`fleet worker thread exited (${code})`)));
  });
  worker.on('message', receive);
  return {
    ...channel,
    send: (message) => worker.postMessage(message),
    close: async () => {
      await worker.terminate();
    },
  };
}

function processChannel(options: FleetOptions, entry: WorkerEntry): Channel {
  // WEIGHTGATE_FLEET_CPU_PROF=DIR: each child writes a V8 CPU profile
  // there when it exits (close() lets it exit by itself for that).
  const profileDir = process.env.WEIGHTGATE_FLEET_CPU_PROF;
  const child: ChildProcess = fork(fileURLToPath(entry.url), [], {
    execArgv: [...(entry.tsx ? ['--import', 'tsx'] : []), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { channel, receive } = demultiplex((fail) => {
    child.on('exit', (code) => fail(new Error(`fleet process ${child.pid} exited (${code})`)));
  });
  child.on('message', (message) => receive(message as Reply | WatchEvent));
  child.send({ kind: 'init', options });
  return {
    ...channel,
    send: (message) => child.send(message as object),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // Disconnecting ends the child by itself (fleet-worker-main.ts), which
      // writes its profile when it was started with one; a child that has
      // not gone within a second (30 s while profiling: writing the profile
      // takes a while) is killed.
      if (child.connected) child.disconnect();
      else child.kill();
      const killer = setTimeout(() => child.kill(), profileDir ? 30_000 : 1000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function answer(channel: Channel): Promise<Reply> {
  const reply = await channel.next();
  if (reply.kind === 'error') throw new Error(`fleet worker: ${reply.message}`);
  return reply;
}

export async function openWorkerFleet(options: WorkerFleetOptions): Promise<WorkerFleet> {
  const count = Math.max(1, Math.min(options.workers, options.tokens.length));
  const per = Math.ceil(options.tokens.length / count);
  const open = options.mode === 'processes' ? processChannel : threadChannel;
  const entry = await workerEntry();
  const channels: Channel[] = [];
  for (let w = 0; w < count; w++) {
    channels.push(
      open(
        {
          server: options.server,
          tokens: options.tokens.slice(w * per, (w + 1) * per),
          baseDir: options.baseDir,
          firstIndex: w * per,
          profile: options.profile,
          publicKey: options.publicKey as PublicKeyInput | undefined,
          concurrency: Math.max(1, Math.ceil((options.concurrency ?? 64) / count)),
          kernel: options.kernel,
          flash: options.flash,
        },
        entry,
      ),
    );
  }
  try {
    await Promise.all(channels.map(answer));
  } catch (error) {
    await Promise.all(channels.map((channel) => channel.close()));
    throw error;
  }
  return {
    size: options.tokens.length,
    async round(roundOptions = {}) {
      for (const channel of channels) channel.send({ kind: 'round', options: roundOptions });
      const parts = (await Promise.all(channels.map(answer))).map((reply) => (reply as { samples: FleetSamples }).samples);
      return summarizeFleet(parts);
    },
    async watch(watchOptions: WorkerWatchOptions = {}) {
      let notices = 0;
      let updates = 0;
      let failures = 0;
      const onEvent = (event: WatchEvent): void => {
        watchOptions.onEvent?.(event);
        if (event.event === 'notice') {
          notices++;
          watchOptions.onNotice?.(event.device);
        } else if (event.event === 'update') {
          if (event.outcome.kind !== 'none') updates++;
          watchOptions.onUpdate?.(event.device, event.outcome, null);
        } else {
          failures++;
          watchOptions.onUpdate?.(event.device, null, event.error);
        }
      };
      for (const channel of channels) {
        channel.listen(onEvent);
        channel.send({ kind: 'watch' });
      }
      const replies = (await Promise.all(channels.map(answer))) as Array<Extract<Reply, { kind: 'watching' }>>;
      const unsubscribed: Record<string, number> = {};
      for (const reply of replies) for (const [code, count] of Object.entries(reply.unsubscribed)) unsubscribed[code] = (unsubscribed[code] ?? 0) + count;
      return {
        subscribed: replies.reduce((sum, reply) => sum + reply.subscribed, 0),
        unsubscribed,
        notices: () => notices,
        updates: () => updates,
        failures: () => failures,
        async stop() {
          for (const channel of channels) channel.send({ kind: 'unwatch' });
          await Promise.all(channels.map(answer));
          for (const channel of channels) channel.listen(null);
        },
      };
    },
    async cpuSeconds() {
      for (const channel of channels) channel.send({ kind: 'cpu' });
      const replies = (await Promise.all(channels.map(answer))) as Array<Extract<Reply, { kind: 'cpu' }>>;
      return replies.some((reply) => reply.seconds === null) ? null : replies.reduce((sum, reply) => sum + reply.seconds!, 0);
    },
    async close() {
      await Promise.all(channels.map((channel) => channel.close()));
    },
  };
}

// A fleet spread over workers: worker threads of this process, or child
// processes (`mode: 'processes'`, each its own Node with its own heap and
// event loop). Each worker opens its slice of the devices with openFleet and
// runs rounds when told; the caller merges their samples. Devices are
// CPU-bound while verifying and patching, so on a multi-core machine this
// lets them run beside the server instead of taking turns with it.
//
// Both kinds speak the same three messages (fleet-worker-main.ts):
//   parent → worker   { kind: 'init', options } (processes; threads get workerData), then round options
//   worker → parent   { kind: 'ready' } | { kind: 'samples', samples } | { kind: 'error', message }
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KernelChoice, PublicKeyInput } from './device.ts';
import { summarizeFleet, type FleetOptions, type FleetRoundOptions, type FleetSamples, type FleetSummary } from './fleet.ts';
import type { DeviceProfile } from './profiles.ts';

export interface WorkerFleetOptions {
  server: string;
  tokens: string[];
  baseDir: string;
  profile?: string | DeviceProfile;
  publicKey?: string;
  concurrency?: number;
  kernel?: KernelChoice;
  workers: number;
  /** 'threads' (default): worker threads of this process; 'processes': child processes. */
  mode?: 'threads' | 'processes';
}

export interface WorkerFleet {
  round(options?: Omit<FleetRoundOptions, 'onDevice'>): Promise<FleetSummary>;
  close(): Promise<void>;
}

type Reply = { kind: 'ready' } | { kind: 'samples'; samples: FleetSamples } | { kind: 'error'; message: string };

/** One worker, thread or process, behind the same small interface. */
interface Channel {
  send(message: unknown): void;
  next(): Promise<Reply>;
  close(): Promise<void>;
}

const ENTRY = new URL('./fleet-worker-main.ts', import.meta.url);

function threadChannel(options: FleetOptions): Channel {
  // Loader hooks given to the parent with --import do not reach worker
  // threads on Node 20, so the worker registers tsx itself before loading
  // its TypeScript entry point.
  const entry = JSON.stringify(ENTRY.href);
  const worker = new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })`, {
    eval: true,
    workerData: options,
  });
  return {
    send: (message) => worker.postMessage(message),
    next: () =>
      new Promise<Reply>((resolve, reject) => {
        worker.once('message', (reply: Reply) => {
          worker.off('error', reject);
          resolve(reply);
        });
        worker.once('error', reject);
      }),
    close: async () => {
      await worker.terminate();
    },
  };
}

function processChannel(options: FleetOptions): Channel {
  const child: ChildProcess = fork(fileURLToPath(ENTRY), [], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.send({ kind: 'init', options });
  return {
    send: (message) => child.send(message as object),
    next: () =>
      new Promise<Reply>((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`fleet process ${child.pid} exited (${code}) before answering`));
        child.once('message', (reply) => {
          child.off('exit', onExit);
          resolve(reply as Reply);
        });
        child.once('exit', onExit);
      }),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
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
  const channels: Channel[] = [];
  for (let w = 0; w < count; w++) {
    channels.push(
      open({
        server: options.server,
        tokens: options.tokens.slice(w * per, (w + 1) * per),
        baseDir: options.baseDir,
        firstIndex: w * per,
        profile: options.profile,
        publicKey: options.publicKey as PublicKeyInput | undefined,
        concurrency: Math.max(1, Math.ceil((options.concurrency ?? 64) / count)),
        kernel: options.kernel,
      }),
    );
  }
  try {
    await Promise.all(channels.map(answer));
  } catch (error) {
    await Promise.all(channels.map((channel) => channel.close()));
    throw error;
  }
  return {
    async round(roundOptions = {}) {
      const replies = channels.map(answer);
      for (const channel of channels) channel.send(roundOptions);
      const parts = (await Promise.all(replies)).map((reply) => (reply as { samples: FleetSamples }).samples);
      return summarizeFleet(parts);
    },
    async close() {
      await Promise.all(channels.map((channel) => channel.close()));
    },
  };
}

// A fleet spread over worker threads (the "several processes" of the issue,
// as threads): each worker opens its slice of the devices with openFleet and
// runs rounds when told; the caller merges their samples. Devices are
// CPU-bound while verifying and patching, so on a multi-core machine this
// lets them run beside the server instead of taking turns with it.
import { Worker } from 'node:worker_threads';
import type { PublicKeyInput } from './device.ts';
import { summarizeFleet, type FleetRoundOptions, type FleetSamples, type FleetSummary } from './fleet.ts';
import type { DeviceProfile } from './profiles.ts';

export interface WorkerFleetOptions {
  server: string;
  tokens: string[];
  baseDir: string;
  profile?: string | DeviceProfile;
  publicKey?: string;
  concurrency?: number;
  workers: number;
}

export interface WorkerFleet {
  round(options?: Omit<FleetRoundOptions, 'onDevice'>): Promise<FleetSummary>;
  close(): Promise<void>;
}

type Reply = { kind: 'ready' } | { kind: 'samples'; samples: FleetSamples } | { kind: 'error'; message: string };

export async function openWorkerFleet(options: WorkerFleetOptions): Promise<WorkerFleet> {
  const count = Math.max(1, Math.min(options.workers, options.tokens.length));
  const per = Math.ceil(options.tokens.length / count);
  const workers: Worker[] = [];
  const next = (worker: Worker) =>
    new Promise<Reply>((resolve, reject) => {
      const onMessage = (reply: Reply) => {
        worker.off('error', reject);
        if (reply.kind === 'error') reject(new Error(`fleet worker: ${reply.message}`));
        else resolve(reply);
      };
      worker.once('message', onMessage);
      worker.once('error', reject);
    });
  for (let w = 0; w < count; w++) {
    const slice = options.tokens.slice(w * per, (w + 1) * per);
    // Loader hooks given to the parent with --import do not reach worker
    // threads on Node 20, so the worker registers tsx itself before loading
    // its TypeScript entry point.
    const entry = JSON.stringify(new URL('./fleet-worker-main.ts', import.meta.url).href);
    const worker = new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); })`, {
      eval: true,
      workerData: {
        server: options.server,
        tokens: slice,
        baseDir: options.baseDir,
        firstIndex: w * per,
        profile: options.profile,
        publicKey: options.publicKey as PublicKeyInput | undefined,
        concurrency: Math.max(1, Math.ceil((options.concurrency ?? 64) / count)),
      },
    });
    workers.push(worker);
  }
  await Promise.all(workers.map(next));
  return {
    async round(roundOptions = {}) {
      const replies = workers.map(next);
      for (const worker of workers) worker.postMessage(roundOptions);
      const parts = (await Promise.all(replies)).map((reply) => (reply as { samples: FleetSamples }).samples);
      return summarizeFleet(parts);
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

// Entry point of one fleet worker thread (see fleet-workers.ts): opens its
// devices, then answers every round request with the round's samples.
import { parentPort, workerData } from 'node:worker_threads';
import { openFleet, type FleetOptions, type FleetRoundOptions } from './fleet.ts';

const port = parentPort!;
try {
  const fleet = await openFleet(workerData as FleetOptions);
  port.on('message', (roundOptions: FleetRoundOptions) => {
    fleet.roundSamples(roundOptions).then(
      (samples) => port.postMessage({ kind: 'samples', samples }),
      (error: Error) => port.postMessage({ kind: 'error', message: error.message }),
    );
  });
  port.postMessage({ kind: 'ready' });
} catch (error) {
  port.postMessage({ kind: 'error', message: (error as Error).message });
}

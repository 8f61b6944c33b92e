// Entry point of one fleet worker (see fleet-workers.ts), as a worker thread
// (options in workerData) or a child process (options in the first message
// over IPC): opens its devices, then answers every round request with the
// round's samples.
import { parentPort, workerData } from 'node:worker_threads';
import { openFleet, type FleetOptions, type FleetRoundOptions } from './fleet.ts';

type Message = { kind: 'init'; options: FleetOptions } | FleetRoundOptions;

const send = (message: object): void => {
  if (parentPort) parentPort.postMessage(message);
  else process.send!(message);
};

async function serve(options: FleetOptions, onMessage: (listener: (message: Message) => void) => void): Promise<void> {
  try {
    const fleet = await openFleet(options);
    onMessage((roundOptions) => {
      fleet.roundSamples(roundOptions as FleetRoundOptions).then(
        (samples) => send({ kind: 'samples', samples }),
        (error: Error) => send({ kind: 'error', message: error.message }),
      );
    });
    send({ kind: 'ready' });
  } catch (error) {
    send({ kind: 'error', message: (error as Error).message });
  }
}

if (parentPort) {
  const port = parentPort;
  await serve(workerData as FleetOptions, (listener) => port.on('message', listener));
} else {
  // A child process: the first message carries the options; the process ends with its IPC channel.
  process.once('message', (first: Message) => {
    if (!('kind' in first) || first.kind !== 'init') {
      send({ kind: 'error', message: 'the first message to a fleet process must be its options' });
      return;
    }
    void serve(first.options, (listener) => process.on('message', listener));
  });
  process.on('disconnect', () => process.exit(0));
}

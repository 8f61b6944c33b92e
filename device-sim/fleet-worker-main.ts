// Entry point of one fleet worker (see fleet-workers.ts), as a worker thread
// (options in workerData) or a child process (options in the first message
// over IPC): opens its devices, then answers each request in order: a round
// with its samples; watch by subscribing its devices to their push notices
// (and reporting each notice, update and failed check as an event) until
// unwatch; cpu with the CPU time its process has used (a child process only:
// a thread shares its process's count).
import { parentPort, workerData } from 'node:worker_threads';
import { openFleet, type FleetOptions, type FleetRoundOptions, type FleetWatch } from './fleet.ts';
import { eventClock } from './fleet-workers.ts';

type Message =
  | { kind: 'init'; options: FleetOptions }
  | { kind: 'round'; options: FleetRoundOptions }
  | { kind: 'watch' }
  | { kind: 'unwatch' }
  | { kind: 'cpu' };

const send = (message: object): void => {
  if (parentPort) parentPort.postMessage(message);
  else process.send!(message);
};

async function serve(options: FleetOptions, onMessage: (listener: (message: Message) => void) => void): Promise<void> {
  const first = options.firstIndex ?? 0;
  try {
    const fleet = await openFleet(options);
    let watching: FleetWatch | null = null;
    // Requests are answered in the order they came, one at a time.
    let queue = Promise.resolve();
    const handle = async (message: Message): Promise<object> => {
      if (message.kind === 'round') return { kind: 'samples', samples: await fleet.roundSamples(message.options) };
      if (message.kind === 'watch') {
        if (watching) return { kind: 'error', message: 'this fleet worker is already watching' };
        const watch = await fleet.watch({
          onNotice: (device) => send({ kind: 'event', event: 'notice', device: first + device, at: eventClock() }),
          onUpdate: (device, outcome, error) =>
            send(
              outcome
                ? { kind: 'event', event: 'update', device: first + device, at: eventClock(), outcome }
                : { kind: 'event', event: 'failure', device: first + device, at: eventClock(), error: error ?? 'ERROR' },
            ),
        });
        watching = watch;
        return { kind: 'watching', subscribed: watch.subscribed, unsubscribed: watch.unsubscribed };
      }
      if (message.kind === 'unwatch') {
        if (watching) {
          await watching.stop();
          watching = null;
        }
        return { kind: 'watched' };
      }
      if (message.kind === 'cpu') {
        const used = process.cpuUsage();
        return { kind: 'cpu', seconds: parentPort ? null : (used.user + used.system) / 1e6 };
      }
      return { kind: 'error', message: `unknown request "${(message as { kind?: string }).kind}"` };
    };
    onMessage((message) => {
      queue = queue.then(() => handle(message).then(send, (error: Error) => send({ kind: 'error', message: error.message })));
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
    if (first.kind !== 'init') {
      send({ kind: 'error', message: 'the first message to a fleet process must be its options' });
      return;
    }
    void serve(first.options, (listener) => process.on('message', listener));
  });
  process.on('disconnect', () => process.exit(0));
}

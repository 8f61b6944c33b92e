// Several server instances on one database keep their lookup caches
// (tokens, licenses, versions, access decisions) coherent through
// PostgreSQL's LISTEN/NOTIFY: the instance that writes NOTIFYs, every other
// one forgets what it cached. A cache entry can then live long (a device's
// token is looked up once, not on every burst of update checks after a
// push), provided the notices are known to arrive:
//
// - each instance NOTIFYs a heartbeat every HEARTBEAT_MS and listens for
//   its own; notifications are delivered in commit order on one
//   connection, so while its own heartbeats come back, so do the others'
//   invalidations. When none has come back for SILENCE_MS (the listening
//   connection is down or stuck), the instance forgets everything at each
//   beat until they come back: a change on another instance is then seen
//   within about SILENCE_MS, never after the long TTL;
// - when the driver re-establishes a dropped LISTEN, notices sent meanwhile
//   are lost: the instance forgets everything at once.
//
// With PGlite there is one instance: no heartbeat, the notice stays in the process.
import { randomUUID } from 'node:crypto';
import type { Database } from './db/connect.ts';
import type { InvalidationScope } from './context.ts';

/**
 * The NOTIFY channel of cache invalidations between instances; the payload
 * is the sender's instance id, then " lookups" when the token lookups stand
 * (an instance that reads only the id forgets everything: never too little).
 */
export const INVALIDATE_CHANNEL = 'weightgate_invalidate';
/** The NOTIFY channel of heartbeats; the payload is the sender's instance id, and each instance heeds its own only. */
export const HEARTBEAT_CHANNEL = 'weightgate_heartbeat';
export const HEARTBEAT_MS = 1_000;
export const SILENCE_MS = 3_000;
/**
 * How long token, license and version lookups are reused (ms): long, since
 * every change through any instance clears them at once and an instance
 * that stops hearing those notices stops caching; the bound is for changes
 * made in the database by hand.
 */
export const DEFAULT_AUTH_CACHE_MS = 600_000;

export interface InstanceLink {
  /** After a write on this instance: tell the others to forget what it changed. */
  notifyOthers(scope?: InvalidationScope): void;
  /** Whether this instance currently hears the invalidation channel (always true on PGlite). */
  listening(): boolean;
  stop(): Promise<void>;
}

export async function linkInstances(
  database: Database,
  forget: (scope?: InvalidationScope) => void,
  log: (line: string) => void,
  timing: { heartbeatMs?: number; silenceMs?: number } = {},
): Promise<InstanceLink> {
  const instance = randomUUID();
  const heartbeatMs = timing.heartbeatMs ?? HEARTBEAT_MS;
  const silenceMs = timing.silenceMs ?? SILENCE_MS;
  let lastBeat = Date.now();
  let deaf = false;
  let listens = 0;
  let stops: Array<() => Promise<void>> = [];
  let timer: NodeJS.Timeout | undefined;
  let relistening: Promise<void> | null = null;
  let lastRelisten = Date.now();
  const unlistenAll = async (): Promise<void> => {
    const current = stops;
    stops = [];
    await Promise.all(current.map((unlisten) => unlisten().catch(() => undefined)));
  };
  const listenAll = async (): Promise<void> => {
    stops.push(
      await database.listen(
        INVALIDATE_CHANNEL,
        (payload) => {
          const [sender, scope] = payload.split(' ');
          if (sender !== instance) forget(scope === 'lookups' ? 'lookups' : 'all');
        },
        () => {
          // The first LISTEN is the start; any later one is a reconnection that may have missed notices.
          if (listens++ > 0) forget('all');
        },
      ),
    );
    if (database.driver === 'postgres') {
      stops.push(
        await database.listen(HEARTBEAT_CHANNEL, (payload) => {
          if (payload === instance) lastBeat = Date.now();
        }),
      );
    }
  };
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    await relistening?.catch(() => undefined);
    await unlistenAll();
  };
  const beat = (): void => {
    database.notify(HEARTBEAT_CHANNEL, instance).catch(() => undefined); // a failed beat shows as silence
    const silent = Date.now() - lastBeat > silenceMs;
    if (silent) forget();
    if (silent !== deaf) {
      deaf = silent;
      log(
        silent
          ? `weightgate server: no heartbeat back on ${HEARTBEAT_CHANNEL} for ${silenceMs} ms; token and license lookups are not cached until it is`
          : `weightgate server: heartbeats are back on ${HEARTBEAT_CHANNEL}; caching lookups again`,
      );
    }
    // The driver re-listens once after a dropped connection; if the database
    // was still down then, nobody listens any more: listen again ourselves.
    if (silent && relistening === null && Date.now() - lastRelisten >= silenceMs) {
      lastRelisten = Date.now();
      relistening = unlistenAll()
        .then(listenAll)
        .then(() => forget())
        .catch(() => undefined) // still down: the next silent beat tries again
        .finally(() => {
          relistening = null;
        });
    }
  };
  try {
    await listenAll();
    if (database.driver === 'postgres') {
      timer = setInterval(beat, heartbeatMs);
      timer.unref();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    notifyOthers(scope = 'all') {
      database
        .notify(INVALIDATE_CHANNEL, scope === 'all' ? instance : `${instance} ${scope}`)
        .catch((error) => log(`weightgate server: cannot notify the other instances: ${(error as Error).message}`));
    },
    listening: () => !deaf,
    stop,
  };
}

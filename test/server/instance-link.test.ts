// Server instances on one database keep their caches coherent through
// LISTEN/NOTIFY (server/instance-link.ts), which is what lets them cache
// token and license lookups for minutes. Checked here: a notice reaches the
// other instance and not the sender; a LISTEN connection the database cuts
// is re-established and the instance forgets what it cached (notices sent
// meanwhile are lost); an instance whose heartbeats stop coming back stops
// caching, listens again, and says so.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../server/db/connect.ts';
import { openScratchDatabase } from '../../server/db/scratch-database.ts';
import { HEARTBEAT_CHANNEL, INVALIDATE_CHANNEL, linkInstances } from '../../server/instance-link.ts';
import { createContext, type InvalidationScope } from '../../server/context.ts';
import { POSTGRES, requiring } from '../requirements.ts';

const pgTest = requiring(uvuTest, POSTGRES);

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

pgTest('PostgreSQL: a notice reaches the other instance; a cut LISTEN is re-established and forgets', async () => {
  const scratch = await openScratchDatabase(process.env.DATABASE_URL!, 'wg_test_link');
  const a = await openDatabase({ databaseUrl: scratch.url });
  const b = await openDatabase({ databaseUrl: scratch.url });
  const forgot = { a: 0, b: 0 };
  const scopesB: Array<InvalidationScope | undefined> = [];
  const linkA = await linkInstances(
    a,
    () => forgot.a++,
    () => undefined,
  );
  const linkB = await linkInstances(
    b,
    (scope) => {
      forgot.b++;
      scopesB.push(scope);
    },
    () => undefined,
  );
  const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    assert.equal(forgot, { a: 0, b: 0 }, 'starting to listen forgets nothing');
    linkA.notifyOthers('lookups');
    await until('B to forget after A notified', () => forgot.b === 1);
    linkA.notifyOthers();
    await until('B to forget again', () => forgot.b === 2);
    assert.equal(scopesB, ['lookups', 'all'], 'the scope travels with the notice');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.is(forgot.a, 0, 'an instance does not forget on its own notice');

    // The database drops every LISTEN connection of this scratch database.
    const cut = await admin`select pg_terminate_backend(pid) as done from pg_stat_activity where datname = ${scratch.name} and query ilike 'listen%'`;
    assert.ok(cut.length >= 2, `both instances' LISTEN connections found (${cut.length})`);
    await until('both to re-listen and forget', () => forgot.a >= 1 && forgot.b >= 3);
    assert.is(scopesB[2], 'all', 'a re-established LISTEN forgets everything');
    const before = forgot.b;
    linkA.notifyOthers();
    await until('B to hear A again after the cut', () => forgot.b > before);
    assert.ok(linkA.listening() && linkB.listening(), 'heartbeats come back after the cut');
  } finally {
    await linkA.stop();
    await linkB.stop();
    await a.close();
    await b.close();
    await admin.end();
    await scratch.drop();
  }
});

/** A database whose notices can be held back, as when the listening connection is stuck: the watchdog's view. */
function mutableDatabase() {
  const listeners = new Map<string, Set<(payload: string) => void>>();
  const state = { muted: false, listens: 0 };
  const database: Database = {
    db: undefined as never,
    driver: 'postgres',
    notify: async (channel, payload) => {
      if (!state.muted) for (const listener of listeners.get(channel) ?? []) listener(payload);
    },
    listen: async (channel, onPayload, onListen) => {
      state.listens++;
      const set = listeners.get(channel) ?? new Set();
      listeners.set(channel, set);
      set.add(onPayload);
      onListen?.();
      return async () => {
        set.delete(onPayload);
      };
    },
    close: async () => undefined,
  };
  return { database, state };
}

uvuTest('silent heartbeats: the instance stops caching, listens again, and says when it hears again', async () => {
  const { database, state } = mutableDatabase();
  let forgot = 0;
  const lines: string[] = [];
  const link = await linkInstances(
    database,
    () => forgot++,
    (line) => lines.push(line),
    { heartbeatMs: 20, silenceMs: 100 },
  );
  try {
    assert.is(state.listens, 2, `listens on ${INVALIDATE_CHANNEL} and ${HEARTBEAT_CHANNEL}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.is(forgot, 0, 'heartbeats coming back: nothing forgotten');
    assert.ok(link.listening());

    state.muted = true;
    await until('the instance to notice the silence', () => !link.listening());
    const atSilence = forgot;
    assert.ok(atSilence >= 1, 'forgets at once when it notices');
    await until('it to keep forgetting and to listen again', () => forgot >= atSilence + 3 && state.listens >= 4);
    assert.match(lines.join('\n'), /no heartbeat back on weightgate_heartbeat for 100 ms; token and license lookups are not cached/);

    state.muted = false;
    await until('the heartbeats to come back', () => link.listening());
    assert.match(lines.at(-1)!, /heartbeats are back/);
    const back = forgot;
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.ok(forgot - back <= 1, `caching again once heard (forgot ${forgot - back} more times)`);
  } finally {
    await link.stop();
  }
});

uvuTest('PGlite: one instance, no heartbeat; a notice from this instance is not heeded by it', async () => {
  const database = await openDatabase({});
  let forgot = 0;
  const link = await linkInstances(
    database,
    () => forgot++,
    () => undefined,
    { heartbeatMs: 10, silenceMs: 30 },
  );
  try {
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.ok(link.listening(), 'no heartbeat to miss');
    link.notifyOthers();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.is(forgot, 0);
  } finally {
    await link.stop();
    await database.close();
  }
});

uvuTest('a license or version change keeps the token lookups; a token revocation clears them', () => {
  const ctx = createContext(undefined as never, { allowUnsigned: false, maxBodyBytes: 1024, authCacheMs: 60_000, contentCacheBytes: 1024 });
  const fill = () => {
    ctx.caches.principals.set('token', { tokenId: 1, role: 'device', deviceId: 1, licenseId: 1 });
    ctx.caches.licenses.set(1, {} as never);
    ctx.caches.decisions.set('decision', Infinity);
  };
  fill();
  ctx.invalidate('lookups');
  assert.ok(ctx.caches.principals.get('token'), 'token lookups kept');
  assert.is(ctx.caches.licenses.get(1), undefined, 'licenses forgotten');
  assert.is(ctx.caches.decisions.get('decision'), undefined, 'access decisions forgotten');
  fill();
  ctx.invalidate();
  assert.is(ctx.caches.principals.get('token'), undefined, 'token lookups forgotten too');
  assert.is(ctx.caches.licenses.get(1), undefined);
});

uvuTest.run();

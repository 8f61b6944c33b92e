// The database goes away: requests get 503 with Retry-After within seconds
// (refused connections and a silent network alike), and the server serves
// again when it is back. Starting while it is down retries with backoff, a
// log line per try. PostgreSQL only (through a TCP proxy the test can cut);
// skipped, saying so, without DATABASE_URL.
// test: waits (13 s of timeouts and reconnects, under a CPU-second: it runs beside the others)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { openScratchDatabase, type ScratchDatabase } from '../../server/db/scratch-database.ts';
import { startServer, type RunningServer } from '../../server/start.ts';

const ADMIN = 'outage-test-Admin-token-0123456789';
const BASE = process.env.DATABASE_URL;

/** A TCP proxy to PostgreSQL that can forward, refuse (not listening) or swallow (accept, never answer). */
class FlakyProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  mode: 'forward' | 'swallow' = 'forward';
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }, port = 0, listen = true): Promise<FlakyProxy> {
    if (port === 0) {
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      port = (probe.address() as AddressInfo).port;
      await new Promise((r) => probe.close(r));
    }
    const proxy = new FlakyProxy(port, target);
    if (listen) await proxy.listen();
    return proxy;
  }

  async listen(): Promise<void> {
    this.server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => {});
      if (this.mode === 'swallow') return; // accepted, never answered
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  /** Drops every connection; refuses new ones until listen(). */
  async refuse(): Promise<void> {
    const closed = this.server ? new Promise((r) => this.server!.close(r)) : Promise.resolve();
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.server = undefined;
  }

  /** Keeps established connections open but silent, and accepts new ones without answering. */
  async swallow(): Promise<void> {
    await this.refuse();
    this.mode = 'swallow';
    await this.listen();
  }

  async restore(): Promise<void> {
    await this.refuse();
    this.mode = 'forward';
    await this.listen();
  }
}

function viaProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

async function timed(call: () => Promise<Response>): Promise<{ response: Response; ms: number; body: any }> {
  const start = Date.now();
  const response = await call();
  const text = await response.text();
  return { response, ms: Date.now() - start, body: text ? JSON.parse(text) : null };
}

if (!BASE) {
  test('database outage (skipped)', () => {
    console.log('  db-outage tests SKIPPED: set DATABASE_URL to a PostgreSQL server to run them');
  });
} else {
  const target = { host: new URL(BASE).hostname, port: Number(new URL(BASE).port || 5432) };

  test('an outage answers 503 with Retry-After quickly, and the server recovers', async () => {
    let scratch: ScratchDatabase | undefined;
    let server: RunningServer | undefined;
    const proxy = await FlakyProxy.start(target);
    try {
      scratch = await openScratchDatabase(BASE, 'wg_outage');
      server = await startServer({ port: 0, databaseUrl: viaProxy(scratch.url, proxy.port), adminToken: ADMIN, log: () => {} });
      const auth = { authorization: `Bearer ${ADMIN}` };
      const list = () => fetch(`${server!.url}/v1/customers`, { headers: auth });
      const create = () =>
        fetch(`${server!.url}/v1/customers`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"name":"x"}' });
      const health = () => fetch(`${server!.url}/healthz`);
      assert.is((await list()).status, 200);

      for (const outage of ['refuse', 'swallow'] as const) {
        await proxy[outage]();
        // The three at once, as under load: each gets its 503 in time, and the server lives
        // through the driver's connections closing under it (server/db/postgres-guard.ts).
        for (const { response, ms, body } of await Promise.all([list, create, health].map(timed))) {
          assert.is(response.status, 503, `${outage}: ${response.status} ${JSON.stringify(body)}`);
          assert.ok(Number(response.headers.get('retry-after')) >= 1, 'Retry-After in seconds');
          assert.is(body.code, 'DATABASE_UNAVAILABLE');
          assert.ok(ms < 8_000, `${outage}: answered after ${ms} ms`);
        }
        await proxy.restore();
        let status = 0;
        for (let i = 0; i < 40 && status !== 200; i++) {
          status = (await list()).status;
          if (status !== 200) await new Promise((r) => setTimeout(r, 250));
        }
        assert.is(status, 200, `serves again after the ${outage} outage`);
      }
    } finally {
      await proxy.refuse();
      await proxy.restore();
      await server?.close();
      await proxy.refuse();
      await scratch?.drop();
    }
  });

  test('starting while the database is down retries with backoff, a log line per try', async () => {
    let scratch: ScratchDatabase | undefined;
    let server: RunningServer | undefined;
    const proxy = await FlakyProxy.start(target, 0, false);
    try {
      scratch = await openScratchDatabase(BASE, 'wg_outage');
      const lines: string[] = [];
      setTimeout(() => void proxy.listen(), 2_500);
      const started = Date.now();
      server = await startServer({
        port: 0,
        databaseUrl: viaProxy(scratch.url, proxy.port),
        adminToken: ADMIN,
        databaseRetryMs: 20_000,
        log: (line) => lines.push(line),
      });
      assert.ok(Date.now() - started >= 2_000);
      const tries = lines.filter((line) => /database .*unreachable.*retry/i.test(line));
      assert.ok(tries.length >= 2, `a log line per try: ${JSON.stringify(lines)}`);
      assert.not.match(tries.join('\n'), /postgres:\/\/[^@\s]*:[^@\s]*@/, 'no password in the log');
      assert.is((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      await server?.close();
      await proxy.refuse();
      await scratch?.drop();
    }
  });

  test('the retry gives up after the configured time with DATABASE_UNAVAILABLE', async () => {
    const proxy = await FlakyProxy.start(target, 0, false);
    const lines: string[] = [];
    const started = Date.now();
    try {
      await startServer({ port: 0, databaseUrl: viaProxy(BASE, proxy.port), adminToken: ADMIN, databaseRetryMs: 1_500, log: (line) => lines.push(line) });
      assert.unreachable('started without a database');
    } catch (error) {
      assert.is((error as { code: string }).code, 'DATABASE_UNAVAILABLE');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 1_200 && elapsed < 8_000, `gave up after ${elapsed} ms`);
      assert.ok(lines.length >= 2, JSON.stringify(lines));
    }
  });
}

test.run();

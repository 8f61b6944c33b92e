// Three server processes (`weightgate serve`) on one PostgreSQL, no
// balancer in front: a write on one clears the caches of the others at once
// (LISTEN/NOTIFY), not when their entries expire. The processes keep their
// lookups for a minute here, so without the notice a revoked token or a
// changed tier would keep being served for that long; with it, the others
// follow within a second. Asserted by polling, not by sleeping a fixed
// time. They push through one Mosquitto: a change makes one notice, sent by
// the process that wrote, not one per process.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { PushNotice } from '../../api/push-notice.ts';
import { openScratchDatabase, type ScratchDatabase } from '../../server/db/scratch-database.ts';
import { MOSQUITTO, MOSQUITTO_URL, POSTGRES, requiring } from '../requirements.ts';
import { publisherKeys, signedTiny } from './fixtures.ts';

const test = requiring(uvuTest, POSTGRES, await MOSQUITTO());

interface RunningServer {
  url: string;
  process: ChildProcess;
  /** What it wrote to stderr so far (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

/** `weightgate serve` in a child process; resolves once it prints its address. */
function serve(databaseUrl: string, prefix: string, lookupsKeptSeconds: number): Promise<RunningServer> {
  const child = spawn(
    process.execPath,
    ['bin/weightgate.js', 'serve', '--port', '0', '--auth-cache-seconds', String(lookupsKeptSeconds), '--mqtt-topic-prefix', prefix],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DATABASE_URL: databaseUrl, WEIGHTGATE_ADMIN_TOKEN: ADMIN, MQTT_URL: MOSQUITTO_URL } },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (chunk) => (err += chunk));
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (match) {
        resolve({
          url: match[1]!,
          process: child,
          stderr: () => err,
          async stop() {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('close', (code) => reject(new Error(`weightgate serve exited ${code} before listening: ${err}`)));
  });
}
const ADMIN = 'multi-instance-admin-token-0123';
const LOOKUPS_KEPT_MS = 60_000;

/** Polls `check` until it returns true; the milliseconds it took, or null after `ms`. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (await check()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return null;
}

test('three processes: a revoked token and a changed tier stop being served everywhere within a second; one notice per change', async () => {
  let scratch: ScratchDatabase | undefined;
  const servers: RunningServer[] = [];
  // A prefix of this run's own: Mosquitto is shared by everything on the machine.
  const prefix = `wg-multi-${randomBytes(6).toString('hex')}`;
  const listener = await mqtt.connectAsync(MOSQUITTO_URL, { reconnectPeriod: 0 });
  // Each notice's topic and kind. The release's notices are sent after the
  // release returns, to the model's devices at that moment: on a loaded
  // machine that can be after the device below was made, so the device may
  // get one for the release too. Only the license's notices are counted.
  const notices: Array<{ topic: string; kind: string }> = [];
  listener.on('message', (topic, payload) => {
    const notice = PushNotice.safeParse(JSON.parse(payload.toString()));
    notices.push({ topic, kind: notice.success ? notice.data.kind : 'not a notice' });
  });
  const licenseNotices = () => notices.filter((notice) => notice.kind === 'license').map((notice) => notice.topic);
  await listener.subscribeAsync(`${prefix}/devices/+`);
  try {
    scratch = await openScratchDatabase(process.env.DATABASE_URL!, 'wg_multi');
    // One after another: each applies the migrations (a no-op after the first) before it listens.
    for (let i = 0; i < 3; i++) servers.push(await serve(scratch.url, prefix, LOOKUPS_KEPT_MS / 1000));
    assert.equal(new Set(servers.map((s) => s.process.pid)).size, 3, 'three processes');
    const [a, b, c] = servers as [RunningServer, RunningServer, RunningServer];
    const call = async (server: RunningServer, method: string, path: string, token: string, body?: unknown, bytes?: Uint8Array) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (bytes) headers['content-type'] = 'application/octet-stream';
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers,
        body: bytes ? (bytes as Uint8Array<ArrayBuffer>) : body !== undefined ? JSON.stringify(body) : undefined,
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };

    // An admin token, used on B and C (their lookups of it are then kept), revoked on A.
    const issued = await call(a, 'POST', '/v1/tokens', ADMIN, { role: 'admin', label: 'ci' });
    assert.is(issued.status, 201, JSON.stringify(issued.body));
    for (const server of [b, c]) assert.is((await call(server, 'GET', '/v1/customers', issued.body.token)).status, 200);
    assert.is((await call(a, 'POST', `/v1/tokens/${issued.body.id}/revoke`, ADMIN)).status, 200);
    for (const [name, server] of [
      ['B', b],
      ['C', c],
    ] as const) {
      const took = await within(1_000, async () => (await call(server, 'GET', '/v1/customers', issued.body.token)).status === 401);
      assert.ok(took !== null, `instance ${name} still accepts the revoked token after 1 s`);
    }

    // A device on a gold license, checking on B and C; its license moves to bronze on A.
    assert.is((await call(a, 'POST', '/v1/publisher-keys', ADMIN, { publicKey: publisherKeys.publicKeyPem, label: 'ci' })).status, 201);
    assert.is((await call(a, 'POST', '/v1/versions', ADMIN, undefined, signedTiny(1))).status, 201);
    const customer = await call(a, 'POST', '/v1/customers', ADMIN, { name: 'acme' });
    const license = await call(a, 'POST', '/v1/licenses', ADMIN, { customerId: customer.body.id, model: 'tiny', tier: 'gold', kind: 'dynamic' });
    assert.is(license.status, 201, JSON.stringify(license.body));
    const device = await call(a, 'POST', '/v1/devices', ADMIN, { licenseId: license.body.id, name: 'd1' });
    assert.is(device.status, 201, JSON.stringify(device.body));
    const check = (server: RunningServer) => call(server, 'GET', '/v1/device/update-check?version=0&intervals=', device.body.token);
    const gold = (await check(b)).body.intervals as number[];
    assert.equal((await check(c)).body.intervals, gold);
    assert.is((await call(a, 'POST', `/v1/licenses/${license.body.id}/tier`, ADMIN, { tier: 'bronze' })).status, 200);
    const bronze = (await check(a)).body.intervals as number[];
    assert.ok(bronze.length < gold.length, `bronze ${bronze} holds fewer intervals than gold ${gold}`);
    for (const [name, server] of [
      ['B', b],
      ['C', c],
    ] as const) {
      const took = await within(1_000, async () => JSON.stringify((await check(server)).body.intervals) === JSON.stringify(bronze));
      assert.ok(took !== null, `instance ${name} still grants gold's intervals 1 s after the change`);
    }
    // The tier change made exactly one notice, from A, to the device's topic (B and C only forgot their caches).
    const topic = `${prefix}/devices/${device.body.deviceId}`;
    assert.ok((await within(2_000, async () => licenseNotices().length > 0)) !== null, `a notice for the tier change; A said: ${a.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(licenseNotices(), [topic], `one notice, not one per process; all notices: ${JSON.stringify(notices)}`);
    assert.equal((await check(b)).body.push, { url: MOSQUITTO_URL, topic }, 'every process names the same broker and topic');
  } finally {
    await listener.endAsync();
    for (const server of servers) await server.stop();
    await scratch?.drop();
  }
});

test.run();

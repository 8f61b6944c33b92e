// A real shared cache (Squid) in front of the server: licensed bytes are
// gated by Authorization, so a cache shared between clients must never hand
// them to a request with no token, a wrong token or a lesser license. Skips,
// saying so, when squid is not installed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/start.ts';
import { createClient } from '../../server/client.ts';
import { createUpdateClient } from '../../device-sim/update-client.ts';
import { publisherKeys, signedTiny } from './fixtures.ts';

const SQUID = ['/usr/sbin/squid', '/usr/bin/squid', '/usr/local/sbin/squid'].find((path) => existsSync(path));
const ADMIN = 'shared-cache-admin-token-Xy7-0123';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

interface Squid {
  port: number;
  stop(): Promise<void>;
}

async function startSquid(): Promise<Squid> {
  const dir = mkdtempSync(join(tmpdir(), 'wg-squid-'));
  // squid started as root drops to its own user: it must be able to write here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const config = join(dir, 'squid.conf');
  writeFileSync(
    config,
    [
      `http_port 127.0.0.1:${port}`,
      'acl localnet src 127.0.0.1/32',
      'http_access allow localnet',
      'http_access deny all',
      'cache_mem 16 MB',
      'maximum_object_size_in_memory 8 MB',
      `cache_dir ufs ${join(dir, 'cache')} 16 4 4`,
      `pid_filename ${join(dir, 'squid.pid')}`,
      `cache_log ${join(dir, 'cache.log')}`,
      `access_log ${join(dir, 'access.log')}`,
      'cache_store_log none',
      `coredump_dir ${dir}`,
      'shutdown_lifetime 0 seconds',
      // Cache as aggressively as the protocol lets it.
      'refresh_pattern . 0 100% 525600',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve, reject) => {
    const init = spawn(SQUID!, ['-z', '-N', '-f', config], { stdio: 'ignore' });
    init.once('error', reject);
    init.once('exit', () => resolve());
  });
  const child: ChildProcess = spawn(SQUID!, ['-N', '-f', config], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, method: 'GET', path: 'http://127.0.0.1:1/' }, (res) => {
        res.resume();
        resolve(true);
      });
      req.once('error', () => resolve(false));
      req.end();
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`squid did not start on 127.0.0.1:${port}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** GET `url` through the proxy (absolute-form request target). */
function viaProxy(proxyPort: number, url: string, token: string | null): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const req = request({ host: '127.0.0.1', port: proxyPort, method: 'GET', path: url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('proxy request timed out')));
    req.once('error', reject);
    req.end();
  });
}

test('a shared cache in front of the server never gives gated bytes to another requester', async () => {
  if (!SQUID) {
    console.log('  shared-cache test SKIPPED: squid is not installed (apt-get install squid)');
    return;
  }
  let server: RunningServer | undefined;
  let squid: Squid | undefined;
  let dataDir: string | undefined;
  try {
    dataDir = mkdtempSync(join(tmpdir(), 'wg-shared-cache-db-'));
    server = await startServer({ port: 0, adminToken: ADMIN, dataDir, log: () => {} });
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(publisherKeys.publicKeyPem, 'ci');
    await admin.createToken('publisher', 'ci').then((t) => createClient({ server: server!.url, token: t.token }).publish(signedTiny(1)));
    const customer = await admin.createCustomer('acme');
    const gold = await admin.createLicense({ customerId: customer.id, model: 'tiny', tier: 'gold', kind: 'dynamic' });
    const bronze = await admin.createLicense({ customerId: customer.id, model: 'tiny', tier: 'bronze', kind: 'dynamic' });
    const goldDevice = await admin.registerDevice(gold.id, 'gold-1');
    const bronzeDevice = await admin.registerDevice(bronze.id, 'bronze-1');
    const update = await createUpdateClient({ server: server.url, token: goldDevice.token }).check({ version: 0, heldIntervals: [] });
    const url = `${server.url}${update.artifact.url}`;

    squid = await startSquid();
    // The licensed device fetches twice (the second is the fast path's answer).
    const owns = [];
    for (let i = 0; i < 2; i++) {
      const own = await viaProxy(squid.port, url, goldDevice.token);
      assert.is(own.status, 200);
      assert.is(own.body.byteLength, update.artifact.bytes);
      owns.push(own);
    }
    const noToken = await viaProxy(squid.port, url, null);
    assert.is(noToken.status, 401, `no token got ${noToken.status} (${noToken.body.byteLength} bytes, x-cache ${noToken.headers['x-cache']})`);
    const wrongToken = await viaProxy(squid.port, url, 'wgd_not-a-real-token');
    assert.is(wrongToken.status, 401, `a wrong token got ${wrongToken.status} (x-cache ${wrongToken.headers['x-cache']})`);
    const basic = await viaProxy(squid.port, url, bronzeDevice.token);
    assert.is(basic.status, 403, `a bronze token got ${basic.status} (x-cache ${basic.headers['x-cache']})`);
    for (const refused of [noToken, wrongToken, basic]) {
      assert.ok(!refused.body.includes(Buffer.from('WGM')) || refused.body.byteLength < 200, 'a refusal carries no artifact bytes');
    }
    for (const own of owns) {
      assert.match(String(own.headers['cache-control']), /\bprivate\b/);
      assert.not.match(String(own.headers['cache-control']), /\bpublic\b/);
      assert.match(String(own.headers['cache-control']), /\bimmutable\b/, 'the device may still keep its own copy');
    }
  } finally {
    await squid?.stop();
    await server?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();

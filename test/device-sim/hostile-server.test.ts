// The update client treats the server as untrusted: off-contract JSON,
// bytes that do not hash to what was promised, over-long bodies and an
// artifact signed by another key are all refused and change nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from '../../device-sim/device.ts';
import { createUpdateClient } from '../../device-sim/update-client.ts';
import { Flash } from '../../device-sim/flash.ts';
import { PowerCutInjector } from '../../device-sim/power-cut.ts';
import { encodeArtifact, generateKeyPair } from '../../formats/index.ts';
import { keys, syntheticArtifact, syntheticModel } from './fixtures.ts';

type Handler = (path: string) => { status: number; body: Uint8Array | string; type?: string };

async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const reply = handler(req.url ?? '/');
    res.writeHead(reply.status, { 'content-type': reply.type ?? 'application/json' });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const checkBody = (bytes: Uint8Array, claimedSha = sha(bytes), claimedBytes = bytes.length) =>
  JSON.stringify({
    model: 'synthetic',
    upToDate: false,
    version: 1,
    intervals: [0, 1, 2, 3],
    artifact: { url: `/v1/artifacts/${claimedSha}`, sha256: claimedSha, bytes: claimedBytes },
    patch: null,
  });

async function deviceAgainst(handler: Handler) {
  const { url, server } = await serve(handler);
  const dir = mkdtempSync(join(tmpdir(), 'wg-hostile-'));
  const device = await openDevice({ dir, profile: 'm0-32k', server: url, token: 't', publicKey: keys.publicKeyPem });
  return { device, dir, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function expectCode(promise: Promise<unknown>, code: string | RegExp): Promise<void> {
  try {
    await promise;
    assert.unreachable('should have been refused');
  } catch (error: any) {
    if (typeof code === 'string') assert.is(error.code, code, error.message);
    else assert.match(String(error.code), code, error.message);
  }
}

const good = syntheticArtifact({ version: 1, sizes: [784, 8, 10] });

test('an off-contract update-check answer is refused', async () => {
  const { device, close } = await deviceAgainst(() => ({ status: 200, body: JSON.stringify({ model: 'synthetic', upToDate: 'no' }) }));
  await expectCode(device.checkForUpdate(), 'SERVER_ERROR');
  assert.is(device.status().version, 0);
  await close();
});

test('downloaded bytes that do not hash to the promised SHA-256 are discarded', async () => {
  const tampered = Uint8Array.from(good);
  tampered[tampered.length - 5] ^= 0xff;
  const { device, dir, close } = await deviceAgainst((path) =>
    path.startsWith('/v1/device/') ? { status: 200, body: checkBody(good) } : { status: 200, body: tampered, type: 'application/octet-stream' },
  );
  await expectCode(device.checkForUpdate(), 'DOWNLOAD_HASH_MISMATCH');
  assert.is(device.status().version, 0);
  assert.not.ok(existsSync(join(dir, 'download.bin')), 'the bad download is gone');
  await close();
});

test('a body longer than announced is cut off', async () => {
  const { device, close } = await deviceAgainst((path) =>
    path.startsWith('/v1/device/') ? { status: 200, body: checkBody(good, sha(good), 100) } : { status: 200, body: good, type: 'application/octet-stream' },
  );
  await expectCode(device.checkForUpdate(), 'DOWNLOAD_FAILED');
  assert.is(device.status().version, 0);
  await close();
});

test('an artifact announced larger than a flash slot is refused before downloading', async () => {
  let downloads = 0;
  const { device, close } = await deviceAgainst((path) => {
    if (path.startsWith('/v1/device/')) return { status: 200, body: checkBody(good, sha(good), 10_000_000) };
    downloads++;
    return { status: 200, body: good, type: 'application/octet-stream' };
  });
  await expectCode(device.checkForUpdate(), 'FLASH_BUDGET_EXCEEDED');
  assert.is(downloads, 0);
  await close();
});

test('an artifact signed by another key is refused even when its hash matches', async () => {
  const stranger = generateKeyPair();
  const forged = encodeArtifact(syntheticModel({ version: 1, sizes: [784, 8, 10] }), { privateKey: stranger.privateKeyPem });
  const { device, close } = await deviceAgainst((path) =>
    path.startsWith('/v1/device/') ? { status: 200, body: checkBody(forged) } : { status: 200, body: forged, type: 'application/octet-stream' },
  );
  await expectCode(device.checkForUpdate(), /SIGNATURE|UNSIGNED/);
  assert.is(device.status().version, 0);
  await close();
});

// ---- Malformed transport: every failure is a typed error, never a raw one.

async function serveRaw(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP server that answers every connection with `raw` bytes (or holds it silent when null). */
async function serveTcp(raw: string | null): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => {
      if (raw !== null) socket.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function deviceAt(url: string) {
  return openDevice({ dir: mkdtempSync(join(tmpdir(), 'wg-hostile-')), profile: 'm0-32k', server: url, token: 't', publicKey: keys.publicKeyPem });
}

/** Fails the test instead of hanging when `promise` takes longer than `ms`. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
    }),
  ]);
}

test('an HTML update-check answer is a SERVER_ERROR', async () => {
  const server = await serveRaw((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>502 Bad Gateway</body></html>');
  });
  const device = await deviceAt(server.url);
  await expectCode(device.checkForUpdate(), 'SERVER_ERROR');
  assert.is(device.status().version, 0);
  await server.close();
});

test('an update-check body shorter than its Content-Length is a SERVER_ERROR', async () => {
  const server = await serveTcp('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"model":"synthetic"');
  await expectCode((await deviceAt(server.url)).checkForUpdate(), 'SERVER_ERROR');
  await server.close();
});

test('an update-check body longer than its Content-Length is a SERVER_ERROR', async () => {
  const body = checkBody(good);
  const server = await serveTcp(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n${body}`);
  await expectCode((await deviceAt(server.url)).checkForUpdate(), 'SERVER_ERROR');
  await server.close();
});

test('an update-check redirect loop is a SERVER_ERROR', async () => {
  const server = await serveRaw((req, res) => {
    res.writeHead(302, { location: req.url ?? '/' });
    res.end();
  });
  await expectCode((await deviceAt(server.url)).checkForUpdate(), 'SERVER_ERROR');
  await server.close();
});

test('a server that accepts and never answers: SERVER_ERROR after the connect timeout', async () => {
  const server = await serveTcp(null);
  const client = createUpdateClient({ server: server.url, token: 't', checkTimeouts: { connectMs: 300 } });
  const started = Date.now();
  await expectCode(within(5_000, client.check({ version: 0, heldIntervals: [] })), 'SERVER_ERROR');
  assert.ok(Date.now() - started < 3_000);
  await server.close();
});

test('a cross-origin redirect of the artifact URL is refused; the other origin is never asked', async () => {
  let elsewhereHits = 0;
  const elsewhere = await serveRaw((_, res) => {
    elsewhereHits++;
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(good);
  });
  const server = await serveRaw((req, res) => {
    if (req.url?.startsWith('/v1/device/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(checkBody(good));
      return;
    }
    res.writeHead(302, { location: `${elsewhere.url}${req.url}` });
    res.end();
  });
  const device = await deviceAt(server.url);
  await expectCode(device.checkForUpdate(), 'DOWNLOAD_FAILED');
  assert.is(elsewhereHits, 0);
  assert.is(device.status().version, 0);
  await server.close();
  await elsewhere.close();
});

test('a server trickling one byte every 250 ms cannot hold a download; the next try resumes', async () => {
  let trickle = true;
  const ranges: string[] = [];
  const server = await serveRaw((req, res) => {
    ranges.push(String(req.headers.range ?? ''));
    const from = Number(/^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''))?.[1] ?? 0);
    const rest = good.subarray(from);
    res.writeHead(from > 0 ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(rest.length),
      ...(from > 0 ? { 'content-range': `bytes ${from}-${good.length - 1}/${good.length}` } : {}),
    });
    if (!trickle) {
      res.end(rest);
      return;
    }
    let at = 0;
    const timer = setInterval(() => {
      if (at >= rest.length || res.destroyed) return clearInterval(timer);
      res.write(rest.subarray(at, at + 1));
      at++;
    }, 250);
    res.on('close', () => clearInterval(timer));
  });
  const flash = new Flash(mkdtempSync(join(tmpdir(), 'wg-trickle-')), 4 * 1024 * 1024, new PowerCutInjector(null));
  const client = createUpdateClient({ server: server.url, token: 't', downloadTimeouts: { connectMs: 1_000, idleMs: 1_000, totalMs: 1_500 } });
  const offer = { url: `/v1/artifacts/${sha(good)}`, sha256: sha(good), bytes: good.length };
  const started = Date.now();
  await expectCode(within(10_000, client.download(offer, 'artifact', flash)), 'DOWNLOAD_FAILED');
  assert.ok(Date.now() - started < 4_000, `gave up after ${Date.now() - started} ms`);
  const partial = flash.downloadLength();
  assert.ok(partial > 0 && partial < good.length, `kept ${partial} bytes`);
  trickle = false;
  const done = await within(10_000, client.download(offer, 'artifact', flash));
  assert.is(sha(done.bytes), sha(good));
  assert.is(ranges[ranges.length - 1], `bytes=${partial}-`, 'the next try resumed where the last stopped');
  assert.is(done.bytesSent, good.length - partial);
  await server.close();
});

test('a kept-alive connection the server resets as it is reused: the update-check is sent once more, on a new one', async () => {
  // Each connection answers its first request, keeps the connection open,
  // and resets it when a second request arrives on it: the race between a
  // server closing an idle connection and a client reusing it.
  const body = checkBody(good);
  let connections = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    let served = 0;
    socket.on('data', () => {
      requests++;
      if (served++ === 0) socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      else socket.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = createUpdateClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' });
  try {
    assert.is((await client.check({ version: 0, heldIntervals: [] })).version, 1);
    const second = await client.check({ version: 0, heldIntervals: [] }).catch((error: Error) => error);
    assert.not.instance(second, Error, `the second check failed on the reset connection: ${(second as Error).message}`);
    assert.is(requests, 3, 'one request reset, and sent again');
    assert.is(connections, 2);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test.run();

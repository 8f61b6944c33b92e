// The update client treats the server as untrusted: off-contract JSON,
// bytes that do not hash to what was promised, over-long bodies and an
// artifact signed by another key are all refused and change nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from '../../device-sim/device.ts';
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

test.run();

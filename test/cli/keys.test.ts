// A private key where a public one is expected: refused before anything is
// sent or checked, with a pointer to the .pub.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeArtifact, generateKeyPair, keyIdOf } from '../../formats/index.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';
import { recordingServer, runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'wg-cli-keys-'));
const pair = generateKeyPair();
const privateKey = join(dir, 'weightgate.key');
const publicKey = join(dir, 'weightgate.pub');
writeFileSync(privateKey, pair.privateKeyPem);
writeFileSync(publicKey, pair.publicKeyPem);
const signed = join(dir, 'signed.wgm');
writeFileSync(
  signed,
  encodeArtifact(syntheticModel({ sizes: [30, 10, 4], sparsity: 0.7, bits: 3, intervals: 4, seed: 5 }), { privateKey: pair.privateKeyPem }),
);

test('keys register refuses a private key and sends nothing', async () => {
  const server = await recordingServer(() => ({ status: 200, body: { keyId: 'x', label: 'ci' } }));
  try {
    const result = await runCli(['keys', 'register', privateKey, '--server', server.url, '--token', 'admin-token-0123456789']);
    assert.is(result.status, 2, result.stderr);
    assert.match(result.stderr, /^weightgate: error PRIVATE_KEY: .*weightgate\.key is a private key.*\.pub/);
    assert.is(server.requests.length, 0, 'nothing reached the server');
    const ok = await runCli(['keys', 'register', publicKey, '--server', server.url, '--token', 'admin-token-0123456789']);
    assert.is(ok.status, 0, ok.stderr);
    assert.is(server.requests.length, 1);
    assert.not.match(server.requests[0]!.body, 'PRIVATE');
  } finally {
    await server.close();
  }
});

test('verify refuses a private key for --pubkey and names the key id that verified', async () => {
  const refused = await runCli(['verify', signed, '--pubkey', privateKey]);
  assert.is(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /^weightgate: error PRIVATE_KEY: .*weightgate\.key is a private key.*\.pub/);
  assert.not.match(refused.stdout, 'valid');
  const ok = await runCli(['verify', signed, '--pubkey', publicKey]);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, `valid, signed by key ${keyIdOf(pair.publicKeyPem)}`);
});

test('patch --pubkey and device --public-key refuse a private key too', async () => {
  const patch = await runCli(['patch', signed, signed, '--out', join(dir, 'x.wgm'), '--pubkey', privateKey]);
  assert.is(patch.status, 2);
  assert.match(patch.stderr, 'PRIVATE_KEY');
  const infer = await runCli(['device', 'infer', signed, '--public-key', privateKey]);
  assert.is(infer.status, 2);
  assert.match(infer.stderr, 'PRIVATE_KEY');
});

test.run();

// A damaged bias (base) segment is named "base", never "interval 65535"
// (BASE_INTERVAL's wire value), by verify, inspect and the formats API.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE_INTERVAL, encodeArtifact, generateKeyPair, readArtifact } from '../../formats/index.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';
import { runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'wg-cli-base-'));
const pair = generateKeyPair();
const bytes = encodeArtifact(syntheticModel({ sizes: [30, 10, 4], sparsity: 0.7, bits: 3, intervals: 4, seed: 5 }), { privateKey: pair.privateKeyPem });
const base = readArtifact(bytes).segments.find((s) => s.interval === BASE_INTERVAL)!;
const damaged = new Uint8Array(bytes);
damaged[base.data.byteOffset + 1]! ^= 0x01;
const file = join(dir, 'damaged-bias.wgm');
writeFileSync(file, damaged);
writeFileSync(join(dir, 'weightgate.pub'), pair.publicKeyPem);

test('a hash mismatch on a bias names the base interval as "base"', async () => {
  assert.throws(
    () => readArtifact(damaged),
    (error: Error) => /\bbase\b/.test(error.message) && !/65535/.test(error.message),
  );
  for (const args of [
    ['verify', file, '--pubkey', join(dir, 'weightgate.pub')],
    ['inspect', file],
  ]) {
    const result = await runCli(args);
    assert.ok(result.status === 1 || result.status === 2, result.stderr);
    assert.match(result.stderr, /HASH_MISMATCH: .*\bbase\b/, args[0]);
    assert.not.match(result.stderr, '65535', args[0]);
  }
});

test.run();

// `weightgate firmware layout` and `firmware header`: the C update half's
// default flash layout computed on the host, and what fits it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffArtifacts, encodeArtifact, generateKeyPair } from '../../formats/index.ts';
import { defaultFlashLayout } from '../../device-sim/flash-layout.ts';
import { slotCapacityOf } from '../../device-sim/flash.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';
import { runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'wg-cli-firmware-'));
const pair = generateKeyPair();
const model = syntheticModel({ sizes: [30, 10, 4], sparsity: 0.7, bits: 3, intervals: 4, seed: 5 });
const full = join(dir, 'full.wgm');
const basic = join(dir, 'basic.wgm');
writeFileSync(full, encodeArtifact(model, { privateKey: pair.privateKeyPem }));
writeFileSync(basic, encodeArtifact(model, { privateKey: pair.privateKeyPem, heldIntervals: [0, 2] }));
const patch = join(dir, 'upgrade.wgp');
writeFileSync(patch, diffArtifacts(new Uint8Array(readFileSync(basic)), new Uint8Array(readFileSync(full))));

test("with 4 KiB sectors and no staging the layout is device-sim's", () => {
  for (const flash of [64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024]) {
    const layout = defaultFlashLayout(flash, 4096);
    assert.is(layout.slotBytes, slotCapacityOf(flash), `${flash} bytes of flash`);
    assert.equal(layout.stateOffsets, [0, 4096]);
    assert.is(layout.slotOffsets[1], layout.slotOffsets[0] + layout.slotBytes);
  }
});

test('a staging region comes after slot B, in whole sectors; too little flash is refused', () => {
  const layout = defaultFlashLayout(64 * 1024, 4096, 5000);
  assert.is(layout.stagingBytes, 8192);
  assert.is(layout.slotBytes, 6 * 4096); // (16 sectors - 2 state - 2 staging) / 2
  assert.is(layout.stagingOffset, layout.slotOffsets[1] + layout.slotBytes);
  assert.throws(() => defaultFlashLayout(3 * 4096, 4096), /hold 3 sectors/);
  assert.throws(() => defaultFlashLayout(64 * 1024, 3000), /power of two/);
});

test('firmware layout says what fits and exits 1 when the artifact does not', async () => {
  const ok = await runCli(['firmware', 'layout', '--flash', '64k', '--artifact', full, '--patch', patch, '--json']);
  assert.is(ok.status, 0, ok.stderr);
  const report = JSON.parse(ok.stdout);
  assert.is(report.slotBytes, slotCapacityOf(64 * 1024));
  assert.is(report.checks.length, 3);
  assert.ok(report.checks.every((c: { fits: boolean }) => c.fits));
  // 4 sectors of 512 bytes: two state records and two 512-byte slots, smaller than the artifact.
  const small = await runCli(['firmware', 'layout', '--flash', '2048', '--sector', '512', '--artifact', full]);
  assert.is(small.status, 1, small.stderr);
  assert.match(small.stderr, /^weightgate: error DOES_NOT_FIT: artifact .* needs \d+ bytes, the layout has 512/);
  const bad = await runCli(['firmware', 'layout', '--flash', 'lots']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--flash lots: give a size/);
});

test('firmware header writes a verified patch as a C array, and refuses a damaged one', async () => {
  const out = join(dir, 'upgrade.h');
  const result = await runCli(['firmware', 'header', patch, '--out', out, '--name', 'g_upgrade']);
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stdout, /wrote .*upgrade\.h \(g_upgrade, \d+ bytes, a patch\)/);
  const header = readFileSync(out, 'utf8');
  assert.match(header, /static const unsigned char g_upgrade\[\]/);
  const bytes = new Uint8Array(readFileSync(patch));
  bytes[4] ^= 0xff; // the file identifier: not a .wgp any more
  const damaged = join(dir, 'damaged.wgp');
  writeFileSync(damaged, bytes);
  const refused = await runCli(['firmware', 'header', damaged, '--out', join(dir, 'damaged.h')]);
  assert.is(refused.status, 2, refused.stderr);
});

test.run();

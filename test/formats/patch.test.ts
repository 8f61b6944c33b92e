import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { applyPatch, applyPatchToArtifact, diffArtifacts, encodeArtifact, FormatError, generateKeyPair, readArtifact, readPatch, sha256Hex } from '../../formats/index.ts';
import { syntheticModel } from '../../bench/formats/synthetic-model.ts';
import { changeCentroids, changeWeights } from '../../bench/formats/versions.ts';

const keys = generateKeyPair();
const v1 = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.75, bits: 4, intervals: 4, seed: 3 });
const ids = v1.intervals.map((i) => i.id);

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, FormatError);
    assert.is((error as FormatError).code, code, (error as Error).message);
    return;
  }
  assert.unreachable(`expected FormatError ${code}`);
}

test('a new version: patch gives the target bytes exactly and verifies its signature', () => {
  const a = encodeArtifact(v1, { privateKey: keys.privateKeyPem });
  const b = encodeArtifact(changeWeights(v1, 0.1, 9), { privateKey: keys.privateKeyPem });
  const patch = diffArtifacts(a, b);
  assert.equal(applyPatch(a, patch, { publicKey: keys.publicKeyPem }), b);
  const info = readPatch(patch);
  assert.is(info.fromVersion, 1);
  assert.is(info.toVersion, 2);
  assert.is(info.fromSha256, sha256Hex(a));
  assert.is(info.toSha256, sha256Hex(b));
  assert.ok(info.carriesManifest);
});

test('centroid-only change reuses every kernel segment', () => {
  const a = encodeArtifact(v1);
  const b = encodeArtifact(changeCentroids(v1, 0.01));
  const patch = diffArtifacts(a, b);
  assert.equal(applyPatch(a, patch), b);
  const info = readPatch(patch);
  assert.is(info.whole + info.delta, 0, 'no segment payloads');
});

test('license upgrade carries only the added segments; downgrade almost nothing', () => {
  const low = encodeArtifact(v1, { license: [0] });
  const full = encodeArtifact(v1);
  const up = diffArtifacts(low, full);
  assert.equal(applyPatch(low, up), full);
  const info = readPatch(up);
  assert.not.ok(info.carriesManifest);
  assert.is(info.delta, 0);
  assert.ok(info.whole > 0);
  const down = diffArtifacts(full, low);
  assert.equal(applyPatch(full, down), low);
  assert.ok(down.length < 256, `downgrade patch is ${down.length} bytes`);
  assert.is(readPatch(down).payloadBytes, 0);
});

test('a patch applied to the wrong artifact is WRONG_BASE', () => {
  const a = encodeArtifact(v1);
  const b = encodeArtifact(changeWeights(v1, 0.1, 2));
  const other = encodeArtifact(v1, { license: [1] });
  expectCode(() => applyPatch(other, diffArtifacts(a, b)), 'WRONG_BASE');
});

test('random version pairs and license changes round-trip (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.subarray(ids),
      fc.subarray(ids),
      fc.boolean(),
      (seed, fraction, licenseA, licenseB, sameVersion) => {
        const target = sameVersion ? v1 : changeWeights(v1, fraction, seed);
        const a = encodeArtifact(v1, { license: licenseA });
        const b = encodeArtifact(target, { license: licenseB, privateKey: keys.privateKeyPem });
        const patch = diffArtifacts(a, b);
        assert.equal(applyPatch(a, patch, { publicKey: keys.publicKeyPem }), b);
        assert.ok(patch.length <= b.length + 200, `patch ${patch.length} vs target ${b.length}`);
      },
    ),
    { numRuns: 60, seed: 42 },
  );
});

test('applyPatchToArtifact: same result as applyPatch from a held Artifact; another base or key refused', () => {
  const a = encodeArtifact(v1, { privateKey: keys.privateKeyPem });
  const b = encodeArtifact(changeWeights(v1, 0.1, 4), { privateKey: keys.privateKeyPem });
  const patch = diffArtifacts(a, b);
  const next = applyPatchToArtifact(readArtifact(a), patch, { publicKey: keys.publicKeyPem });
  assert.equal(next.bytes, b);
  assert.is(next.sha256, sha256Hex(b));
  assert.is(next.manifest.version, 2);
  expectCode(() => applyPatchToArtifact(readArtifact(b), patch), 'WRONG_BASE');
  expectCode(() => applyPatchToArtifact(readArtifact(a), patch, { publicKey: generateKeyPair().publicKeyPem }), 'BAD_SIGNATURE');
});

test.run();

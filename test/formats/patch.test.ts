import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  applyPatch,
  applyPatchToArtifact,
  diffArtifacts,
  encodeArtifact,
  FormatError,
  generateKeyPair,
  readArtifact,
  readPatch,
  sha256Hex,
} from '../../formats/index.ts';
import * as flatbuffers from 'flatbuffers';
import { syntheticModel } from '../fixtures/synthetic-model.ts';
import { buildPatchBytes, type PatchFields } from '../../formats/patch/patch-writer.ts';
import { readPatchFields, rebuildManifest } from '../../formats/patch/patch-reader.ts';
import { diffManifest } from '../../formats/patch/patch-manifest-delta.ts';
import { BASE_INTERVAL } from '../../formats/model.ts';
import { changeCentroids, changeWeights } from '../fixtures/model-versions.ts';

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
  // Alone, a patch names A and B by 4-byte SHA-256 prefixes and gives B's version.
  const alone = readPatch(patch);
  assert.is(alone.toVersion, 2);
  assert.is(alone.fromSha256, sha256Hex(a).slice(0, 8));
  assert.is(alone.toSha256, sha256Hex(b).slice(0, 8));
  assert.ok(alone.carriesManifest);
  assert.not.ok(alone.exact);
  // With its source, every field is exact.
  const info = readPatch(patch, readArtifact(a));
  assert.ok(info.exact);
  assert.is(info.model, v1.model);
  assert.is(info.fromVersion, 1);
  assert.is(info.toVersion, 2);
  assert.is(info.fromSha256, sha256Hex(a));
  assert.is(info.toSha256, sha256Hex(b));
  assert.equal([info.fromHeldIntervals, info.toHeldIntervals], [ids, ids]);
  // Another source: the prefixes only, as alone.
  const other = readPatch(patch, readArtifact(b));
  assert.equal([other.exact, other.fromSha256], [false, alone.fromSha256]);
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
  const low = encodeArtifact(v1, { heldIntervals: [0] });
  const full = encodeArtifact(v1);
  const up = diffArtifacts(low, full);
  assert.equal(applyPatch(low, up), full);
  const info = readPatch(up, readArtifact(low));
  assert.not.ok(info.carriesManifest);
  assert.is(info.delta, 0);
  assert.ok(info.whole > 0);
  const added = readArtifact(full)
    .segments.filter((s) => s.interval !== 0 && s.interval !== BASE_INTERVAL)
    .reduce((n, s) => n + s.data.length, 0);
  assert.is(info.payloadBytes, added);
  assert.ok(up.length <= added + 64, `upgrade patch is ${up.length} bytes for ${added} bytes of added segments`);
  const down = diffArtifacts(full, low);
  assert.equal(applyPatch(full, down), low);
  assert.ok(down.length <= 64, `downgrade patch is ${down.length} bytes`);
  assert.is(readPatch(down).payloadBytes, 0);
});

test('a patch of format version 1 is UNSUPPORTED_VERSION, however its fields are laid out', () => {
  // Version 1's first fields: format_version, model (string), from_version (u32).
  const b = new flatbuffers.Builder(64);
  const model = b.createString(v1.model);
  b.startObject(3);
  b.addFieldInt16(0, 1, 0);
  b.addFieldOffset(1, model, 0);
  b.addFieldInt32(2, 1, 0);
  b.finish(b.endObject(), 'WGP1');
  expectCode(() => readPatch(b.asUint8Array()), 'UNSUPPORTED_VERSION');
  expectCode(() => applyPatch(encodeArtifact(v1), b.asUint8Array()), 'UNSUPPORTED_VERSION');
});

test('forged heads: a named delta for a reused segment, stray toggles, another version or check are refused', () => {
  const low = encodeArtifact(v1, { heldIntervals: [0] });
  const full = encodeArtifact(v1);
  const up = readPatchFields(diffArtifacts(low, full));
  const forge = (change: Partial<PatchFields>) => buildPatchBytes({ ...up, ...change });
  assert.equal(applyPatch(low, forge({})), full);
  expectCode(() => applyPatch(low, forge({ changes: [{ at: 0, op: 2 }] })), 'BAD_VALUE');
  expectCode(() => applyPatch(low, forge({ changes: [{ at: 99, op: 2 }] })), 'BAD_VALUE');
  expectCode(() => applyPatch(low, forge({ toggles: Uint8Array.of(up.toggles[0]! | 0x80) })), 'BAD_VALUE');
  expectCode(() => applyPatch(low, forge({ toggles: Uint8Array.of(up.toggles[0]!, 1) })), 'BAD_VALUE');
  expectCode(() => applyPatch(low, forge({ toVersion: 7 })), 'BAD_VALUE');
  expectCode(() => applyPatch(low, forge({ check: Uint8Array.of(1, 2, 3, 4) })), 'HASH_MISMATCH');
  expectCode(() => applyPatch(low, forge({ base: Uint8Array.of(1, 2, 3, 4) })), 'WRONG_BASE');
  expectCode(() => applyPatch(low, forge({ signature: new Uint8Array(64) })), 'BAD_SIGNATURE');
  // Another license: the payloads land in other segments, whose hashes refuse them.
  expectCode(() => applyPatch(low, forge({ toggles: Uint8Array.of(up.toggles[0]! ^ 0x02) })), 'HASH_MISMATCH');
});

test('a patch applied to the wrong artifact is WRONG_BASE', () => {
  const a = encodeArtifact(v1);
  const b = encodeArtifact(changeWeights(v1, 0.1, 2));
  const other = encodeArtifact(v1, { heldIntervals: [1] });
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
        const a = encodeArtifact(v1, { heldIntervals: licenseA });
        const b = encodeArtifact(target, { heldIntervals: licenseB, privateKey: keys.privateKeyPem });
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

test('manifest delta: any two manifests round-trip; damage is a FormatError, never a hang; unread bytes refused', () => {
  const manifests = [
    v1,
    changeCentroids(v1, 0.01),
    changeWeights(v1, 0.3, 5),
    syntheticModel({ sizes: [12, 6, 3], sparsity: 0.6, bits: 2, intervals: 3, seed: 11 }),
  ].map((m) => readArtifact(encodeArtifact(m)).manifestBytes);
  for (const a of manifests) {
    for (const b of manifests) {
      const delta = diffManifest(a, b);
      assert.equal(rebuildManifest(a, delta), b);
      assert.ok(delta.length <= b.length + 16, `delta ${delta.length} for a ${b.length}-byte manifest`);
    }
  }
  // Copies far behind a long literal that ran past the source's end: the widest offsets.
  const random = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761 + seed * 40503) >>> 13);
  const source = random(100, 1);
  const far = Uint8Array.from([...random(300, 2), ...source.subarray(0, 50), ...random(7, 3), ...source.subarray(90)]);
  assert.equal(rebuildManifest(source, diffManifest(source, far)), far);
  assert.equal(rebuildManifest(far, diffManifest(far, source)), source);
  const [a, b] = manifests as [Uint8Array, Uint8Array];
  const delta = diffManifest(a, b);
  // Bytes the decoder never reads are refused (it reads at most 4 past a stream's end).
  expectCode(() => rebuildManifest(a, Uint8Array.from([...delta, 1, 2, 3, 4, 5])), 'BAD_VALUE');
  const check = (bytes: Uint8Array) => {
    try {
      const out = rebuildManifest(a, bytes);
      assert.ok(out.length <= 4 * b.length + 64);
    } catch (error) {
      assert.instance(error, FormatError, (error as Error).message);
    }
  };
  for (let n = 0; n < delta.length; n++) check(delta.subarray(0, n));
  for (let i = 0; i < delta.length; i++) for (const flip of [0x01, 0x80, 0xff]) check(Uint8Array.from(delta, (v, j) => (j === i ? v ^ flip : v)));
});

test.run();

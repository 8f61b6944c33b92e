// Bad bytes never get past the verifier as anything but a FormatError, and
// never hang: every truncation, every single-byte change, forged 32-bit
// lengths/offsets at every aligned position, of a small signed artifact and
// of a patch. A change either is rejected or decodes to exactly the same
// content (a padding byte).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  applyPatch,
  decodeTensor,
  diffArtifacts,
  encodeArtifact,
  FormatError,
  generateKeyPair,
  readArtifact,
  readPatch,
  type Artifact,
} from '../../formats/index.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';
import { changeWeights } from '../fixtures/model-versions.ts';

const keys = generateKeyPair();
const model = syntheticModel({ sizes: [12, 6, 3], sparsity: 0.6, bits: 2, intervals: 3, seed: 11 });
const artifact = encodeArtifact(model, { heldIntervals: [0, 2], privateKey: keys.privateKeyPem });
const target = encodeArtifact(changeWeights(model, 0.3, 4), { heldIntervals: [0, 1, 2], privateKey: keys.privateKeyPem });
const patch = diffArtifacts(artifact, target);

function contentOf(a: Artifact): string {
  const tensors = a.manifest.tensors.map((_, t) => Array.from(decodeTensor(a, t)));
  const manifest = { ...a.manifest, segments: a.manifest.segments.map((s) => ({ ...s, sha256: Array.from(s.sha256) })) };
  return JSON.stringify({ manifest, tensors, license: a.heldIntervals, signature: a.signature && Array.from(a.signature) }, (_k, v) =>
    v instanceof Float32Array ? Array.from(v) : v,
  );
}
const original = contentOf(readArtifact(artifact, { publicKey: keys.publicKeyPem }));

/** Runs fn; returns 'error' for a FormatError, 'ok' otherwise; any other exception fails the test. */
function outcome(fn: () => void, label: string): 'error' | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof FormatError) return 'error';
    throw new Error(`${label}: ${(error as Error).name}: ${(error as Error).message}`);
  }
}

function checkArtifactVariant(bytes: Uint8Array, label: string): void {
  let content = '';
  const result = outcome(() => {
    content = contentOf(readArtifact(bytes, { publicKey: keys.publicKeyPem }));
  }, label);
  if (result === 'ok') assert.is(content, original, `${label} decoded to different content`);
}

function checkPatchVariant(bytes: Uint8Array, label: string): void {
  let out: Uint8Array | null = null;
  const result = outcome(() => {
    out = applyPatch(artifact, bytes, { publicKey: keys.publicKeyPem });
  }, label);
  if (result === 'ok') assert.ok(Buffer.from(out!).equals(Buffer.from(target)), `${label} patched to different bytes`);
  outcome(() => void readPatch(bytes), `${label} (readPatch)`);
}

test('every truncation of an artifact and a patch is a FormatError', () => {
  for (let n = 0; n < artifact.length; n++) {
    assert.is(
      outcome(() => void readArtifact(artifact.subarray(0, n)), `artifact cut at ${n}`),
      'error',
      `artifact cut at ${n} was accepted`,
    );
  }
  for (let n = 0; n < patch.length; n++) {
    assert.is(
      outcome(() => void applyPatch(artifact, patch.subarray(0, n)), `patch cut at ${n}`),
      'error',
      `patch cut at ${n} was accepted`,
    );
    outcome(() => void readPatch(patch.subarray(0, n)), `readPatch cut at ${n}`);
  }
});

test('every single-byte change of a signed artifact is rejected or changes nothing', () => {
  let rejected = 0;
  for (let i = 0; i < artifact.length; i++) {
    for (const flip of [0x01, 0x80, 0xff]) {
      const bytes = Uint8Array.from(artifact);
      bytes[i]! ^= flip;
      checkArtifactVariant(bytes, `artifact byte ${i} ^ ${flip}`);
      if (outcome(() => void readArtifact(bytes, { publicKey: keys.publicKeyPem }), '') === 'error') rejected++;
    }
  }
  assert.ok(rejected > artifact.length * 2, `only ${rejected} changes rejected`);
});

test('every single-byte change of a patch is rejected or patches to the same bytes', () => {
  for (let i = 0; i < patch.length; i++) {
    for (const flip of [0x01, 0x80, 0xff]) {
      const bytes = Uint8Array.from(patch);
      bytes[i]! ^= flip;
      checkPatchVariant(bytes, `patch byte ${i} ^ ${flip}`);
    }
  }
});

test('unsigned: every single-byte change of a version patch and a license patch is rejected or patches to the same bytes', () => {
  // Nothing signs an unsigned target's manifest, nor any target's held
  // intervals: the segment hashes and the patch's 4-byte check of the
  // target's SHA-256 must catch what a damaged head or manifest delta makes.
  const from = encodeArtifact(model, { heldIntervals: [0, 2] });
  for (const to of [encodeArtifact(changeWeights(model, 0.3, 4), { heldIntervals: [0, 1] }), encodeArtifact(model, { heldIntervals: [1] })]) {
    const unsigned = diffArtifacts(from, to);
    for (let i = 0; i < unsigned.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bytes = Uint8Array.from(unsigned);
        bytes[i]! ^= flip;
        let out: Uint8Array | null = null;
        if (outcome(() => void (out = applyPatch(from, bytes)), `unsigned patch byte ${i} ^ ${flip}`) === 'ok') {
          assert.ok(Buffer.from(out!).equals(Buffer.from(to)), `unsigned patch byte ${i} ^ ${flip} patched to different bytes`);
        }
      }
    }
  }
});

test('forged 32-bit lengths and offsets at every aligned position are rejected or harmless', () => {
  for (const forged of [0xffffffff, 0x7fffffff, 0x80000000, 0x00010000, 0]) {
    for (let i = 0; i + 4 <= artifact.length; i += 2) {
      const bytes = Uint8Array.from(artifact);
      new DataView(bytes.buffer).setUint32(i, forged, true);
      checkArtifactVariant(bytes, `artifact u32 at ${i} = ${forged}`);
    }
    for (let i = 0; i + 4 <= patch.length; i += 2) {
      const bytes = Uint8Array.from(patch);
      new DataView(bytes.buffer).setUint32(i, forged, true);
      checkPatchVariant(bytes, `patch u32 at ${i} = ${forged}`);
    }
  }
});

test('unsigned reads of damaged artifacts only ever throw FormatError', () => {
  const unsigned = encodeArtifact(model);
  for (let i = 0; i < unsigned.length; i++) {
    const bytes = Uint8Array.from(unsigned);
    bytes[i]! ^= 0x55;
    outcome(() => {
      const a = readArtifact(bytes);
      a.manifest.tensors.forEach((_, t) => decodeTensor(a, t));
    }, `unsigned byte ${i}`);
  }
});

test('wrong identifiers and empty input are FormatErrors with their codes', () => {
  const codeOf = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      return (error as FormatError).code;
    }
    return 'none';
  };
  assert.is(
    codeOf(() => void readArtifact(new Uint8Array(0))),
    'TRUNCATED',
  );
  assert.is(
    codeOf(() => void readArtifact(patch)),
    'BAD_IDENTIFIER',
  );
  assert.is(
    codeOf(() => void readPatch(artifact)),
    'BAD_IDENTIFIER',
  );
  const newer = Uint8Array.from(artifact);
  // format_version lives in the root table; find it through the reader's error
  const view = new DataView(newer.buffer);
  const root = view.getUint32(0, true);
  const vtable = root - view.getInt32(root, true);
  const fieldOffset = view.getUint16(vtable + 4, true);
  view.setUint16(root + fieldOffset, 99, true);
  assert.is(
    codeOf(() => void readArtifact(newer)),
    'UNSUPPORTED_VERSION',
  );
});

test.run();

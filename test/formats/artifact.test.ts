import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  assembleArtifact,
  BASE_INTERVAL,
  decodeTensor,
  encodeArtifact,
  FormatError,
  generateKeyPair,
  openSegment,
  readArtifact,
  readSegmentEntries,
  signArtifact,
  splitArtifact,
  verifySignature,
  keyIdOf,
} from '../../formats/index.ts';
import { buildArtifactBytes } from '../../formats/artifact/artifact-writer.ts';
import { writeManifest } from '../../formats/artifact/manifest-writer.ts';
import { sha256, signBytes } from '../../formats/artifact/signing.ts';
import { syntheticModel } from '../fixtures/synthetic-model.ts';

const small = syntheticModel({ sizes: [20, 12, 4], sparsity: 0.7, bits: 3, intervals: 4, seed: 7 });
const keys = generateKeyPair();

function expectFormatError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, FormatError);
    assert.is((error as FormatError).code, code);
    return;
  }
  assert.unreachable(`expected FormatError ${code}`);
}

test('encode -> read gives every tensor back exactly', () => {
  const bytes = encodeArtifact(small);
  const artifact = readArtifact(bytes);
  assert.is(artifact.manifest.model, 'synthetic-mlp');
  assert.equal(artifact.heldIntervals, [0, 1, 2, 3]);
  small.tensors.forEach((tensor, t) => {
    assert.equal(Array.from(decodeTensor(artifact, t)), Array.from(tensor.values), tensor.name);
    const nonzero = tensor.values.filter((v) => v !== 0).length;
    assert.is(artifact.manifest.tensors[t]!.nonzero, nonzero);
  });
});

test('same input gives byte-identical output', () => {
  assert.equal(encodeArtifact(small, { privateKey: keys.privateKeyPem }), encodeArtifact(small, { privateKey: keys.privateKeyPem }));
});

test('a lower license holds only its intervals; the rest read as zero', () => {
  const artifact = readArtifact(encodeArtifact(small, { heldIntervals: [2, 0] }));
  assert.equal(artifact.heldIntervals, [0, 2]);
  for (const s of artifact.segments) assert.ok(s.interval === 0 || s.interval === 2 || s.interval === BASE_INTERVAL);
  const kernel = decodeTensor(artifact, 0);
  const lowers = artifact.manifest.intervals;
  small.tensors[0]!.values.forEach((v, p) => {
    const inHeld = v !== 0 && ((v >= lowers[0]!.lower && v < lowers[0]!.upper) || (v >= lowers[2]!.lower && v < lowers[2]!.upper));
    assert.is(kernel[p], inHeld ? v : 0);
  });
  // the bias is held whatever the license
  assert.equal(Array.from(decodeTensor(artifact, 1)), Array.from(small.tensors[1]!.values));
});

test('split + assemble is byte-identical to encoding with that license', () => {
  const full = readArtifact(encodeArtifact(small, { privateKey: keys.privateKeyPem }));
  const parts = splitArtifact(full);
  for (const license of [[], [1], [0, 3], [0, 1, 2, 3]]) {
    assert.equal(assembleArtifact(parts, license), encodeArtifact(small, { heldIntervals: license, privateKey: keys.privateKeyPem }), `license ${license}`);
  }
});

test('assemble without a licensed segment throws MISSING_SEGMENT', () => {
  const parts = splitArtifact(readArtifact(encodeArtifact(small, { heldIntervals: [0] })));
  expectFormatError(() => assembleArtifact(parts, [0, 1]), 'MISSING_SEGMENT');
});

test('signatures: sign, verify, wrong key, unsigned', () => {
  const unsigned = encodeArtifact(small);
  const signed = signArtifact(unsigned, keys.privateKeyPem);
  assert.equal(signed, encodeArtifact(small, { privateKey: keys.privateKeyPem }));
  const artifact = readArtifact(signed, { publicKey: keys.publicKeyPem });
  assert.ok(verifySignature(artifact, keys.publicKeyPem));
  const other = generateKeyPair();
  assert.not.ok(verifySignature(artifact, other.publicKeyPem));
  expectFormatError(() => readArtifact(signed, { publicKey: other.publicKeyPem }), 'BAD_SIGNATURE');
  expectFormatError(() => readArtifact(unsigned, { requireSignature: true }), 'UNSIGNED');
  assert.match(keyIdOf(keys.publicKeyPem), /^[0-9a-f]{16}$/);
});

test('streaming cursor yields ascending positions with a tiny buffer', () => {
  const artifact = readArtifact(encodeArtifact(small));
  const positions = new Uint32Array(3);
  const values = new Float32Array(3);
  artifact.segments.forEach((segment, i) => {
    const cursor = openSegment(artifact, i);
    let total = 0;
    let previous = -1;
    for (let n = readSegmentEntries(cursor, positions, values); n > 0; n = readSegmentEntries(cursor, positions, values)) {
      for (let j = 0; j < n; j++) {
        assert.ok(positions[j]! > previous);
        previous = positions[j]!;
        assert.is(values[j], small.tensors[segment.tensor]!.values[positions[j]!]);
      }
      total += n;
    }
    assert.is(total, segment.count);
  });
});

test('values outside every interval are a BAD_INPUT', () => {
  const input = syntheticModel({ sizes: [6, 3], sparsity: 0.5, bits: 2, intervals: 2 });
  const narrowed = {
    ...input,
    intervals: [
      { id: 0, lower: 0, upper: 1e-9 },
      { id: 1, lower: 1e-9, upper: 2e-9 },
    ],
    tiers: [],
  };
  expectFormatError(() => encodeArtifact(narrowed), 'BAD_INPUT');
});

test('a segment that is not canonical: refused without a verified signature, trusted with one', () => {
  // The publisher's own key signs a manifest whose segment carries a trailing
  // byte (a writer bug; nobody else can make one): the hash and the signature
  // bind that byte to the publisher, so a reader with the key trusts it and
  // does not decode the segment to prove it canonical (docs/format.md §6,
  // check 13); a reader without the key still does, and refuses it.
  const good = readArtifact(encodeArtifact(small, { privateKey: keys.privateKeyPem }));
  const at = good.segments.findIndex((seg) => seg.interval !== BASE_INTERVAL);
  const padded = Uint8Array.from([...good.segments[at]!.data, 0]);
  const segments = good.manifest.segments.map((ref) =>
    ref.tensor === good.segments[at]!.tensor && ref.interval === good.segments[at]!.interval ? { ...ref, bytes: padded.length, sha256: sha256(padded) } : ref,
  );
  const manifestBytes = writeManifest({ ...good.manifest, segments });
  const bytes = buildArtifactBytes(
    manifestBytes,
    signBytes(manifestBytes, keys.privateKeyPem),
    good.heldIntervals,
    good.segments.map((seg, i) => (i === at ? padded : seg.data)),
  );
  expectFormatError(() => readArtifact(bytes), 'BAD_VALUE');
  assert.is(readArtifact(bytes, { publicKey: keys.publicKeyPem }).segments[at]!.data.length, padded.length);
  // a segment byte changed after signing is refused either way: its hash no longer matches
  const flipped = bytes.slice();
  flipped[flipped.length - 8]! ^= 1;
  expectFormatError(() => readArtifact(flipped, { publicKey: keys.publicKeyPem }), 'HASH_MISMATCH');
});

test("checked.canonical skips only the container's rebuild, for bytes formats' own writer made", () => {
  // Four bytes past a signed artifact's end: not what the writer makes, so
  // refused; a caller that says it wrote these very bytes (the device after
  // a patch's apply, which read its slot back) is not second-guessed on
  // layout, but the signature and every hash are still checked.
  const good = encodeArtifact(small, { privateKey: keys.privateKeyPem });
  const trailing = Uint8Array.from([...good, 0, 0, 0, 0]);
  expectFormatError(() => readArtifact(trailing, { publicKey: keys.publicKeyPem }), 'BAD_VALUE');
  const checked = { sha256: 'f'.repeat(64), segmentHashes: false, canonical: true };
  assert.is(readArtifact(trailing, { publicKey: keys.publicKeyPem, checked }).bytes.length, good.length + 4);
  const flipped = trailing.slice();
  flipped[good.length - 8]! ^= 1;
  expectFormatError(() => readArtifact(flipped, { publicKey: keys.publicKeyPem, checked }), 'HASH_MISMATCH');
});

test.run();

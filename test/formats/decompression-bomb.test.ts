// Decompression bombs: a small .wgm declaring a 16,777,216-entry tensor.
// Signed by a key the reader does not trust, or lying about its sizes, it is
// refused before any segment is decoded (counted, not timed); declared entry
// counts are bounded by what their bytes can encode.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPair, maxEntriesFor, readArtifact, segmentDecodeStats, type FormatError } from '../../formats/index.ts';
import { bombArtifact } from './bomb.ts';
import { buildArtifactBytes } from '../../formats/artifact/artifact-writer.ts';

const attacker = generateKeyPair();
const trusted = generateKeyPair();
// Writing a bomb encodes its 2^24 entries (seconds): one per signer, shared by the tests.
const signedBomb = bombArtifact(attacker.privateKeyPem);

function refusal(read: () => unknown): { code: string; decoded: number } {
  const before = segmentDecodeStats.opened;
  try {
    read();
  } catch (error) {
    return { code: (error as FormatError).code, decoded: segmentDecodeStats.opened - before };
  }
  throw new Error('accepted');
}

test('a bomb signed by an untrusted key is refused before any segment is decoded', () => {
  const bomb = signedBomb;
  assert.ok(bomb.byteLength < 512 * 1024, `the bomb is small (${bomb.byteLength} bytes)`);
  const result = refusal(() => readArtifact(bomb, { publicKey: trusted.publicKeyPem }));
  assert.is(result.code, 'BAD_SIGNATURE');
  assert.is(result.decoded, 0, 'no segment decoded before the refusal');
});

test('an unsigned bomb is refused before decoding when a signature is required', () => {
  const result = refusal(() => readArtifact(bombArtifact(), { requireSignature: true }));
  assert.is(result.code, 'UNSIGNED');
  assert.is(result.decoded, 0);
});

test('declared segment sizes are checked against the file before decoding', () => {
  const real = readArtifact(signedBomb);
  const datas = real.segments.map((segment) => segment.data);
  const last = datas.length - 1;
  datas[last] = datas[last]!.subarray(0, datas[last]!.byteLength - 1);
  const short = buildArtifactBytes(real.manifestBytes, real.signature, real.heldIntervals, datas);
  const result = refusal(() => readArtifact(short));
  assert.is(result.code, 'TRUNCATED');
  assert.is(result.decoded, 0, 'refused before decoding');
});

test('entry counts above what a segment of that size can encode are refused before decoding', () => {
  // The bound is a property of the coder: a real, maximally compressible segment stays under it.
  const bomb = readArtifact(signedBomb, { publicKey: attacker.publicKeyPem });
  for (const segment of bomb.segments)
    assert.ok(segment.count <= maxEntriesFor(segment.data.byteLength), `${segment.count} entries in ${segment.data.byteLength} bytes`);
  assert.ok(maxEntriesFor(100) < 1 << 24, 'a 100-byte segment cannot claim 2^24 entries');
});

test.run();

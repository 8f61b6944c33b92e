// Centroids to 16 significant bits (pipeline/share.ts roundCentroid): the
// lowest mantissa byte is zero, so a next version's fine-tuned centroid
// changes at most three bytes of the manifest, and the value moves by less
// than 2^-16 of itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { roundCentroid, roundCodebook } from '../../pipeline/share.ts';

const bitsOf = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0]!;

test('a rounded centroid keeps sign and exponent, clears the low byte, moves by < 2^-16 of itself', () => {
  fc.assert(
    // normal floats (centroids are never subnormal: avoidZero keeps them at 1e-7 or more)
    fc.property(
      fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) }).filter((v) => v === 0 || Math.abs(v) >= 2 ** -126),
      (v) => {
        const r = roundCentroid(v);
        assert.is(bitsOf(r) & 0xff, 0, `${v} -> ${r}`);
        if (v === 0) return;
        assert.is(Math.sign(r), Math.sign(v));
        assert.ok(Math.abs(r - Math.fround(v)) <= Math.abs(Math.fround(v)) * 2 ** -16, `${v} -> ${r}`);
      },
    ),
    { numRuns: 2000 },
  );
  assert.is(roundCentroid(0.5), 0.5);
  assert.is(roundCentroid(-0.25), -0.25);
});

test('a codebook is rounded only when no two centroids change how they compare, and none becomes zero', () => {
  const codebook = Float32Array.of(-0.71234567, -0.2, 0.0123456, 0.3333333);
  const rounded = roundCodebook(codebook);
  assert.ok(rounded.every((v, i) => (bitsOf(v) & 0xff) === 0 && (i === 0 || v > rounded[i - 1]!)));
  // fine-tuning leaves codebooks in any order: that order is kept
  const unordered = roundCodebook(Float32Array.of(0.3333333, -0.71234567, 0.0123456));
  assert.ok(unordered[0]! > unordered[2]! && unordered[2]! > unordered[1]! && (bitsOf(unordered[0]!) & 0xff) === 0);
  // two centroids within 2^-16 of each other would meet: the codebook stays as it was
  const close = Float32Array.of(0.1, Math.fround(0.1 * (1 + 2 ** -20)));
  assert.ok(close[1]! > close[0]!);
  assert.is(roundCodebook(close), close);
});

test.run();

// Fits / does not fit per profile: flash (one slot) and RAM (the arena).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadArtifactOnProfile } from '../../device-sim/check-artifact.ts';
import { BudgetError } from '../../device-sim/errors.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { Arena } from '../../device-sim/arena.ts';
import { createInterpreter } from '../../device-sim/interpreter.ts';
import { readArtifact } from '../../formats/index.ts';
import { syntheticArtifact } from './fixtures.ts';

const small = syntheticArtifact({ sizes: [784, 16, 10], signed: false });
// 9,000 hidden units: 36,000 bytes of activations, more than m0-32k's 32 KiB.
const wide = syntheticArtifact({ sizes: [64, 9000, 10], pruned: 0.99, signed: false });
// 90,000 hidden units: 360,000 bytes, more than any profile's RAM.
const huge = syntheticArtifact({ sizes: [16, 90000, 4], pruned: 0.999, signed: false });

const cases: Array<[string, Uint8Array, Record<string, boolean>]> = [
  ['784-16-10', small, { 'm0-32k': true, 'm4-256k': true, esp32: true }],
  ['64-9000-10', wide, { 'm0-32k': false, 'm4-256k': true, esp32: true }],
  ['16-90000-4', huge, { 'm0-32k': false, 'm4-256k': false, esp32: false }],
];

for (const [name, bytes, expected] of cases) {
  test(`${name} fits: ${JSON.stringify(expected)}`, () => {
    for (const [profile, fits] of Object.entries(expected)) {
      const { report } = loadArtifactOnProfile(bytes, resolveProfile(profile));
      assert.is(report.fits, fits, `${name} on ${profile}: ${report.reason}`);
      if (!fits) {
        // The arena is what these models break (a 90,000-float bias may break flash first).
        assert.match(report.reason!, /bytes of (RAM \(arena\)|flash)/);
        assert.ok(report.arenaNeededBytes > report.arenaBytes);
      } else {
        assert.ok(report.arenaNeededBytes <= report.arenaBytes);
      }
    }
  });
}

test('an artifact larger than one flash slot does not fit, naming the flash budget', () => {
  const profile = resolveProfile('m0-32k', { flash: '16k' }); // slot = (16 KiB - 8 KiB) / 2 = 4 KiB
  const { report } = loadArtifactOnProfile(small, profile);
  assert.ok(small.length > 4096);
  assert.is(report.fits, false);
  assert.is(report.slotCapacityBytes, 4096);
  assert.match(report.reason!, new RegExp(`needs ${small.length} bytes of flash`));
});

test('the arena is never exceeded: tiny arenas fail with the exact bytes, the smallest that fits works', () => {
  const artifact = readArtifact(small);
  const fitting = new Arena(64 * 1024);
  createInterpreter(artifact, fitting);
  const needed = fitting.highWaterBytes();
  for (const size of [needed - 1, needed - 100, 100]) {
    try {
      createInterpreter(artifact, new Arena(size));
      assert.unreachable(`arena of ${size} bytes accepted`);
    } catch (error) {
      assert.instance(error, BudgetError);
      assert.ok((error as BudgetError).neededBytes > size);
    }
  }
  const exact = new Arena(needed);
  const interpreter = createInterpreter(artifact, exact);
  const sample = new Uint8Array(784).fill(99);
  const a = Array.from(interpreter.invoke(sample));
  assert.is(exact.highWaterBytes(), needed, 'inference allocates nothing beyond prepare');
  const b = Array.from(new Float32Array(createInterpreter(artifact, new Arena(64 * 1024)).invoke(sample)));
  assert.equal(a, b);
});

test('an artifact whose slot cannot also hold its execution image still fits, on the coded kernels, and says why', () => {
  const slotBytes = small.length + 256;
  const profile = resolveProfile('m0-32k', { flash: String(8192 + 2 * slotBytes) });
  const { report, interpreter } = loadArtifactOnProfile(small, profile);
  assert.equal([report.fits, report.kernel, report.imageBytes, report.flashBytes], [true, 'coded', 0, small.length]);
  assert.match(report.kernelNote!, new RegExp(`needs \\d+ bytes of flash.* ${slotBytes}`));
  assert.ok(interpreter, 'it runs');
  const roomy = loadArtifactOnProfile(small, resolveProfile('m0-32k')).report;
  assert.equal([roomy.kernel, roomy.kernelNote], ['image', null]);
  assert.is(roomy.flashBytes, small.length + roomy.imageBytes);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTierTargets, selectTiers, type LicensingInput } from '../../pipeline/algorithm1.ts';
import { equalIntervals } from '../../pipeline/intervals.ts';
import { intervalIndexOf } from '../../formats/index.ts';

// A fake model: each interval adds its `worth` to accuracy, so cutting loses it exactly.
function fakeInput(worth: number[], bytes: number[], order: 'paper' | 'greedy'): LicensingInput {
  return {
    intervalIds: worth.map((_, i) => i),
    intervalBytes: bytes,
    accuracyWithout: (cut) => worth.reduce((acc, w, i) => acc + (cut.has(i) ? 0 : w), 0),
    targets: [
      { name: 'basic', target: 0.5 },
      { name: 'standard', target: 0.8 },
    ],
    order,
    tolerance: 0.0,
  };
}

const worth = [0.3, 0.02, 0.05, 0.25, 0.08, 0.2, 0.05, 0.05];
const bytes = [100, 500, 400, 100, 300, 200, 50, 600];

for (const order of ['paper', 'greedy'] as const) {
  test(`${order}: tiers are nested and meet their targets`, () => {
    const tiers = selectTiers(fakeInput(worth, bytes, order));
    assert.equal(
      tiers.map((t) => t.name),
      ['standard', 'basic'],
    );
    const [standard, basic] = tiers;
    assert.ok(standard.validationAccuracy >= 0.8 - 1e-9);
    assert.ok(basic.validationAccuracy >= 0.5 - 1e-9);
    assert.ok(basic.met && standard.met);
    for (const id of basic.intervals) assert.ok(standard.intervals.includes(id), `basic interval ${id} missing from standard`);
    assert.ok(basic.intervals.length < standard.intervals.length);
  });
}

test('paper: cuts in index order and stops at the first cut that would miss the target', () => {
  const [standard, basic] = selectTiers(fakeInput(worth, bytes, 'paper'));
  // Cutting interval 0 (0.3) first would leave 0.7 < 0.8: nothing is cut for standard.
  assert.equal(standard.cut, []);
  assert.is(standard.intervals.length, 8);
  // For 0.5: cut 0 (0.7), 1 (0.68), 2 (0.63); cutting 3 would give 0.38.
  assert.equal(basic.cut, [0, 1, 2]);
});

test('greedy: reaches the same targets with fewer bytes than paper order here', () => {
  const paper = selectTiers(fakeInput(worth, bytes, 'paper'));
  const greedy = selectTiers(fakeInput(worth, bytes, 'greedy'));
  for (let i = 0; i < 2; i++) assert.ok(greedy[i].intervalBytes < paper[i].intervalBytes, `${greedy[i].intervalBytes} vs ${paper[i].intervalBytes}`);
});

test('an unreachable target keeps every interval and is reported as missed', () => {
  const input = fakeInput(worth, bytes, 'greedy');
  const [tier] = selectTiers({ ...input, targets: [{ name: 'gold', target: 1.5 }] });
  assert.is(tier.intervals.length, 8);
  assert.is(tier.met, false);
});

test('equal intervals cover the non-zero range; the extremes fall in the first and last', () => {
  const kernels = [Float32Array.from([0, -0.5, 0.25, 0]), Float32Array.from([0.7, 0, 0.1])];
  const intervals = equalIntervals(kernels, 4);
  assert.is(intervals.length, 4);
  assert.is(intervals[0].lower, Math.fround(-0.5));
  assert.is(intervals[3].upper, Math.fround(0.7));
  assert.is(intervalIndexOf(Math.fround(-0.5), intervals), 0);
  assert.is(intervalIndexOf(Math.fround(0.7), intervals), 3);
  assert.is(intervalIndexOf(Math.fround(0.1), intervals), 2);
});

test('--tiers parses name:accuracy pairs and rejects bad ones', () => {
  assert.equal(parseTierTargets('basic:0.70,standard:90'), [
    { name: 'basic', target: 0.7 },
    { name: 'standard', target: 0.9 },
  ]);
  assert.throws(() => parseTierTargets('full:0.5'), /full/);
  assert.throws(() => parseTierTargets('basic'), /NAME:ACCURACY/);
});

test.run();

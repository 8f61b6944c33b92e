// How a build report writes numbers for people.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sparsityPercent } from '../../pipeline/report.ts';

test('a sparsity reads as a percentage with at most one decimal: the half-point ladder steps stay apart', () => {
  assert.is(sparsityPercent(0.965), '96.5');
  assert.is(sparsityPercent(0.97), '97');
  assert.is(sparsityPercent(0.975), '97.5');
  assert.is(sparsityPercent(0.5), '50');
  // a measured sparsity (kept weights counted) rounds to the nearest tenth
  assert.is(sparsityPercent(0.9700047626025792), '97');
  assert.is(sparsityPercent(0.12345), '12.3');
  assert.is(sparsityPercent(0), '0');
});

test.run();

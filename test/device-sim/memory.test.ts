import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena } from '../../device-sim/arena.ts';
import { BudgetError } from '../../device-sim/errors.ts';
import { createGreedyMemoryPlanner } from '../../device-sim/memory-planner.ts';
import { resolveProfile, parseByteSize } from '../../device-sim/profiles.ts';

test('arena hands out aligned, non-overlapping buffers and tracks the high-water mark', () => {
  const arena = new Arena(1024);
  const a = arena.allocate(10, 'a');
  const b = arena.allocate(20, 'b');
  assert.is(a, 0);
  assert.is(b, 16);
  assert.is(arena.highWaterBytes(), 36);
  arena.rewind(0);
  arena.allocate(8, 'c');
  assert.is(arena.highWaterBytes(), 36, 'rewinding keeps the high-water mark');
});

test('arena refuses to grow past its size with a RAM BudgetError naming the bytes', () => {
  const arena = new Arena(100);
  arena.allocate(64, 'first');
  try {
    arena.allocate(64, 'second buffer');
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, BudgetError);
    const budget = error as BudgetError;
    assert.is(budget.budget, 'RAM');
    assert.is(budget.code, 'RAM_BUDGET_EXCEEDED');
    assert.is(budget.neededBytes, 128);
    assert.is(budget.budgetBytes, 100);
    assert.match(budget.message, /second buffer needs 128 bytes/);
  }
});

test('greedy planner shares bytes between buffers whose lifetimes do not overlap (ping-pong)', () => {
  const planner = createGreedyMemoryPlanner();
  const input = planner.addBuffer({ label: 'input', bytes: 784, firstUse: 0, lastUse: 0 });
  const out0 = planner.addBuffer({ label: 'out0', bytes: 512, firstUse: 0, lastUse: 1 });
  const out1 = planner.addBuffer({ label: 'out1', bytes: 256, firstUse: 1, lastUse: 2 });
  const out2 = planner.addBuffer({ label: 'out2', bytes: 40, firstUse: 2, lastUse: 3 });
  const plan = planner.plan();
  const ranges = [
    [plan.offsets[input], 784, 0, 0],
    [plan.offsets[out0], 512, 0, 1],
    [plan.offsets[out1], 256, 1, 2],
    [plan.offsets[out2], 40, 2, 3],
  ];
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [ao, ab, af, al] = ranges[i];
      const [bo, bb, bf, bl] = ranges[j];
      const timeOverlap = af <= bl && bf <= al;
      const spaceOverlap = ao < bo + bb && bo < ao + ab;
      assert.not.ok(timeOverlap && spaceOverlap, `buffers ${i} and ${j} collide`);
    }
  }
  assert.ok(plan.totalBytes < 784 + 512 + 256 + 40, `plan reuses memory (${plan.totalBytes} bytes)`);
  assert.is(plan.totalBytes, 784 + 512);
});

test('profiles: named ones, custom sizes, and bad names rejected', () => {
  assert.is(resolveProfile('m0-32k').ramBytes, 32 * 1024);
  assert.is(resolveProfile('esp32').flashBytes, 4 * 1024 * 1024);
  const custom = resolveProfile('m0-32k', { ram: '4k', flash: '1m' });
  assert.equal([custom.name, custom.ramBytes, custom.flashBytes], ['custom', 4096, 1024 * 1024]);
  assert.is(parseByteSize('256KiB'), 256 * 1024);
  assert.throws(() => resolveProfile('z80'), /unknown profile/);
  assert.throws(() => parseByteSize('lots'), /cannot read size/);
});

test.run();

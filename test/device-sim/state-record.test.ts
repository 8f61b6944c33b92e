import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeStateRecord, encodeStateRecord, emptyState, pickStateRecord, RECORD_BYTES } from '../../device-sim/state-record.ts';
import { PowerCutInjector, randomPowerCut } from '../../device-sim/power-cut.ts';
import { PowerCutError } from '../../device-sim/errors.ts';

const sample = {
  sequence: 7,
  active: 1,
  confirmed: false,
  previous: 0,
  slots: [
    { version: 3, bytes: 1234, sha256: 'ab'.repeat(32) },
    { version: 4, bytes: 999, sha256: 'cd'.repeat(32) },
  ] as [any, any],
};

test('state record round-trips', () => {
  assert.equal(decodeStateRecord(encodeStateRecord(sample)), sample);
  assert.equal(decodeStateRecord(encodeStateRecord(emptyState())), emptyState());
});

test('every torn prefix and every single-bit flip of a record is rejected', () => {
  const bytes = encodeStateRecord(sample);
  for (let length = 0; length < RECORD_BYTES; length++) {
    assert.is(decodeStateRecord(bytes.subarray(0, length)), null, `prefix of ${length} bytes`);
  }
  for (let bit = 0; bit < RECORD_BYTES * 8; bit++) {
    const flipped = Uint8Array.from(bytes);
    flipped[bit >> 3] ^= 1 << (bit & 7);
    assert.is(decodeStateRecord(flipped), null, `bit ${bit}`);
  }
});

test('the newer intact copy wins', () => {
  const older = { ...sample, sequence: 6 };
  assert.is(pickStateRecord([older, sample])?.sequence, 7);
  assert.is(pickStateRecord([null, older])?.sequence, 6);
  assert.is(pickStateRecord([null, null]), null);
});

test('power-cut injector lets exactly afterBytes through in its phase only', () => {
  const injector = new PowerCutInjector({ phase: 'apply', afterBytes: 10 });
  injector.enter('download');
  assert.is(injector.allowance(100), 100);
  injector.enter('apply');
  assert.is(injector.allowance(4), 4);
  injector.record(4);
  assert.is(injector.allowance(100), 6);
  injector.record(6);
  assert.throws(
    () => injector.cut(),
    (error: unknown) => error instanceof PowerCutError && error.atByte === 10,
  );
});

test('random plans are reproducible from their seed', () => {
  assert.equal(randomPowerCut(42), randomPowerCut(42));
  const phases = new Set(Array.from({ length: 50 }, (_, i) => randomPowerCut(i).phase));
  assert.is(phases.size, 3);
});

test.run();

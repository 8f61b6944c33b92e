// Device-reported state is written in batches (server/store/device-states.ts):
// on both drivers, many concurrent writes land with far fewer statements,
// each device's later write wins over its earlier one in a batch, fields a
// write leaves out keep their value, and a failed statement fails every
// write of its batch (none is reported stored that was not).
import * as assert from 'uvu/assert';
import { asc, inArray } from 'drizzle-orm';
import { devices } from '../../server/db/schema.ts';
import { createDeviceStateWriter } from '../../server/store/device-states.ts';
import { driverSuites, type Harness } from './harness.ts';
import { licensedDevice, registerPublisherKey, signedTiny } from './fixtures.ts';

async function someDevices(h: Harness, count: number): Promise<number[]> {
  await registerPublisherKey(h);
  await h.json('POST', '/v1/versions', { bytes: signedTiny(1) });
  const first = await licensedDevice(h, { tier: 'gold' });
  const ids = [first.deviceId];
  for (let i = 1; i < count; i++) {
    const device = await h.json('POST', '/v1/devices', { json: { licenseId: first.licenseId, name: `d${i}` } });
    assert.is(device.status, 201, JSON.stringify(device.body));
    ids.push(device.body.deviceId);
  }
  return ids;
}

for (const s of driverSuites('server device state writes')) {
  s('200 concurrent writes in a handful of statements; the later write of a device wins; other fields stay', async ({ h }) => {
    const ids = await someDevices(h, 100);
    const writer = createDeviceStateWriter(h.database.db);
    const seen = new Date('2026-11-30T12:00:00.000Z');
    await writer.write(ids[0]!, { lastOutcome: 'installed', reportedSlot: 'A', lastReportAt: seen });
    const before = writer.statements;
    await Promise.all(
      ids.flatMap((id, i) => [
        writer.write(id, { reportedVersion: 1, reportedHeldIntervals: [2, 1], reportedSha256: null, lastSeenAt: seen }),
        writer.write(id, { reportedVersion: 2 + (i % 3), reportedHeldIntervals: [i], lastSeenAt: seen }),
      ]),
    );
    assert.ok(writer.statements - before <= 4, `${writer.statements - before} statements for 200 writes`);
    const rows = await h.database.db.select().from(devices).where(inArray(devices.id, ids)).orderBy(asc(devices.id));
    assert.is(rows.length, 100);
    rows.forEach((row, i) => {
      assert.equal([row.reportedVersion, row.reportedHeldIntervals, row.lastSeenAt?.toISOString()], [2 + (i % 3), [i], seen.toISOString()]);
    });
    assert.equal([rows[0]!.lastOutcome, rows[0]!.reportedSlot, rows[0]!.lastReportAt?.toISOString()], ['installed', 'A', seen.toISOString()]);
    assert.is(rows[1]!.lastOutcome, null, 'a field no write set stays as it was');
  });

  s('a failed statement rejects every write of its batch; the next batch is written', async ({ h }) => {
    const ids = await someDevices(h, 3);
    const writer = createDeviceStateWriter(h.database.db);
    // 2^31 is out of range for an integer column: the statement fails as a whole.
    const results = await Promise.allSettled([writer.write(ids[0]!, { reportedVersion: 7 }), writer.write(ids[1]!, { reportedVersion: 2 ** 31 })]);
    assert.equal(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    await writer.write(ids[2]!, { reportedVersion: 9 });
    const rows = await h.database.db.select().from(devices).where(inArray(devices.id, ids)).orderBy(asc(devices.id));
    assert.equal(
      rows.map((row) => row.reportedVersion),
      [null, null, 9],
    );
  });

  s.run();
}

// Staged rollouts through the HTTP API, on both database drivers: a version
// released to 10 % of a model's devices is offered to that stage only; the
// stage's failed installs pause it by themselves; a paused rollout offers
// nothing new; resumed and widened, it reaches every device; every step is
// in the audit log. The devices here are update checks and reports sent by
// hand (test/device-sim/rollout-fleet.test.ts runs real simulated devices).
import * as assert from 'uvu/assert';
import { readArtifact } from '../../formats/index.ts';
import { driverSuites, type Harness } from './harness.ts';
import { registerPublisherKey, signedTiny } from './fixtures.ts';

interface Member {
  id: number;
  token: string;
}

/** `count` devices on one dynamic gold license of `model` (the tiny model), all running version 1. */
async function fleetOnV1(h: Harness, count: number, model: string): Promise<{ devices: Member[]; held: string; licenseId: number }> {
  await registerPublisherKey(h);
  assert.is((await h.json('POST', '/v1/versions', { bytes: signedTiny(1, { model }) })).status, 201);
  const customer = await h.json('POST', '/v1/customers', { json: { name: 'acme' } });
  const license = await h.json('POST', '/v1/licenses', { json: { customerId: customer.body.id, model, tier: 'gold' } });
  const devices: Member[] = [];
  for (let i = 0; i < count; i++) {
    const device = await h.json('POST', '/v1/devices', { json: { licenseId: license.body.id, name: `sensor-${i}` } });
    assert.is(device.status, 201, JSON.stringify(device.body));
    devices.push({ id: device.body.deviceId, token: device.body.token });
  }
  const first = await h.json('GET', '/v1/device/update-check?version=0&intervals=', { token: devices[0]!.token });
  const v1 = readArtifact(new Uint8Array(await (await h.call('GET', first.body.artifact.url, { token: devices[0]!.token })).arrayBuffer()));
  return { devices, held: `version=1&intervals=${v1.heldIntervals.join(',')}&sha256=${v1.sha256}`, licenseId: license.body.id };
}

/** Which version each device is offered when it checks while running version 1. */
async function offers(h: Harness, devices: Member[], held: string): Promise<Map<number, number>> {
  const offered = new Map<number, number>();
  for (const device of devices) {
    const check = await h.json('GET', `/v1/device/update-check?${held}`, { token: device.token });
    assert.is(check.status, 200, JSON.stringify(check.body));
    offered.set(device.id, check.body.version);
  }
  return offered;
}

const failedReport = (attemptedVersion: number | null) => ({
  version: 1,
  heldIntervals: [],
  slot: 'A',
  outcome: 'rolled-back',
  reason: 'v2 failed its self-test (accuracy 0.1); rolled back to v1',
  attemptedVersion,
});

const installedReport = (version: number) => ({ version, heldIntervals: [], slot: 'B', outcome: 'installed', attemptedVersion: version });

for (const s of driverSuites('server staged rollouts')) {
  s('10 %: only the stage is offered it; a failed install pauses it; resumed and widened it reaches every device', async ({ h }) => {
    const { devices, held } = await fleetOnV1(h, 20, 'tiny');
    assert.is((await h.json('POST', '/v1/versions?draft=true', { bytes: signedTiny(2, { seed: 9 }) })).status, 201);
    const released = await h.json('POST', '/v1/models/tiny/versions/2/release', { json: { percent: 10, maxFailurePercent: 20 } });
    assert.is(released.status, 200, JSON.stringify(released.body));

    const status = await h.json('GET', '/v1/models/tiny/versions/2/rollout');
    assert.equal(
      [status.body.state, status.body.percent, status.body.stage],
      ['active', 10, { devices: 2, installed: 0, failed: 0, pending: 2 }],
      JSON.stringify(status.body),
    );
    const offered = await offers(h, devices, held);
    const stage = devices.filter((d) => offered.get(d.id) === 2);
    assert.is(stage.length, 2, 'ceil(20 x 10 %) devices are offered version 2');
    assert.ok(
      [...offered.values()].every((v) => v === 1 || v === 2),
      'everyone else stays on version 1',
    );

    // The first stage device fails its self-test: 1 of 1 reports failed, over 20 %.
    const report = await h.json('POST', '/v1/device/report', { token: stage[0]!.token, json: failedReport(2) });
    assert.is(report.status, 200, JSON.stringify(report.body));
    const paused = await h.json('GET', '/v1/models/tiny/versions/2/rollout');
    assert.is(paused.body.state, 'paused');
    assert.match(paused.body.pausedReason, /1 of 1 reporting stage devices failed .*self-test/);
    assert.equal(paused.body.stage, { devices: 2, installed: 0, failed: 1, pending: 1 });
    const whilePaused = await offers(h, devices, held);
    assert.ok(
      [...whilePaused.values()].every((v) => v === 1),
      'paused: no device is offered version 2',
    );
    // A device that already runs version 2 is not moved back.
    const runsV2 = await h.json('GET', '/v1/device/update-check?version=2&intervals=', { token: stage[1]!.token });
    assert.is(runsV2.body.version, 2);

    const widenPaused = await h.json('POST', '/v1/models/tiny/versions/2/rollout/widen', { json: { percent: 50 } });
    assert.equal([widenPaused.status, widenPaused.body.code], [409, 'ROLLOUT_PAUSED']);
    const resumed = await h.json('POST', '/v1/models/tiny/versions/2/rollout/resume');
    assert.equal([resumed.status, resumed.body.state, resumed.body.stage.failed], [200, 'active', 0], JSON.stringify(resumed.body));
    const narrower = await h.json('POST', '/v1/models/tiny/versions/2/rollout/widen', { json: { percent: 5 } });
    assert.equal([narrower.status, narrower.body.code], [409, 'ROLLOUT_NARROWING']);

    const half = await h.json('POST', '/v1/models/tiny/versions/2/rollout/widen', { json: { percent: 50 } });
    assert.equal([half.status, half.body.percent, half.body.stage.devices], [200, 50, 10], JSON.stringify(half.body));
    const atHalf = await offers(h, devices, held);
    const halfStage = devices.filter((d) => atHalf.get(d.id) === 2);
    assert.is(halfStage.length, 10);
    assert.ok(
      stage.every((d) => atHalf.get(d.id) === 2),
      'a stage only grows: the first devices stay in it',
    );
    for (const device of halfStage) {
      assert.is((await h.json('POST', '/v1/device/report', { token: device.token, json: installedReport(2) })).status, 200);
    }
    assert.equal((await h.json('GET', '/v1/models/tiny/versions/2/rollout')).body.stage, { devices: 10, installed: 10, failed: 0, pending: 0 });

    const all = await h.json('POST', '/v1/models/tiny/versions/2/rollout/widen', { json: { percent: 100 } });
    assert.equal([all.status, all.body.state, all.body.percent], [200, 'complete', 100]);
    const atAll = await offers(h, devices, held);
    assert.ok(
      [...atAll.values()].every((v) => v === 2),
      'complete: every device is offered version 2',
    );
    const late = await h.json('POST', '/v1/devices', { json: { licenseId: (await h.json('GET', '/v1/licenses')).body.licenses[0].id, name: 'late' } });
    const lateCheck = await h.json('GET', '/v1/device/update-check?version=0&intervals=', { token: late.body.token });
    assert.is(lateCheck.body.version, 2, 'a device registered after completion gets it too');

    const audit = (await h.json('GET', '/v1/audit')).body.entries as Array<{ action: string; entityId: string; actorTokenId: number | null; detail: any }>;
    const trail = audit
      .filter((e) => e.entityId === 'tiny@2')
      .map((e) => e.action)
      .reverse();
    assert.equal(trail, ['version.stage', 'version.release', 'rollout.pause', 'rollout.resume', 'rollout.widen', 'rollout.complete']);
    const pause = audit.find((e) => e.action === 'rollout.pause')!;
    assert.equal([pause.actorTokenId, pause.detail.automatic, pause.detail.failed, pause.detail.reported], [null, true, 1, 1]);
    assert.is(audit.find((e) => e.action === 'version.release')!.detail.rollout.percent, 10);
  });

  s('a group stage; min reports; reports without attemptedVersion are inferred; a manual pause', async ({ h }) => {
    const { devices, held } = await fleetOnV1(h, 6, 'canaries');
    for (const device of devices.slice(0, 3)) {
      const grouped = await h.json('POST', `/v1/devices/${device.id}/group`, { json: { group: 'canary' } });
      assert.equal([grouped.status, grouped.body.group], [200, 'canary']);
    }
    const listed = await h.json('GET', '/v1/devices?group=canary');
    assert.equal(
      listed.body.devices.map((d: { id: number }) => d.id),
      devices.slice(0, 3).map((d) => d.id),
    );
    assert.is((await h.json('POST', '/v1/versions?draft=true', { bytes: signedTiny(2, { seed: 9, model: 'canaries' }) })).status, 201);
    const released = await h.json('POST', '/v1/models/canaries/versions/2/release', { json: { group: 'canary', maxFailurePercent: 50, minReports: 2 } });
    assert.is(released.status, 200, JSON.stringify(released.body));
    const offered = await offers(h, devices, held);
    assert.equal(
      devices.map((d) => offered.get(d.id)),
      [2, 2, 2, 1, 1, 1],
    );

    // One failure of one report: below min reports, still active. An old client's report (no attemptedVersion) counts by inference.
    assert.is((await h.json('POST', '/v1/device/report', { token: devices[0]!.token, json: failedReport(null) })).status, 200);
    assert.is((await h.json('GET', '/v1/models/canaries/versions/2/rollout')).body.state, 'active');
    assert.is((await h.json('POST', '/v1/device/report', { token: devices[1]!.token, json: installedReport(2) })).status, 200);
    // 1 of 2 failed = 50 %, not above 50 %: still active.
    const even = await h.json('GET', '/v1/models/canaries/versions/2/rollout');
    assert.equal([even.body.state, even.body.stage], ['active', { devices: 3, installed: 1, failed: 1, pending: 1 }]);
    // A report from outside the stage counts for nothing.
    assert.is((await h.json('POST', '/v1/device/report', { token: devices[4]!.token, json: failedReport(2) })).status, 200);
    assert.equal((await h.json('GET', '/v1/models/canaries/versions/2/rollout')).body.stage.failed, 1);

    const manual = await h.json('POST', '/v1/models/canaries/versions/2/rollout/pause', { json: { reason: 'field reports of false alarms' } });
    assert.equal([manual.status, manual.body.state, manual.body.pausedReason], [200, 'paused', 'field reports of false alarms']);
    const again = await h.json('POST', '/v1/models/canaries/versions/2/rollout/pause');
    assert.equal([again.status, again.body.code], [409, 'ROLLOUT_NOT_ACTIVE']);
    // The device that installed it keeps it; the others are not offered it.
    const afterPause = await offers(h, devices, held);
    assert.ok([...afterPause.values()].every((v) => v === 1));
    assert.is((await h.json('GET', '/v1/device/update-check?version=2&intervals=', { token: devices[1]!.token })).body.version, 2);

    const versions = (await h.json('GET', '/v1/models/canaries/versions')).body.versions;
    assert.is(versions.at(-1).state, 'published', 'a staged version is published');
  });

  s('bad stages are refused with a code; a version released at once has no rollout', async ({ h }) => {
    await fleetOnV1(h, 2, 'stages');
    assert.is((await h.json('POST', '/v1/versions?draft=true', { bytes: signedTiny(2, { seed: 9, model: 'stages' }) })).status, 201);
    for (const [body, code] of [
      [{ percent: 150 }, 'BAD_REQUEST'],
      [{ percent: 0 }, 'EMPTY_STAGE'],
      [{ percent: 10, maxFailurePercent: -1 }, 'BAD_REQUEST'],
      [{ group: 'Not A Group!' }, 'BAD_REQUEST'],
    ] as const) {
      const refused = await h.json('POST', '/v1/models/stages/versions/2/release', { json: body });
      assert.is(refused.status, 400, JSON.stringify(body));
      if (code !== 'BAD_REQUEST') assert.is(refused.body.code, code);
      assert.is((await h.json('GET', '/v1/models/stages/versions')).body.versions.at(-1).state, 'draft', 'nothing changed');
    }
    assert.is((await h.json('POST', '/v1/models/stages/versions/2/release')).status, 200);
    const none = await h.json('GET', '/v1/models/stages/versions/2/rollout');
    assert.equal([none.status, none.body.code], [404, 'NO_ROLLOUT']);
    const widen = await h.json('POST', '/v1/models/stages/versions/2/rollout/widen', { json: { percent: 50 } });
    assert.equal([widen.status, widen.body.code], [404, 'NO_ROLLOUT']);
    const device = await h.json('POST', '/v1/models/stages/versions/2/rollout/resume', { token: null });
    assert.is(device.status, 401);
  });

  s('GraphQL: release with a stage, read Version.rollout and Device.group, pause, resume and widen', async ({ h }) => {
    const { devices } = await fleetOnV1(h, 4, 'graphed');
    await h.json('POST', `/v1/devices/${devices[3]!.id}/group`, { json: { group: 'lab' } });
    assert.is((await h.json('POST', '/v1/versions?draft=true', { bytes: signedTiny(2, { seed: 9, model: 'graphed' }) })).status, 201);
    const gql = async (query: string) => {
      const r = await h.json('POST', '/graphql', { json: { query } });
      assert.is(r.status, 200, JSON.stringify(r.body));
      assert.not.ok(r.body.errors, JSON.stringify(r.body.errors));
      return r.body.data;
    };
    const released = await gql(
      `mutation { releaseVersion(model: "graphed", number: 2, stage: { group: "lab", maxFailurePercent: 50 }) { state rollout { state percent group maxFailurePercent minReports stage { devices pending } } } }`,
    );
    assert.equal(released.releaseVersion, {
      state: 'published',
      rollout: { state: 'active', percent: 0, group: 'lab', maxFailurePercent: 50, minReports: 1, stage: { devices: 1, pending: 1 } },
    });
    const grouped = await gql(`{ device(id: ${devices[3]!.id}) { group } }`);
    assert.is(grouped.device.group, 'lab');
    assert.is((await gql(`mutation { pauseRollout(model: "graphed", number: 2, reason: "checking") { state pausedReason } }`)).pauseRollout.state, 'paused');
    assert.is((await gql(`mutation { resumeRollout(model: "graphed", number: 2) { state } }`)).resumeRollout.state, 'active');
    const widened = await gql(`mutation { widenRollout(model: "graphed", number: 2, percent: 100) { state percent } }`);
    assert.equal(widened.widenRollout, { state: 'complete', percent: 100 });
    const refused = await h.json('POST', '/graphql', { json: { query: `mutation { widenRollout(model: "graphed", number: 2) { state } }` } });
    assert.match(JSON.stringify(refused.body.errors), /percent/);
    const device = await h.json('POST', '/graphql', {
      token: devices[0]!.token,
      json: { query: `mutation { resumeRollout(model: "graphed", number: 2) { state } }` },
    });
    assert.match(JSON.stringify(device.body.errors), /FORBIDDEN/);
  });

  s.run();
}

// Patches are built once per (from, to) pair: concurrent first requests on
// one server share one build (single flight), and two servers on one
// database take the pair's advisory lock, so one builds and the other
// finds its row. The bytes are the same as formats' diffArtifacts makes
// from the two artifacts, whoever built them.
import * as assert from 'uvu/assert';
import { diffArtifacts, sha256Hex } from '../../formats/index.ts';
import { buildApp } from '../../server/app.ts';
import { and, eq } from 'drizzle-orm';
import { patches } from '../../server/db/schema.ts';
import { driverSuites, type Harness } from './harness.ts';
import { licensedDevice, publish, registerPublisherKey, signedTiny, type Fleet } from './fixtures.ts';

const checkQuery = (version: number, sha256: string) => `version=${version}&intervals=1,2&sha256=${sha256}`;

async function artifactOf(h: Harness, fleet: Fleet, version: number, from?: string) {
  const r = await h.json('GET', `/v1/device/update-check?${from ? checkQuery(version - 1, from) : 'version=0&intervals='}`, { token: fleet.token });
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.is(r.body.version, version);
  const bytes = new Uint8Array(await (await h.call('GET', r.body.artifact.url, { token: fleet.token })).arrayBuffer());
  assert.is(sha256Hex(bytes), r.body.artifact.sha256);
  return { sha256: r.body.artifact.sha256 as string, bytes };
}

for (const s of driverSuites('server patch single flight')) {
  let fleet: Fleet;
  let v1: { sha256: string; bytes: Uint8Array };

  s('setup: v1 published, a bronze device that runs it', async ({ h }) => {
    await registerPublisherKey(h);
    assert.is((await publish(h, signedTiny(1))).status, 201);
    fleet = await licensedDevice(h, { tier: 'bronze', kind: 'dynamic' });
    v1 = await artifactOf(h, fleet, 1);
  });

  s('100 concurrent first update-checks for a new version build its patch once', async ({ h }) => {
    assert.is((await publish(h, signedTiny(2, { changed: [{ kernel: 0, interval: 1 }] }))).status, 201);
    const before = h.ctx.work.patchesBuilt;
    const loadsBefore = h.ctx.work.artifactLoads;
    const replies = await Promise.all(
      Array.from({ length: 100 }, () => h.json('GET', `/v1/device/update-check?${checkQuery(1, v1.sha256)}`, { token: fleet.token })),
    );
    assert.ok(
      replies.every((r) => r.status === 200 && r.body.patch),
      'every check is offered the patch',
    );
    assert.is(new Set(replies.map((r) => r.body.patch.sha256)).size, 1, 'one patch');
    assert.is(h.ctx.work.patchesBuilt - before, 1, `built ${h.ctx.work.patchesBuilt - before} times`);
    assert.is(h.ctx.work.patchFlights.size, 0, 'no flight left behind');
    assert.is(h.ctx.work.artifactLoads - loadsBefore, 1, `the new artifact looked up ${h.ctx.work.artifactLoads - loadsBefore} times, not once`);
    // the bytes are formats' diff of the two artifacts
    const v2 = await artifactOf(h, fleet, 2, v1.sha256);
    const patch = new Uint8Array(await (await h.call('GET', replies[0]!.body.patch.url, { token: fleet.token })).arrayBuffer());
    assert.ok(Buffer.from(patch).equals(Buffer.from(diffArtifacts(v1.bytes, v2.bytes))));
  });

  s('two servers on one database: 50 first requests each, one build in all', async ({ h }) => {
    assert.is((await publish(h, signedTiny(3, { changed: [{ kernel: 0, interval: 2 }] }))).status, 201);
    const other = buildApp({ db: h.database.db, onInternalError: (e) => console.error('internal error in test:', e) });
    const request = (app: typeof other.app) =>
      Promise.resolve(app.request(`/v1/device/update-check?${checkQuery(1, v1.sha256)}`, { headers: { authorization: `Bearer ${fleet.token}` } })).then(
        async (r) => ({ status: r.status, body: await r.json() }),
      );
    const before = h.ctx.work.patchesBuilt;
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => request(i % 2 ? other.app : h.app)));
    assert.ok(
      replies.every((r) => r.status === 200 && r.body.version === 3 && r.body.patch),
      JSON.stringify(replies.find((r) => r.status !== 200)),
    );
    assert.is(new Set(replies.map((r) => r.body.patch.sha256)).size, 1);
    const built = h.ctx.work.patchesBuilt - before + other.ctx.work.patchesBuilt;
    assert.is(built, 1, `built ${built} times across the two servers`);
    const to = replies[0]!.body.artifact.sha256 as string;
    const rows = await h.database.db
      .select({ sha256: patches.sha256 })
      .from(patches)
      .where(and(eq(patches.fromSha256, v1.sha256), eq(patches.toSha256, to)));
    assert.equal(rows, [{ sha256: replies[0]!.body.patch.sha256 }], 'one row for the pair');
  });

  s.run();
}

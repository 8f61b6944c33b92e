// Staged versions: a version published with ?draft=true is stored and
// listed but not offered to devices (nor downloadable by them) until it is
// released; only a draft newer than every published version can be
// released, so a device never moves back.
import * as assert from 'uvu/assert';
import { readArtifact } from '../../formats/index.ts';
import { driverSuites } from './harness.ts';
import { licensedDevice, registerPublisherKey, signedTiny } from './fixtures.ts';

for (const s of driverSuites('server drafts')) {
  s('a draft is listed but not offered; releasing it makes the next check bring a patch', async ({ h }) => {
    await registerPublisherKey(h);
    assert.is((await h.json('POST', '/v1/versions', { bytes: signedTiny(1) })).status, 201);
    const device = await licensedDevice(h, { tier: 'gold', kind: 'dynamic' });
    const first = await h.json('GET', '/v1/device/update-check?version=0&intervals=', { token: device.token });
    const v1 = readArtifact(new Uint8Array(await (await h.call('GET', first.body.artifact.url, { token: device.token })).arrayBuffer()));
    const held = `version=1&intervals=${v1.heldIntervals.join(',')}&sha256=${v1.sha256}`;

    const staged = await h.json('POST', '/v1/versions?draft=true', { bytes: signedTiny(2, { seed: 7 }) });
    assert.is(staged.status, 201, JSON.stringify(staged.body));
    assert.is(staged.body.state, 'draft');
    const listed = await h.json('GET', '/v1/models/tiny/versions');
    assert.equal(
      listed.body.versions.map((v: { version: number; state: string }) => [v.version, v.state]),
      [
        [1, 'published'],
        [2, 'draft'],
      ],
    );
    const before = await h.json('GET', `/v1/device/update-check?${held}`, { token: device.token });
    assert.equal([before.body.upToDate, before.body.version], [true, 1], 'the draft is not offered');

    // Even knowing the draft's artifact, a device cannot fetch it.
    const draftArtifact = readArtifact(signedTiny(2, { seed: 7 }));
    const direct = await h.call('GET', `/v1/artifacts/${draftArtifact.sha256}`, { token: device.token });
    assert.ok(direct.status === 403 || direct.status === 404, `draft artifact fetch: ${direct.status}`);

    const released = await h.json('POST', '/v1/models/tiny/versions/2/release');
    assert.is(released.status, 200, JSON.stringify(released.body));
    assert.is(released.body.state, 'published');
    const after = await h.json('GET', `/v1/device/update-check?${held}`, { token: device.token });
    assert.equal([after.body.upToDate, after.body.version], [false, 2]);
    assert.ok(after.body.patch, 'v1 -> v2 by patch');
    const audit = await h.json('GET', '/v1/audit');
    const actions = audit.body.entries.map((e: { action: string; entityId: string }) => `${e.action} ${e.entityId}`);
    assert.ok(actions.includes('version.stage tiny@2') && actions.includes('version.release tiny@2'), actions.join('; '));

    const again = await h.json('POST', '/v1/models/tiny/versions/2/release');
    assert.is(again.status, 409);
    assert.is(again.body.code, 'NOT_A_DRAFT');
    const unknown = await h.json('POST', '/v1/models/tiny/versions/9/release');
    assert.is(unknown.status, 404);
  });

  s('a draft older than a published version cannot be released; a version number is taken by its draft', async ({ h }) => {
    await registerPublisherKey(h);
    assert.is((await h.json('POST', '/v1/versions?draft=true', { bytes: signedTiny(3) })).status, 201);
    const taken = await h.json('POST', '/v1/versions', { bytes: signedTiny(3) });
    assert.is(taken.status, 409);
    assert.is(taken.body.code, 'VERSION_NOT_NEWER');
    assert.is((await h.json('POST', '/v1/versions', { bytes: signedTiny(4) })).status, 201);
    const stale = await h.json('POST', '/v1/models/tiny/versions/3/release');
    assert.is(stale.status, 409);
    assert.is(stale.body.code, 'NEWER_PUBLISHED');
    const withdrawn = await h.json('POST', '/v1/models/tiny/versions/3/withdraw');
    assert.is(withdrawn.status, 200, 'a stale draft can be withdrawn');
    const bad = await h.json('POST', '/v1/versions?draft=maybe', { bytes: signedTiny(5) });
    assert.is(bad.status, 400);
    assert.match(bad.body.message, /draft/);
  });

  s.run();
}

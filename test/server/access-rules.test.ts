// Smaller hardening: admin body size limit, duplicate tier names, dot model
// names, publishers scoped to their own models, refused attempts audited,
// audit paging, and a device that cannot tell another model's artifact from
// an unknown one.
import * as assert from 'uvu/assert';
import { encodeArtifact } from '../../formats/index.ts';
import { syntheticModel } from '../fixtures/server-model.ts';
import { driverSuites } from './harness.ts';
import { licensedDevice, publish, publisherKeys, registerPublisherKey, signedTiny, tinyModel } from './fixtures.ts';

const signed = (model: ReturnType<typeof tinyModel>) => encodeArtifact(model, { privateKey: publisherKeys.privateKeyPem });

for (const s of driverSuites('server access rules')) {
  s('setup', async ({ h }) => {
    await registerPublisherKey(h);
  });

  s('admin JSON bodies have a size limit (413)', async ({ h }) => {
    const r = await h.json('POST', '/v1/customers', { json: { name: 'x', padding: 'y'.repeat(2 * 1024 * 1024) } });
    assert.is(r.status, 413, JSON.stringify(r.body).slice(0, 200));
    assert.is(r.body.code, 'BODY_TOO_LARGE');
  });

  s('a publish with two tiers of one name is a 400 naming it', async ({ h }) => {
    const model = tinyModel(1);
    model.tiers = [...model.tiers, { ...model.tiers[0]! }];
    const r = await publish(h, signed(model));
    assert.is(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.message, `"${model.tiers[0]!.name}"`);
  });

  s('model names . and .. are refused', async ({ h }) => {
    for (const name of ['.', '..']) {
      const r = await publish(h, signed(tinyModel(1, { model: name })));
      assert.is(r.status, 400, `${name}: ${JSON.stringify(r.body)}`);
      assert.is(r.body.code, 'BAD_MODEL_NAME');
    }
    assert.is((await publish(h, signed(tinyModel(1, { model: '.hidden..name' })))).status, 201);
  });

  s('publishers act only on their own models; the refusal is audited', async ({ h }) => {
    const alice = (await h.json('POST', '/v1/tokens', { json: { role: 'publisher', label: 'alice' } })).body;
    const bob = (await h.json('POST', '/v1/tokens', { json: { role: 'publisher', label: 'bob' } })).body;
    const aliceModel = signed(tinyModel(1, { model: 'alice-model' }));
    assert.is((await h.json('POST', '/v1/versions', { token: alice.token, bytes: aliceModel })).status, 201);
    assert.is((await h.json('POST', '/v1/versions?draft=true', { token: alice.token, bytes: signed(tinyModel(2, { model: 'alice-model' })) })).status, 201);

    const withdraw = await h.json('POST', '/v1/models/alice-model/versions/1/withdraw', { token: bob.token });
    assert.is(withdraw.status, 403, JSON.stringify(withdraw.body));
    assert.is(withdraw.body.code, 'NOT_YOUR_MODEL');
    const release = await h.json('POST', '/v1/models/alice-model/versions/2/release', { token: bob.token });
    assert.is(release.status, 403);
    const publishOver = await h.json('POST', '/v1/versions', { token: bob.token, bytes: signed(tinyModel(3, { model: 'alice-model' })) });
    assert.is(publishOver.status, 403);
    assert.is(publishOver.body.code, 'NOT_YOUR_MODEL');

    const audit = await h.json('GET', '/v1/audit');
    const refused = audit.body.entries.filter((e: any) => e.action === 'request.refused' && e.actorTokenId === bob.id);
    assert.is(refused.length, 3, JSON.stringify(refused));
    assert.ok(refused.every((e: any) => e.detail.status === 403 && e.detail.code === 'NOT_YOUR_MODEL'));
    // The owner and admins still can.
    assert.is((await h.json('POST', '/v1/models/alice-model/versions/2/release', { token: alice.token })).status, 200);
    assert.is((await h.json('POST', '/v1/models/alice-model/versions/1/withdraw')).status, 200);
  });

  s('a wrong-role attempt is audited too', async ({ h }) => {
    const pub = (await h.json('POST', '/v1/tokens', { json: { role: 'publisher', label: 'nosy' } })).body;
    assert.is((await h.json('POST', '/v1/customers', { token: pub.token, json: { name: 'x' } })).status, 403);
    const audit = await h.json('GET', '/v1/audit');
    assert.ok(audit.body.entries.some((e: any) => e.action === 'request.refused' && e.actorTokenId === pub.id && e.detail.code === 'ROLE_FORBIDDEN'));
  });

  s('/v1/audit pages with a cursor', async ({ h }) => {
    for (let i = 0; i < 7; i++) assert.is((await h.json('POST', '/v1/customers', { json: { name: `c${i}` } })).status, 201);
    const all = (await h.json('GET', '/v1/audit?limit=500')).body.entries.map((e: any) => e.id);
    const seen: number[] = [];
    let path: string | null = '/v1/audit?limit=3';
    for (let pages = 0; path && pages < 100; pages++) {
      const page: any = await h.json('GET', path);
      assert.is(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.entries.length <= 3);
      seen.push(...page.body.entries.map((e: any) => e.id));
      path = page.body.next;
    }
    assert.equal(seen, all, 'the pages, in order, are the whole log, newest first, without repeats');
    assert.is((await h.json('GET', '/v1/audit?limit=0')).status, 400);
    assert.is((await h.json('GET', '/v1/audit?before=abc')).status, 400);
  });

  s("a device cannot tell another model's artifact from an unknown one", async ({ h }) => {
    assert.is((await publish(h, signedTiny(1))).status, 201);
    const other = encodeArtifact(syntheticModel({ model: 'other', version: 1, sizes: [4, 3, 2], density: 0.8, seed: 3 }), {
      privateKey: publisherKeys.privateKeyPem,
    });
    assert.is((await publish(h, other)).status, 201);
    const tinyDevice = await licensedDevice(h, { tier: 'gold', kind: 'dynamic' });
    const customer = await h.json('POST', '/v1/customers', { json: { name: 'o' } });
    const license = await h.json('POST', '/v1/licenses', { json: { customerId: customer.body.id, model: 'other', intervals: [0, 1, 2, 3] } });
    const otherDevice = (await h.json('POST', '/v1/devices', { json: { licenseId: license.body.id, name: 'o' } })).body;
    const tinyArtifact = (await h.json('GET', '/v1/device/update-check?version=0', { token: tinyDevice.token })).body.artifact;
    const otherArtifact = (await h.json('GET', '/v1/device/update-check?version=0', { token: otherDevice.token })).body.artifact;
    const unknown = 'f'.repeat(64);
    const answer = async (path: string) => {
      const r = await h.json('GET', path, { token: otherDevice.token });
      return { status: r.status, body: JSON.stringify(r.body).replaceAll(tinyArtifact.sha256, '<sha>').replaceAll(unknown, '<sha>') };
    };
    assert.equal(await answer(tinyArtifact.url), await answer(`/v1/artifacts/${unknown}`));
    assert.is((await answer(tinyArtifact.url)).status, 404);
    assert.equal(await answer(`/v1/patches/${otherArtifact.sha256}/${tinyArtifact.sha256}`), await answer(`/v1/patches/${otherArtifact.sha256}/${unknown}`));
    assert.equal(await answer(`/v1/patches/${tinyArtifact.sha256}/${otherArtifact.sha256}`), await answer(`/v1/patches/${unknown}/${otherArtifact.sha256}`));
  });

  s.run();
}

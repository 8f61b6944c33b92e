// POST /graphql on PGlite and PostgreSQL: every query and mutation, the
// rules for each role (a device or publisher token asking for what is not
// its own gets an error and no data), the same data as REST, and the limits
// on depth, cost, aliases and page size.
import * as assert from 'uvu/assert';
import { ADMIN_TOKEN, driverSuites, type Harness } from './harness.ts';
import { licensedDevice, publish, registerPublisherKey, signedTiny, type Fleet } from './fixtures.ts';
import { GRAPHQL_LIMITS } from '../../server/graphql/index.ts';

interface Reply {
  status: number;
  data: any;
  errors: Array<{ message: string; path?: string[]; extensions?: { code?: string } }> | undefined;
}

async function gql(h: Harness, query: string, variables: Record<string, unknown> = {}, token: string | null = ADMIN_TOKEN): Promise<Reply> {
  const r = await h.json('POST', '/graphql', { token, json: { query, variables } });
  return { status: r.status, data: r.body?.data, errors: r.body?.errors };
}

/** A reply that must have no errors; its data. */
async function ok(h: Harness, query: string, variables: Record<string, unknown> = {}, token: string = ADMIN_TOKEN) {
  const r = await gql(h, query, variables, token);
  assert.is(r.status, 200, JSON.stringify(r));
  assert.is(r.errors, undefined, JSON.stringify(r.errors));
  return r.data;
}

/** Whether a reply carries no data: none at all, or null for every root field asked. */
function empty(data: any): boolean {
  return data === null || data === undefined || Object.values(data).every((value) => value === null);
}

/** A reply refused with `code`. */
async function refused(h: Harness, query: string, code: string, token: string, variables: Record<string, unknown> = {}) {
  const r = await gql(h, query, variables, token);
  assert.ok(r.errors && r.errors.length > 0, `expected an error: ${JSON.stringify(r)}`);
  assert.is(r.errors![0]!.extensions?.code, code, JSON.stringify(r.errors));
  return r;
}

interface State {
  bronze: Fleet;
  other: Fleet;
  publisher: { id: number; token: string };
  rival: { id: number; token: string };
}

for (const s of driverSuites('GraphQL API')) {
  const state = {} as State;

  s('setup: two versions of tiny (one segment changed), a draft of another publisher, licenses and devices', async ({ h }) => {
    await registerPublisherKey(h);
    assert.is((await publish(h, signedTiny(1))).status, 201);
    assert.is((await publish(h, signedTiny(2, { changed: [{ kernel: 0, interval: 1 }] }))).status, 201);
    state.publisher = (await h.json('POST', '/v1/tokens', { json: { role: 'publisher', label: 'alice' } })).body;
    state.rival = (await h.json('POST', '/v1/tokens', { json: { role: 'publisher', label: 'bob' } })).body;
    const draft = await h.json('POST', '/v1/versions?draft=true', { token: state.publisher.token, bytes: signedTiny(1, { model: 'alice-model' }) });
    assert.is(draft.status, 201, JSON.stringify(draft.body));
    state.bronze = await licensedDevice(h, { tier: 'bronze', kind: 'dynamic' });
    state.other = await licensedDevice(h, { tier: 'gold', kind: 'dynamic' });
  });

  s('models, versions, tiers with bytes and accuracy, segments with the version they last changed in', async ({ h }) => {
    const data = await ok(
      h,
      `{ model(name: "tiny") { name latest { number } versions { nodes { number state intervals bytes
          tiers { name intervals accuracy bytes } segments { tensor interval bytes sha256 lastChangedIn } } } } }`,
    );
    const model = data.model;
    assert.is(model.latest.number, 2);
    const [v1, v2] = model.versions.nodes;
    assert.equal([v1.number, v2.number, v1.state], [1, 2, 'published']);
    const rest = await h.json('GET', '/v1/models/tiny/versions');
    assert.equal(
      model.versions.nodes.map((v: any) => v.number),
      rest.body.versions.map((v: any) => v.version),
      'the same versions as REST',
    );
    // Accuracies travel as float32 in the manifest.
    assert.equal(
      v2.tiers.map((t: any) => [t.name, t.accuracy]),
      [
        ['bronze', Math.fround(0.7)],
        ['silver', Math.fround(0.8)],
        ['gold', Math.fround(0.9)],
      ],
    );
    // Tier bytes grow with the tier and the full tier is the whole artifact.
    assert.ok(v2.tiers[0].bytes < v2.tiers[1].bytes && v2.tiers[1].bytes < v2.tiers[2].bytes, JSON.stringify(v2.tiers));
    assert.is(v2.tiers[2].bytes, v2.bytes);
    // The one changed segment (kernel 0, interval 1) last changed in 2, the rest in 1.
    const changed = v2.segments.filter((seg: any) => seg.lastChangedIn === 2);
    assert.is(changed.length, 1, JSON.stringify(v2.segments));
    assert.is(changed[0].interval, 1);
    const before = v1.segments.find((seg: any) => seg.tensor === changed[0].tensor && seg.interval === 1);
    assert.is.not(before.sha256, changed[0].sha256);
    assert.ok(v1.segments.every((seg: any) => seg.lastChangedIn === 1));
  });

  s('customers, licenses, devices and their grant; the same as REST', async ({ h }) => {
    const data = await ok(
      h,
      `{ customers { nodes { id name licenses { id tier } } }
         licenses { nodes { id model tier kind customer { name } grant { version intervals tier accuracy bytes } deviceCount devices { nodes { id name } } } }
         devices { nodes { id name version tier license { id } } } }`,
    );
    const rest = await h.json('GET', '/v1/licenses');
    assert.equal(
      data.licenses.nodes.map((l: any) => [l.id, l.model, l.tier, l.kind]),
      rest.body.licenses.map((l: any) => [l.id, l.model, l.tier, l.kind]),
    );
    const bronze = data.licenses.nodes.find((l: any) => l.id === state.bronze.licenseId);
    assert.equal(bronze.grant.intervals, [1, 2]);
    assert.is(bronze.grant.tier, 'bronze');
    assert.is(bronze.grant.version, 2);
    assert.equal(
      bronze.devices.nodes.map((d: any) => d.id),
      [state.bronze.deviceId],
    );
    assert.is(bronze.deviceCount, 1);
    const silverOne = await ok(h, '{ model(name: "tiny") { version(number: 1) { number state tiers { name } } missing: version(number: 9) { number } } }');
    assert.equal(silverOne.model.version, { number: 1, state: 'published', tiers: [{ name: 'bronze' }, { name: 'silver' }, { name: 'gold' }] });
    assert.is(silverOne.model.missing, null);
    const restDevices = await h.json('GET', '/v1/devices');
    assert.equal(
      data.devices.nodes.map((d: any) => [d.id, d.name]),
      restDevices.body.devices.map((d: any) => [d.id, d.name]),
    );
    assert.is(data.customers.nodes.length, 2);
  });

  s('a device state reported by the update check shows as version and tier', async ({ h }) => {
    const check = await h.json('GET', '/v1/device/update-check?version=1&intervals=1,2', { token: state.bronze.token });
    assert.is(check.status, 200, JSON.stringify(check.body));
    const data = await ok(h, 'query ($id: Int!) { device(id: $id) { version heldIntervals tier lastSeenAt } }', { id: state.bronze.deviceId });
    assert.equal([data.device.version, data.device.heldIntervals, data.device.tier], [1, [1, 2], 'bronze']);
    assert.ok(data.device.lastSeenAt);
  });

  s('tierChange: the patch each device would download, as the update check then offers it', async ({ h }) => {
    const data = await ok(
      h,
      'query ($id: Int!) { license(id: $id) { tierChange(tier: "gold") { tier version intervals accuracy artifactBytes totalBytes devices { device { id } bytes patch } } } }',
      { id: state.bronze.licenseId },
    );
    const change = data.license.tierChange;
    assert.equal([change.tier, change.version, change.intervals, change.accuracy], ['gold', 2, [0, 1, 2, 3], Math.fround(0.9)]);
    assert.is(change.devices.length, 1);
    const cost = change.devices[0];
    assert.ok(cost.patch, 'a device on a known tier gets a patch');
    assert.ok(cost.bytes > 0 && cost.bytes < change.artifactBytes, JSON.stringify(change));
    assert.is(change.totalBytes, cost.bytes);

    const changed = await ok(h, 'mutation ($id: Int!) { changeLicenseTier(id: $id, tier: "gold") { id tier grant { intervals } } }', {
      id: state.bronze.licenseId,
    });
    assert.equal([changed.changeLicenseTier.tier, changed.changeLicenseTier.grant.intervals], ['gold', [0, 1, 2, 3]]);
    const check = await h.json('GET', '/v1/device/update-check?version=1&intervals=1,2', { token: state.bronze.token });
    assert.is(check.body.patch.bytes, cost.bytes, 'the preview is what the device is offered');
    assert.is(check.body.artifact.bytes, change.artifactBytes);

    const audit = await ok(h, '{ audit(first: 5, entity: "license") { nodes { action entityId detail } } }');
    const entry = audit.audit.nodes[0];
    assert.equal([entry.action, entry.entityId, entry.detail.to.tier], ['license.change-tier', String(state.bronze.licenseId), 'gold']);
    // Back to bronze for the tests below.
    await ok(h, 'mutation ($id: Int!) { changeLicenseTier(id: $id, tier: "bronze") { id } }', { id: state.bronze.licenseId });
  });

  s('mutations validate like REST and refuse with its codes; refusals are audited', async ({ h }) => {
    await refused(h, 'mutation { changeLicenseTier(id: 1, tier: "platinum") { id } }', 'TIER_UNKNOWN', ADMIN_TOKEN);
    await refused(h, 'mutation { changeLicenseTier(id: 1) { id } }', 'VALIDATION_FAILED', ADMIN_TOKEN);
    await refused(h, 'mutation { changeLicenseTier(id: 999, tier: "gold") { id } }', 'LICENSE_UNKNOWN', ADMIN_TOKEN);
    const expiry = await ok(h, 'mutation ($id: Int!) { setLicenseExpiry(id: $id, expiresAt: "2099-01-01T00:00:00Z") { expiresAt } }', {
      id: state.other.licenseId,
    });
    assert.is(expiry.setLicenseExpiry.expiresAt, '2099-01-01T00:00:00.000Z');
    const yesterday = await refused(h, 'mutation { setLicenseExpiry(id: 1, expiresAt: "yesterday") { id } }', 'GRAPHQL_VALIDATION_FAILED', ADMIN_TOKEN);
    assert.match(yesterday.errors![0]!.message, 'expiresAt');

    // A publisher releases and withdraws its own model only.
    const bob = await refused(h, 'mutation { releaseVersion(model: "alice-model", number: 1) { state } }', 'NOT_YOUR_MODEL', state.rival.token);
    assert.is(bob.data, null);
    const released = await ok(h, 'mutation { releaseVersion(model: "alice-model", number: 1) { model number state } }', {}, state.publisher.token);
    assert.equal(released.releaseVersion, { model: 'alice-model', number: 1, state: 'published' });
    await refused(h, 'mutation { releaseVersion(model: "alice-model", number: 1) { state } }', 'NOT_A_DRAFT', state.publisher.token);
    const withdrawn = await ok(h, 'mutation { withdrawVersion(model: "alice-model", number: 1) { state } }', {}, state.publisher.token);
    assert.is(withdrawn.withdrawVersion.state, 'withdrawn');

    const audit = await h.json('GET', '/v1/audit');
    const refusedRows = audit.body.entries.filter((e: any) => e.action === 'request.refused' && e.entityId.startsWith('graphql'));
    assert.ok(
      refusedRows.some((e: any) => e.actorTokenId === state.rival.id && e.detail.code === 'NOT_YOUR_MODEL'),
      JSON.stringify(refusedRows),
    );
    assert.ok(audit.body.entries.some((e: any) => e.action === 'version.release' && e.actorTokenId === state.publisher.id));

    const revoked = await ok(h, 'mutation ($id: Int!) { revokeLicense(id: $id) { revokedAt } }', { id: state.other.licenseId });
    assert.ok(revoked.revokeLicense.revokedAt);
    await refused(h, 'mutation ($id: Int!) { revokeLicense(id: $id) { id } }', 'LICENSE_REVOKED', ADMIN_TOKEN, { id: state.other.licenseId });
  });

  s('a publisher sees its own models and nothing of customers, licenses, devices or the audit', async ({ h }) => {
    const mine = await ok(h, '{ models { nodes { name versions { nodes { number state } } } } }', {}, state.publisher.token);
    assert.equal(
      mine.models.nodes.map((m: any) => m.name),
      ['alice-model'],
    );
    const all = await ok(h, '{ models { nodes { name } } }');
    assert.equal(all.models.nodes.map((m: any) => m.name).sort(), ['alice-model', 'tiny']);
    const other = await refused(h, '{ model(name: "tiny") { name } }', 'FORBIDDEN', state.publisher.token);
    assert.is(other.data.model, null);
    for (const query of ['{ customers { nodes { id } } }', '{ licenses { nodes { id } } }', '{ devices { nodes { id } } }', '{ audit { nodes { id } } }']) {
      const r = await refused(h, query, 'FORBIDDEN', state.publisher.token);
      assert.ok(empty(r.data), query);
    }
    await refused(h, 'mutation { changeLicenseTier(id: 1, tier: "gold") { id } }', 'FORBIDDEN', state.publisher.token);
  });

  s('a device token gets no more than through REST: itself, and its grant as the update check gives it', async ({ h }) => {
    const token = state.bronze.token;
    const me = await ok(h, '{ me { role device { id version heldIntervals slot } license { id model grant { version intervals } } } }', {}, token);
    const check = await h.json('GET', '/v1/device/update-check?version=1&intervals=1,2', { token });
    assert.equal(me.me.license.grant, { version: check.body.version, intervals: check.body.intervals });
    assert.is(me.me.license.model, check.body.model);
    assert.equal([me.me.role, me.me.device.id, me.me.device.version], ['device', state.bronze.deviceId, 1]);

    // Another device, another license, a publisher's data: an error and no data.
    const otherDevice = await refused(h, 'query ($id: Int!) { device(id: $id) { id version } }', 'FORBIDDEN', token, { id: state.other.deviceId });
    assert.is(otherDevice.data.device, null);
    const otherLicense = await refused(h, 'query ($id: Int!) { license(id: $id) { id } }', 'FORBIDDEN', token, { id: state.other.licenseId });
    assert.is(otherLicense.data.license, null);
    for (const query of [
      '{ models { nodes { name } } }',
      '{ model(name: "tiny") { name } }',
      '{ devices { nodes { id } } }',
      '{ customers { nodes { id } } }',
    ]) {
      const r = await refused(h, query, 'FORBIDDEN', token);
      assert.ok(empty(r.data), `${query}: ${JSON.stringify(r.data)}`);
    }
    // Its own license: only what the update check says (no customer, no tier name, no other devices, no costs).
    for (const field of ['customer { name }', 'tier', 'kind', 'expiresAt', 'devices { nodes { id } }', 'tierChange(tier: "gold") { totalBytes }']) {
      const r = await refused(h, `{ me { license { id ${field} } } }`, 'FORBIDDEN', token);
      assert.ok(empty(r.data), `${field}: ${JSON.stringify(r.data)}`);
    }
    const name = await refused(h, '{ me { device { name } } }', 'FORBIDDEN', token);
    assert.ok(empty(name.data));
    // A fragment does not hide a field.
    await refused(h, '{ me { license { ...Everything } } } fragment Everything on License { id tier }', 'FORBIDDEN', token);
    // No introspection for a device token; admins have it. An admin asking
    // first must not open the way: verdicts are not shared across roles.
    const introspection = '{ __schema { types { name } } }';
    assert.ok((await ok(h, introspection)).__schema.types.some((t: any) => t.name === 'License'));
    const schema = await gql(h, introspection, {}, token);
    assert.ok(schema.errors?.length, JSON.stringify(schema));
    assert.is(schema.data, undefined);
    const adminShaped = '{ me { role license { id tier } } }';
    await ok(h, adminShaped);
    await refused(h, adminShaped, 'FORBIDDEN', token);
  });

  s('no token or a wrong token: 401 with the REST codes', async ({ h }) => {
    const none = await h.json('POST', '/graphql', { token: null, json: { query: '{ me { role } }' } });
    assert.equal([none.status, none.body.code], [401, 'MISSING_TOKEN']);
    const wrong = await h.json('POST', '/graphql', { token: 'wgd_not-a-token', json: { query: '{ me { role } }' } });
    assert.equal([wrong.status, wrong.body.code], [401, 'BAD_TOKEN']);
    const get = await h.json('GET', '/graphql');
    assert.is(get.status, 405, JSON.stringify(get.body));
  });

  s('limits: depth, aliases and page size are refused with a message that names the limit', async ({ h }) => {
    let deep = 'id';
    for (let i = 0; i < GRAPHQL_LIMITS.maxDepth / 2; i++) deep = `customer { licenses { ${deep} } }`;
    const depth = await gql(h, `{ license(id: 1) { ${deep} } }`);
    assert.ok(
      depth.errors?.some((e) => /depth limit of 8/i.test(e.message)),
      JSON.stringify(depth),
    );
    assert.is(depth.data, undefined, 'nothing is executed');

    const aliases = Array.from({ length: GRAPHQL_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: me { role }`).join(' ');
    const many = await gql(h, `{ ${aliases} }`);
    assert.ok(many.errors?.length);
    assert.ok(
      many.errors!.some((e) => /aliases limit of 15/i.test(e.message)),
      JSON.stringify(many),
    );
    // Cost grows with the pages asked for: 1,000 licenses of 1,000 devices each is refused before it runs.
    const costly = await gql(h, '{ licenses(first: 1000) { nodes { devices(first: 1000) { nodes { id name } } } } }');
    assert.ok(
      costly.errors?.some((e) => /cost limit of 50000/i.test(e.message)),
      JSON.stringify(costly),
    );
    assert.is(costly.data, undefined);

    const big = await refused(h, '{ devices(first: 5000) { nodes { id } } }', 'BAD_INPUT', ADMIN_TOKEN);
    assert.match(big.errors![0]!.message, '1000');
    await refused(h, '{ devices(after: "abc") { nodes { id } } }', 'BAD_INPUT', ADMIN_TOKEN);
    const typo = await gql(h, '{ modelz { nodes { name } } }');
    assert.ok(typo.errors?.length);
    assert.not.match(typo.errors![0]!.message, 'Did you mean', 'no field suggestions leak the schema');
  });

  s('pages: every device exactly once, in order', async ({ h }) => {
    for (let i = 0; i < 5; i++) {
      assert.is((await h.json('POST', '/v1/devices', { json: { licenseId: state.bronze.licenseId, name: `extra-${i}` } })).status, 201);
    }
    const all = (await ok(h, '{ devices(first: 1000) { nodes { id } } }')).devices.nodes.map((d: any) => d.id);
    const seen: number[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const data: any = await ok(h, 'query ($after: String) { devices(first: 2, after: $after) { nodes { id } pageInfo { endCursor hasNextPage } } }', {
        after,
      });
      seen.push(...data.devices.nodes.map((d: any) => d.id));
      if (!data.devices.pageInfo.hasNextPage) break;
      after = data.devices.pageInfo.endCursor;
    }
    assert.equal(seen, all);
    assert.ok(all.length >= 7);
  });

  s.run();
}

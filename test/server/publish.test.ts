// Publishing: verification before storage, signatures against registered
// keys, version ordering, concurrency, incremental segment storage, limits.
import * as assert from 'uvu/assert';
import { count, sum } from 'drizzle-orm';
import { encodeArtifact, generateKeyPair } from '../../formats/index.ts';
import { segments, versions } from '../../server/db/schema.ts';
import { ADMIN_TOKEN, driverSuites } from './harness.ts';
import { publish, registerPublisherKey, signedTiny, tinyModel } from './fixtures.ts';

for (const s of driverSuites('server publishing', { maxBodyBytes: 2 * 1024 * 1024 })) {
  s('an unsigned artifact is refused; one signed by an unregistered key is refused', async ({ h }) => {
    const unsigned = await publish(h, encodeArtifact(tinyModel(1)));
    assert.is(unsigned.status, 400);
    assert.is(unsigned.body.code, 'UNSIGNED');
    const stranger = generateKeyPair();
    const foreign = await publish(h, encodeArtifact(tinyModel(1), { privateKey: stranger.privateKeyPem }));
    assert.is(foreign.status, 403);
    assert.is(foreign.body.code, 'UNKNOWN_PUBLISHER_KEY');
    const [stored] = await h.database.db.select({ n: count() }).from(versions);
    assert.is(stored!.n, 0);
  });

  s('a damaged file gets 400 with the FormatError code and stores nothing', async ({ h }) => {
    await registerPublisherKey(h);
    const bytes = signedTiny(1);
    const damaged = bytes.slice();
    damaged[damaged.length - 3]! ^= 0xff;
    const r = await publish(h, damaged);
    assert.is(r.status, 400);
    assert.ok(['HASH_MISMATCH', 'BAD_VALUE', 'OUT_OF_BOUNDS', 'TRUNCATED'].includes(r.body.code), r.body.code);
    const junk = await publish(h, new TextEncoder().encode('not a wgm file at all'));
    assert.is(junk.status, 400);
    const [stored] = await h.database.db.select({ n: count() }).from(segments);
    assert.is(stored!.n, 0);
  });

  s('a signed artifact publishes; the same or a lower version is 409', async ({ h }) => {
    const keyId = await registerPublisherKey(h);
    const first = await publish(h, signedTiny(2));
    assert.is(first.status, 201, JSON.stringify(first.body));
    assert.is(first.body.model, 'tiny');
    assert.is(first.body.version, 2);
    assert.is(first.body.keyId, keyId);
    const same = await publish(h, signedTiny(2));
    assert.is(same.status, 409);
    assert.is(same.body.code, 'VERSION_NOT_NEWER');
    const lower = await publish(h, signedTiny(1));
    assert.is(lower.status, 409);
    const list = await h.json('GET', '/v1/models/tiny/versions');
    assert.equal(
      list.body.versions.map((v: { version: number }) => v.version),
      [2],
    );
  });

  s('a version changing 2 of 6 kernel segments stores only those bytes', async ({ h }) => {
    await registerPublisherKey(h);
    const storedBytes = async () => Number((await h.database.db.select({ bytes: sum(segments.bytes) }).from(segments))[0]!.bytes ?? 0);
    const before = await storedBytes();
    const base = await publish(h, signedTiny(3, { seed: 99 }));
    const next = await publish(
      h,
      signedTiny(4, {
        seed: 99,
        changed: [
          { kernel: 0, interval: 1 },
          { kernel: 1, interval: 2 },
        ],
      }),
    );
    assert.is(next.status, 201);
    assert.is(base.body.segments.added, base.body.segments.total);
    assert.is(next.body.segments.added, 2);
    assert.ok(next.body.segments.addedBytes < next.body.segments.totalBytes / 2);
    assert.is(await storedBytes(), before + base.body.segments.totalBytes + next.body.segments.addedBytes);
  });

  s('withdraw a version; withdrawing twice is 409', async ({ h }) => {
    const r = await h.json('POST', '/v1/models/tiny/versions/4/withdraw');
    assert.is(r.status, 200);
    assert.is(r.body.state, 'withdrawn');
    assert.is((await h.json('POST', '/v1/models/tiny/versions/4/withdraw')).status, 409);
    assert.is((await h.json('POST', '/v1/models/tiny/versions/99/withdraw')).status, 404);
    // A withdrawn number stays taken: versions only go up.
    assert.is((await publish(h, signedTiny(4))).status, 409);
  });

  s('concurrent publishes of one version: exactly one wins, the rest get 409', async ({ h }) => {
    await registerPublisherKey(h);
    const bytes = signedTiny(10);
    const results = await Promise.all(Array.from({ length: 12 }, () => publish(h, bytes)));
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses, [201, ...Array(11).fill(409)], JSON.stringify(results.map((r) => r.body)));
    const list = await h.json('GET', '/v1/models/tiny/versions');
    assert.is(list.body.versions.filter((v: { version: number }) => v.version === 10).length, 1);
  });

  s('a body over the limit is refused with 413', async ({ h }) => {
    const r = await h.json('POST', '/v1/versions', { bytes: new Uint8Array(2 * 1024 * 1024 + 1) });
    assert.is(r.status, 413);
    assert.is(r.body.code, 'BODY_TOO_LARGE');
  });

  s('a streamed body without Content-Length is cut off at the limit, not read whole', async ({ h }) => {
    let pulled = 0;
    const chunk = new Uint8Array(256 * 1024);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // 64 MiB on offer; the server must stop pulling soon after 2 MiB.
        if (pulled >= 64 * 1024 * 1024) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await h.app.request('/v1/versions', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.is(response.status, 413);
    assert.is((await response.json()).code, 'BODY_TOO_LARGE');
    assert.ok(pulled < 8 * 1024 * 1024, `pulled ${pulled} bytes`);
  });

  s('a model name that cannot be a URL path segment is refused', async ({ h }) => {
    await registerPublisherKey(h);
    const r = await publish(h, signedTiny(1, { model: 'bad name/../x' }));
    assert.is(r.status, 400);
    assert.is(r.body.code, 'BAD_MODEL_NAME');
  });

  s('a device token cannot publish', async ({ h }) => {
    const r = await h.json('POST', '/v1/versions', { bytes: signedTiny(20), token: 'wgd_nope' });
    assert.is(r.status, 401);
  });

  s.run();
}

for (const s of driverSuites('server publishing --allow-unsigned', { allowUnsigned: true })) {
  s('unsigned artifacts are accepted when the server allows them', async ({ h }) => {
    const r = await publish(h, encodeArtifact(tinyModel(1)));
    assert.is(r.status, 201);
    assert.is(r.body.keyId, null);
  });
  s.run();
}

for (const s of driverSuites('publisher key revocation')) {
  s('a revoked publisher key: its uploads get 403 PUBLISHER_KEY_REVOKED, what it signed stays, the revocation is listed and audited', async ({ h }) => {
    const leaked = generateKeyPair();
    const model = (version: number) => ({ ...tinyModel(version), model: 'tiny-revoked' });
    const registered = await h.json('POST', '/v1/publisher-keys', { json: { publicKey: leaked.publicKeyPem, label: 'leaked' } });
    assert.is(registered.status, 201);
    const keyId = registered.body.keyId as string;
    assert.is((await publish(h, encodeArtifact(model(1), { privateKey: leaked.privateKeyPem }))).status, 201);
    const revoked = await h.json('POST', `/v1/publisher-keys/${keyId}/revoke`);
    assert.is(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.publishedVersionsSigned, [{ model: 'tiny-revoked', version: 1 }]);
    assert.ok(Date.parse(revoked.body.revokedAt) > 0);

    const refused = await publish(h, encodeArtifact(model(2), { privateKey: leaked.privateKeyPem }));
    assert.is(refused.status, 403);
    assert.is(refused.body.code, 'PUBLISHER_KEY_REVOKED');
    assert.match(refused.body.message, new RegExp(`publisher key ${keyId} \\(leaked\\), revoked at`));
    const list = await h.json('GET', '/v1/models/tiny-revoked/versions');
    assert.equal(
      list.body.versions.map((v: { version: number; state: string }) => [v.version, v.state]),
      [[1, 'published']],
      'what it signed stays',
    );

    const again = await h.json('POST', `/v1/publisher-keys/${keyId}/revoke`);
    assert.is(again.status, 404);
    assert.is(again.body.code, 'KEY_UNKNOWN');
    const bad = await h.json('POST', '/v1/publisher-keys/not-a-key/revoke');
    assert.is(bad.status, 400);
    const keys = await h.json('GET', '/v1/publisher-keys');
    const listed = keys.body.keys.find((k: { keyId: string }) => k.keyId === keyId);
    assert.is(listed.revokedAt, revoked.body.revokedAt);
    const audit = await h.json('GET', '/v1/audit');
    assert.ok(audit.body.entries.some((e: { action: string; entityId: string }) => e.action === 'publisher-key.revoke' && e.entityId === keyId));

    // A new key takes over: the next version publishes with it.
    const next = generateKeyPair();
    assert.is((await h.json('POST', '/v1/publisher-keys', { json: { publicKey: next.publicKeyPem, label: 'rotated' } })).status, 201);
    const rotated = await publish(h, encodeArtifact(model(2), { privateKey: next.privateKeyPem }));
    assert.is(rotated.status, 201, JSON.stringify(rotated.body));
  });
  s.run();
}

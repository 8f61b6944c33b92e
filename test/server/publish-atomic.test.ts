// Publishing is one transaction: a failure at its last insert leaves no
// model, version, tier or segment behind, and the server keeps serving.
import * as assert from 'uvu/assert';
import { count, sql } from 'drizzle-orm';
import { encodeArtifact } from '../../formats/index.ts';
import { models, segments, versions } from '../../server/db/schema.ts';
import { driverSuites } from './harness.ts';
import { publisherKeys, registerPublisherKey, tinyModel } from './fixtures.ts';

for (const s of driverSuites('server publishing is atomic', { onInternalError: () => {} })) {
  s('a failure inside the publish transaction stores nothing', async ({ h }) => {
    await registerPublisherKey(h);
    // Fail the transaction at its tier inserts (after model, segments and version rows were written in it).
    await h.database.db.execute(
      sql.raw(`
      create function wg_test_fail_tier() returns trigger as $$
      begin
        if new.name = 'boom' then raise exception 'injected failure'; end if;
        return new;
      end $$ language plpgsql`),
    );
    await h.database.db.execute(sql.raw('create trigger wg_test_fail_tier before insert on tiers for each row execute function wg_test_fail_tier()'));
    const input = { ...tinyModel(1, { model: 'atomic', seed: 41 }), tiers: [{ name: 'boom', intervals: [0, 1], accuracy: 0.5 }] };
    const r = await h.json('POST', '/v1/versions', { bytes: encodeArtifact(input, { privateKey: publisherKeys.privateKeyPem }) });
    assert.is(r.status, 500);
    assert.is(r.body.code, 'INTERNAL');
    for (const table of [models, versions, segments]) {
      const [row] = await h.database.db.select({ n: count() }).from(table);
      assert.is(row!.n, 0);
    }
    const healthy = await h.json('GET', '/healthz', { token: null });
    assert.is(healthy.status, 200);
  });

  s.run();
}

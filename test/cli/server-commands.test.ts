// serve's --db-retry and admin-token help, audit paging, and the hints the
// client commands give for NOT_YOUR_MODEL and DATABASE_UNAVAILABLE.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordingServer, runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'wg-cli-server-'));
const token = ['--token', 'admin-token-0123456789'];
const entry = (id: number) => ({
  id,
  at: `2026-11-30T00:00:0${id}.000Z`,
  actorTokenId: 1,
  action: 'license.create',
  entity: 'license',
  entityId: String(id),
  detail: {},
});

/** An audit log of ids 5..1 served in pages, as server/routes/access.ts does. */
function auditAnswer(url: string) {
  const query = new URL(url, 'http://x').searchParams;
  const limit = Number(query.get('limit') ?? 500);
  const before = query.has('before') ? Number(query.get('before')) : 6;
  const ids = [5, 4, 3, 2, 1].filter((id) => id < before).slice(0, limit);
  const next = ids.length === limit ? `/v1/audit?limit=${limit}&before=${ids[ids.length - 1]}` : null;
  return { status: 200, body: { entries: ids.map(entry), next } };
}

test("audit --limit, --before and --all follow the server's paging", async () => {
  const server = await recordingServer((r) => auditAnswer(r.url));
  try {
    const first = await runCli(['audit', '--server', server.url, ...token, '--limit', '2']);
    assert.is(first.status, 0, first.stderr);
    assert.is(first.stdout.trim().split('\n').length, 2);
    assert.match(first.stdout, 'license 5');
    assert.match(first.stderr, /more: weightgate audit --limit 2 --before 4/);
    assert.is(server.requests.at(-1)!.url, '/v1/audit?limit=2');

    const second = await runCli(['audit', '--server', server.url, ...token, '--limit', '2', '--before', '4', '--json']);
    assert.is(second.status, 0, second.stderr);
    const page = JSON.parse(second.stdout);
    assert.equal(
      page.entries.map((e: { id: number }) => e.id),
      [3, 2],
    );
    assert.is(page.next, '2');

    const all = await runCli(['audit', '--server', server.url, ...token, '--limit', '2', '--all', '--json']);
    assert.is(all.status, 0, all.stderr);
    const everything = JSON.parse(all.stdout);
    assert.equal(
      everything.entries.map((e: { id: number }) => e.id),
      [5, 4, 3, 2, 1],
    );
    assert.is(everything.next, null);

    const bad = await runCli(['audit', '--server', server.url, ...token, '--limit', '501']);
    assert.is(bad.status, 2);
    assert.match(bad.stderr, /--limit must be an integer 1\.\.500/);
  } finally {
    await server.close();
  }
});

test('NOT_YOUR_MODEL comes with a hint; DATABASE_UNAVAILABLE is retryable, exit 1', async () => {
  const server = await recordingServer((r) =>
    r.url.startsWith('/v1/versions')
      ? { status: 403, body: { code: 'NOT_YOUR_MODEL', message: 'model "m" belongs to another publisher token' } }
      : { status: 503, body: { code: 'DATABASE_UNAVAILABLE', message: 'the server cannot reach its database right now; retry in 5 s' } },
  );
  try {
    const file = join(dir, 'any.wgm');
    writeFileSync(file, 'x');
    const mine = await runCli(['publish', file, '--server', server.url, ...token]);
    assert.is(mine.status, 2, mine.stderr);
    assert.match(mine.stderr, /^weightgate: error NOT_YOUR_MODEL: .*hint: .*admin token or the publisher token that owns the model/m);
    const down = await runCli(['license', 'list', '--server', server.url, ...token]);
    assert.is(down.status, 1, down.stderr);
    assert.match(down.stderr, /^weightgate: error DATABASE_UNAVAILABLE: .*retryable/m);
  } finally {
    await server.close();
  }
});

test('serve --help gives the admin-token rule and --db-retry; a bad --db-retry exits 2', async () => {
  const help = await runCli(['serve', '--help']);
  assert.is(help.status, 0);
  const text = help.stdout.replace(/\s+/g, ' ');
  assert.match(text, /16 or more characters, 8 or more different, of 2 or more kinds/);
  assert.match(text, /revokes the old one/);
  assert.match(text, /--db-retry <seconds>/);
  assert.match(text, /WEIGHTGATE_DB_RETRY_SECONDS/);
  const bad = await runCli(['serve', '--db-retry', 'forever']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--db-retry must be a number of seconds/);
});

test('serve --db-retry gives up on an unreachable database after that many seconds', async () => {
  const started = Date.now();
  const result = await runCli(['serve', '--port', '0', '--db-retry', '0'], {
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    WEIGHTGATE_DB_RETRY_SECONDS: '60',
  });
  assert.is(result.status, 1, result.stderr);
  assert.match(result.stderr, /DATABASE_UNAVAILABLE/);
  assert.ok(Date.now() - started < 30_000, 'did not wait the 60 s of the environment');
});

test.run();

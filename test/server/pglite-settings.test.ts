// The embedded database (PGlite) starts with our settings on top of
// PGlite's own (server/db/connect.ts), in memory and in a data directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../../server/db/connect.ts';

async function setting(database: Database, name: string): Promise<string> {
  const result = (await database.db.execute(sql.raw(`show ${name}`))) as unknown as { rows: Array<Record<string, string>> };
  return result.rows[0]![name]!;
}

test('a 16 MB buffer cache, and PGlite’s own settings kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wg-pglite-settings-'));
  try {
    for (const dataDir of [undefined, join(dir, 'db')]) {
      const database = await openDatabase({ dataDir });
      try {
        assert.is(database.driver, 'pglite');
        assert.is(await setting(database, 'shared_buffers'), '16MB');
        assert.is(await setting(database, 'max_worker_processes'), '0', 'PGlite’s defaults stay');
      } finally {
        await database.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

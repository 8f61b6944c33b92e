// A throwaway PostgreSQL database on the server a URL points at: created with
// a random name, dropped by drop(). The demo, the server tests and the
// benches each run in one, so no run sees another's state and nothing of the
// user's is touched.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface ScratchDatabase {
  name: string;
  /** The URL of the scratch database itself. */
  url: string;
  drop(): Promise<void>;
}

export async function openScratchDatabase(baseUrl: string, prefix: string): Promise<ScratchDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`scratch database prefix "${prefix}" must be a lower-case SQL identifier`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdminConnection(baseUrl, (sql) => sql.unsafe(`create database ${name}`));
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => withAdminConnection(baseUrl, (sql) => sql.unsafe(`drop database if exists ${name} with (force)`)),
  };
}

async function withAdminConnection(baseUrl: string, run: (sql: postgres.Sql) => Promise<unknown>): Promise<void> {
  const sql = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await run(sql);
  } finally {
    await sql.end();
  }
}

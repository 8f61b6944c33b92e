// Opens the database with one of its two drivers and applies the migrations:
// embedded PGlite (data in a directory, or in memory) when no URL is given,
// PostgreSQL through postgres.js when one is. Both share one schema and one
// migrations folder, so everything above this file sees the same `Db`.
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  driver: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://... : use PostgreSQL. */
  databaseUrl?: string;
  /** PGlite data directory; omitted = in memory (tests). */
  dataDir?: string;
  /** postgres.js pool size. */
  maxConnections?: number;
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.maxConnections ?? 10);
  return openPglite(options.dataDir);
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const client = postgres(url, { max, onnotice: () => {} });
  const db = drizzle(client, { schema });
  try {
    await migrate(db, { migrationsFolder });
  } catch (error) {
    await client.end({ timeout: 1 });
    throw new DatabaseError(`cannot open PostgreSQL at ${redactUrl(url)}: ${rootCause(error)}; is the server running and DATABASE_URL right?`);
  }
  return {
    db: db as unknown as Db,
    driver: 'postgres',
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });
  return {
    db: db as unknown as Db,
    driver: 'pglite',
    close: () => client.close(),
  };
}

export class DatabaseError extends Error {
  readonly code = 'DATABASE_UNAVAILABLE';
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseError';
  }
}

/** Drizzle wraps driver errors ("Failed query: ..."); the innermost cause says what happened (ECONNREFUSED, auth, ...). */
function rootCause(error: unknown): string {
  let current = error as { message?: string; cause?: unknown; code?: unknown };
  for (let depth = 0; depth < 5 && current?.cause; depth++) current = current.cause as typeof current;
  const code = typeof current?.code === 'string' ? ` (${current.code})` : '';
  return `${current?.message ?? String(error)}${code}`;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/** The SQLSTATE of a database error (drizzle wraps the driver's), or undefined. */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** PostgreSQL's unique_violation, as both drivers report it. */
export function isUniqueViolation(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if ((current as { code?: unknown }).code === '23505') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

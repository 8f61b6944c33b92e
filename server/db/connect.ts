// Opens the database with one of its two drivers and applies the migrations:
// embedded PGlite (data in a directory, or in memory) when no URL is given,
// PostgreSQL through postgres.js when one is. Both share one schema and one
// migrations folder, so everything above this file sees the same `Db`.
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.ts';
import { HttpError } from '../http-error.ts';
import { installPostgresGuard } from './postgres-guard.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  driver: 'pglite' | 'postgres';
  /** PostgreSQL's NOTIFY on `channel` (PGlite: within this process). */
  notify(channel: string, payload: string): Promise<void>;
  /**
   * LISTEN on `channel`; resolves once listening, to a function that stops
   * it. `onListen` runs each time the LISTEN is (re-)established: after a
   * dropped connection, notices sent meanwhile were lost.
   */
  listen(channel: string, onPayload: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://... : use PostgreSQL. */
  databaseUrl?: string;
  /** PGlite data directory; omitted = in memory (tests). */
  dataDir?: string;
  /** postgres.js pool size. */
  maxConnections?: number;
  /**
   * Keep trying to reach PostgreSQL this long (ms) when it refuses or does
   * not answer, with backoff (0.25 s doubling to 5 s); default 0: one try.
   */
  retryForMs?: number;
  /** A line per failed try (default: none). */
  log?: (line: string) => void;
}

/** How long a new PostgreSQL connection may take (TCP + startup + auth) before it counts as down. */
export const CONNECT_TIMEOUT_SECONDS = 2;

const migrationsFolder = fileURLToPath(new URL('./gen/migrations', import.meta.url));

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (!options.databaseUrl) return openPglite(options.dataDir);
  const url = options.databaseUrl;
  const deadline = Date.now() + (options.retryForMs ?? 0);
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await openPostgres(url, options.maxConnections ?? 10);
    } catch (error) {
      const left = deadline - Date.now();
      // Trying again may succeed only when the database is down or unreachable, not when it refuses us.
      if (!(error instanceof HttpError) || !isConnectionError(error.cause) || left <= 0) throw error;
      const wait = Math.min(delay, left);
      options.log?.(
        `weightgate server: database at ${redactUrl(url)} unreachable (try ${attempt}: ${rootCause(error.cause)}); retrying in ${(wait / 1000).toFixed(1)} s, giving up in ${Math.ceil(left / 1000)} s`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  installPostgresGuard();
  const client = postgres(url, { max, onnotice: () => {}, connect_timeout: CONNECT_TIMEOUT_SECONDS });
  const db = drizzle(client, { schema });
  try {
    await migrate(db, { migrationsFolder });
  } catch (error) {
    await client.end({ timeout: 1 });
    const unavailable = new HttpError(
      503,
      'DATABASE_UNAVAILABLE',
      `cannot open PostgreSQL at ${redactUrl(url)}: ${rootCause(error)}; is the server running and DATABASE_URL right?`,
    );
    unavailable.cause = error; // the driver's error, for the retry decision and its log line
    throw unavailable;
  }
  return {
    db: db as unknown as Db,
    driver: 'postgres',
    notify: async (channel, payload) => {
      await client.notify(channel, payload);
    },
    listen: async (channel, onPayload, onListen) => {
      const { unlisten } = await client.listen(channel, onPayload, onListen);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const fresh = !dataDir || !existsSync(join(dataDir, 'PG_VERSION'));
  const template = fresh ? await pgliteTemplate() : undefined;
  const client = await PGlite.create({
    dataDir,
    ...(await pgliteArtifacts()),
    ...(template ? { loadDataDir: template } : {}),
    startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
  });
  const db = drizzle(client, { schema });
  // From a template this finds every migration applied and does nothing.
  await migrate(db, { migrationsFolder });
  return {
    db: db as unknown as Db,
    driver: 'pglite',
    notify: async (channel, payload) => {
      await client.query('select pg_notify($1, $2)', [channel, payload]);
    },
    listen: async (channel, onPayload, onListen) => {
      const unlisten = await client.listen(channel, onPayload);
      onListen?.();
      return unlisten;
    },
    close: () => client.close(),
  };
}

/**
 * PostgreSQL settings of the embedded database, beside PGlite's own. A
 * buffer cache of 16 MB (PostgreSQL's default is 128 MB): a weightgate
 * database holds megabytes, PGlite's files sit in the operating system's
 * cache anyway, and setting up the larger cache cost each start a third of
 * its CPU time (0.6 -> 0.4 CPU-s, measured on a 2-core machine).
 */
const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB'];

let artifacts: Promise<{ pgliteWasmModule: WebAssembly.Module; fsBundle: Blob }> | undefined;

/**
 * PGlite's WebAssembly (9 MB), compiled once per process, and its file
 * system bundle (6 MB), read once: left to itself, PGlite reads and compiles
 * both for every database it opens, and V8 optimises the same hot functions
 * again in each copy. A process that opens many databases (the tests, one
 * per test; a server opens one) pays that once. A failed load is not kept.
 */
function pgliteArtifacts() {
  artifacts ??= (async () => {
    const dist = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
    const [wasm, data] = await Promise.all([readFile(join(dist, 'pglite.wasm')), readFile(join(dist, 'pglite.data'))]);
    return { pgliteWasmModule: await WebAssembly.compile(wasm), fsBundle: new Blob([data]) };
  })();
  artifacts.catch(() => {
    artifacts = undefined;
  });
  return artifacts;
}

let template: Promise<Blob | undefined> | undefined;

/**
 * With `WG_PGLITE_TEMPLATE_DIR` set (the test runner sets it), a new PGlite
 * database starts from a copy of a migrated empty one kept in that directory,
 * instead of running initdb and every migration: initdb is most of PGlite's
 * start-up (about 3 CPU-seconds, against under 1 to load the copy), and the
 * suite opens dozens. The copy's name is a hash of the PGlite version and the
 * migrations, so a new migration or PGlite makes a new one. Unset: undefined,
 * and PGlite starts as it always does.
 */
function pgliteTemplate(): Promise<Blob | undefined> {
  // Once per process: a test file opens several databases, and the copy is 40 MB.
  template ??= loadOrMakeTemplate().catch((error) => {
    template = undefined;
    throw error;
  });
  return template;
}

async function loadOrMakeTemplate(): Promise<Blob | undefined> {
  const dir = process.env.WG_PGLITE_TEMPLATE_DIR;
  if (!dir) return undefined;
  const file = join(dir, `pglite-${templateKey()}.tar`);
  if (existsSync(file)) return new Blob([readFileSync(file)]);
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const client = new PGlite();
  await migrate(drizzle(client, { schema }), { migrationsFolder });
  const template = await client.dumpDataDir('none');
  await client.close();
  // Written whole under a temporary name, then renamed: concurrent processes may race, never read half a file.
  mkdirSync(dir, { recursive: true });
  const temp = `${file}.${process.pid}`;
  writeFileSync(temp, new Uint8Array(await template.arrayBuffer()));
  renameSync(temp, file);
  return template;
}

function templateKey(): string {
  const hash = createHash('sha256');
  const pglitePackage = join(dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))), '..', 'package.json');
  hash.update(JSON.parse(readFileSync(pglitePackage, 'utf8')).version);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      hash.update(`\0${path.slice(migrationsFolder.length)}\0`);
      if (entry.isDirectory()) walk(path);
      else hash.update(readFileSync(path));
    }
  };
  walk(migrationsFolder);
  return hash.digest('hex').slice(0, 16);
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  // postgres.js
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/**
 * Whether an error means the database cannot be reached right now (as
 * opposed to a query it refused): a socket error, a connection timeout,
 * SQLSTATE class 08 (connection exception) or 57P01-57P03 (shutting down,
 * starting up), or a closed PGlite.
 */
export function isConnectionError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code))) return true;
    if (typeof message === 'string' && /PGlite is closed/i.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
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

// The server tests' shared harness: every database test runs once per driver
// (PGlite in memory; PostgreSQL in a fresh database when DATABASE_URL is set,
// reported as skipped when it is not), like Hono's common.case.test.ts runs
// one suite against every router.
import { suite, type Test } from 'uvu';
import { openScratchDatabase } from '../../server/db/scratch-database.ts';
import { openDatabase, type Database } from '../../server/db/connect.ts';
import { buildApp, type AppDeps } from '../../server/app.ts';
import type { ServerContext } from '../../server/context.ts';
import { ensureAdminToken } from '../../server/auth.ts';
import { unpack } from '../../server/negotiate.ts';
import { POSTGRES, requiring } from '../requirements.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface Driver {
  name: 'pglite' | 'postgres';
  /** Opens a fresh, migrated, empty database. */
  open(): Promise<Database>;
}

/** A throwaway PostgreSQL database, dropped when `close()` runs. */
async function openPostgresScratch(baseUrl: string): Promise<Database> {
  const scratch = await openScratchDatabase(baseUrl, 'wg_test');
  const database = await openDatabase({ databaseUrl: scratch.url, maxConnections: 20 });
  return {
    ...database,
    async close() {
      await database.close();
      await scratch.drop();
    },
  };
}

/** Every driver; PostgreSQL's open() needs DATABASE_URL (driverSuites skips it without). */
export function drivers(): Driver[] {
  return [
    { name: 'pglite', open: () => openDatabase({}) },
    { name: 'postgres', open: () => openPostgresScratch(process.env.DATABASE_URL as string) },
  ];
}

export interface Call {
  token?: string | null;
  json?: unknown;
  bytes?: Uint8Array;
  headers?: Record<string, string>;
}

export interface Harness {
  driver: Driver['name'];
  database: Database;
  app: ReturnType<typeof buildApp>['app'];
  /** The server's context: its caches and work counters. */
  ctx: ServerContext;
  /** In-process request; the admin token unless `token` says otherwise (null = none). */
  call(method: string, path: string, options?: Call): Promise<Response>;
  /** call() then parse the body (JSON or MessagePack). */
  json<T = any>(method: string, path: string, options?: Call): Promise<{ status: number; body: T; headers: Headers }>;
}

export async function createHarness(driver: Driver, deps: Partial<AppDeps> = {}): Promise<Harness> {
  const database = await driver.open();
  await ensureAdminToken(database.db, ADMIN_TOKEN);
  const { app, ctx } = buildApp({ db: database.db, onInternalError: (e) => console.error('internal error in test:', e), ...deps });
  const call: Harness['call'] = (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.bytes !== undefined) {
      body = options.bytes as Uint8Array<ArrayBuffer>;
      headers['content-type'] ??= 'application/octet-stream';
    }
    return Promise.resolve(app.request(path, { method, headers, body }));
  };
  return {
    driver: driver.name,
    database,
    app,
    ctx,
    call,
    async json(method, path, options) {
      const response = await call(method, path, options);
      const raw = new Uint8Array(await response.arrayBuffer());
      const type = response.headers.get('content-type') ?? '';
      const body = type.includes('msgpack') ? unpack(raw) : raw.byteLength ? JSON.parse(new TextDecoder().decode(raw)) : null;
      return { status: response.status, body: body as any, headers: response.headers };
    },
  };
}

/** One uvu suite per driver, with a fresh harness in its context; the PostgreSQL one skips without DATABASE_URL. */
export function driverSuites(title: string, deps: Partial<AppDeps> = {}): Array<Test<{ h: Harness }> & { driver: Driver }> {
  return drivers().map((driver) => {
    const named = suite<{ h: Harness }>(`${title} [${driver.name}]`, {} as { h: Harness });
    const s = driver.name === 'postgres' ? requiring(named, POSTGRES) : named;
    s.before(async (context) => {
      context.h = await createHarness(driver, deps);
    });
    s.after(async (context) => {
      await context.h?.database.close();
    });
    return Object.assign(s, { driver });
  });
}

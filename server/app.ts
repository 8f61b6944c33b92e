// The Hono application: routes mounted over one ServerContext, and one
// onError that turns every failure into `{ code, message }` JSON (or
// MessagePack) with its status, so the server keeps serving after any error.
import { Hono } from 'hono';
import type { Context } from 'hono';
import { sql } from 'drizzle-orm';
import { FormatError } from '../formats/index.ts';
import { sqlState, type Db } from './db/connect.ts';
import { createContext, type ServerContext, type ServerSettings } from './context.ts';
import type { AuthEnv } from './auth.ts';
import { HttpError } from './http-error.ts';
import { encodeBody, wantsMsgpack } from './negotiate.ts';
import { buildOpenApi, renderReference } from './openapi.ts';
import { versionRoutes } from './routes/versions.ts';
import { licenseRoutes } from './routes/licenses.ts';
import { accessRoutes } from './routes/access.ts';
import { deviceRoutes } from './routes/device.ts';
import { contentRoutes } from './routes/content.ts';

export interface AppDeps extends Partial<ServerSettings> {
  db: Db;
  /** Called with errors that are not the client's fault (500s). */
  onInternalError?: (error: unknown) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export function createApp(deps: AppDeps): Hono<AuthEnv> {
  return buildApp(deps).app;
}

/** The app and the context it runs on (start.ts gives the context to the fast download path too). */
export function buildApp(deps: AppDeps): { app: Hono<AuthEnv>; ctx: ServerContext } {
  const ctx: ServerContext = createContext(deps.db, {
    allowUnsigned: deps.allowUnsigned ?? false,
    maxBodyBytes: deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    authCacheMs: deps.authCacheMs ?? 2000,
    contentCacheBytes: deps.contentCacheBytes ?? 256 * 1024 * 1024,
  });
  const app = new Hono<AuthEnv>();
  const openApi = buildOpenApi();
  const reference = renderReference(openApi);

  app.get('/healthz', async function healthz(c) {
    await ctx.db.execute(sql`select 1`);
    return c.json({ ok: true });
  });
  app.get('/openapi.json', (c) => c.json(openApi));
  app.get('/docs', (c) => c.html(reference));

  app.route('/', versionRoutes(ctx));
  app.route('/', licenseRoutes(ctx));
  app.route('/', accessRoutes(ctx));
  app.route('/', deviceRoutes(ctx));
  app.route('/', contentRoutes(ctx));

  app.notFound((c) => errorResponse(c, new HttpError(404, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}; see /openapi.json`)));
  app.onError(function handleError(error, c) {
    if (error instanceof HttpError) return errorResponse(c, error);
    if (error instanceof FormatError) return errorResponse(c, new HttpError(400, error.code, error.message));
    deps.onInternalError?.(error);
    // Backstop for a value validation missed (class 22: data exception, e.g.
    // out of range, bad encoding): the input's fault, answered without the
    // database's words. It is still logged above: validation should catch it.
    if (sqlState(error)?.startsWith('22')) {
      return errorResponse(c, new HttpError(400, 'INVALID_INPUT', 'a value in the request cannot be stored (out of range or invalid characters); check it against /openapi.json'));
    }
    return errorResponse(c, new HttpError(500, 'INTERNAL', 'the server failed on this request; it logged the cause and keeps serving'));
  });
  return { app, ctx };
}

function errorResponse(c: Context, error: HttpError): Response {
  const { body, type } = encodeBody({ code: error.code, message: error.message }, wantsMsgpack(c));
  return new Response(body, { status: error.status, headers: { 'Content-Type': type } });
}

// The Hono application: routes mounted over one ServerContext, and one
// onError that turns every failure into `{ code, message }` JSON (or
// MessagePack) with its status, so the server keeps serving after any error.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { recordAudit } from './store/audit.ts';
import type { Context } from 'hono';
import { sql } from 'drizzle-orm';
import { FormatError } from '../formats/index.ts';
import { isConnectionError, sqlState, type Db } from './db/connect.ts';
import { createContext, type InvalidationScope, type ServerContext, type ServerSettings } from './context.ts';
import type { AuthEnv } from './auth.ts';
import type { ChangeEvent } from './push/notices.ts';
import { databaseUnavailable, HttpError } from './http-error.ts';
import { declaredLength, encodeBody, NEGOTIATED_HEADERS, wantsMsgpack } from './negotiate.ts';
import { allowedMethods, buildOpenApi, renderReference } from './openapi.ts';
import { versionRoutes } from './routes/versions.ts';
import { licenseRoutes } from './routes/licenses.ts';
import { accessRoutes } from './routes/access.ts';
import { deviceRoutes } from './routes/device.ts';
import { contentRoutes } from './routes/content.ts';
import { graphqlRoutes } from './graphql/index.ts';
import { consoleRoutes } from './console/routes.ts';

export interface AppDeps extends Partial<ServerSettings> {
  db: Db;
  /** Called with errors that are not the client's fault (500s). */
  onInternalError?: (error: unknown) => void;
  /** A request still waiting after this long (ms) gets 503 DATABASE_UNAVAILABLE; uploads excepted. */
  requestTimeoutMs?: number;
  /** Largest JSON/MessagePack request body (uploads have maxBodyBytes). */
  maxJsonBodyBytes?: number;
  /** Called after a write invalidated this server's caches: tell the other instances (start.ts: NOTIFY). */
  onInvalidate?: (scope: InvalidationScope) => void;
  /** Called after a change devices should hear of (start.ts: push notices). */
  onChange?: (event: ChangeEvent) => void;
}

export const DEFAULT_MAX_JSON_BODY_BYTES = 64 * 1024;

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export function createApp(deps: AppDeps): Hono<AuthEnv> {
  return buildApp(deps).app;
}

/** The app and the context it runs on (start.ts gives the context to the fast download path too). */
export function buildApp(deps: AppDeps): { app: Hono<AuthEnv>; ctx: ServerContext } {
  const ctx: ServerContext = createContext(
    deps.db,
    {
      allowUnsigned: deps.allowUnsigned ?? false,
      maxBodyBytes: deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      authCacheMs: deps.authCacheMs ?? 2000,
      contentCacheBytes: deps.contentCacheBytes ?? 256 * 1024 * 1024,
    },
    deps.onInvalidate,
    deps.onChange,
  );
  const app = new Hono<AuthEnv>();
  const openApi = buildOpenApi();

  // A request that waits on an unreachable database gets 503 after
  // requestTimeoutMs instead of hanging (a silent network never errors by
  // itself). Uploads are exempt: reading a large body may take longer.
  const timeoutMs = deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  app.use('*', async function deadline(c, next) {
    if (c.req.method === 'POST' && c.req.path === '/v1/versions') return next();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(databaseUnavailable()), timeoutMs);
    });
    const work = next();
    work.catch(() => {}); // after a timeout its outcome is no one's
    try {
      await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  });
  const reference = renderReference(openApi);

  // Request bodies other than uploads (JSON or MessagePack) are small.
  const maxJsonBytes = deps.maxJsonBodyBytes ?? DEFAULT_MAX_JSON_BODY_BYTES;
  const tooLarge = (): never => {
    throw new HttpError(413, 'BODY_TOO_LARGE', `the body exceeds this server's limit of ${maxJsonBytes} bytes for API calls`);
  };
  const jsonLimit = bodyLimit({ maxSize: maxJsonBytes, onError: tooLarge });
  app.use('*', async function limitBody(c, next) {
    // GET and HEAD bodies are never read; asking the request for its body
    // would build a whole web Request per call (a fifth of a poll's CPU).
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    if (c.req.method === 'POST' && c.req.path === '/v1/versions') return next();
    // A declared length is checked from the header alone, and readBody then
    // reads at most that many bytes (from Node's request when there is one);
    // a chunked body is counted as it streams in.
    const declared = declaredLength(c);
    if (declared !== null) return declared > maxJsonBytes ? tooLarge() : next();
    return jsonLimit(c, next);
  });

  // A refused attempt to change something (403 or 409 to an authenticated
  // admin or publisher) leaves an audit row: who tried what, and why not.
  app.use('*', async function auditRefusals(c, next) {
    await next();
    if (c.req.method !== 'POST' || (c.res.status !== 403 && c.res.status !== 409)) return;
    const principal = c.get('principal');
    if (!principal || principal.role === 'device') return;
    const code = c.error instanceof HttpError ? c.error.code : String(c.res.status);
    try {
      await recordAudit(ctx.db, {
        actorTokenId: principal.tokenId,
        action: 'request.refused',
        entity: 'request',
        entityId: `${c.req.method} ${c.req.path}`.slice(0, 300),
        detail: { status: c.res.status, code },
      });
    } catch (error) {
      deps.onInternalError?.(error);
    }
  });

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
  graphqlRoutes(app, ctx, deps.onInternalError);
  app.route('/', consoleRoutes());

  app.notFound((c) => {
    const allow = allowedMethods(c.req.path);
    if (allow.length > 0) {
      return errorResponse(
        c,
        new HttpError(405, 'METHOD_NOT_ALLOWED', `${c.req.path} answers ${allow.join(', ')}, not ${c.req.method}; see /openapi.json`, {
          Allow: allow.join(', '),
        }),
      );
    }
    return errorResponse(c, new HttpError(404, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}; see /openapi.json`));
  });
  app.onError(function handleError(error, c) {
    if (error instanceof HttpError) return errorResponse(c, error);
    if (error instanceof FormatError) return errorResponse(c, new HttpError(400, error.code, error.message));
    if (isConnectionError(error)) return errorResponse(c, databaseUnavailable());
    deps.onInternalError?.(error);
    // Backstop for a value validation missed (class 22: data exception, e.g.
    // out of range, bad encoding): the input's fault, answered without the
    // database's words. It is still logged above: validation should catch it.
    if (sqlState(error)?.startsWith('22')) {
      return errorResponse(
        c,
        new HttpError(400, 'INVALID_INPUT', 'a value in the request cannot be stored (out of range or invalid characters); check it against /openapi.json'),
      );
    }
    return errorResponse(c, new HttpError(500, 'INTERNAL', 'the server failed on this request; it logged the cause and keeps serving'));
  });
  return { app, ctx };
}

function errorResponse(c: Context, error: HttpError): Response {
  const { body, type } = encodeBody({ code: error.code, message: error.message }, wantsMsgpack(c));
  return new Response(body, { status: error.status, headers: { ...NEGOTIATED_HEADERS, ...error.headers, 'Content-Type': type } });
}

// Starts the server: open the database (PGlite in dataDir, or PostgreSQL at
// databaseUrl), apply migrations, store the admin token, listen. `close()`
// stops accepting, finishes in-flight requests, then closes the database.
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { openDatabase } from './db/connect.ts';
import { buildApp } from './app.ts';
import { createFastContentHandler } from './fast-content.ts';
import { ensureAdminToken } from './auth.ts';
import { DEFAULT_AUTH_CACHE_MS, linkInstances, type InstanceLink } from './instance-link.ts';
import { DEFAULT_TOPIC_PREFIX } from '../api/push-notice.ts';
import { createPusher, type NoticeSink, type Pusher } from './push/notices.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './push/broker.ts';
import { connectBroker } from './push/mqtt-link.ts';

export interface StartOptions {
  /** 0 = ephemeral (tests). Default 8080. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** PGlite data directory when no databaseUrl; default ./.weightgate. */
  dataDir?: string;
  /** postgres://... : use PostgreSQL instead of PGlite. */
  databaseUrl?: string;
  /** The first admin token (>= 16 characters), stored hashed. */
  adminToken?: string;
  allowUnsigned?: boolean;
  maxBodyBytes?: number;
  /** How long token and license lookups are reused on the device path (ms, default DEFAULT_AUTH_CACHE_MS). */
  authCacheMs?: number;
  /**
   * How long to keep trying to reach PostgreSQL at start (ms), with backoff and
   * a log line per try; default $WEIGHTGATE_DB_RETRY_SECONDS or 30 s.
   */
  databaseRetryMs?: number;
  /** A request still waiting on the database after this long gets 503 (ms, default 5000). */
  requestTimeoutMs?: number;
  /** Log of internal (500) errors; default stderr. */
  log?: (line: string) => void;
  /**
   * Push notices over MQTT: an embedded broker on `port` (0 = any free port;
   * host defaults to the server's), or an existing broker at `url`; off
   * when absent (devices then only poll).
   */
  push?: { port: number; host?: string } | { url: string };
  /** Topics are `<prefix>/devices/<device id>`; default "weightgate". */
  topicPrefix?: string;
}

export interface RunningServer {
  url: string;
  /** The MQTT broker devices are told to subscribe to, or null without push. */
  pushUrl: string | null;
  /** Push notices handed to the broker since start. */
  noticesSent(): number;
  /** Devices connected to the embedded broker now (0 without one). */
  pushConnections(): number;
  close(): Promise<void>;
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const database = await openDatabase({
    databaseUrl: options.databaseUrl,
    dataDir: options.databaseUrl ? undefined : (options.dataDir ?? './.weightgate'),
    retryForMs: options.databaseRetryMs ?? defaultRetryMs(),
    log,
  });
  try {
    if (options.adminToken !== undefined) await ensureAdminToken(database.db, options.adminToken);
  } catch (error) {
    await database.close();
    throw error;
  }
  // Several instances on one database: a write on one clears the caches of
  // all (tokens, licenses, versions, access decisions) through LISTEN/NOTIFY
  // (instance-link.ts), so lookups may be cached long.
  let link: InstanceLink | undefined;
  let pusher: Pusher | undefined;
  const { app, ctx } = buildApp({
    // The notice first (the device then checks and learns why), then a
    // revoked device's connections to the embedded broker are closed.
    onChange: (event) =>
      void pusher?.changed(event).then(() => {
        if (event.kind === 'device') embedded?.drop(event.deviceId);
      }),
    db: database.db,
    onInvalidate: (scope) => link?.notifyOthers(scope),
    allowUnsigned: options.allowUnsigned,
    maxBodyBytes: options.maxBodyBytes,
    authCacheMs: options.authCacheMs ?? DEFAULT_AUTH_CACHE_MS,
    requestTimeoutMs: options.requestTimeoutMs,
    onInternalError: (error) => log(`weightgate server: internal error: ${(error as Error)?.stack ?? String(error)}`),
  });
  try {
    link = await linkInstances(database, ctx.forget, log);
    // The start may have rotated the bootstrap admin token (ensureAdminToken): the other instances forget the old one.
    if (options.adminToken !== undefined) link.notifyOthers('all');
  } catch (error) {
    await database.close();
    throw error;
  }
  const stopLink = link.stop;
  const host = options.host ?? '127.0.0.1';
  let push: { url: string; sink: NoticeSink; close(): Promise<void> } | undefined;
  let embedded: EmbeddedBroker | undefined;
  try {
    const prefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    if (options.push && 'url' in options.push) push = connectBroker(options.push.url, log);
    else if (options.push) push = embedded = await startEmbeddedBroker({ ctx, port: options.push.port, host: options.push.host ?? host, prefix, log });
    if (push) {
      pusher = createPusher(ctx, push.sink, prefix, log);
      ctx.settings.push = { url: push.url, prefix };
    }
  } catch (error) {
    await stopLink().catch(() => undefined);
    await database.close();
    const port = options.push && 'port' in options.push ? options.push.port : undefined;
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      throw new Error(`the MQTT port ${port} is in use (another broker?); give another port, or MQTT_URL=mqtt://HOST:PORT to push through that broker`);
    }
    throw error;
  }
  const honoListener = getRequestListener(app.fetch);
  const fastContent = createFastContentHandler(ctx);
  const server: Server = createServer((req, res) => {
    if (!fastContent(req, res)) void honoListener(req, res);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await push?.close().catch(() => undefined);
    await stopLink().catch(() => undefined);
    await database.close();
    throw error;
  }
  // Keep idle connections longer than clients do (undici drops its own after
  // 4 s): when the server's timer fires first, a client that just picked the
  // socket for a new request gets "other side closed". In one process (demo,
  // tests) a busy event loop makes that race certain, not rare.
  (server as import('node:http').Server).keepAliveTimeout = 65_000;
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    pushUrl: push?.url ?? null,
    noticesSent: () => pusher?.sent ?? 0,
    pushConnections: () => embedded?.connected() ?? 0,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
          (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        });
        await push?.close().catch(() => undefined);
        await stopLink().catch(() => undefined);
        await database.close();
      })();
      return closing;
    },
  };
}

function defaultRetryMs(): number {
  const seconds = Number(process.env.WEIGHTGATE_DB_RETRY_SECONDS);
  return Number.isFinite(seconds) && seconds >= 0 && process.env.WEIGHTGATE_DB_RETRY_SECONDS !== '' ? seconds * 1000 : 30_000;
}

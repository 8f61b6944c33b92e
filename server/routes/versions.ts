// Publisher calls: publish a .wgm (or stage it as a draft), list versions,
// release a draft, withdraw a version.
import { Hono } from 'hono';
import { and, asc, eq, gt, ne } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import { bodyLimit } from 'hono/body-limit';
import type { ServerContext } from '../context.ts';
import { requireToken, type AuthEnv, type Principal } from '../auth.ts';
import { models, versions, type VersionState } from '../db/schema.ts';
import { ModelParam, PublishQuery, VersionParam } from '../api-schemas.ts';
import { parseInput } from '../validate.ts';
import { reply } from '../negotiate.ts';
import { badRequest, conflict, HttpError, notFound } from '../http-error.ts';
import { assertMayChangeModel, publishVersion } from '../store/publish.ts';
import { recordAudit } from '../store/audit.ts';

export function versionRoutes(ctx: ServerContext): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const publisher = requireToken(ctx, 'admin', 'publisher');
  const limit = bodyLimit({
    maxSize: ctx.settings.maxBodyBytes,
    onError: () => {
      throw new HttpError(413, 'BODY_TOO_LARGE', `the body exceeds this server's limit of ${ctx.settings.maxBodyBytes} bytes`);
    },
  });

  app.post('/v1/versions', publisher, limit, async function publish(c) {
    const type = c.req.header('content-type') ?? '';
    if (!type.startsWith('application/octet-stream')) {
      throw badRequest('BAD_CONTENT_TYPE', `send the .wgm file as Content-Type: application/octet-stream (got "${type || 'none'}")`);
    }
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength === 0) throw badRequest('EMPTY_BODY', 'the request body is empty; send the .wgm file');
    const { draft } = parseInput(PublishQuery, c.req.query(), 'query');
    const result = await publishVersion(ctx, bytes, c.get('principal'), { draft: draft === 'true' });
    ctx.invalidate();
    return reply(c, result, 201);
  });

  app.get('/v1/models/:model/versions', publisher, async function listVersions(c) {
    const { model } = parseInput(ModelParam, c.req.param(), 'path');
    const rows = await ctx.db
      .select({
        version: versions.number,
        state: versions.state,
        contentSha256: versions.contentSha256,
        keyId: versions.keyId,
        intervals: versions.intervals,
        createdAt: versions.createdAt,
      })
      .from(versions)
      .innerJoin(models, eq(models.id, versions.modelId))
      .where(eq(models.name, model))
      .orderBy(asc(versions.number));
    return reply(c, { model, versions: rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })) });
  });

  // Release and withdraw run in one transaction that first locks the model
  // row (as publish does): changes to one model's versions happen one after
  // another, each with its audit row, in an order a serial history explains.

  // A staged version goes live: devices are offered it from their next check.
  // Only a draft newer than every published version can be released (a
  // device never moves back).
  app.post('/v1/models/:model/versions/:version/release', publisher, async function releaseVersion(c) {
    const { model, version } = parseInput(VersionParam, c.req.param(), 'path');
    await ctx.db.transaction(async (tx) => {
      const row = await lockVersion(tx, model, version, c.get('principal'));
      if (row.state !== 'draft') throw conflict('NOT_A_DRAFT', `model "${model}" version ${version} is ${row.state}, not a draft`);
      const [newer] = await tx
        .select({ number: versions.number })
        .from(versions)
        .where(and(eq(versions.modelId, row.modelId), eq(versions.state, 'published'), gt(versions.number, version)))
        .limit(1);
      if (newer) throw conflict('NEWER_PUBLISHED', `model "${model}" already has version ${newer.number} published; a draft older than it cannot be released`);
      const [updated] = await tx
        .update(versions)
        .set({ state: 'published' })
        .where(and(eq(versions.id, row.id), eq(versions.state, 'draft')))
        .returning({ id: versions.id });
      if (!updated) throw conflict('NOT_A_DRAFT', `model "${model}" version ${version} changed state meanwhile`);
      await recordAudit(tx, { actorTokenId: c.get('principal').tokenId, action: 'version.release', entity: 'version', entityId: `${model}@${version}` });
    });
    ctx.invalidate();
    return reply(c, { model, version, state: 'published' });
  });

  app.post('/v1/models/:model/versions/:version/withdraw', publisher, async function withdrawVersion(c) {
    const { model, version } = parseInput(VersionParam, c.req.param(), 'path');
    await ctx.db.transaction(async (tx) => {
      const row = await lockVersion(tx, model, version, c.get('principal'));
      if (row.state === 'withdrawn') throw conflict('ALREADY_WITHDRAWN', `model "${model}" version ${version} is already withdrawn`);
      const [updated] = await tx
        .update(versions)
        .set({ state: 'withdrawn' })
        .where(and(eq(versions.id, row.id), ne(versions.state, 'withdrawn')))
        .returning({ id: versions.id });
      if (!updated) throw conflict('ALREADY_WITHDRAWN', `model "${model}" version ${version} is already withdrawn`);
      await recordAudit(tx, { actorTokenId: c.get('principal').tokenId, action: 'version.withdraw', entity: 'version', entityId: `${model}@${version}` });
    });
    ctx.invalidate();
    return reply(c, { model, version, state: 'withdrawn' });
  });
  return app;
}

/** Locks the model row (FOR UPDATE) for the caller's transaction, then reads the version. */
async function lockVersion(tx: Db, model: string, version: number, actor: Principal): Promise<{ id: number; state: VersionState; modelId: number }> {
  const [locked] = await tx.select({ id: models.id, ownerTokenId: models.ownerTokenId }).from(models).where(eq(models.name, model)).for('update');
  if (locked) assertMayChangeModel(actor, locked.ownerTokenId, model);
  const [row] = locked
    ? await tx
        .select({ id: versions.id, state: versions.state, modelId: versions.modelId })
        .from(versions)
        .where(and(eq(versions.modelId, locked.id), eq(versions.number, version)))
        .limit(1)
    : [];
  if (!row) throw notFound('VERSION_UNKNOWN', `model "${model}" has no version ${version}`);
  return row;
}

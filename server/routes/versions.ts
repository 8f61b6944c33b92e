// Publisher calls: publish a .wgm (or stage it as a draft), list versions,
// release a draft, withdraw a version.
import { Hono } from 'hono';
import { asc, eq } from 'drizzle-orm';
import { bodyLimit } from 'hono/body-limit';
import type { ServerContext } from '../context.ts';
import { requireToken, type AuthEnv } from '../auth.ts';
import { models, versions } from '../db/schema.ts';
import { ModelParam, PauseBody, PublishQuery, ReleaseBody, VersionParam, WidenBody } from '../api-schemas.ts';
import { parseInput } from '../validate.ts';
import { readBody, reply } from '../negotiate.ts';
import { badRequest, HttpError } from '../http-error.ts';
import { publishVersion } from '../store/publish.ts';
import { releaseVersion, withdrawVersion } from '../store/version-states.ts';
import { pauseRollout, resumeRollout, rolloutStatus, widenRollout } from '../store/rollouts.ts';

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
    ctx.invalidate('lookups');
    if (result.state === 'published') ctx.changed({ kind: 'version', model: result.model });
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

  app.post('/v1/models/:model/versions/:version/release', publisher, async function release(c) {
    const { model, version } = parseInput(VersionParam, c.req.param(), 'path');
    const body = parseInput(ReleaseBody, await readBody(c), 'body');
    const wholeFleet = body.percent === 100 || (body.percent === undefined && body.group === undefined);
    const staged = wholeFleet
      ? undefined
      : {
          stage: { percent: body.percent, group: body.group },
          policy: { maxFailureShare: body.maxFailurePercent / 100, minReports: body.minReports },
        };
    return reply(c, await releaseVersion(ctx, c.get('principal'), model, version, staged));
  });

  app.get('/v1/models/:model/versions/:version/rollout', publisher, async function rollout(c) {
    const { model, version } = parseInput(VersionParam, c.req.param(), 'path');
    return reply(c, await rolloutStatus(ctx, model, version));
  });

  app.post('/v1/models/:model/versions/:version/rollout/widen', publisher, async function widen(c) {
    const { model, version } = parseInput(VersionParam, c.req.param(), 'path');
    const body = parseInput(WidenBody, await readBody(c), 'body');
    return reply(c, await widenRollout(ctx, c.get('principal'), model, version, body));
  });

  app.post('/v1/models/:model/versions/:version/rollout/pause', publisher, async function pause(c) {
    const { model, version } = parseInput(VersionParam, c.req.param(), 'path');
    const { reason } = parseInput(PauseBody, await readBody(c), 'body');
    return reply(c, await pauseRollout(ctx, c.get('principal'), model, version, reason));
  });

  app.post('/v1/models/:model/versions/:version/rollout/resume', publisher, async function resume(c) {
    const { model, version } = parseInput(VersionParam, c.req.param(), 'path');
    return reply(c, await resumeRollout(ctx, c.get('principal'), model, version));
  });

  app.post('/v1/models/:model/versions/:version/withdraw', publisher, async function withdraw(c) {
    const { model, version } = parseInput(VersionParam, c.req.param(), 'path');
    return reply(c, await withdrawVersion(ctx, c.get('principal'), model, version));
  });
  return app;
}

// Admin calls on who may talk to the server: devices (and their tokens),
// publisher/admin tokens, publisher public keys, and the audit log.
import { Hono } from 'hono';
import { and, asc, desc, eq, isNull, lt } from 'drizzle-orm';
import type { ServerContext } from '../context.ts';
import { issueToken, requireToken, type AuthEnv } from '../auth.ts';
import { apiTokens, auditLog, devices, licenses, models, publisherKeys, versions } from '../db/schema.ts';
import { AuditQuery, CreateTokenBody, IdParam, KeyIdParam, ListDevicesQuery, RegisterDeviceBody, RegisterKeyBody, SetDeviceGroupBody } from '../api-schemas.ts';
import { parseInput } from '../validate.ts';
import { readBody, reply } from '../negotiate.ts';
import { conflict, notFound } from '../http-error.ts';
import { recordAudit } from '../store/audit.ts';
import { parsePublisherKey, spkiDer } from '../publisher-keys.ts';
import { keyIdOf } from '../../formats/index.ts';

export function accessRoutes(ctx: ServerContext): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const admin = requireToken(ctx, 'admin');

  app.post('/v1/devices', admin, async function registerDevice(c) {
    const body = parseInput(RegisterDeviceBody, await readBody(c), 'body');
    const { license, deviceId, token, tokenId } = await ctx.db.transaction(async (tx) => {
      // FOR SHARE: a concurrent revoke waits for this join, or this join sees the revoke.
      const [license] = await tx.select().from(licenses).where(eq(licenses.id, body.licenseId)).limit(1).for('share');
      if (!license) throw notFound('LICENSE_UNKNOWN', `body field "licenseId": no license ${body.licenseId}`);
      if (license.revokedAt) throw conflict('LICENSE_REVOKED', `license ${license.id} is revoked; devices cannot join it`);
      const [device] = await tx
        .insert(devices)
        .values({ licenseId: license.id, name: body.name, group: body.group ?? null })
        .returning({ id: devices.id });
      const issued = await issueToken(tx, 'device', `device ${device!.id} (${body.name})`, device!.id);
      await recordAudit(tx, {
        actorTokenId: c.get('principal').tokenId,
        action: 'device.register',
        entity: 'device',
        entityId: device!.id,
        detail: { licenseId: license.id, name: body.name, group: body.group ?? null },
      });
      return { license, deviceId: device!.id, token: issued.token, tokenId: issued.id };
    });
    return reply(c, { deviceId, licenseId: license.id, name: body.name, group: body.group ?? null, token, tokenId }, 201);
  });

  app.post('/v1/devices/:id/group', admin, async function setDeviceGroup(c) {
    const { id } = parseInput(IdParam, c.req.param(), 'path');
    const { group } = parseInput(SetDeviceGroupBody, await readBody(c), 'body');
    await ctx.db.transaction(async (tx) => {
      const [changed] = await tx.update(devices).set({ group }).where(eq(devices.id, id)).returning({ id: devices.id });
      if (!changed) throw notFound('DEVICE_UNKNOWN', `no device ${id}`);
      await recordAudit(tx, { actorTokenId: c.get('principal').tokenId, action: 'device.group', entity: 'device', entityId: id, detail: { group } });
    });
    return reply(c, { id, group });
  });

  app.get('/v1/devices', admin, async function listDevices(c) {
    const query = parseInput(ListDevicesQuery, c.req.query(), 'query');
    const conditions = [
      query.licenseId ? eq(devices.licenseId, query.licenseId) : undefined,
      query.state ? eq(devices.lastOutcome, query.state) : undefined,
      query.group ? eq(devices.group, query.group) : undefined,
    ];
    const rows = await ctx.db
      .select()
      .from(devices)
      .where(and(...conditions))
      .orderBy(asc(devices.id));
    return reply(c, {
      devices: rows.map((d) => ({
        id: d.id,
        licenseId: d.licenseId,
        name: d.name,
        group: d.group,
        version: d.reportedVersion,
        intervals: d.reportedHeldIntervals,
        sha256: d.reportedSha256,
        lastSeenAt: d.lastSeenAt?.toISOString() ?? null,
        slot: d.reportedSlot,
        state: d.lastOutcome,
        reason: d.lastOutcomeReason,
        downloadBytes: d.lastDownloadBytes,
        lastReportAt: d.lastReportAt?.toISOString() ?? null,
        createdAt: d.createdAt.toISOString(),
      })),
    });
  });

  app.post('/v1/tokens', admin, async function createToken(c) {
    const body = parseInput(CreateTokenBody, await readBody(c), 'body');
    const { id, token } = await ctx.db.transaction(async (tx) => {
      const issued = await issueToken(tx, body.role, body.label);
      await recordAudit(tx, {
        actorTokenId: c.get('principal').tokenId,
        action: 'token.create',
        entity: 'token',
        entityId: issued.id,
        detail: { role: body.role, label: body.label },
      });
      return issued;
    });
    return reply(c, { id, role: body.role, label: body.label, token }, 201);
  });

  app.post('/v1/tokens/:id/revoke', admin, async function revokeToken(c) {
    const { id } = parseInput(IdParam, c.req.param(), 'path');
    if (id === c.get('principal').tokenId) throw conflict('OWN_TOKEN', 'an admin cannot revoke the token it is calling with; use another admin token');
    const row = await ctx.db.transaction(async (tx) => {
      const [revoked] = await tx
        .update(apiTokens)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
        .returning({ id: apiTokens.id, role: apiTokens.role, label: apiTokens.label, deviceId: apiTokens.deviceId });
      if (!revoked) throw notFound('TOKEN_UNKNOWN', `no unrevoked token ${id}`);
      await recordAudit(tx, {
        actorTokenId: c.get('principal').tokenId,
        action: 'token.revoke',
        entity: 'token',
        entityId: id,
        detail: { role: revoked.role, label: revoked.label },
      });
      return revoked;
    });
    ctx.invalidate();
    if (row.deviceId !== null) ctx.changed({ kind: 'device', deviceId: row.deviceId });
    return reply(c, { id: row.id, role: row.role, label: row.label, revoked: true });
  });

  app.post('/v1/publisher-keys', admin, async function registerKey(c) {
    const body = parseInput(RegisterKeyBody, await readBody(c), 'body');
    const key = parsePublisherKey(body.publicKey);
    const keyId = keyIdOf(key);
    await ctx.db.transaction(async (tx) => {
      const inserted = await tx
        .insert(publisherKeys)
        .values({ keyId, publicKey: spkiDer(key), label: body.label })
        .onConflictDoNothing()
        .returning({ keyId: publisherKeys.keyId });
      if (inserted.length === 0) throw conflict('KEY_EXISTS', `publisher key ${keyId} is already registered`);
      await recordAudit(tx, {
        actorTokenId: c.get('principal').tokenId,
        action: 'publisher-key.register',
        entity: 'publisher-key',
        entityId: keyId,
        detail: { label: body.label },
      });
    });
    return reply(c, { keyId, label: body.label }, 201);
  });

  app.get('/v1/publisher-keys', admin, async function listKeys(c) {
    const rows = await ctx.db
      .select({ keyId: publisherKeys.keyId, label: publisherKeys.label, createdAt: publisherKeys.createdAt, revokedAt: publisherKeys.revokedAt })
      .from(publisherKeys)
      .orderBy(asc(publisherKeys.createdAt));
    return reply(c, { keys: rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString(), revokedAt: r.revokedAt?.toISOString() ?? null })) });
  });

  // A leaked or retired signing key: uploads signed with it are refused from
  // now on. Versions it already signed stay as they are; the reply lists the
  // published ones so an operator can withdraw them.
  app.post('/v1/publisher-keys/:keyId/revoke', admin, async function revokeKey(c) {
    const { keyId } = parseInput(KeyIdParam, c.req.param(), 'path');
    const { row, signed } = await ctx.db.transaction(async (tx) => {
      const [revoked] = await tx
        .update(publisherKeys)
        .set({ revokedAt: new Date() })
        .where(and(eq(publisherKeys.keyId, keyId), isNull(publisherKeys.revokedAt)))
        .returning({ keyId: publisherKeys.keyId, label: publisherKeys.label, revokedAt: publisherKeys.revokedAt });
      if (!revoked) throw notFound('KEY_UNKNOWN', `no unrevoked publisher key ${keyId}`);
      const published = await tx
        .select({ model: models.name, version: versions.number })
        .from(versions)
        .innerJoin(models, eq(models.id, versions.modelId))
        .where(and(eq(versions.keyId, keyId), eq(versions.state, 'published')))
        .orderBy(asc(models.name), asc(versions.number));
      await recordAudit(tx, {
        actorTokenId: c.get('principal').tokenId,
        action: 'publisher-key.revoke',
        entity: 'publisher-key',
        entityId: keyId,
        detail: { label: revoked.label, publishedVersionsSigned: published.length },
      });
      return { row: revoked, signed: published };
    });
    return reply(c, { keyId, label: row.label, revokedAt: row.revokedAt!.toISOString(), publishedVersionsSigned: signed });
  });

  app.get('/v1/audit', admin, async function listAudit(c) {
    const { limit, before } = parseInput(AuditQuery, c.req.query(), 'query');
    const base = ctx.db.select().from(auditLog);
    const rows = await (before === undefined ? base : base.where(lt(auditLog.id, before))).orderBy(desc(auditLog.id)).limit(limit);
    const next = rows.length === limit ? `/v1/audit?limit=${limit}&before=${rows[rows.length - 1]!.id}` : null;
    return reply(c, { entries: rows.map((r) => ({ ...r, at: r.at.toISOString() })), next });
  });

  return app;
}

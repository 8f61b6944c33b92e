// Admin calls on customers and licenses: create, change tier (dynamic
// licensing), revoke, set expiry. Every change is audited.
import { Hono } from 'hono';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import type { ServerContext, LicenseRow } from '../context.ts';
import { requireToken, type AuthEnv } from '../auth.ts';
import { customers, licenses, models } from '../db/schema.ts';
import { ChangeTierBody, CreateCustomerBody, CreateLicenseBody, IdParam, SetExpiryBody } from '../api-schemas.ts';
import { parseInput } from '../validate.ts';
import { readBody, reply } from '../negotiate.ts';
import { badRequest, conflict, notFound } from '../http-error.ts';
import { recordAudit } from '../store/audit.ts';
import { grantedIntervals, sortedUnique } from '../license-grant.ts';
import { latestPublished } from '../store/licenses.ts';

export function licenseView(row: LicenseRow, model: string) {
  return {
    id: row.id,
    customerId: row.customerId,
    model,
    tier: row.tier,
    intervals: row.intervals,
    kind: row.kind,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
export type LicenseView = ReturnType<typeof licenseView>;

export function licenseRoutes(ctx: ServerContext): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const admin = requireToken(ctx, 'admin');

  app.post('/v1/customers', admin, async function createCustomer(c) {
    const body = parseInput(CreateCustomerBody, await readBody(c), 'body');
    const row = await ctx.db.transaction(async (tx) => {
      const [inserted] = await tx.insert(customers).values({ name: body.name }).returning();
      await recordAudit(tx, {
        actorTokenId: c.get('principal').tokenId,
        action: 'customer.create',
        entity: 'customer',
        entityId: inserted!.id,
        detail: { name: body.name },
      });
      return inserted;
    });
    return reply(c, { id: row!.id, name: row!.name, createdAt: row!.createdAt.toISOString() }, 201);
  });

  app.get('/v1/customers', admin, async function listCustomers(c) {
    const rows = await ctx.db.select().from(customers).orderBy(asc(customers.id));
    return reply(c, { customers: rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.createdAt.toISOString() })) });
  });

  app.post('/v1/licenses', admin, async function createLicense(c) {
    const body = parseInput(CreateLicenseBody, await readBody(c), 'body');
    const [customer] = await ctx.db.select().from(customers).where(eq(customers.id, body.customerId)).limit(1);
    if (!customer) throw notFound('CUSTOMER_UNKNOWN', `body field "customerId": no customer ${body.customerId}`);
    const [model] = await ctx.db.select().from(models).where(eq(models.name, body.model)).limit(1);
    if (!model) throw notFound('MODEL_UNKNOWN', `body field "model": no model "${body.model}" has been published`);
    const values = {
      customerId: body.customerId,
      modelId: model.id,
      tier: body.tier ?? null,
      intervals: body.intervals ? sortedUnique(body.intervals) : null,
      kind: body.kind,
      expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
    };
    await assertGrantResolves(ctx, model.id, values);
    const row = await ctx.db.transaction(async (tx) => {
      const [inserted] = await tx.insert(licenses).values(values).returning();
      await recordAudit(tx, {
        actorTokenId: c.get('principal').tokenId,
        action: 'license.create',
        entity: 'license',
        entityId: inserted!.id,
        detail: licenseView(inserted!, model.name),
      });
      return inserted;
    });
    return reply(c, licenseView(row!, model.name), 201);
  });

  app.get('/v1/licenses', admin, async function listLicenses(c) {
    const rows = await ctx.db
      .select({ license: licenses, model: models.name })
      .from(licenses)
      .innerJoin(models, eq(models.id, licenses.modelId))
      .orderBy(asc(licenses.id));
    return reply(c, { licenses: rows.map((r) => licenseView(r.license, r.model)) });
  });

  app.get('/v1/licenses/:id', admin, async function getLicense(c) {
    const { id } = parseInput(IdParam, c.req.param(), 'path');
    const { row, model } = await loadLicenseRow(ctx.db, id);
    return reply(c, licenseView(row, model));
  });

  // Each change below reads the license under a row lock (SELECT ... FOR
  // UPDATE) and writes it and its audit row in that one transaction, so
  // concurrent changes of one license run one after another: the audit is a
  // serial history and a once-only change (revoke) happens once.
  app.post('/v1/licenses/:id/tier', admin, async function changeTier(c) {
    const { id } = parseInput(IdParam, c.req.param(), 'path');
    const body = parseInput(ChangeTierBody, await readBody(c), 'body');
    const change = { tier: body.tier ?? null, intervals: body.intervals ? sortedUnique(body.intervals) : null };
    // The grant is checked against the model's latest version first (a
    // license never changes model), outside the transaction.
    await assertGrantResolves(ctx, (await loadLicenseRow(ctx.db, id)).row.modelId, change);
    const view = await ctx.db.transaction(async (tx) => {
      const { row, model } = await loadLicenseRow(tx, id, true);
      if (row.kind === 'static') {
        throw conflict('STATIC_LICENSE', `license ${id} is static: its tier is baked into the delivered model and cannot change; issue a new license`);
      }
      if (row.revokedAt) throw conflict('LICENSE_REVOKED', `license ${id} is revoked`);
      const [updated] = await tx.update(licenses).set(change).where(eq(licenses.id, id)).returning();
      await recordAudit(tx, {
        actorTokenId: c.get('principal').tokenId,
        action: 'license.change-tier',
        entity: 'license',
        entityId: id,
        detail: { from: { tier: row.tier, intervals: row.intervals }, to: change },
      });
      return licenseView(updated!, model);
    });
    ctx.invalidate();
    return reply(c, view);
  });

  app.post('/v1/licenses/:id/revoke', admin, async function revokeLicense(c) {
    const { id } = parseInput(IdParam, c.req.param(), 'path');
    const view = await ctx.db.transaction(async (tx) => {
      const { row, model } = await loadLicenseRow(tx, id, true);
      if (row.revokedAt) throw conflict('LICENSE_REVOKED', `license ${id} is already revoked`);
      const [updated] = await tx
        .update(licenses)
        .set({ revokedAt: new Date() })
        .where(and(eq(licenses.id, id), isNull(licenses.revokedAt)))
        .returning();
      if (!updated) throw conflict('LICENSE_REVOKED', `license ${id} is already revoked`);
      await recordAudit(tx, {
        actorTokenId: c.get('principal').tokenId,
        action: 'license.revoke',
        entity: 'license',
        entityId: id,
        detail: { revokedAt: updated.revokedAt!.toISOString() },
      });
      return licenseView(updated, model);
    });
    ctx.invalidate();
    return reply(c, view);
  });

  app.post('/v1/licenses/:id/expiry', admin, async function setExpiry(c) {
    const { id } = parseInput(IdParam, c.req.param(), 'path');
    const body = parseInput(SetExpiryBody, await readBody(c), 'body');
    const expiresAt = body.expiresAt === null ? null : new Date(body.expiresAt);
    const view = await ctx.db.transaction(async (tx) => {
      const { row, model } = await loadLicenseRow(tx, id, true);
      const [updated] = await tx.update(licenses).set({ expiresAt }).where(eq(licenses.id, id)).returning();
      await recordAudit(tx, {
        actorTokenId: c.get('principal').tokenId,
        action: 'license.set-expiry',
        entity: 'license',
        entityId: id,
        detail: { from: row.expiresAt?.toISOString() ?? null, to: expiresAt?.toISOString() ?? null },
      });
      return licenseView(updated!, model);
    });
    ctx.invalidate();
    return reply(c, view);
  });

  return app;
}

/** The license and its model's name; `forUpdate` locks the license row for the caller's transaction. */
async function loadLicenseRow(db: Db, id: number, forUpdate = false): Promise<{ row: LicenseRow; model: string }> {
  const query = db
    .select({ license: licenses, model: models.name })
    .from(licenses)
    .innerJoin(models, eq(models.id, licenses.modelId))
    .where(eq(licenses.id, id))
    .limit(1);
  const [found] = forUpdate ? await query.for('update', { of: licenses }) : await query;
  if (!found) throw notFound('LICENSE_UNKNOWN', `no license ${id}`);
  return { row: found.license, model: found.model };
}

/** A tier must exist in the latest published version, and explicit intervals must not be empty there. */
async function assertGrantResolves(ctx: ServerContext, modelId: number, grant: Pick<LicenseRow, 'tier' | 'intervals'>): Promise<void> {
  const latest = await latestPublished(ctx, modelId);
  if (!latest) return;
  const probe = { ...grant, id: 0 } as LicenseRow;
  try {
    grantedIntervals(probe, latest);
  } catch {
    throw badRequest(
      'TIER_UNKNOWN',
      `body field "tier": version ${latest.number} has no tier "${grant.tier}" (it has: ${latest.tiers.map((t) => t.name).join(', ')})`,
    );
  }
}

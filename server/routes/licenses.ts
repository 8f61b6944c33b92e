// Admin calls on customers and licenses: create, change tier (dynamic
// licensing), revoke, set expiry. Every change is audited.
import { Hono } from 'hono';
import { asc, eq } from 'drizzle-orm';
import type { ServerContext } from '../context.ts';
import { requireToken, type AuthEnv } from '../auth.ts';
import { customers, licenses, models } from '../db/schema.ts';
import { ChangeTierBody, CreateCustomerBody, CreateLicenseBody, IdParam, SetExpiryBody } from '../api-schemas.ts';
import { parseInput } from '../validate.ts';
import { readBody, reply } from '../negotiate.ts';
import { notFound } from '../http-error.ts';
import { recordAudit } from '../store/audit.ts';
import { sortedUnique } from '../license-grant.ts';
import { assertGrantResolves, changeLicenseTier, licenseView, loadLicenseRow, revokeLicense, setLicenseExpiry } from '../store/license-changes.ts';

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

  app.post('/v1/licenses/:id/tier', admin, async function changeTier(c) {
    const { id } = parseInput(IdParam, c.req.param(), 'path');
    const body = parseInput(ChangeTierBody, await readBody(c), 'body');
    return reply(c, await changeLicenseTier(ctx, c.get('principal').tokenId, id, body));
  });

  app.post('/v1/licenses/:id/revoke', admin, async function revoke(c) {
    const { id } = parseInput(IdParam, c.req.param(), 'path');
    return reply(c, await revokeLicense(ctx, c.get('principal').tokenId, id));
  });

  app.post('/v1/licenses/:id/expiry', admin, async function setExpiry(c) {
    const { id } = parseInput(IdParam, c.req.param(), 'path');
    const body = parseInput(SetExpiryBody, await readBody(c), 'body');
    return reply(c, await setLicenseExpiry(ctx, c.get('principal').tokenId, id, body.expiresAt === null ? null : new Date(body.expiresAt)));
  });

  return app;
}

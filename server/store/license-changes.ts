// The changes operators make to a license, shared by the REST routes and the
// GraphQL mutations so both follow one set of rules. Each change reads the
// license under a row lock (SELECT ... FOR UPDATE) and writes it and its
// audit row in that one transaction, so concurrent changes of one license
// run one after another: the audit is a serial history and a once-only
// change (revoke) happens once. Afterwards every server instance forgets
// what it cached of licenses.
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import type { LicenseRow, ServerContext } from '../context.ts';
import { licenses, models } from '../db/schema.ts';
import { badRequest, conflict, notFound } from '../http-error.ts';
import { grantedIntervals, sortedUnique } from '../license-grant.ts';
import { recordAudit } from './audit.ts';
import { latestPublished } from './licenses.ts';

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

/** What a license grants: a tier name, or explicit interval ids (exactly one). */
export interface Grant {
  tier?: string | null;
  intervals?: readonly number[] | null;
}

/** A dynamic license's new grant (the paper's license change at run time). */
export async function changeLicenseTier(ctx: ServerContext, actorTokenId: number, id: number, grant: Grant): Promise<LicenseView> {
  const change = { tier: grant.tier ?? null, intervals: grant.intervals ? sortedUnique(grant.intervals) : null };
  if ((change.tier === null) === (change.intervals === null)) throw badRequest('BAD_GRANT', 'give exactly one of "tier" or "intervals"');
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
      actorTokenId,
      action: 'license.change-tier',
      entity: 'license',
      entityId: id,
      detail: { from: { tier: row.tier, intervals: row.intervals }, to: change },
    });
    return licenseView(updated!, model);
  });
  ctx.invalidate('lookups');
  ctx.changed({ kind: 'license', licenseId: id });
  return view;
}

/** Ends a license for good: its devices get nothing more. */
export async function revokeLicense(ctx: ServerContext, actorTokenId: number, id: number): Promise<LicenseView> {
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
      actorTokenId,
      action: 'license.revoke',
      entity: 'license',
      entityId: id,
      detail: { revokedAt: updated.revokedAt!.toISOString() },
    });
    return licenseView(updated, model);
  });
  ctx.invalidate('lookups');
  ctx.changed({ kind: 'license', licenseId: id });
  return view;
}

/** Sets or clears (null) a license's expiry. */
export async function setLicenseExpiry(ctx: ServerContext, actorTokenId: number, id: number, expiresAt: Date | null): Promise<LicenseView> {
  const view = await ctx.db.transaction(async (tx) => {
    const { row, model } = await loadLicenseRow(tx, id, true);
    const [updated] = await tx.update(licenses).set({ expiresAt }).where(eq(licenses.id, id)).returning();
    await recordAudit(tx, {
      actorTokenId,
      action: 'license.set-expiry',
      entity: 'license',
      entityId: id,
      detail: { from: row.expiresAt?.toISOString() ?? null, to: expiresAt?.toISOString() ?? null },
    });
    return licenseView(updated!, model);
  });
  ctx.invalidate('lookups');
  ctx.changed({ kind: 'license', licenseId: id });
  return view;
}

/** The license and its model's name; `forUpdate` locks the license row for the caller's transaction. */
export async function loadLicenseRow(db: Db, id: number, forUpdate = false): Promise<{ row: LicenseRow; model: string }> {
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
export async function assertGrantResolves(ctx: ServerContext, modelId: number, grant: Pick<LicenseRow, 'tier' | 'intervals'>): Promise<void> {
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

// A version's life after publishing: a draft is released, a version is
// withdrawn. Shared by the REST routes and the GraphQL mutations. Both run in
// one transaction that first locks the model row (as publish does): changes
// to one model's versions happen one after another, each with its audit row,
// in an order a serial history explains.
import { and, eq, gt, ne } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import type { ServerContext } from '../context.ts';
import type { Principal } from '../auth.ts';
import { models, versions, type VersionState } from '../db/schema.ts';
import { conflict, notFound } from '../http-error.ts';
import { recordAudit } from './audit.ts';
import { assertMayChangeModel } from './publish.ts';
import { startRollout, type RolloutPolicy, type StageRequest } from './rollouts.ts';

export interface VersionStateView {
  model: string;
  version: number;
  state: VersionState;
}

/**
 * A staged version goes live: devices are offered it from their next check.
 * Only a draft newer than every published version can be released (a device
 * never moves back).
 */
export async function releaseVersion(
  ctx: ServerContext,
  actor: Principal,
  model: string,
  version: number,
  staged?: { stage: StageRequest; policy: RolloutPolicy },
): Promise<VersionStateView> {
  let stageDevices: number[] | null = null;
  await ctx.db.transaction(async (tx) => {
    const row = await lockVersion(tx, model, version, actor);
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
    if (staged) {
      const started = await startRollout(tx, row, staged.stage, staged.policy);
      stageDevices = started.added;
      await recordAudit(tx, {
        actorTokenId: actor.tokenId,
        action: 'version.release',
        entity: 'version',
        entityId: `${model}@${version}`,
        detail: {
          rollout: { percent: started.percent, group: staged.stage.group ?? null, devices: started.added.length, ...staged.policy },
        },
      });
    } else {
      await recordAudit(tx, { actorTokenId: actor.tokenId, action: 'version.release', entity: 'version', entityId: `${model}@${version}` });
    }
  });
  ctx.invalidate('lookups');
  ctx.changed(stageDevices === null ? { kind: 'version', model } : { kind: 'version', model, deviceIds: stageDevices });
  return { model, version, state: 'published' };
}

/** A version is no longer offered; devices that run it move to the newest published one. */
export async function withdrawVersion(ctx: ServerContext, actor: Principal, model: string, version: number): Promise<VersionStateView> {
  await ctx.db.transaction(async (tx) => {
    const row = await lockVersion(tx, model, version, actor);
    if (row.state === 'withdrawn') throw conflict('ALREADY_WITHDRAWN', `model "${model}" version ${version} is already withdrawn`);
    const [updated] = await tx
      .update(versions)
      .set({ state: 'withdrawn' })
      .where(and(eq(versions.id, row.id), ne(versions.state, 'withdrawn')))
      .returning({ id: versions.id });
    if (!updated) throw conflict('ALREADY_WITHDRAWN', `model "${model}" version ${version} is already withdrawn`);
    await recordAudit(tx, { actorTokenId: actor.tokenId, action: 'version.withdraw', entity: 'version', entityId: `${model}@${version}` });
  });
  ctx.invalidate('lookups');
  ctx.changed({ kind: 'version', model });
  return { model, version, state: 'withdrawn' };
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

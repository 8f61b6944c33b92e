// Staged rollouts: a version released to a stage of its model's devices (a
// share of them, chosen by a stable hash, and/or a named group) before every
// device. The update check offers each device the newest version it may
// have (offeredVersion); a device report counts towards its stage's failure
// share, and the rollout pauses by itself when that share passes the
// rollout's threshold. Every change is one transaction that locks the model
// row first (as publish and release do), with its audit row.
import { createHash } from 'node:crypto';
import { and, desc, eq, inArray, isNull, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import type { ServerContext } from '../context.ts';
import type { Principal } from '../auth.ts';
import { devices, licenses, models, rolloutDevices, rollouts, versions, type RolloutState } from '../db/schema.ts';
import type { InstallOutcome } from '../../api/device-report.ts';
import { badRequest, conflict, notFound } from '../http-error.ts';
import { recordAudit } from './audit.ts';
import { assertMayChangeModel } from './publish.ts';
import { loadVersionInfo, type VersionInfo } from './artifact-store.ts';

/** How a stage is widened: a larger share of the model's devices, and/or a named group. */
export interface StageRequest {
  percent?: number;
  group?: string;
}

export interface RolloutPolicy {
  /** Pause when failed / reported passes this share (0-1). */
  maxFailureShare: number;
  /** ... once at least this many stage devices have reported. */
  minReports: number;
}

export const DEFAULT_ROLLOUT_POLICY: RolloutPolicy = { maxFailureShare: 0.2, minReports: 1 };

export interface RolloutView {
  model: string;
  version: number;
  state: RolloutState;
  percent: number;
  group: string | null;
  maxFailureShare: number;
  minReports: number;
  pausedReason: string | null;
  /** The stage's devices and how their installs went. */
  stage: { devices: number; installed: number; failed: number; pending: number };
  createdAt: string;
  updatedAt: string;
}

/** One rung of what a model's devices may be offered, newest first. */
export interface Offer {
  versionId: number;
  number: number;
  /** null: released to every device. */
  rollout: { state: RolloutState; members: ReadonlySet<number> } | null;
}

/**
 * The published versions a device of `modelId` may be offered, newest first,
 * down to the newest one released to every device (older ones are never
 * offered). Cached like the other lookups on the device path; every change
 * here calls ctx.invalidate().
 */
export async function offerLadder(ctx: ServerContext, modelId: number): Promise<Offer[]> {
  const ladder = await ctx.caches.latest.load(modelId, async () => {
    const published = await ctx.db
      .select({ id: versions.id, number: versions.number, state: rollouts.state })
      .from(versions)
      .leftJoin(rollouts, eq(rollouts.versionId, versions.id))
      .where(and(eq(versions.modelId, modelId), eq(versions.state, 'published')))
      .orderBy(desc(versions.number));
    const rungs: Offer[] = [];
    const staged: number[] = [];
    for (const row of published) {
      const open = row.state !== null && row.state !== 'complete';
      rungs.push({ versionId: row.id, number: row.number, rollout: open ? { state: row.state!, members: new Set() } : null });
      if (!open) break;
      staged.push(row.id);
    }
    if (staged.length > 0) {
      const members = await ctx.db
        .select({ versionId: rolloutDevices.versionId, deviceId: rolloutDevices.deviceId })
        .from(rolloutDevices)
        .where(inArray(rolloutDevices.versionId, staged));
      const byVersion = new Map(rungs.map((offer) => [offer.versionId, offer.rollout?.members as Set<number> | undefined]));
      for (const member of members) byVersion.get(member.versionId)?.add(member.deviceId);
    }
    return rungs;
  });
  return ladder ?? [];
}

/**
 * Whether a device may be offered a version of the ladder: released to every
 * device, in the stage of an active rollout, or not newer than what the
 * device already runs (a device never moves back, paused rollout or not).
 */
export function mayOffer(offer: Offer, deviceId: number, runningVersion: number): boolean {
  if (offer.rollout === null || offer.number <= runningVersion) return true;
  return offer.rollout.state === 'active' && offer.rollout.members.has(deviceId);
}

/** The newest published version this device may run, or undefined when there is none for it. */
export async function offeredVersion(ctx: ServerContext, modelId: number, deviceId: number, runningVersion: number): Promise<VersionInfo | undefined> {
  const offer = (await offerLadder(ctx, modelId)).find((o) => mayOffer(o, deviceId, runningVersion));
  return offer ? loadVersionInfo(ctx, offer.versionId) : undefined;
}

/** Where a device stands in its staged rollouts: the order a stage takes devices in is a hash of (version, device), stable as it widens. */
function stageOrder(versionId: number, deviceId: number): string {
  return createHash('sha256').update(`${versionId}:${deviceId}`).digest('hex');
}

function assertStageRequest(stage: StageRequest): void {
  if (stage.percent !== undefined && !(Number.isInteger(stage.percent) && stage.percent >= 0 && stage.percent <= 100)) {
    throw badRequest('BAD_PERCENT', `"percent" must be a whole number from 0 to 100 (got ${stage.percent})`);
  }
  if (stage.percent === undefined && stage.group === undefined) {
    throw badRequest('EMPTY_STAGE', 'say which devices the stage takes: "percent" (0-100), "group", or both');
  }
  if ((stage.percent ?? 0) === 0 && stage.group === undefined) throw badRequest('EMPTY_STAGE', 'a stage of 0 % and no group has no devices');
}

/**
 * Adds devices to a rollout's stage: every device of `group`, and the first
 * ceil(N * percent / 100) of the model's N devices in stage order. Returns
 * the ids added.
 */
async function growStage(tx: Db, versionId: number, modelId: number, stage: StageRequest): Promise<number[]> {
  const fleet = await tx
    .select({ id: devices.id, group: devices.group })
    .from(devices)
    .innerJoin(licenses, eq(licenses.id, devices.licenseId))
    .where(eq(licenses.modelId, modelId));
  const existing = new Set(
    (await tx.select({ id: rolloutDevices.deviceId }).from(rolloutDevices).where(eq(rolloutDevices.versionId, versionId))).map((row) => row.id),
  );
  const wanted = new Set<number>();
  if (stage.group !== undefined) for (const device of fleet) if (device.group === stage.group) wanted.add(device.id);
  const share = Math.ceil((fleet.length * (stage.percent ?? 0)) / 100);
  const ordered = fleet.map((device) => ({ id: device.id, key: stageOrder(versionId, device.id) })).sort((a, b) => (a.key < b.key ? -1 : 1));
  for (const device of ordered.slice(0, share)) wanted.add(device.id);
  const added = [...wanted].filter((id) => !existing.has(id)).sort((a, b) => a - b);
  for (let i = 0; i < added.length; i += 1000) {
    await tx
      .insert(rolloutDevices)
      .values(added.slice(i, i + 1000).map((deviceId) => ({ versionId, deviceId })))
      .onConflictDoNothing();
  }
  return added;
}

/** Called by releaseVersion inside its transaction: the version's rollout starts with its first stage. */
export async function startRollout(
  tx: Db,
  version: { id: number; modelId: number },
  stage: StageRequest,
  policy: RolloutPolicy,
): Promise<{ added: number[]; percent: number }> {
  assertStageRequest(stage);
  assertPolicy(policy);
  const percent = stage.percent ?? 0;
  await tx.insert(rollouts).values({ versionId: version.id, state: 'active', percent, group: stage.group ?? null, ...policy });
  return { added: await growStage(tx, version.id, version.modelId, stage), percent };
}

export function assertPolicy(policy: RolloutPolicy): void {
  if (!(policy.maxFailureShare >= 0 && policy.maxFailureShare <= 1)) {
    throw badRequest('BAD_THRESHOLD', `"maxFailurePercent" must be from 0 to 100 (got ${policy.maxFailureShare * 100})`);
  }
  if (!(Number.isInteger(policy.minReports) && policy.minReports >= 1 && policy.minReports <= 1_000_000)) {
    throw badRequest('BAD_MIN_REPORTS', `"minReports" must be a whole number from 1 (got ${policy.minReports})`);
  }
}

interface LockedRollout {
  model: string;
  modelId: number;
  versionId: number;
  number: number;
  state: RolloutState;
  percent: number;
}

/** Locks the model row, then reads the version's rollout; 404 when the version has none. */
async function lockRollout(tx: Db, model: string, version: number, actor: Principal | null): Promise<LockedRollout> {
  const [locked] = await tx.select({ id: models.id, ownerTokenId: models.ownerTokenId }).from(models).where(eq(models.name, model)).for('update');
  if (locked && actor) assertMayChangeModel(actor, locked.ownerTokenId, model);
  const [row] = locked
    ? await tx
        .select({ versionId: versions.id, versionState: versions.state, state: rollouts.state, percent: rollouts.percent })
        .from(versions)
        .leftJoin(rollouts, eq(rollouts.versionId, versions.id))
        .where(and(eq(versions.modelId, locked.id), eq(versions.number, version)))
        .limit(1)
    : [];
  if (!row) throw notFound('VERSION_UNKNOWN', `model "${model}" has no version ${version}`);
  if (row.state === null || row.percent === null) {
    throw notFound('NO_ROLLOUT', `model "${model}" version ${version} was not released in stages (${row.versionState}); nothing to widen, pause or resume`);
  }
  if (row.versionState === 'withdrawn') throw conflict('VERSION_WITHDRAWN', `model "${model}" version ${version} was withdrawn; its rollout is over`);
  return { model, modelId: locked!.id, versionId: row.versionId, number: version, state: row.state, percent: row.percent };
}

async function setState(tx: Db, versionId: number, state: RolloutState, pausedReason: string | null, percent?: number): Promise<void> {
  await tx
    .update(rollouts)
    .set({ state, pausedReason, updatedAt: new Date(), ...(percent === undefined ? {} : { percent }) })
    .where(eq(rollouts.versionId, versionId));
}

/**
 * Takes more devices into the stage. At 100 % the rollout is complete: every
 * device of the model, including those registered later, is offered the
 * version. A paused rollout must be resumed first.
 */
export async function widenRollout(ctx: ServerContext, actor: Principal, model: string, version: number, stage: StageRequest): Promise<RolloutView> {
  assertStageRequest({ ...stage, percent: stage.percent ?? (stage.group === undefined ? undefined : 0) });
  let added = [] as number[] | 'all';
  await ctx.db.transaction(async (tx) => {
    const rollout = await lockRollout(tx, model, version, actor);
    if (rollout.state === 'paused') throw conflict('ROLLOUT_PAUSED', `the rollout of "${model}" version ${version} is paused; resume it first`);
    if (rollout.state === 'complete') throw conflict('ROLLOUT_COMPLETE', `the rollout of "${model}" version ${version} already reaches every device`);
    const percent = Math.max(rollout.percent, stage.percent ?? 0);
    if (stage.percent !== undefined && stage.percent < rollout.percent) {
      throw conflict('ROLLOUT_NARROWING', `the stage already takes ${rollout.percent} % of the devices; a rollout only widens (pause it to stop it)`);
    }
    if (percent === 100) {
      await setState(tx, rollout.versionId, 'complete', null, 100);
      added = 'all';
    } else {
      added = await growStage(tx, rollout.versionId, rollout.modelId, { percent, group: stage.group });
      await setState(tx, rollout.versionId, 'active', null, percent);
    }
    await recordAudit(tx, {
      actorTokenId: actor.tokenId,
      action: percent === 100 ? 'rollout.complete' : 'rollout.widen',
      entity: 'version',
      entityId: `${model}@${version}`,
      detail: { percent, group: stage.group ?? null, devicesAdded: added === 'all' ? null : added.length },
    });
  });
  ctx.invalidate('lookups');
  ctx.changed(added === 'all' ? { kind: 'version', model } : { kind: 'version', model, deviceIds: added });
  return rolloutStatus(ctx, model, version);
}

/** Stops offering the version to stage devices that do not run it yet. */
export async function pauseRollout(ctx: ServerContext, actor: Principal, model: string, version: number, reason: string): Promise<RolloutView> {
  await ctx.db.transaction(async (tx) => {
    const rollout = await lockRollout(tx, model, version, actor);
    if (rollout.state !== 'active') throw conflict('ROLLOUT_NOT_ACTIVE', `the rollout of "${model}" version ${version} is ${rollout.state}, not active`);
    await setState(tx, rollout.versionId, 'paused', reason);
    await recordAudit(tx, { actorTokenId: actor.tokenId, action: 'rollout.pause', entity: 'version', entityId: `${model}@${version}`, detail: { reason } });
  });
  ctx.invalidate('lookups');
  return rolloutStatus(ctx, model, version);
}

/**
 * Offers the version to its stage again. The failed installs that paused it
 * are forgotten (those devices try again and count afresh); the failure
 * share starts over.
 */
export async function resumeRollout(ctx: ServerContext, actor: Principal, model: string, version: number): Promise<RolloutView> {
  let retried: number[] = [];
  await ctx.db.transaction(async (tx) => {
    const rollout = await lockRollout(tx, model, version, actor);
    if (rollout.state !== 'paused') throw conflict('ROLLOUT_NOT_PAUSED', `the rollout of "${model}" version ${version} is ${rollout.state}, not paused`);
    // Every stage device that does not run it yet is offered it again (and told so).
    const notInstalled = and(eq(rolloutDevices.versionId, rollout.versionId), or(isNull(rolloutDevices.outcome), ne(rolloutDevices.outcome, 'installed')));
    const waiting = await tx.select({ deviceId: rolloutDevices.deviceId, outcome: rolloutDevices.outcome }).from(rolloutDevices).where(notInstalled);
    await tx.update(rolloutDevices).set({ outcome: null, reportedAt: null }).where(notInstalled);
    retried = waiting.map((row) => row.deviceId);
    const forgotten = waiting.filter((row) => row.outcome !== null).length;
    await setState(tx, rollout.versionId, 'active', null);
    await recordAudit(tx, {
      actorTokenId: actor.tokenId,
      action: 'rollout.resume',
      entity: 'version',
      entityId: `${model}@${version}`,
      detail: { failedInstallsForgotten: forgotten, devicesWaiting: retried.length },
    });
  });
  ctx.invalidate('lookups');
  ctx.changed({ kind: 'version', model, deviceIds: retried });
  return rolloutStatus(ctx, model, version);
}

export async function rolloutStatus(ctx: ServerContext, model: string, version: number): Promise<RolloutView> {
  const [row] = await ctx.db
    .select({ rollout: rollouts, versionId: versions.id, versionState: versions.state })
    .from(versions)
    .innerJoin(models, eq(models.id, versions.modelId))
    .leftJoin(rollouts, eq(rollouts.versionId, versions.id))
    .where(and(eq(models.name, model), eq(versions.number, version)))
    .limit(1);
  if (!row) throw notFound('VERSION_UNKNOWN', `model "${model}" has no version ${version}`);
  if (!row.rollout) throw notFound('NO_ROLLOUT', `model "${model}" version ${version} was not released in stages (${row.versionState})`);
  const counts = await ctx.db
    .select({ outcome: rolloutDevices.outcome, n: sql<number>`count(*)::int` })
    .from(rolloutDevices)
    .where(eq(rolloutDevices.versionId, row.versionId))
    .groupBy(rolloutDevices.outcome);
  const count = (outcome: InstallOutcome | null) => counts.find((c) => c.outcome === outcome)?.n ?? 0;
  const r = row.rollout;
  return {
    model,
    version,
    state: r.state,
    percent: r.percent,
    group: r.group,
    maxFailureShare: r.maxFailureShare,
    minReports: r.minReports,
    pausedReason: r.pausedReason,
    stage: {
      devices: counts.reduce((sum, c) => sum + c.n, 0),
      installed: count('installed'),
      failed: count('rolled-back') + count('refused'),
      pending: count(null),
    },
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/**
 * A device reported an install attempt: if it belongs to the stage of an
 * active rollout the attempt was for, record the outcome and pause the
 * rollout when the stage's failure share passes its threshold. The attempt
 * is matched by `attemptedVersion` when the device says it, otherwise
 * inferred (installed: the version it now runs; failed: a staged version
 * newer than the one it still runs).
 */
export async function countStageReport(
  ctx: ServerContext,
  modelId: number,
  deviceId: number,
  report: { version: number; outcome: InstallOutcome; attemptedVersion: number | null; reason: string | null },
): Promise<void> {
  // The common case, no active rollout holding this device, costs no query.
  const ladder = await offerLadder(ctx, modelId);
  if (!ladder.some((offer) => offer.rollout?.state === 'active' && offer.rollout.members.has(deviceId))) return;
  const memberships = await ctx.db
    .select({ versionId: rolloutDevices.versionId, number: versions.number, model: models.name })
    .from(rolloutDevices)
    .innerJoin(rollouts, eq(rollouts.versionId, rolloutDevices.versionId))
    .innerJoin(versions, eq(versions.id, rolloutDevices.versionId))
    .innerJoin(models, eq(models.id, versions.modelId))
    .where(and(eq(rolloutDevices.deviceId, deviceId), eq(rollouts.state, 'active')));
  const installed = report.outcome === 'installed';
  const concerned = memberships.filter((m) =>
    report.attemptedVersion !== null ? m.number === report.attemptedVersion : installed ? m.number === report.version : m.number > report.version,
  );
  if (concerned.length === 0) return;
  let paused = false;
  for (const membership of concerned) {
    await ctx.db.transaction(async (tx) => {
      const rollout = await lockRollout(tx, membership.model, membership.number, null);
      if (rollout.state !== 'active') return;
      await tx
        .update(rolloutDevices)
        .set({ outcome: report.outcome, reportedAt: new Date() })
        .where(and(eq(rolloutDevices.versionId, membership.versionId), eq(rolloutDevices.deviceId, deviceId)));
      const [policy] = await tx.select().from(rollouts).where(eq(rollouts.versionId, membership.versionId)).limit(1);
      const [tally] = await tx
        .select({
          reported: sql<number>`count(${rolloutDevices.outcome})::int`,
          failed: sql<number>`count(*) filter (where ${rolloutDevices.outcome} <> 'installed')::int`,
        })
        .from(rolloutDevices)
        .where(eq(rolloutDevices.versionId, membership.versionId));
      const { reported, failed } = tally!;
      if (reported < policy!.minReports || failed / reported <= policy!.maxFailureShare) return;
      const reason =
        `${failed} of ${reported} reporting stage devices failed to install it ` +
        `(${((100 * failed) / reported).toFixed(0)} % > ${(100 * policy!.maxFailureShare).toFixed(0)} %); last: ${report.reason ?? report.outcome}`;
      await setState(tx, membership.versionId, 'paused', reason.slice(0, 500));
      await recordAudit(tx, {
        actorTokenId: null,
        action: 'rollout.pause',
        entity: 'version',
        entityId: `${membership.model}@${membership.number}`,
        detail: { automatic: true, failed, reported, maxFailureShare: policy!.maxFailureShare, deviceId },
      });
      paused = true;
    });
  }
  if (paused) ctx.invalidate('lookups');
}

// Resolvers of schema.graphql. Reads go to the database through per-request
// loaders (DataLoader batches the license, customer and tier lookups of one
// query into one SQL statement each); every change goes through the same
// store functions as the REST routes, with the same validation, audit rows
// and cache invalidation. Who may read which field is decided in access.ts,
// not here; the roots below only narrow what a role sees (a publisher's own
// models, a device's own record).
import DataLoader from 'dataloader';
import { and, asc, count, desc, eq, gt, inArray, lt, type SQL } from 'drizzle-orm';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import type { Principal } from '../auth.ts';
import type { LicenseRow, ServerContext } from '../context.ts';
import { auditLog, customers, devices, licenses, models, segments, tiers, versions, versionSegments } from '../db/schema.ts';
import { ChangeTierBody, PauseBody, ReleaseBody, SetExpiryBody, WidenBody } from '../api-schemas.ts';
import { HttpError } from '../http-error.ts';
import { parseInput } from '../validate.ts';
import { grantedIntervals, isPlausibleBase, sameIntervals, sortedUnique } from '../license-grant.ts';
import { artifactSize, ensureArtifact, ensurePatch, loadVersionInfo, type VersionInfo } from '../store/artifact-store.ts';
import { latestPublished, versionByNumber } from '../store/licenses.ts';
import { changeLicenseTier, revokeLicense, setLicenseExpiry } from '../store/license-changes.ts';
import { releaseVersion, withdrawVersion } from '../store/version-states.ts';
import { pauseRollout, resumeRollout, rolloutStatus, widenRollout, type RolloutView } from '../store/rollouts.ts';
import { FormatError } from '../../formats/index.ts';
import { forbidden } from './access.ts';

/** What every resolver receives. */
export interface GraphQLContext {
  ctx: ServerContext;
  principal: Principal;
  loaders: Loaders;
}

type VersionRow = typeof versions.$inferSelect;
type DeviceRow = typeof devices.$inferSelect;
type CustomerRow = typeof customers.$inferSelect;
type ModelRow = typeof models.$inferSelect;
type TierRow = typeof tiers.$inferSelect;
/** A version as the resolvers pass it on: its row and its model's name. */
type VersionNode = VersionRow & { model: string };
type LicenseNode = LicenseRow & { model: string };

export const MAX_PAGE = 1000;

export interface Loaders {
  license: DataLoader<number, LicenseNode | null>;
  customer: DataLoader<number, CustomerRow | null>;
  tiers: DataLoader<number, TierRow[]>;
  deviceCount: DataLoader<number, number>;
  /** "modelId:number" -> that version, once per request (a device list names few versions). */
  version(modelId: number, number: number): Promise<VersionInfo | undefined>;
}

export function createLoaders(ctx: ServerContext): Loaders {
  const versionMemo = new Map<string, Promise<VersionInfo | undefined>>();
  const byId = <T extends { id: number }>(rows: T[], ids: readonly number[]) => {
    const map = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => map.get(id) ?? null);
  };
  return {
    license: new DataLoader(async (ids) => {
      const rows = await ctx.db
        .select({ license: licenses, model: models.name })
        .from(licenses)
        .innerJoin(models, eq(models.id, licenses.modelId))
        .where(inArray(licenses.id, [...ids]));
      return byId(
        rows.map((r) => ({ ...r.license, model: r.model })),
        ids,
      );
    }),
    customer: new DataLoader(async (ids) =>
      byId(
        await ctx.db
          .select()
          .from(customers)
          .where(inArray(customers.id, [...ids])),
        ids,
      ),
    ),
    tiers: new DataLoader(async (ids) => {
      const rows = await ctx.db
        .select()
        .from(tiers)
        .where(inArray(tiers.versionId, [...ids]))
        .orderBy(asc(tiers.accuracy));
      return ids.map((id) => rows.filter((row) => row.versionId === id));
    }),
    deviceCount: new DataLoader(async (ids) => {
      const rows = await ctx.db
        .select({ licenseId: devices.licenseId, count: count() })
        .from(devices)
        .where(inArray(devices.licenseId, [...ids]))
        .groupBy(devices.licenseId);
      const counts = new Map(rows.map((row) => [row.licenseId, Number(row.count)]));
      return ids.map((id) => counts.get(id) ?? 0);
    }),
    version(modelId, number) {
      const key = `${modelId}:${number}`;
      let found = versionMemo.get(key);
      if (!found) {
        found = versionByNumber(ctx, modelId, number);
        versionMemo.set(key, found);
      }
      return found;
    },
  };
}

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_INPUT', status: 400 } });
}

/** `first` checked against 1..MAX_PAGE, `after` parsed as the integer cursor it is. */
function page(args: { first?: number | null; after?: string | null }): { first: number; after: number | undefined } {
  const first = args.first ?? 100;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput(`"first" must be between 1 and ${MAX_PAGE}, got ${first}`);
  if (args.after === undefined || args.after === null) return { first, after: undefined };
  if (!/^\d{1,10}$/.test(args.after)) throw badInput(`"after" must be a cursor from a page's pageInfo.endCursor, got "${args.after.slice(0, 40)}"`);
  return { first, after: Number(args.after) };
}

/** A page from `first + 1` fetched rows: the extra one only says there is more. */
function pageOf<T>(rows: T[], first: number, cursor: (row: T) => number) {
  const nodes = rows.slice(0, first);
  const last = nodes[nodes.length - 1];
  return { nodes, pageInfo: { endCursor: last === undefined ? null : String(cursor(last)), hasNextPage: rows.length > first } };
}

async function versionInfoOf(g: GraphQLContext, row: VersionRow): Promise<VersionInfo> {
  return loadVersionInfo(g.ctx, row.id);
}

/** The model a publisher may see: its own (admins: any). */
function visibleModel(principal: Principal, row: ModelRow): boolean {
  return principal.role === 'admin' || row.ownerTokenId === principal.tokenId;
}

async function versionNode(g: GraphQLContext, model: string, number: number): Promise<VersionNode> {
  const [row] = await g.ctx.db
    .select({ version: versions, model: models.name })
    .from(versions)
    .innerJoin(models, eq(models.id, versions.modelId))
    .where(and(eq(models.name, model), eq(versions.number, number)))
    .limit(1);
  if (!row) throw new GraphQLError(`model "${model}" has no version ${number}`, { extensions: { code: 'VERSION_UNKNOWN', status: 404 } });
  return { ...row.version, model: row.model };
}

/** The tier whose intervals are exactly `held` at `version`, if any. */
function tierOf(version: VersionInfo, held: readonly number[]): string | null {
  return version.tiers.find((tier) => sameIntervals(sortedUnique(tier.intervals), held))?.name ?? null;
}

export const resolvers = {
  JSON: new GraphQLScalarType({
    name: 'JSON',
    serialize: (value) => value,
    parseValue: (value) => value,
    parseLiteral: () => {
      throw badInput('JSON values cannot be written inline');
    },
  }),
  DateTime: new GraphQLScalarType({
    name: 'DateTime',
    serialize: (value) => (value instanceof Date ? value.toISOString() : value),
    parseValue: (value) => {
      const parsed = parseInput(SetExpiryBody, { expiresAt: value }, 'argument').expiresAt;
      return parsed === null ? null : new Date(parsed);
    },
    parseLiteral: (ast) => {
      if (ast.kind !== Kind.STRING) throw badInput('a DateTime is an ISO 8601 string, e.g. "2027-01-01T00:00:00Z"');
      const parsed = parseInput(SetExpiryBody, { expiresAt: ast.value }, 'argument').expiresAt;
      return parsed === null ? null : new Date(parsed);
    },
  }),
  InstallOutcome: { installed: 'installed', rolled_back: 'rolled-back', refused: 'refused' },

  Query: {
    me: (_: unknown, __: unknown, g: GraphQLContext) => ({ role: g.principal.role, tokenId: g.principal.tokenId }),

    async models(_: unknown, args: { first?: number; after?: string }, g: GraphQLContext) {
      const { first, after } = page(args);
      const conditions: Array<SQL | undefined> = [after === undefined ? undefined : gt(models.id, after)];
      if (g.principal.role === 'publisher') conditions.push(eq(models.ownerTokenId, g.principal.tokenId));
      const rows = await g.ctx.db
        .select()
        .from(models)
        .where(and(...conditions))
        .orderBy(asc(models.id))
        .limit(first + 1);
      return pageOf(rows, first, (row) => row.id);
    },

    async model(_: unknown, args: { name: string }, g: GraphQLContext) {
      const [row] = await g.ctx.db.select().from(models).where(eq(models.name, args.name)).limit(1);
      if (!row) return null;
      if (!visibleModel(g.principal, row)) throw forbidden(`model "${args.name}" belongs to another publisher token`);
      return row;
    },

    async customers(_: unknown, args: { first?: number; after?: string }, g: GraphQLContext) {
      const { first, after } = page(args);
      const rows = await g.ctx.db
        .select()
        .from(customers)
        .where(after === undefined ? undefined : gt(customers.id, after))
        .orderBy(asc(customers.id))
        .limit(first + 1);
      return pageOf(rows, first, (row) => row.id);
    },

    async licenses(_: unknown, args: { first?: number; after?: string; customerId?: number; model?: string }, g: GraphQLContext) {
      const { first, after } = page(args);
      const rows = await g.ctx.db
        .select({ license: licenses, model: models.name })
        .from(licenses)
        .innerJoin(models, eq(models.id, licenses.modelId))
        .where(
          and(
            after === undefined ? undefined : gt(licenses.id, after),
            args.customerId == null ? undefined : eq(licenses.customerId, args.customerId),
            args.model == null ? undefined : eq(models.name, args.model),
          ),
        )
        .orderBy(asc(licenses.id))
        .limit(first + 1);
      return pageOf(
        rows.map((r) => ({ ...r.license, model: r.model })),
        first,
        (row) => row.id,
      );
    },

    async license(_: unknown, args: { id: number }, g: GraphQLContext) {
      if (g.principal.role === 'device' && args.id !== g.principal.licenseId) throw forbidden('a device token may read only its own license');
      return g.loaders.license.load(args.id);
    },

    async devices(_: unknown, args: { first?: number; after?: string; licenseId?: number; state?: string }, g: GraphQLContext) {
      const { first, after } = page(args);
      const rows = await g.ctx.db
        .select()
        .from(devices)
        .where(
          and(
            after === undefined ? undefined : gt(devices.id, after),
            args.licenseId == null ? undefined : eq(devices.licenseId, args.licenseId),
            args.state == null ? undefined : eq(devices.lastOutcome, args.state as DeviceRow['lastOutcome'] & string),
          ),
        )
        .orderBy(asc(devices.id))
        .limit(first + 1);
      return pageOf(rows, first, (row) => row.id);
    },

    async device(_: unknown, args: { id: number }, g: GraphQLContext) {
      if (g.principal.role === 'device' && args.id !== g.principal.deviceId) throw forbidden('a device token may read only its own device');
      const [row] = await g.ctx.db.select().from(devices).where(eq(devices.id, args.id)).limit(1);
      return row ?? null;
    },

    async audit(_: unknown, args: { first?: number; after?: string; entity?: string }, g: GraphQLContext) {
      const { first, after } = page(args);
      const rows = await g.ctx.db
        .select()
        .from(auditLog)
        .where(and(after === undefined ? undefined : lt(auditLog.id, after), args.entity == null ? undefined : eq(auditLog.entity, args.entity)))
        .orderBy(desc(auditLog.id))
        .limit(first + 1);
      return pageOf(rows, first, (row) => row.id);
    },
  },

  Mutation: {
    async changeLicenseTier(_: unknown, args: { id: number; tier?: string | null; intervals?: number[] | null }, g: GraphQLContext) {
      const grant = parseInput(ChangeTierBody, { tier: args.tier ?? undefined, intervals: args.intervals ?? undefined }, 'argument');
      const view = await changeLicenseTier(g.ctx, g.principal.tokenId, args.id, grant);
      g.loaders.license.clear(view.id);
      return g.loaders.license.load(view.id);
    },
    async revokeLicense(_: unknown, args: { id: number }, g: GraphQLContext) {
      const view = await revokeLicense(g.ctx, g.principal.tokenId, args.id);
      g.loaders.license.clear(view.id);
      return g.loaders.license.load(view.id);
    },
    async setLicenseExpiry(_: unknown, args: { id: number; expiresAt?: Date | null }, g: GraphQLContext) {
      const view = await setLicenseExpiry(g.ctx, g.principal.tokenId, args.id, args.expiresAt ?? null);
      g.loaders.license.clear(view.id);
      return g.loaders.license.load(view.id);
    },
    async releaseVersion(_: unknown, args: { model: string; number: number; stage?: Record<string, unknown> | null }, g: GraphQLContext) {
      const stage = parseInput(ReleaseBody, withoutNulls(args.stage ?? {}), 'argument');
      const wholeFleet = stage.percent === 100 || (stage.percent === undefined && stage.group === undefined);
      await releaseVersion(
        g.ctx,
        g.principal,
        args.model,
        args.number,
        wholeFleet
          ? undefined
          : { stage: { percent: stage.percent, group: stage.group }, policy: { maxFailureShare: stage.maxFailurePercent / 100, minReports: stage.minReports } },
      );
      return versionNode(g, args.model, args.number);
    },
    async widenRollout(_: unknown, args: { model: string; number: number; percent?: number | null; group?: string | null }, g: GraphQLContext) {
      const stage = parseInput(WidenBody, withoutNulls({ percent: args.percent, group: args.group }), 'argument');
      return widenRollout(g.ctx, g.principal, args.model, args.number, stage);
    },
    async pauseRollout(_: unknown, args: { model: string; number: number; reason?: string | null }, g: GraphQLContext) {
      const { reason } = parseInput(PauseBody, withoutNulls({ reason: args.reason }), 'argument');
      return pauseRollout(g.ctx, g.principal, args.model, args.number, reason);
    },
    resumeRollout: (_: unknown, args: { model: string; number: number }, g: GraphQLContext) => resumeRollout(g.ctx, g.principal, args.model, args.number),
    async withdrawVersion(_: unknown, args: { model: string; number: number }, g: GraphQLContext) {
      await withdrawVersion(g.ctx, g.principal, args.model, args.number);
      return versionNode(g, args.model, args.number);
    },
  },

  Me: {
    async device(_: unknown, __: unknown, g: GraphQLContext) {
      if (g.principal.deviceId === null) return null;
      const [row] = await g.ctx.db.select().from(devices).where(eq(devices.id, g.principal.deviceId)).limit(1);
      return row ?? null;
    },
    license: (_: unknown, __: unknown, g: GraphQLContext) => (g.principal.licenseId === null ? null : g.loaders.license.load(g.principal.licenseId)),
  },

  Model: {
    createdAt: (row: ModelRow) => row.createdAt,
    async latest(row: ModelRow, _: unknown, g: GraphQLContext) {
      const info = await latestPublished(g.ctx, row.id);
      return info ? versionNode(g, row.name, info.number) : null;
    },
    async version(row: ModelRow, args: { number: number }, g: GraphQLContext) {
      const [found] = await g.ctx.db
        .select()
        .from(versions)
        .where(and(eq(versions.modelId, row.id), eq(versions.number, args.number)))
        .limit(1);
      return found ? { ...found, model: row.name } : null;
    },
    async versions(row: ModelRow, args: { first?: number; after?: string }, g: GraphQLContext) {
      const { first, after } = page(args);
      const rows = await g.ctx.db
        .select()
        .from(versions)
        .where(and(eq(versions.modelId, row.id), after === undefined ? undefined : gt(versions.number, after)))
        .orderBy(asc(versions.number))
        .limit(first + 1);
      return pageOf(
        rows.map((v) => ({ ...v, model: row.name })),
        first,
        (v) => v.number,
      );
    },
  },

  Version: {
    async rollout(row: VersionNode, _: unknown, g: GraphQLContext) {
      try {
        return await rolloutStatus(g.ctx, row.model, row.number);
      } catch (error) {
        if (error instanceof HttpError && error.code === 'NO_ROLLOUT') return null;
        throw error;
      }
    },
    async bytes(row: VersionNode, _: unknown, g: GraphQLContext) {
      const info = await versionInfoOf(g, row);
      return artifactSize(g.ctx, info, info.intervals);
    },
    async tiers(row: VersionNode, _: unknown, g: GraphQLContext) {
      const info = await versionInfoOf(g, row);
      const rows = await g.loaders.tiers.load(row.id);
      return Promise.all(
        rows.map(async (tier) => ({
          name: tier.name,
          intervals: sortedUnique(tier.intervals),
          accuracy: tier.accuracy,
          bytes: await artifactSize(g.ctx, info, sortedUnique(tier.intervals)),
        })),
      );
    },
    async segments(row: VersionNode, _: unknown, g: GraphQLContext) {
      // Every segment of every version of the model, oldest version first:
      // a segment last changed in the newest version up to this one whose
      // bytes at that (tensor, interval) differ from the version before it.
      const rows = await g.ctx.db
        .select({
          number: versions.number,
          ordinal: versionSegments.ordinal,
          tensor: versionSegments.tensor,
          interval: versionSegments.interval,
          sha256: versionSegments.segmentSha256,
          bytes: segments.bytes,
        })
        .from(versionSegments)
        .innerJoin(versions, eq(versions.id, versionSegments.versionId))
        .innerJoin(segments, eq(segments.sha256, versionSegments.segmentSha256))
        .where(and(eq(versions.modelId, row.modelId), lt(versions.number, row.number + 1)))
        .orderBy(asc(versions.number), asc(versionSegments.ordinal));
      const last = new Map<string, { sha256: string; since: number }>();
      for (const segment of rows) {
        const key = `${segment.tensor}:${segment.interval}`;
        const seen = last.get(key);
        if (!seen || seen.sha256 !== segment.sha256) last.set(key, { sha256: segment.sha256, since: segment.number });
      }
      return rows
        .filter((segment) => segment.number === row.number)
        .map((segment) => ({ ...segment, lastChangedIn: last.get(`${segment.tensor}:${segment.interval}`)!.since }));
    },
  },

  Customer: {
    async licenses(row: CustomerRow, _: unknown, g: GraphQLContext) {
      const rows = await g.ctx.db
        .select({ license: licenses, model: models.name })
        .from(licenses)
        .innerJoin(models, eq(models.id, licenses.modelId))
        .where(eq(licenses.customerId, row.id))
        .orderBy(asc(licenses.id));
      return rows.map((r) => ({ ...r.license, model: r.model }));
    },
  },

  License: {
    customer: (row: LicenseNode, _: unknown, g: GraphQLContext) => g.loaders.customer.load(row.customerId),
    async grant(row: LicenseNode, _: unknown, g: GraphQLContext) {
      const latest = await latestPublished(g.ctx, row.modelId);
      if (!latest) return null;
      let intervals: number[];
      try {
        intervals = grantedIntervals(row, latest);
      } catch {
        return null; // the tier does not exist in the newest version (the update check answers 409)
      }
      const tier = tierOf(latest, intervals);
      const accuracy = tier === null ? null : ((await g.loaders.tiers.load(latest.id)).find((t) => t.name === tier)?.accuracy ?? null);
      return { version: latest.number, intervals, tier, accuracy, size: () => artifactSize(g.ctx, latest, intervals) };
    },
    async devices(row: LicenseNode, args: { first?: number; after?: string }, g: GraphQLContext) {
      const { first, after } = page(args);
      const rows = await g.ctx.db
        .select()
        .from(devices)
        .where(and(eq(devices.licenseId, row.id), after === undefined ? undefined : gt(devices.id, after)))
        .orderBy(asc(devices.id))
        .limit(first + 1);
      return pageOf(rows, first, (d) => d.id);
    },
    deviceCount: (row: LicenseNode, _: unknown, g: GraphQLContext) => g.loaders.deviceCount.load(row.id),
    async tierChange(row: LicenseNode, args: { tier: string }, g: GraphQLContext) {
      return tierChange(g, row, args.tier);
    },
  },

  Grant: {
    // Assembled only when asked for.
    bytes: (grant: { size: () => Promise<number> }) => grant.size(),
  },

  Device: {
    license: (row: DeviceRow, _: unknown, g: GraphQLContext) => g.loaders.license.load(row.licenseId),
    version: (row: DeviceRow) => row.reportedVersion,
    heldIntervals: (row: DeviceRow) => row.reportedHeldIntervals,
    sha256: (row: DeviceRow) => row.reportedSha256,
    slot: (row: DeviceRow) => row.reportedSlot,
    downloadBytes: (row: DeviceRow) => row.lastDownloadBytes,
    tier: async (row: DeviceRow, _: unknown, g: GraphQLContext) => (await deviceTier(g, row))?.name ?? null,
    accuracy: async (row: DeviceRow, _: unknown, g: GraphQLContext) => (await deviceTier(g, row))?.accuracy ?? null,
  },

  Rollout: {
    maxFailurePercent: (row: RolloutView) => row.maxFailureShare * 100,
  },

  AuditEntry: {
    detail: (row: typeof auditLog.$inferSelect) => row.detail,
  },
};

/** The tier a device's reported intervals form at its reported version, with its accuracy. */
async function deviceTier(g: GraphQLContext, row: DeviceRow): Promise<{ name: string; accuracy: number } | null> {
  if (!row.reportedVersion || !row.reportedHeldIntervals) return null;
  const license = await g.loaders.license.load(row.licenseId);
  const version = license ? await g.loaders.version(license.modelId, row.reportedVersion) : undefined;
  const name = version ? tierOf(version, sortedUnique(row.reportedHeldIntervals)) : null;
  if (!version || name === null) return null;
  const tier = (await g.loaders.tiers.load(version.id)).find((t) => t.name === name);
  return tier ? { name, accuracy: tier.accuracy } : null;
}

/**
 * What moving a license to `tier` costs: the newest version's artifact at
 * that tier, and for each of its devices the download from what it last
 * reported running (a patch when the update check would offer one). The
 * patches are built now and kept, as the update check would build them: the
 * devices then find them ready.
 */
async function tierChange(g: GraphQLContext, license: LicenseNode, tierName: string) {
  const latest = await latestPublished(g.ctx, license.modelId);
  if (!latest) throw new GraphQLError(`model "${license.model}" has no published version`, { extensions: { code: 'NO_PUBLISHED_VERSION', status: 404 } });
  const tier = (await g.loaders.tiers.load(latest.id)).find((t) => t.name === tierName);
  if (!tier) {
    throw badInput(`version ${latest.number} of "${license.model}" has no tier "${tierName}" (it has: ${latest.tiers.map((t) => t.name).join(', ')})`);
  }
  const intervals = sortedUnique(tier.intervals);
  const target = await ensureArtifact(g.ctx, latest, intervals);
  const proposed = { ...license, tier: tierName, intervals: null };
  const rows = await g.ctx.db.select().from(devices).where(eq(devices.licenseId, license.id)).orderBy(asc(devices.id));
  const costs = new Map<string, Promise<{ bytes: number; patch: boolean }>>();
  const costOf = (device: DeviceRow) => {
    const held = sortedUnique(device.reportedHeldIntervals ?? []);
    const key = `${device.reportedVersion ?? 0}|${held.join(',')}`;
    let cost = costs.get(key);
    if (!cost) {
      cost = (async () => {
        if (device.reportedVersion === latest.number && sameIntervals(held, intervals)) return { bytes: 0, patch: false };
        const base = device.reportedVersion ? await versionByNumber(g.ctx, license.modelId, device.reportedVersion) : undefined;
        if (base && base.state !== 'draft' && (isPlausibleBase(proposed, base, held) || isPlausibleBase(license, base, held))) {
          try {
            const { record } = await ensurePatch(g.ctx, await ensureArtifact(g.ctx, base, held), target);
            return { bytes: record.bytes, patch: true };
          } catch (error) {
            if (!(error instanceof FormatError)) throw error;
          }
        }
        return { bytes: target.bytes, patch: false };
      })();
      costs.set(key, cost);
    }
    return cost;
  };
  const perDevice = await Promise.all(rows.map(async (device) => ({ device, ...(await costOf(device)) })));
  return {
    tier: tierName,
    version: latest.number,
    intervals,
    accuracy: tier.accuracy,
    artifactBytes: target.bytes,
    totalBytes: perDevice.reduce((sum, d) => sum + d.bytes, 0),
    devices: perDevice,
  };
}

/** GraphQL hands omitted and null arguments alike; the REST body schemas mean "absent" by a missing key. */
function withoutNulls(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null && value !== undefined));
}

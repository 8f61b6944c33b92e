// Artifacts and patches on demand. An artifact is (version, intervals)
// assembled from stored segments; its SHA-256 is recorded so that the
// content-addressed URL /v1/artifacts/<sha256> can be mapped back. A patch is
// built from two such artifacts and stored by (from, to). Both kinds of bytes
// are immutable, so the in-memory caches never need invalidating.
import { and, asc, eq, sql } from 'drizzle-orm';
import {
  artifactOfVerifiedParts,
  assembleArtifact,
  diffReadArtifacts,
  readManifest,
  sha256Hex,
  type Artifact,
  type ReleaseParts,
} from '../../formats/index.ts';
import type { Db } from '../db/connect.ts';
import { artifacts, patches, segments, tiers, versions, versionSegments, type VersionState } from '../db/schema.ts';
import type { ServerContext } from '../context.ts';
import { intervalsKey, type VersionTiers } from '../license-grant.ts';
import { notFound } from '../http-error.ts';
import type { Content } from '../ttl-cache.ts';

export interface VersionInfo extends VersionTiers {
  id: number;
  modelId: number;
  state: VersionState;
}

export interface ArtifactRecord {
  sha256: string;
  versionId: number;
  intervals: number[];
  bytes: number;
}

export interface PatchRecord {
  fromSha256: string;
  toSha256: string;
  sha256: string;
  bytes: number;
}

export async function loadVersionInfo(ctx: ServerContext, versionId: number): Promise<VersionInfo> {
  const info = await ctx.caches.versions.load(versionId, async () => {
    const [row] = await ctx.db.select().from(versions).where(eq(versions.id, versionId)).limit(1);
    return row ? toVersionInfo(ctx.db, row) : undefined;
  });
  if (!info) throw notFound('VERSION_UNKNOWN', `no version with id ${versionId}`);
  return info;
}

export async function toVersionInfo(db: Db, row: typeof versions.$inferSelect): Promise<VersionInfo> {
  const tierRows = await db.select().from(tiers).where(eq(tiers.versionId, row.id));
  return {
    id: row.id,
    modelId: row.modelId,
    number: row.number,
    state: row.state,
    intervals: row.intervals,
    tiers: tierRows.map((t) => ({ name: t.name, intervals: t.intervals })),
  };
}

/** The stored pieces of a version, in the order they were published. */
export async function loadReleaseParts(ctx: ServerContext, versionId: number): Promise<ReleaseParts> {
  const cached = ctx.caches.parts.get(versionId);
  if (cached) return cached;
  const [version] = await ctx.db
    .select({ manifest: versions.manifest, signature: versions.signature })
    .from(versions)
    .where(eq(versions.id, versionId))
    .limit(1);
  if (!version) throw notFound('VERSION_UNKNOWN', `no version with id ${versionId}`);
  const rows = await ctx.db
    .select({ tensor: versionSegments.tensor, interval: versionSegments.interval, data: segments.data })
    .from(versionSegments)
    .innerJoin(segments, eq(segments.sha256, versionSegments.segmentSha256))
    .where(eq(versionSegments.versionId, versionId))
    .orderBy(asc(versionSegments.ordinal));
  const parts: ReleaseParts = { manifestBytes: version.manifest, signature: version.signature, segments: rows };
  ctx.caches.parts.set(versionId, parts);
  return parts;
}

/** Assembles (or finds) the artifact of `version` holding `intervals` and records its hash. */
export async function ensureArtifact(ctx: ServerContext, version: VersionInfo, intervals: number[]): Promise<ArtifactRecord> {
  const key = intervalsKey(intervals);
  // Concurrent first checks for one (version, intervals), as a fleet makes
  // after a change, share one lookup (or assembly) instead of one each.
  const record = await ctx.caches.assembled.load(`${version.id}:${key}`, async () => {
    ctx.work.artifactLoads++;
    const [existing] = await ctx.db
      .select()
      .from(artifacts)
      .where(and(eq(artifacts.versionId, version.id), eq(artifacts.intervalsKey, key)))
      .limit(1);
    if (existing) {
      const found = toRecord(existing);
      ctx.caches.artifacts.set(found.sha256, found);
      return found;
    }
    const bytes = assembleArtifact(await loadReleaseParts(ctx, version.id), intervals);
    const made: ArtifactRecord = { sha256: sha256Hex(bytes), versionId: version.id, intervals, bytes: bytes.byteLength };
    await ctx.db
      .insert(artifacts)
      .values({ ...made, intervalsKey: key })
      .onConflictDoNothing();
    ctx.caches.artifacts.set(made.sha256, made);
    ctx.caches.content.set(made.sha256, { data: bytes, sha256: made.sha256 });
    return made;
  });
  return record!;
}

/** Bytes of the artifact of `version` holding `intervals`, assembled if need be but not recorded (a query, not a download). */
export async function artifactSize(ctx: ServerContext, version: VersionInfo, intervals: number[]): Promise<number> {
  const memoKey = `${version.id}:${intervalsKey(intervals)}`;
  const known = ctx.caches.assembled.get(memoKey)?.bytes ?? ctx.caches.sizes.get(memoKey);
  if (known !== undefined) return known;
  const bytes = assembleArtifact(await loadReleaseParts(ctx, version.id), intervals).byteLength;
  ctx.caches.sizes.set(memoKey, bytes);
  return bytes;
}

export async function findArtifact(ctx: ServerContext, sha256: string): Promise<ArtifactRecord | undefined> {
  const cached = ctx.caches.artifacts.get(sha256);
  if (cached) return cached;
  const [row] = await ctx.db.select().from(artifacts).where(eq(artifacts.sha256, sha256)).limit(1);
  if (!row) return undefined;
  const record = toRecord(row);
  ctx.caches.artifacts.set(sha256, record);
  return record;
}

export async function artifactBytes(ctx: ServerContext, record: ArtifactRecord): Promise<Uint8Array> {
  const cached = ctx.caches.content.get(record.sha256);
  if (cached) return cached.data;
  const bytes = assembleArtifact(await loadReleaseParts(ctx, record.versionId), record.intervals);
  ctx.caches.content.set(record.sha256, { data: bytes, sha256: record.sha256 });
  return bytes;
}

export const patchKey = (from: string, to: string) => `${from}>${to}`;

/**
 * Builds (or finds) the patch from one recorded artifact to another, once:
 * concurrent first requests on this server share one build (single flight),
 * and servers sharing a database take a transaction-scoped advisory lock on
 * the pair before building, so one of them builds and the others find its
 * row (the (from, to) primary key keeps it unique either way). Built from
 * the stored parts, verified when they were published: no artifact is read
 * back, and the work grows with the segments that differ.
 */
export async function ensurePatch(ctx: ServerContext, from: ArtifactRecord, to: ArtifactRecord): Promise<{ record: PatchRecord; bytes: Uint8Array }> {
  const key = patchKey(from.sha256, to.sha256);
  const cached = ctx.caches.content.get(key);
  if (cached) {
    return { record: { fromSha256: from.sha256, toSha256: to.sha256, sha256: cached.sha256, bytes: cached.data.byteLength }, bytes: cached.data };
  }
  const flying = ctx.work.patchFlights.get(key);
  if (flying) return flying;
  const flight = findOrBuildPatch(ctx, from, to).finally(() => ctx.work.patchFlights.delete(key));
  ctx.work.patchFlights.set(key, flight);
  return flight;
}

async function findOrBuildPatch(ctx: ServerContext, from: ArtifactRecord, to: ArtifactRecord): Promise<{ record: PatchRecord; bytes: Uint8Array }> {
  const key = patchKey(from.sha256, to.sha256);
  const stored = async (db: Db) => {
    const [row] = await db
      .select()
      .from(patches)
      .where(and(eq(patches.fromSha256, from.sha256), eq(patches.toSha256, to.sha256)))
      .limit(1);
    return row;
  };
  const remember = (record: PatchRecord, bytes: Uint8Array) => {
    ctx.caches.content.set(key, { data: bytes, sha256: record.sha256 });
    return { record, bytes };
  };
  const row = await stored(ctx.db);
  if (row) return remember({ fromSha256: row.fromSha256, toSha256: row.toSha256, sha256: row.sha256, bytes: row.bytes }, row.data);
  // Everything the build reads, before the transaction (PGlite has one session).
  const [a, b] = await Promise.all([verifiedArtifact(ctx, from), verifiedArtifact(ctx, to)]);
  return ctx.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${key}))`);
    const other = await stored(tx);
    if (other) return remember({ fromSha256: other.fromSha256, toSha256: other.toSha256, sha256: other.sha256, bytes: other.bytes }, other.data);
    const data = diffReadArtifacts(a, b);
    ctx.work.patchesBuilt++;
    const record: PatchRecord = { fromSha256: from.sha256, toSha256: to.sha256, sha256: sha256Hex(data), bytes: data.byteLength };
    await tx
      .insert(patches)
      .values({ ...record, data })
      .onConflictDoNothing();
    return remember(record, data);
  });
}

/** The recorded artifact as an Artifact over its version's stored parts (parsed manifest cached per version). */
async function verifiedArtifact(ctx: ServerContext, record: ArtifactRecord): Promise<Artifact> {
  const parts = await loadReleaseParts(ctx, record.versionId);
  let manifest = ctx.caches.manifests.get(record.versionId);
  if (!manifest) {
    manifest = readManifest(parts.manifestBytes);
    ctx.caches.manifests.set(record.versionId, manifest);
  }
  const artifact = artifactOfVerifiedParts(parts, record.intervals, manifest);
  if (artifact.sha256 !== record.sha256) {
    throw new Error(`stored parts of version ${record.versionId} assemble to ${artifact.sha256.slice(0, 12)}…, recorded as ${record.sha256.slice(0, 12)}…`);
  }
  return artifact;
}

/** Patch bytes and hash from the memory cache, else the database, else built. */
export async function patchContent(ctx: ServerContext, from: ArtifactRecord, to: ArtifactRecord): Promise<Content> {
  const cached = ctx.caches.content.get(patchKey(from.sha256, to.sha256));
  if (cached) return cached;
  const { record, bytes } = await ensurePatch(ctx, from, to);
  return { data: bytes, sha256: record.sha256 };
}

function toRecord(row: typeof artifacts.$inferSelect): ArtifactRecord {
  return { sha256: row.sha256, versionId: row.versionId, intervals: row.intervals, bytes: row.bytes };
}

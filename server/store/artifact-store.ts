// Artifacts and patches on demand. An artifact is (version, intervals)
// assembled from stored segments; its SHA-256 is recorded so that the
// content-addressed URL /v1/artifacts/<sha256> can be mapped back. A patch is
// built from two such artifacts and stored by (from, to). Both kinds of bytes
// are immutable, so the in-memory caches never need invalidating.
import { and, asc, eq } from 'drizzle-orm';
import { assembleArtifact, diffArtifacts, sha256Hex, type ReleaseParts } from '../../formats/index.ts';
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
  const memoKey = `${version.id}:${key}`;
  const memo = ctx.caches.assembled.get(memoKey);
  if (memo) return memo;
  const [existing] = await ctx.db
    .select()
    .from(artifacts)
    .where(and(eq(artifacts.versionId, version.id), eq(artifacts.intervalsKey, key)))
    .limit(1);
  if (existing) {
    const record = toRecord(existing);
    ctx.caches.artifacts.set(record.sha256, record);
    ctx.caches.assembled.set(memoKey, record);
    return record;
  }
  const bytes = assembleArtifact(await loadReleaseParts(ctx, version.id), intervals);
  const record: ArtifactRecord = { sha256: sha256Hex(bytes), versionId: version.id, intervals, bytes: bytes.byteLength };
  await ctx.db
    .insert(artifacts)
    .values({ ...record, intervalsKey: key })
    .onConflictDoNothing();
  ctx.caches.artifacts.set(record.sha256, record);
  ctx.caches.assembled.set(memoKey, record);
  ctx.caches.content.set(record.sha256, { data: bytes, sha256: record.sha256 });
  return record;
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

/** Builds (or finds) the patch from one recorded artifact to another. */
export async function ensurePatch(ctx: ServerContext, from: ArtifactRecord, to: ArtifactRecord): Promise<{ record: PatchRecord; bytes: Uint8Array }> {
  const key = patchKey(from.sha256, to.sha256);
  const cached = ctx.caches.content.get(key);
  if (cached) {
    return { record: { fromSha256: from.sha256, toSha256: to.sha256, sha256: cached.sha256, bytes: cached.data.byteLength }, bytes: cached.data };
  }
  const [row] = await ctx.db
    .select()
    .from(patches)
    .where(and(eq(patches.fromSha256, from.sha256), eq(patches.toSha256, to.sha256)))
    .limit(1);
  if (row) {
    ctx.caches.content.set(key, { data: row.data, sha256: row.sha256 });
    return { record: { fromSha256: row.fromSha256, toSha256: row.toSha256, sha256: row.sha256, bytes: row.bytes }, bytes: row.data };
  }
  const data = diffArtifacts(await artifactBytes(ctx, from), await artifactBytes(ctx, to));
  const record: PatchRecord = { fromSha256: from.sha256, toSha256: to.sha256, sha256: sha256Hex(data), bytes: data.byteLength };
  await ctx.db
    .insert(patches)
    .values({ ...record, data })
    .onConflictDoNothing();
  ctx.caches.content.set(key, { data, sha256: record.sha256 });
  return { record, bytes: data };
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

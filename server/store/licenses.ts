// License lookups on the device path, cached for settings.authCacheMs.
import { and, eq } from 'drizzle-orm';
import { licenses, models, versions } from '../db/schema.ts';
import { offerLadder } from './rollouts.ts';
import type { LicenseRow, ServerContext } from '../context.ts';
import { notFound } from '../http-error.ts';
import { loadVersionInfo, type VersionInfo } from './artifact-store.ts';

export async function loadLicense(ctx: ServerContext, licenseId: number): Promise<LicenseRow> {
  const row = await ctx.caches.licenses.load(licenseId, async () => {
    const [found] = await ctx.db.select().from(licenses).where(eq(licenses.id, licenseId)).limit(1);
    return found;
  });
  if (!row) throw notFound('LICENSE_UNKNOWN', `no license with id ${licenseId}`);
  return row;
}

export async function modelName(ctx: ServerContext, modelId: number): Promise<string> {
  const cached = ctx.caches.modelNames.get(modelId);
  if (cached !== undefined) return cached;
  const [row] = await ctx.db.select({ name: models.name }).from(models).where(eq(models.id, modelId)).limit(1);
  if (!row) return `#${modelId}`;
  ctx.caches.modelNames.set(modelId, row.name);
  return row.name;
}

/** The newest published version of a model (staged or not), or undefined. */
export async function latestPublished(ctx: ServerContext, modelId: number): Promise<VersionInfo | undefined> {
  const [newest] = await offerLadder(ctx, modelId);
  return newest ? loadVersionInfo(ctx, newest.versionId) : undefined;
}

/**
 * A version of a model by number (published or withdrawn: a device may still
 * run a withdrawn one). The number's id never changes once the version
 * exists, so it is kept; the version itself comes from the versions cache.
 */
export async function versionByNumber(ctx: ServerContext, modelId: number, number: number): Promise<VersionInfo | undefined> {
  // One lookup for concurrent checks of devices running the same version.
  const id = await ctx.caches.versionIds.load(`${modelId}:${number}`, async () => {
    const [row] = await ctx.db
      .select({ id: versions.id })
      .from(versions)
      .where(and(eq(versions.modelId, modelId), eq(versions.number, number)))
      .limit(1);
    return row?.id;
  });
  if (id === undefined) return undefined;
  return loadVersionInfo(ctx, id);
}

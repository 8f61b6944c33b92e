// Content-addressed downloads: GET /v1/artifacts/<sha256> and
// GET /v1/patches/<from>/<to>. Any token may fetch; a device token only an
// artifact (or a patch whose target is an artifact) of its license's model
// whose intervals the license grants. Refusals never carry the bytes.
import { Hono } from 'hono';
import type { LicenseRow, ServerContext } from '../context.ts';
import { requireToken, type AuthEnv, type Principal } from '../auth.ts';
import { ArtifactParam, PatchParam } from '../api-schemas.ts';
import { parseInput } from '../validate.ts';
import { badRequest, forbidden, HttpError, notFound } from '../http-error.ts';
import { assertIntervalsGranted, assertLicenseActive } from '../license-grant.ts';
import { artifactBytes, findArtifact, loadVersionInfo, patchContent, type ArtifactRecord, type VersionInfo } from '../store/artifact-store.ts';
import { loadLicense } from '../store/licenses.ts';
import { contentResponse } from '../content-response.ts';

export function contentRoutes(ctx: ServerContext): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const anyToken = requireToken(ctx, 'admin', 'publisher', 'device');

  app.get('/v1/artifacts/:sha256', anyToken, async function getArtifact(c) {
    const { sha256 } = parseInput(ArtifactParam, c.req.param(), 'path');
    const record = await knownArtifact(ctx, sha256, 'artifact');
    await assertDeviceMayHave(ctx, c.get('principal'), record, 'artifact');
    return contentResponse(c.req.raw, await artifactBytes(ctx, record), sha256, c.req.method);
  });

  app.get('/v1/patches/:from/:to', anyToken, async function getPatch(c) {
    const { from, to } = parseInput(PatchParam, c.req.param(), 'path');
    const target = await knownArtifact(ctx, to, 'target artifact');
    await assertDeviceMayHave(ctx, c.get('principal'), target, 'target artifact');
    const base = await knownArtifact(ctx, from, 'base artifact');
    const [baseVersion, targetVersion] = await Promise.all([loadVersionInfo(ctx, base.versionId), loadVersionInfo(ctx, target.versionId)]);
    if (baseVersion.modelId !== targetVersion.modelId) {
      // A device must not learn that another model's artifact exists.
      if (c.get('principal').role === 'device') throw unknownArtifact(from, 'base artifact');
      throw badRequest('MODEL_MISMATCH', `the base artifact ${from} and the target ${to} are of different models`);
    }
    const patch = await patchContent(ctx, base, target);
    return contentResponse(c.req.raw, patch.data, patch.sha256, c.req.method);
  });

  return app;
}

function unknownArtifact(sha256: string, what: string): HttpError {
  return notFound('ARTIFACT_UNKNOWN', `no ${what} ${sha256} on this server; ask /v1/device/update-check for current URLs`);
}

async function knownArtifact(ctx: ServerContext, sha256: string, what: string): Promise<ArtifactRecord> {
  const record = await findArtifact(ctx, sha256);
  if (!record) throw unknownArtifact(sha256, what);
  return record;
}

/** For a device: checkDeviceAccess, where another model's artifact is answered exactly as an unknown one. */
async function assertDeviceMayHave(ctx: ServerContext, principal: Principal, record: ArtifactRecord, what: string): Promise<void> {
  if (principal.role !== 'device') return;
  const license = await loadLicense(ctx, principal.licenseId!);
  try {
    checkDeviceAccess(license, await loadVersionInfo(ctx, record.versionId), record, new Date());
  } catch (error) {
    if (error instanceof HttpError && error.code === 'WRONG_MODEL') throw unknownArtifact(record.sha256, what);
    throw error;
  }
}

/**
 * The rule for a device downloading `record` (or a patch to it): its license
 * is in force, of the same model, the version is published, and the license
 * grants the artifact's intervals. Shared with the fast path (fast-content.ts).
 */
export function checkDeviceAccess(license: LicenseRow, version: VersionInfo, record: ArtifactRecord, now: Date): void {
  assertLicenseActive(license, now);
  if (version.modelId !== license.modelId) {
    throw forbidden('WRONG_MODEL', `artifact ${record.sha256} is of another model than license ${license.id}'s`);
  }
  if (version.state === 'draft') {
    throw forbidden('VERSION_NOT_RELEASED', `version ${version.number} is a draft, not released yet; run update-check for the current version`);
  }
  if (version.state !== 'published') {
    throw forbidden('VERSION_WITHDRAWN', `version ${version.number} was withdrawn; run update-check for the current version`);
  }
  assertIntervalsGranted(license, version, record.intervals);
}

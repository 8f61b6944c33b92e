// The device-facing update check (device token): what the device should run,
// and the artifact and patch that get it there.
import { Hono } from 'hono';
import type { ServerContext } from '../context.ts';
import { requireToken, type AuthEnv } from '../auth.ts';
import { UpdateCheckQuery, UpdateCheckReply } from '../../api/update-check.ts';
import { parseInput } from '../validate.ts';
import { readBody, reply } from '../negotiate.ts';
import { DeviceReport } from '../../api/device-report.ts';
import { deviceTopic } from '../../api/push-notice.ts';
import { HttpError, notFound } from '../http-error.ts';
import { assertLicenseActive, grantedIntervals, isPlausibleBase, sameIntervals, sortedUnique } from '../license-grant.ts';
import { ensureArtifact, ensurePatch, type ArtifactRecord } from '../store/artifact-store.ts';
import { FormatError } from '../../formats/index.ts';
import { countStageReport, offeredVersion } from '../store/rollouts.ts';
import { loadLicense, modelName, versionByNumber } from '../store/licenses.ts';

/**
 * The patch from `from` to `to`, or null when none can be built (the device
 * then downloads the artifact); its bytes inside when at most `inlineMax`.
 */
async function describePatch(ctx: ServerContext, from: ArtifactRecord, to: ArtifactRecord, inlineMax: number): Promise<UpdateCheckReply['patch']> {
  try {
    const { record, bytes } = await ensurePatch(ctx, from, to);
    const offer = { url: `/v1/patches/${record.fromSha256}/${record.toSha256}`, sha256: record.sha256, bytes: record.bytes };
    return record.bytes <= inlineMax ? { ...offer, inline: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') } : offer;
  } catch (error) {
    if (error instanceof FormatError) return null;
    throw error;
  }
}

export function deviceRoutes(ctx: ServerContext): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get('/v1/device/update-check', requireToken(ctx, 'device'), async function updateCheck(c) {
    const query = parseInput(UpdateCheckQuery, c.req.query(), 'query');
    const held = sortedUnique(query.intervals === '' ? [] : query.intervals.split(',').map(Number));
    const principal = c.get('principal');
    const license = await loadLicense(ctx, principal.licenseId!);
    const now = new Date();
    assertLicenseActive(license, now);

    // The newest version this device may run: a staged rollout offers its version to its stage only.
    const target = await offeredVersion(ctx, license.modelId, principal.deviceId!, query.version);
    const model = await modelName(ctx, license.modelId);
    if (!target) throw notFound('NO_PUBLISHED_VERSION', `model "${model}" has no published version yet`);
    const targetIntervals = grantedIntervals(license, target);
    const targetArtifact = await ensureArtifact(ctx, target, targetIntervals);
    const upToDate = query.version === target.number && sameIntervals(held, targetIntervals);

    let patch: UpdateCheckReply['patch'] = null;
    if (!upToDate && query.version > 0) {
      const base = await versionByNumber(ctx, license.modelId, query.version);
      if (base !== undefined && base.state !== 'draft' && isPlausibleBase(license, base, held)) {
        const current = await ensureArtifact(ctx, base, held);
        if (query.sha256 === undefined || query.sha256 === current.sha256) {
          patch = await describePatch(ctx, current, targetArtifact, query.inline);
        }
      }
    }

    const reported = `${query.version}|${held.join(',')}|${query.sha256 ?? ''}`;
    if (ctx.caches.reported.get(principal.deviceId!) !== reported) {
      // Claim the write before awaiting it: concurrent polls of one device then write once, not once each.
      ctx.caches.reported.set(principal.deviceId!, reported);
      try {
        await ctx.deviceStates.write(principal.deviceId!, {
          reportedVersion: query.version,
          reportedHeldIntervals: held,
          reportedSha256: query.sha256 ?? null,
          lastSeenAt: now,
        });
      } catch (error) {
        ctx.caches.reported.delete(principal.deviceId!);
        throw error;
      }
    }

    const body: UpdateCheckReply = {
      model,
      upToDate,
      version: target.number,
      intervals: targetIntervals,
      artifact: { url: `/v1/artifacts/${targetArtifact.sha256}`, sha256: targetArtifact.sha256, bytes: targetArtifact.bytes },
      patch,
      push: ctx.settings.push ? { url: ctx.settings.push.url, topic: deviceTopic(ctx.settings.push.prefix, principal.deviceId!) } : null,
    };
    // The answer is checked against the contract devices parse it with: a mismatch is our bug, not theirs.
    const checked = UpdateCheckReply.safeParse(body);
    if (!checked.success) throw new HttpError(500, 'CONTRACT_VIOLATION', `the update-check answer does not follow its contract: ${checked.error.message}`);
    return reply(c, body);
  });

  // After each install attempt the device says what it runs and how the
  // attempt went; operators list devices by it (GET /v1/devices?state=).
  app.post('/v1/device/report', requireToken(ctx, 'device'), async function report(c) {
    const body = parseInput(DeviceReport, await readBody(c), 'body');
    const principal = c.get('principal');
    const now = new Date();
    await ctx.deviceStates.write(principal.deviceId!, {
      reportedVersion: body.version,
      reportedHeldIntervals: sortedUnique(body.heldIntervals),
      reportedSlot: body.slot,
      lastOutcome: body.outcome,
      lastOutcomeReason: body.outcome === 'installed' ? null : body.reason,
      lastDownloadBytes: body.downloadBytes,
      lastReportAt: now,
      lastSeenAt: now,
    });
    // The next update-check writes its own report again, whatever it last wrote.
    ctx.caches.reported.delete(principal.deviceId!);
    // A device in a staged rollout's stage: its outcome counts towards the stage's failure share.
    const license = await loadLicense(ctx, principal.licenseId!);
    await countStageReport(ctx, license.modelId, principal.deviceId!, {
      version: body.version,
      outcome: body.outcome,
      attemptedVersion: body.attemptedVersion,
      reason: body.reason,
    });
    return reply(c, { recorded: true, at: now.toISOString() });
  });
  return app;
}

// Publishing a version: verify the .wgm (bytes, segment hashes, signature
// against a registered publisher key) before anything is stored, then store
// manifest, tiers and new segments in one transaction. The model row is
// locked for the transaction, so of concurrent publishes of one model exactly
// one sees each version number free; the unique (model, number) index is the
// backstop. Nothing is half-stored: any failure rolls everything back.
import { eq, inArray, max, sql } from 'drizzle-orm';
import type { KeyObject } from 'node:crypto';
import {
  FormatError,
  readArtifact,
  readArtifactHeader,
  sha256Hex,
  splitArtifact,
  verifySignature,
  type Artifact,
  type ArtifactHeader,
} from '../../formats/index.ts';
import { isUniqueViolation } from '../db/connect.ts';
import { models, publisherKeys, segments, tiers, versions, versionSegments } from '../db/schema.ts';
import type { ServerContext } from '../context.ts';
import { badRequest, conflict, forbidden, HttpError } from '../http-error.ts';
import { keyFromDer } from '../publisher-keys.ts';
import { sortedUnique } from '../license-grant.ts';
import { isStorableText, MODEL_NAME } from '../api-schemas.ts';
import { INT4_MAX } from '../../api/common.ts';
import { recordAudit } from './audit.ts';
import type { Principal } from '../auth.ts';

/** A publisher token may change only the models it created; admins any model. */
export function assertMayChangeModel(actor: Principal, ownerTokenId: number | null, model: string): void {
  if (actor.role === 'admin' || (actor.role === 'publisher' && ownerTokenId === actor.tokenId)) return;
  throw forbidden(
    'NOT_YOUR_MODEL',
    `model "${model}" belongs to another publisher token; only that token or an admin can publish, release or withdraw its versions`,
  );
}

/** Rows per INSERT: PostgreSQL allows 65,535 bind parameters a statement; 1,000 rows x 5 columns stays far below. */
const INSERT_BATCH = 1000;

export interface PublishResult {
  model: string;
  version: number;
  /** 'draft' when staged (devices are not offered it until it is released). */
  state: 'published' | 'draft';
  contentSha256: string;
  keyId: string | null;
  segments: { total: number; added: number; addedBytes: number; totalBytes: number };
}

export async function publishVersion(ctx: ServerContext, bytes: Uint8Array, actor: Principal, options: { draft?: boolean } = {}): Promise<PublishResult> {
  const actorTokenId = actor.tokenId;
  const state = options.draft ? 'draft' : 'published';
  const { artifact, keyId } = await verifyUpload(ctx, bytes);
  const manifest = artifact.manifest;
  if (!MODEL_NAME.test(manifest.model)) {
    throw badRequest(
      'BAD_MODEL_NAME',
      `the artifact's model name "${manifest.model.slice(0, 120)}" must be 1-100 characters of A-Z a-z 0-9 . _ -, and not . or .. (it becomes part of URLs)`,
    );
  }
  const tierNames = new Set<string>();
  for (const tier of manifest.tiers) {
    if (tierNames.has(tier.name)) {
      throw badRequest('DUPLICATE_TIER', `the artifact defines tier "${tier.name}" twice; tier names must be unique within a version`);
    }
    tierNames.add(tier.name);
  }
  if (manifest.version > INT4_MAX) {
    throw badRequest(
      'VERSION_TOO_LARGE',
      `the artifact's model version ${manifest.version} is above ${INT4_MAX}, the largest this server stores (the format allows up to 4294967295, the server keeps versions as 32-bit signed integers); re-encode with a smaller version`,
    );
  }
  for (const tier of manifest.tiers) {
    if (!isStorableText(tier.name) || tier.name.length === 0 || tier.name.length > 100) {
      throw badRequest(
        'BAD_TIER_NAME',
        `the artifact's tier name ${JSON.stringify(tier.name.slice(0, 120))} must be 1-100 characters without NUL or unpaired surrogates`,
      );
    }
  }
  if (artifact.segments.length !== manifest.segments.length) {
    throw badRequest(
      'INCOMPLETE_ARTIFACT',
      `the artifact holds ${artifact.segments.length} of the manifest's ${manifest.segments.length} segments; publish the full (all-interval) artifact the pipeline builds`,
    );
  }
  const parts = splitArtifact(artifact);
  const segmentRows = parts.segments.map((s) => ({ sha256: sha256Hex(s.data), data: s.data, bytes: s.data.byteLength }));
  const contentSha256 = sha256Hex(artifact.manifestBytes);
  const intervals = sortedUnique(manifest.intervals.map((i) => i.id));

  try {
    return await ctx.db.transaction(async (tx) => {
      const ownerTokenId = actor.role === 'publisher' ? actor.tokenId : null;
      await tx.insert(models).values({ name: manifest.model, ownerTokenId }).onConflictDoNothing({ target: models.name });
      // Lock the model row: publishes of one model run one at a time from here.
      const locked = await tx.execute(sql`select id, owner_token_id from models where name = ${manifest.model} for update`);
      const modelRow = rowsOf(locked)[0]!;
      const modelId = Number(modelRow.id);
      assertMayChangeModel(actor, modelRow.owner_token_id == null ? null : Number(modelRow.owner_token_id), manifest.model);
      const [latest] = await tx
        .select({ number: max(versions.number) })
        .from(versions)
        .where(eq(versions.modelId, modelId));
      if (latest?.number != null && manifest.version <= latest.number) {
        throw conflict(
          'VERSION_NOT_NEWER',
          `model "${manifest.model}" already has version ${latest.number}; version ${manifest.version} must be greater (re-encode with a higher version)`,
        );
      }
      const unique = dedupeBySha(segmentRows);
      const known = await tx
        .select({ sha256: segments.sha256 })
        .from(segments)
        .where(
          inArray(
            segments.sha256,
            unique.map((s) => s.sha256),
          ),
        );
      const knownSet = new Set(known.map((k) => k.sha256));
      const fresh = unique.filter((s) => !knownSet.has(s.sha256));
      // Concurrent publishes of other models may insert the same segment: DO NOTHING keeps it one row.
      for (let i = 0; i < fresh.length; i += INSERT_BATCH) {
        await tx
          .insert(segments)
          .values(fresh.slice(i, i + INSERT_BATCH))
          .onConflictDoNothing();
      }
      const [version] = await tx
        .insert(versions)
        .values({
          modelId,
          number: manifest.version,
          state,
          manifest: artifact.manifestBytes,
          contentSha256,
          signature: artifact.signature,
          keyId,
          intervals,
        })
        .returning({ id: versions.id });
      const versionId = version!.id;
      if (manifest.tiers.length > 0) {
        await tx.insert(tiers).values(manifest.tiers.map((t) => ({ versionId, name: t.name, intervals: sortedUnique(t.intervals), accuracy: t.accuracy })));
      }
      const links = parts.segments.map((s, ordinal) => ({
        versionId,
        ordinal,
        tensor: s.tensor,
        interval: s.interval,
        segmentSha256: segmentRows[ordinal]!.sha256,
      }));
      for (let i = 0; i < links.length; i += INSERT_BATCH) {
        await tx.insert(versionSegments).values(links.slice(i, i + INSERT_BATCH));
      }
      const result: PublishResult = {
        model: manifest.model,
        version: manifest.version,
        state,
        contentSha256,
        keyId,
        segments: {
          total: segmentRows.length,
          added: fresh.length,
          addedBytes: fresh.reduce((sum, s) => sum + s.bytes, 0),
          totalBytes: segmentRows.reduce((sum, s) => sum + s.bytes, 0),
        },
      };
      await recordAudit(tx, {
        actorTokenId,
        action: state === 'draft' ? 'version.stage' : 'version.publish',
        entity: 'version',
        entityId: `${manifest.model}@${manifest.version}`,
        detail: { ...result },
      });
      return result;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw conflict('VERSION_EXISTS', `model "${manifest.model}" version ${manifest.version} was published concurrently by another request`);
    }
    throw error;
  }
}

/**
 * Whom the upload is from, decided before any segment is hashed or decoded
 * (readArtifactHeader), so a file signed by no registered key, however much
 * it claims to decompress to, costs one pass over its bytes; then the full
 * read, with the key that signed it.
 */
async function verifyUpload(ctx: ServerContext, bytes: Uint8Array): Promise<{ artifact: Artifact; keyId: string | null }> {
  let header: ArtifactHeader;
  try {
    header = readArtifactHeader(bytes);
  } catch (error) {
    throw asBadRequest(error);
  }
  if (header.signature === null) {
    if (!ctx.settings.allowUnsigned) {
      throw badRequest('UNSIGNED', 'the artifact is not signed; sign it with a registered publisher key (or start the server with --allow-unsigned)');
    }
    return { artifact: readOrRefuse(bytes), keyId: null };
  }
  const keys = await ctx.db.select().from(publisherKeys);
  for (const key of keys) {
    const publicKey = keyFromDer(key.publicKey);
    if (!verifyBytesOf(header, publicKey)) continue;
    if (key.revokedAt) {
      throw forbidden(
        'PUBLISHER_KEY_REVOKED',
        `the artifact is signed with publisher key ${key.keyId} (${key.label}), revoked at ${key.revokedAt.toISOString()}; sign it with a current key`,
      );
    }
    return { artifact: readOrRefuse(bytes, publicKey), keyId: key.keyId };
  }
  const live = keys.filter((key) => !key.revokedAt).length;
  throw forbidden(
    'UNKNOWN_PUBLISHER_KEY',
    `the artifact's signature matches none of the ${live} registered publisher key(s); an admin registers keys with POST /v1/publisher-keys`,
  );
}

function verifyBytesOf(header: ArtifactHeader, publicKey: KeyObject): boolean {
  return verifySignature({ manifestBytes: header.manifestBytes, signature: header.signature } as Artifact, publicKey);
}

function readOrRefuse(bytes: Uint8Array, publicKey?: KeyObject): Artifact {
  try {
    return readArtifact(bytes, publicKey ? { publicKey } : {});
  } catch (error) {
    throw asBadRequest(error);
  }
}

function asBadRequest(error: unknown): unknown {
  if (error instanceof FormatError) return new HttpError(400, error.code, `invalid .wgm: ${error.message}`);
  return error;
}

function dedupeBySha<T extends { sha256: string }>(rows: T[]): T[] {
  const seen = new Map<string, T>();
  for (const row of rows) if (!seen.has(row.sha256)) seen.set(row.sha256, row);
  return [...seen.values()];
}

/** Both drivers' execute() results, as plain rows. */
export function rowsOf(result: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(result)) return result as Array<Record<string, unknown>>;
  return ((result as { rows?: unknown[] }).rows ?? []) as Array<Record<string, unknown>>;
}

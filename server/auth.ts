// API tokens: random 256-bit bearer tokens, stored only as their SHA-256
// (a fast hash is enough for high-entropy secrets; there is nothing to
// brute-force). Roles: admin, publisher, device.
import { createHash, randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { and, eq, isNull, ne } from 'drizzle-orm';
import { recordAudit } from './store/audit.ts';
import type { Db } from './db/connect.ts';
import { apiTokens, devices, type TokenRole } from './db/schema.ts';
import type { ServerContext } from './context.ts';
import { badRequest, forbidden, unauthorized } from './http-error.ts';

export interface Principal {
  tokenId: number;
  role: TokenRole;
  /** Set for device tokens. */
  deviceId: number | null;
  /** The device's license, for device tokens (a device never changes license). */
  licenseId: number | null;
}

export type AuthEnv = { Variables: { principal: Principal } };

export const MIN_ADMIN_TOKEN_LENGTH = 16;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newToken(role: TokenRole): string {
  return `wg${role[0]}_${randomBytes(32).toString('base64url')}`;
}

export async function issueToken(db: Db, role: TokenRole, label: string, deviceId: number | null = null): Promise<{ id: number; token: string }> {
  const token = newToken(role);
  const [row] = await db
    .insert(apiTokens)
    .values({ tokenSha256: hashToken(token), role, label, deviceId })
    .returning({ id: apiTokens.id });
  return { id: row!.id, token };
}

/** The label of the token stored from WEIGHTGATE_ADMIN_TOKEN; reserved (POST /v1/tokens refuses it). */
export const BOOTSTRAP_LABEL = 'WEIGHTGATE_ADMIN_TOKEN';
/** Different characters a bootstrap token needs at least, besides its length and two kinds of character. */
export const MIN_ADMIN_TOKEN_DISTINCT = 8;

const ADVICE = 'generate one, e.g. openssl rand -hex 24';

/**
 * Throws an HttpError 400 unless `token` is long and varied enough to be a
 * secret: a start-up configuration is refused like a request, so the CLI
 * exits 2.
 */
export function assertStrongAdminToken(token: string): void {
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw badRequest('ADMIN_TOKEN_TOO_SHORT', `WEIGHTGATE_ADMIN_TOKEN has ${token.length} characters; use at least ${MIN_ADMIN_TOKEN_LENGTH}: ${ADVICE}`);
  }
  const distinct = new Set(token).size;
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((kind) => kind.test(token)).length;
  if (distinct < MIN_ADMIN_TOKEN_DISTINCT || kinds < 2) {
    throw badRequest(
      'ADMIN_TOKEN_WEAK',
      `WEIGHTGATE_ADMIN_TOKEN is too guessable: it has ${distinct} different characters of ${kinds} kind(s) (lower case, upper case, digits, others); ` +
        `use at least ${MIN_ADMIN_TOKEN_DISTINCT} different characters of at least 2 kinds: ${ADVICE}`,
    );
  }
}

/**
 * Stores the start-up admin token (hashed) unless it is already known, and
 * rotates: any other live bootstrap token (an earlier WEIGHTGATE_ADMIN_TOKEN)
 * is revoked, with an audit row, in the same transaction. A token that was
 * revoked before is refused rather than started with and left dead.
 */
export async function ensureAdminToken(db: Db, token: string): Promise<void> {
  assertStrongAdminToken(token);
  const hash = hashToken(token);
  await db.transaction(async (tx) => {
    const [existing] = await tx.select({ id: apiTokens.id, revokedAt: apiTokens.revokedAt }).from(apiTokens).where(eq(apiTokens.tokenSha256, hash)).limit(1);
    if (existing?.revokedAt) {
      throw badRequest(
        'ADMIN_TOKEN_REVOKED',
        `WEIGHTGATE_ADMIN_TOKEN is a token that was revoked (or rotated out) on ${existing.revokedAt.toISOString()}; set a new one: ${ADVICE}`,
      );
    }
    let id = existing?.id;
    if (id === undefined) {
      const inserted = await tx
        .insert(apiTokens)
        .values({ tokenSha256: hash, role: 'admin', label: BOOTSTRAP_LABEL })
        .onConflictDoNothing({ target: apiTokens.tokenSha256 })
        .returning({ id: apiTokens.id });
      id = inserted[0]?.id;
    }
    const rotated = await tx
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiTokens.label, BOOTSTRAP_LABEL), eq(apiTokens.role, 'admin'), isNull(apiTokens.revokedAt), ne(apiTokens.tokenSha256, hash)))
      .returning({ id: apiTokens.id });
    for (const old of rotated) {
      await recordAudit(tx, {
        actorTokenId: id ?? null,
        action: 'token.rotate',
        entity: 'token',
        entityId: old.id,
        detail: { label: BOOTSTRAP_LABEL, replacedBy: id ?? null },
      });
    }
  });
}

async function findPrincipal(ctx: ServerContext, tokenSha256: string): Promise<Principal | undefined> {
  return ctx.caches.principals.load(tokenSha256, async () => {
    const [row] = await ctx.db
      .select({ id: apiTokens.id, role: apiTokens.role, deviceId: apiTokens.deviceId, licenseId: devices.licenseId })
      .from(apiTokens)
      .leftJoin(devices, eq(devices.id, apiTokens.deviceId))
      .where(and(eq(apiTokens.tokenSha256, tokenSha256), isNull(apiTokens.revokedAt)))
      .limit(1);
    return row ? { tokenId: row.id, role: row.role, deviceId: row.deviceId, licenseId: row.licenseId } : undefined;
  });
}

/** The live principal of a bearer token, or undefined (unknown or revoked); cached like every lookup on the device path. */
export function principalOfToken(ctx: ServerContext, token: string): Promise<Principal | undefined> {
  return findPrincipal(ctx, hashToken(token));
}

/** Requires `Authorization: Bearer <token>` of one of `roles`. */
export function requireToken(ctx: ServerContext, ...roles: TokenRole[]): MiddlewareHandler<AuthEnv> {
  return async function authenticate(c, next) {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match) {
      throw unauthorized('MISSING_TOKEN', 'send "Authorization: Bearer <token>" (an admin, publisher or device token)');
    }
    const principal = await findPrincipal(ctx, hashToken(match[1]!));
    if (!principal) throw unauthorized('BAD_TOKEN', 'the bearer token is unknown or revoked');
    // Set before the role check: a refused attempt is audited with its caller.
    c.set('principal', principal);
    if (!roles.includes(principal.role)) {
      throw forbidden('ROLE_FORBIDDEN', `this call needs a ${roles.join(' or ')} token, not a ${principal.role} token`);
    }
    c.set('principal', principal);
    await next();
  };
}

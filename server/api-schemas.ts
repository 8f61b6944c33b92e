// The request shapes of the HTTP API, as zod schemas: the handlers validate
// with them and /openapi.json is generated from them, so the two never drift.
// The device's update check lives in api/update-check.ts: the device client
// shares it.
import { z } from 'zod';
import { INT4_MAX, sha256 } from '../api/common.ts';
import { INSTALL_OUTCOMES } from '../api/device-report.ts';

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `value` can be stored as PostgreSQL text (and jsonb): no NUL, no unpaired UTF-16 surrogate. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !UNPAIRED_SURROGATE.test(value);
}

/** A text field: length-bounded, storable. */
export function text(min: number, max: number) {
  return z.string().min(min).max(max).refine(isStorableText, 'must not contain NUL characters or unpaired UTF-16 surrogates');
}

/** A database id or version number in a path or query string. */
const idText = z.coerce.number().int().positive().max(INT4_MAX, `must be at most ${INT4_MAX}`);
const id = z.number().int().positive().max(INT4_MAX, `must be at most ${INT4_MAX}`);

/** An instant that PostgreSQL stores and that means something for a license: years 1970-9999 (UTC). */
const instant = z.iso.datetime({ offset: true }).refine((value) => {
  const year = new Date(value).getUTCFullYear();
  return year >= 1970 && year <= 9999;
}, 'must be a date and time between the years 1970 and 9999');

const intervalId = z.number().int().min(0).max(0xfffe);
/** Model names appear in URL paths: the publish route refuses any other. */
export const MODEL_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;
const modelName = z.string().regex(MODEL_NAME, 'must be 1-100 characters of A-Z a-z 0-9 . _ -, and not . or .. (they cannot be addressed in a URL)');

export const ModelParam = z.object({ model: modelName });
export const VersionParam = z.object({ model: modelName, version: idText });
export const IdParam = z.object({ id: idText });
/** POST /v1/versions?draft=true stages a version that devices are not offered until it is released. */
export const PublishQuery = z.object({ draft: z.enum(['true', 'false']).optional() });
export const ArtifactParam = z.object({ sha256 });
export const PatchParam = z.object({ from: sha256, to: sha256 });

export const CreateCustomerBody = z.object({ name: text(1, 200) });

export const CreateLicenseBody = z
  .object({
    customerId: id,
    model: modelName,
    tier: text(1, 100).optional(),
    intervals: z.array(intervalId).max(4096).optional(),
    kind: z.enum(['static', 'dynamic']).default('dynamic'),
    expiresAt: instant.nullable().optional(),
  })
  .refine((b) => (b.tier === undefined) !== (b.intervals === undefined), {
    message: 'give exactly one of "tier" or "intervals"',
    path: ['tier'],
  });

export const ChangeTierBody = z
  .object({
    tier: text(1, 100).optional(),
    intervals: z.array(intervalId).max(4096).optional(),
  })
  .refine((b) => (b.tier === undefined) !== (b.intervals === undefined), {
    message: 'give exactly one of "tier" or "intervals"',
    path: ['tier'],
  });

export const SetExpiryBody = z.object({ expiresAt: instant.nullable() });

/** A device group's name: what a staged rollout can start with. */
const groupName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 characters of a-z 0-9 . _ -, starting with a letter or digit');

export const RegisterDeviceBody = z.object({
  licenseId: id,
  name: text(1, 200),
  group: groupName.optional(),
});

/** POST /v1/devices/:id/group: moves a device into a group (null: out of any). */
export const SetDeviceGroupBody = z.object({ group: groupName.nullable() });

export const ListDevicesQuery = z.object({
  licenseId: idText.optional(),
  state: z.enum(INSTALL_OUTCOMES).optional(),
  group: groupName.optional(),
});

const percent = z.number().int().min(0).max(100);

/**
 * POST .../release: with no body the version goes to every device at once;
 * with `percent` below 100 and/or `group` it goes to that stage first (a
 * staged rollout), pausing by itself when more than `maxFailurePercent` of
 * the stage's reported installs failed (once `minReports` have reported).
 */
export const ReleaseBody = z.object({
  percent: percent.optional(),
  group: groupName.optional(),
  maxFailurePercent: z.number().min(0).max(100).default(20),
  minReports: z.number().int().min(1).max(1_000_000).default(1),
});

/** POST .../rollout/widen: a larger share of the devices (100 completes the rollout), and/or a group. */
export const WidenBody = z
  .object({ percent: percent.optional(), group: groupName.optional() })
  .refine((b) => b.percent !== undefined || b.group !== undefined, { message: 'give "percent", "group" or both', path: ['percent'] });

/** POST .../rollout/pause: why (recorded in the audit log). */
export const PauseBody = z.object({ reason: text(1, 500).default('paused by an operator') });

export const CreateTokenBody = z.object({
  role: z.enum(['admin', 'publisher']),
  label: text(1, 200).refine((label) => label !== 'WEIGHTGATE_ADMIN_TOKEN', 'is reserved for the token the server is started with; choose another label'),
});

export const RegisterKeyBody = z.object({
  /** Ed25519 public key: PEM (SPKI), or base64 of the SPKI DER or of the raw 32 bytes. */
  publicKey: text(1, 4096),
  label: text(1, 200),
});

export const KeyIdParam = z.object({
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'must be a publisher key id: 16 hex digits (see GET /v1/publisher-keys)'),
});

/** GET /v1/audit: newest first, `limit` a page, `before` the id the previous page's `next` gives. */
export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(500),
  before: idText.optional(),
});

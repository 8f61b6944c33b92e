// The request shapes of the HTTP API, as zod schemas: the handlers validate
// with them and /openapi.json is generated from them, so the two never drift.
import { z } from 'zod';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (a SHA-256)');
const intervalId = z.number().int().min(0).max(0xfffe);
/** Model names appear in URL paths: the publish route refuses any other. */
export const MODEL_NAME = /^[A-Za-z0-9._-]{1,100}$/;
const modelName = z.string().regex(MODEL_NAME, 'must be 1-100 characters of A-Z a-z 0-9 . _ -');

export const ModelParam = z.object({ model: modelName });
export const VersionParam = z.object({ model: modelName, version: z.coerce.number().int().positive() });
export const IdParam = z.object({ id: z.coerce.number().int().positive() });
/** POST /v1/versions?draft=true stages a version that devices are not offered until it is released. */
export const PublishQuery = z.object({ draft: z.enum(['true', 'false']).optional() });
export const ArtifactParam = z.object({ sha256 });
export const PatchParam = z.object({ from: sha256, to: sha256 });

export const CreateCustomerBody = z.object({ name: z.string().min(1).max(200) });

export const CreateLicenseBody = z
  .object({
    customerId: z.number().int().positive(),
    model: modelName,
    tier: z.string().min(1).max(100).optional(),
    intervals: z.array(intervalId).max(4096).optional(),
    kind: z.enum(['static', 'dynamic']).default('dynamic'),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .refine((b) => (b.tier === undefined) !== (b.intervals === undefined), {
    message: 'give exactly one of "tier" or "intervals"',
    path: ['tier'],
  });

export const ChangeTierBody = z
  .object({
    tier: z.string().min(1).max(100).optional(),
    intervals: z.array(intervalId).max(4096).optional(),
  })
  .refine((b) => (b.tier === undefined) !== (b.intervals === undefined), {
    message: 'give exactly one of "tier" or "intervals"',
    path: ['tier'],
  });

export const SetExpiryBody = z.object({ expiresAt: z.iso.datetime({ offset: true }).nullable() });

export const RegisterDeviceBody = z.object({
  licenseId: z.number().int().positive(),
  name: z.string().min(1).max(200),
});

export const ListDevicesQuery = z.object({ licenseId: z.coerce.number().int().positive().optional() });

export const CreateTokenBody = z.object({
  role: z.enum(['admin', 'publisher']),
  label: z.string().min(1).max(200),
});

export const RegisterKeyBody = z.object({
  /** Ed25519 public key: PEM (SPKI), or base64 of the SPKI DER or of the raw 32 bytes. */
  publicKey: z.string().min(1).max(4096),
  label: z.string().min(1).max(200),
});

export const KeyIdParam = z.object({
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'must be a publisher key id: 16 hex digits (see GET /v1/publisher-keys)'),
});

const intervalList = z
  .string()
  .max(20000)
  .regex(/^(\d{1,5}(,\d{1,5})*)?$/, 'must be comma-separated interval ids, e.g. 0,1,2 (may be empty)');

export const UpdateCheckQuery = z.object({
  version: z.coerce.number().int().min(0, 'must be 0 (none) or a version number'),
  intervals: intervalList.default(''),
  sha256: sha256.optional(),
});

const download = z.object({ url: z.string(), sha256, bytes: z.number().int() });

/** The update-check answer (documented in /openapi.json; the handler builds it as UpdateCheckResponse). */
export const UpdateCheckReply = z.object({
  model: z.string(),
  upToDate: z.boolean(),
  version: z.number().int(),
  intervals: z.array(z.number().int()),
  artifact: download,
  patch: download.nullable(),
});

// The device's update check, GET /v1/device/update-check: the one contract
// the server validates its query and its answer with, that /openapi.json
// documents, and that the device client parses the answer with.
import { z } from 'zod';
import { INT4_MAX, sha256 } from './common.ts';

const intervalList = z
  .string()
  .max(20000)
  .regex(/^(\d{1,5}(,\d{1,5})*)?$/, 'must be comma-separated interval ids, e.g. 0,1,2 (may be empty)');

/**
 * The largest patch a device may ask to receive inside the answer (`inline`):
 * the answer then carries it in base64, and the update takes one request
 * fewer. Patches are small for license changes and centroid updates.
 */
export const MAX_INLINE_PATCH_BYTES = 16 * 1024;

export const UpdateCheckQuery = z.object({
  version: z.coerce.number().int().min(0, 'must be 0 (none) or a version number').max(INT4_MAX, `must be at most ${INT4_MAX}`),
  intervals: intervalList.default(''),
  sha256: sha256.optional(),
  /** Patches of at most this many bytes come inside the answer (0: never). */
  inline: z.coerce.number().int().min(0, 'must be 0 or more bytes').max(MAX_INLINE_PATCH_BYTES, `must be at most ${MAX_INLINE_PATCH_BYTES} bytes`).default(0),
});

/** What the device reports: the version it runs (0: none), its held intervals, and its artifact's SHA-256. */
export interface DeviceState {
  version: number;
  heldIntervals: number[];
  sha256?: string;
  /** The largest patch the device takes inside the answer (0 or absent: it downloads every patch). */
  inlinePatchBytes?: number;
}

/** The query string of an update check from `state` (without the `?`). */
export function updateCheckSearch(state: DeviceState): string {
  const query = new URLSearchParams({ version: String(state.version), intervals: state.heldIntervals.join(',') });
  if (state.sha256) query.set('sha256', state.sha256);
  if (state.inlinePatchBytes) query.set('inline', String(state.inlinePatchBytes));
  return query.toString();
}

/** A download the answer offers: a same-origin path, its SHA-256 and its length. */
export const Offer = z.object({ url: z.string().startsWith('/'), sha256, bytes: z.number().int().nonnegative() });
export type Offer = z.infer<typeof Offer>;

/**
 * The patch offered: a download, and its bytes in base64 when the device asked
 * for patches that small inline. Untrusted like a download: the device
 * checks the decoded bytes against `bytes` and `sha256` before reading them.
 */
export const PatchOffer = Offer.extend({
  inline: z
    .string()
    .max(Math.ceil(MAX_INLINE_PATCH_BYTES / 3) * 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64')
    .optional(),
});
export type PatchOffer = z.infer<typeof PatchOffer>;

export const UpdateCheckReply = z.object({
  model: z.string(),
  upToDate: z.boolean(),
  version: z.number().int().nonnegative(),
  intervals: z.array(z.number().int().nonnegative()),
  artifact: Offer,
  patch: PatchOffer.nullable(),
  /**
   * Where this device hears of changes at once (api/push-notice.ts): an MQTT
   * broker URL and its own topic; null or absent when the server pushes
   * nothing (the device then only polls).
   */
  push: z
    .object({ url: z.string().regex(/^mqtts?:\/\/[^\s@/]+(:\d+)?\/?$/, 'must be mqtt://HOST:PORT'), topic: z.string().max(200) })
    .nullable()
    .optional(),
});
export type UpdateCheckReply = z.infer<typeof UpdateCheckReply>;

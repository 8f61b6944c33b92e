// The push notice: what the server publishes over MQTT to a device's own
// topic when something that decides its update changed. A hint, not an
// order: no secret, no weights, nothing a device acts on besides making its
// usual update check over HTTP with its token, so a forged or replayed
// notice costs one request and grants nothing. The server publishes it, the
// device client parses it with this schema and drops anything else.
import { z } from 'zod';
import { INT4_MAX } from './common.ts';

/** What changed: a version was released or withdrawn, the device's license changed, or the device itself. */
export const NOTICE_KINDS = ['version', 'license', 'device'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export const PushNotice = z.object({
  kind: z.enum(NOTICE_KINDS),
  /** The model concerned. */
  model: z.string().max(100),
  /** The model's newest published version when the notice was sent (0: none). */
  version: z.number().int().min(0).max(INT4_MAX),
  /** When the server sent it (ISO 8601). */
  at: z.iso.datetime(),
});
export type PushNotice = z.infer<typeof PushNotice>;

/** Largest notice a device reads; anything longer is dropped unparsed. */
export const MAX_NOTICE_BYTES = 512;

/** The topic a device subscribes to: `<prefix>/devices/<device id>`. */
export function deviceTopic(prefix: string, deviceId: number): string {
  return `${prefix}/devices/${deviceId}`;
}

export const DEFAULT_TOPIC_PREFIX = 'weightgate';

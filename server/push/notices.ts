// From a change to the notices it causes: which devices a released or
// withdrawn version, a changed license or a changed device concerns, and the
// notice each gets. Sent by the instance that made the change, once (the
// others only forget their caches), through whichever broker the server
// publishes to (push/broker.ts embedded, push/mqtt-link.ts an existing one).
import { eq } from 'drizzle-orm';
import { deviceTopic, type NoticeKind, type PushNotice } from '../../api/push-notice.ts';
import type { ServerContext } from '../context.ts';
import { devices, licenses, models } from '../db/schema.ts';
import { latestPublished, modelName } from '../store/licenses.ts';

/** What changed, as the store reports it (ServerContext.changed). */
export type ChangeEvent =
  /** deviceIds: only these devices (a rollout stage that took them); otherwise every device of the model. */
  { kind: 'version'; model: string; deviceIds?: number[] } | { kind: 'license'; licenseId: number } | { kind: 'device'; deviceId: number };

/** Where notices go: a topic and its payload, at most once delivery (QoS 0 is enough for a hint). */
export interface NoticeSink {
  publish(topic: string, payload: Uint8Array): Promise<void>;
}

export interface Pusher {
  /** Sends the notices a change causes; resolves when they are handed to the broker. Never throws: push is best effort. */
  changed(event: ChangeEvent): Promise<void>;
  /** Notices handed to the broker since start (for tests and the bench). */
  readonly sent: number;
}

export function createPusher(ctx: ServerContext, sink: NoticeSink, prefix: string, log: (line: string) => void): Pusher {
  let sent = 0;
  const encoder = new TextEncoder();
  async function targets(event: ChangeEvent): Promise<{ modelId: number; deviceIds: number[] } | null> {
    if (event.kind === 'version') {
      const [model] = await ctx.db.select({ id: models.id }).from(models).where(eq(models.name, event.model)).limit(1);
      if (!model) return null;
      if (event.deviceIds) return { modelId: model.id, deviceIds: event.deviceIds };
      const rows = await ctx.db
        .select({ id: devices.id })
        .from(devices)
        .innerJoin(licenses, eq(licenses.id, devices.licenseId))
        .where(eq(licenses.modelId, model.id));
      return { modelId: model.id, deviceIds: rows.map((row) => row.id) };
    }
    if (event.kind === 'license') {
      const [license] = await ctx.db.select({ modelId: licenses.modelId }).from(licenses).where(eq(licenses.id, event.licenseId)).limit(1);
      if (!license) return null;
      const rows = await ctx.db.select({ id: devices.id }).from(devices).where(eq(devices.licenseId, event.licenseId));
      return { modelId: license.modelId, deviceIds: rows.map((row) => row.id) };
    }
    const [row] = await ctx.db
      .select({ modelId: licenses.modelId })
      .from(devices)
      .innerJoin(licenses, eq(licenses.id, devices.licenseId))
      .where(eq(devices.id, event.deviceId))
      .limit(1);
    return row ? { modelId: row.modelId, deviceIds: [event.deviceId] } : null;
  }
  return {
    get sent() {
      return sent;
    },
    async changed(event) {
      try {
        const found = await targets(event);
        if (!found || found.deviceIds.length === 0) return;
        const notice: PushNotice = {
          kind: event.kind as NoticeKind,
          model: await modelName(ctx, found.modelId),
          version: (await latestPublished(ctx, found.modelId))?.number ?? 0,
          at: new Date().toISOString(),
        };
        const payload = encoder.encode(JSON.stringify(notice));
        await Promise.all(found.deviceIds.map((id) => sink.publish(deviceTopic(prefix, id), payload)));
        sent += found.deviceIds.length;
      } catch (error) {
        log(`weightgate server: push notices for a ${event.kind} change not sent: ${(error as Error).message}`);
      }
    },
  };
}

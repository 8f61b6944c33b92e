// The device's side of push: it subscribes to its own topic on the broker
// its update check named, with its device token as the MQTT password, and
// on each notice calls `onNotice`, which should make the usual update check
// over HTTP. A notice is only a hint: it is parsed against its contract
// (api/push-notice.ts) and anything else is dropped, and whatever it says,
// the device acts on what the server answers to its own authenticated
// check. The client reconnects by itself; the device keeps polling at its
// long interval whether or not the broker is reachable.
import mqtt from 'mqtt';
import { MAX_NOTICE_BYTES, PushNotice } from '../api/push-notice.ts';

/**
 * MQTT keep-alive: an idle connection sends one PINGREQ this often. Each
 * costs the broker about what an up-to-date update check costs the server,
 * so at 60 s (mqtt.js's default) an idle pushed device cost as much as one
 * polling every minute; at 5 minutes it costs a fifth, and stays under the
 * idle timeouts of common NAT gateways (about 350 s). A dead connection is
 * noticed within 1.5 periods; polling covers anything missed meanwhile.
 */
export const PUSH_KEEPALIVE_SECONDS = 300;

export interface PushChannel {
  url: string;
  topic: string;
}

export interface PushSubscription {
  /** Resolves once subscribed (or rejects when the broker refuses the token or the topic). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function subscribePush(
  channel: PushChannel,
  token: string,
  onNotice: (notice: PushNotice) => void,
  log: (line: string) => void = () => {},
): PushSubscription {
  const client = mqtt.connect(channel.url, {
    username: 'device',
    password: token,
    keepalive: PUSH_KEEPALIVE_SECONDS,
    reconnectPeriod: 2000,
    connectTimeout: 5000,
    clean: true,
  });
  const ready = new Promise<void>((resolve, reject) => {
    client.once('error', reject);
    client.on('connect', () => {
      client.subscribe(channel.topic, { qos: 0 }, (error, granted) => {
        const refused =
          error || granted?.some((g) => g.qos === 128)
            ? new Error(`the broker refused the subscription to ${channel.topic}${error ? ` (${error.message})` : ''}`)
            : null;
        if (refused) {
          log(`push: ${refused.message}`);
          reject(refused);
        } else resolve();
      });
    });
  });
  ready.catch(() => {});
  // A refused token (CONNACK 4 or 5) will not be accepted on a retry: stop, and let polling report why.
  client.on('error', (error) => {
    const code = (error as { code?: number }).code;
    if (code === 4 || code === 5) client.end(true);
  });
  client.on('message', (topic, payload) => {
    if (topic !== channel.topic || payload.byteLength > MAX_NOTICE_BYTES) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const notice = PushNotice.safeParse(parsed);
    if (notice.success) onNotice(notice.data);
  });
  return {
    ready,
    async close() {
      await client.endAsync(true);
    },
  };
}

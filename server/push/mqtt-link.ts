// Push through an existing MQTT broker (MQTT_URL, e.g. Mosquitto): the
// server connects as one client and publishes the notices there. Access to
// the topics is then the broker's own configuration (its ACL), not ours.
// An unreachable broker does not stop the server: the client keeps
// reconnecting, and devices keep polling meanwhile.
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import type { NoticeSink } from './notices.ts';

export interface BrokerLink {
  /** The broker's URL without credentials, as devices are told. */
  url: string;
  sink: NoticeSink;
  close(): Promise<void>;
}

export function connectBroker(brokerUrl: string, log: (line: string) => void): BrokerLink {
  const parsed = new URL(brokerUrl);
  if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') {
    throw new Error(`MQTT_URL must be mqtt://HOST:PORT or mqtts://HOST:PORT, got "${parsed.protocol}//..."`);
  }
  // queueQoSZero off: a notice published while the broker is away is dropped,
  // not queued without bound (it is a hint; the devices' polls cover it).
  const client = mqtt.connect(brokerUrl, { clientId: `weightgate-server-${randomUUID()}`, reconnectPeriod: 2000, connectTimeout: 5000, queueQoSZero: false });
  let reported = false;
  client.on('error', (error) => {
    if (!reported) log(`weightgate server: MQTT broker ${parsed.host}: ${error.message} (retrying; devices keep polling)`);
    reported = true;
  });
  client.on('connect', () => {
    if (reported) log(`weightgate server: MQTT broker ${parsed.host} reached`);
    reported = false;
  });
  return {
    url: `${parsed.protocol}//${parsed.host}`,
    sink: {
      async publish(topic, payload) {
        if (!client.connected) throw new Error(`the MQTT broker ${parsed.host} is not connected; the notice is dropped (devices poll)`);
        await client.publishAsync(topic, Buffer.from(payload), { qos: 0, retain: false });
      },
    },
    async close() {
      await client.endAsync();
    },
  };
}

// The embedded MQTT broker (aedes, in the server process), so that push
// needs nothing installed. Only devices connect to it, each with its device
// token as the MQTT password; a device may subscribe to its own topic and to
// nothing else, and may publish nothing: notices come from the server alone
// (published inside the process, past these checks).
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { deviceTopic } from '../../api/push-notice.ts';
import { principalOfToken } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import type { NoticeSink } from './notices.ts';

export interface EmbeddedBroker {
  /** mqtt://HOST:PORT, as devices are told in their update check. */
  url: string;
  sink: NoticeSink;
  /** Devices connected now. */
  connected(): number;
  /** Closes every connection of a device (its token was revoked): it cannot come back with that token. */
  drop(deviceId: number): void;
  close(): Promise<void>;
}

/** MQTT CONNACK return codes (MQTT 3.1.1): 4 bad user name or password, 5 not authorized. */
const BAD_CREDENTIALS = 4;
const NOT_AUTHORIZED = 5;

function refusal(message: string, returnCode: number) {
  return Object.assign(new Error(message), { returnCode });
}

export async function startEmbeddedBroker(options: {
  ctx: ServerContext;
  port: number;
  host: string;
  prefix: string;
  log: (line: string) => void;
}): Promise<EmbeddedBroker> {
  const { ctx, prefix, log } = options;
  const deviceOf = new WeakMap<Client, number>();
  const sessions = new Map<number, Set<Client>>();
  const broker = await Aedes.createBroker({
    authenticate(client, _username, password, done) {
      const token = password?.toString('utf8') ?? '';
      if (token.length === 0 || token.length > 200) return done(refusal('send the device token as the MQTT password', BAD_CREDENTIALS), false);
      principalOfToken(ctx, token).then(
        (principal) => {
          if (!principal) return done(refusal('the device token is unknown or revoked', BAD_CREDENTIALS), false);
          if (principal.role !== 'device' || principal.deviceId === null) return done(refusal('only device tokens may connect', NOT_AUTHORIZED), false);
          deviceOf.set(client, principal.deviceId);
          const own = sessions.get(principal.deviceId) ?? new Set<Client>();
          own.add(client);
          sessions.set(principal.deviceId, own);
          done(null, true);
        },
        (error) => {
          log(`weightgate server: MQTT authentication failed on the database: ${(error as Error).message}`);
          done(refusal('the server cannot check tokens right now', 3), false);
        },
      );
    },
    authorizeSubscribe(client, subscription, done) {
      const deviceId = deviceOf.get(client);
      // Anything but its own topic: a refused subscription (SUBACK 0x80), the connection stays.
      done(null, deviceId !== undefined && subscription.topic === deviceTopic(prefix, deviceId) ? subscription : null);
    },
    authorizePublish(client, _packet, done) {
      done(client ? new Error('devices publish nothing here') : null);
    },
  });
  broker.on('clientDisconnect', (client) => {
    const deviceId = deviceOf.get(client);
    if (deviceId === undefined) return;
    const own = sessions.get(deviceId);
    own?.delete(client);
    if (own?.size === 0) sessions.delete(deviceId);
  });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A fleet reconnects at once after a restart: a long accept queue keeps
    // thousands of simultaneous connects from being reset (the kernel caps it
    // at net.core.somaxconn).
    server.listen({ port: options.port, host: options.host, backlog: 8192 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `mqtt://${host}:${port}`,
    sink: {
      publish: (topic, payload) =>
        new Promise<void>((resolve, reject) => {
          broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false }, (error) =>
            error ? reject(error) : resolve(),
          );
        }),
    },
    connected: () => broker.connectedClients,
    drop(deviceId) {
      for (const client of sessions.get(deviceId) ?? []) client.close();
      sessions.delete(deviceId);
    },
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Registers devices on a server with an admin token, through the operator
// client (it runs on the operator's side, not in the server): one customer,
// one license of the model's tier, and N devices under it. The device fleet
// (`weightgate device fleet --admin-token`) and the benches use it.
import { createClient } from './client.ts';

export interface ProvisionOptions {
  server: string;
  adminToken: string;
  model: string;
  /** Tier name of the model's published version (or explicit intervals). */
  tier?: string;
  intervals?: number[];
  count: number;
  customerName?: string;
  kind?: 'static' | 'dynamic';
  /** Registrations in flight at once. */
  concurrency?: number;
}

export interface ProvisionedFleet {
  customerId: number;
  licenseId: number;
  tokens: string[];
}

export async function provisionDevices(options: ProvisionOptions): Promise<ProvisionedFleet> {
  const admin = createClient({ server: options.server, token: options.adminToken });
  const customer = await admin.createCustomer(options.customerName ?? `fleet-${Date.now()}`);
  const license = await admin.createLicense({
    customerId: customer.id,
    model: options.model,
    tier: options.intervals ? undefined : (options.tier ?? 'full'),
    intervals: options.intervals,
    kind: options.kind ?? 'dynamic',
  });
  const tokens = new Array<string>(options.count);
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      const i = next++;
      tokens[i] = (await admin.registerDevice(license.id, `sim-${customer.id}-${i}`)).token;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 16, options.count) }, worker));
  return { customerId: customer.id, licenseId: license.id, tokens };
}

// Test artifacts and a licensed fleet, built through the HTTP API itself.
import { encodeArtifact, generateKeyPair, keyIdOf } from '../../formats/index.ts';
import { syntheticModel, type SyntheticModelOptions } from '../fixtures/server-model.ts';
import type { Harness } from './harness.ts';
import * as assert from 'uvu/assert';

/** A 2-layer model with a few dozen weights: 8-4-3, codebook-sparse kernels, 4 intervals, 3 tiers. */
export function tinyModel(version: number, extra: Partial<SyntheticModelOptions> = {}) {
  return syntheticModel({ model: 'tiny', version, sizes: [8, 4, 3], density: 0.7, bits: 4, seed: 7, ...extra });
}

export const publisherKeys = generateKeyPair();

export function signedTiny(version: number, extra: Partial<SyntheticModelOptions> = {}): Uint8Array {
  return encodeArtifact(tinyModel(version, extra), { privateKey: publisherKeys.privateKeyPem });
}

export async function registerPublisherKey(h: Harness): Promise<string> {
  const { status, body } = await h.json('POST', '/v1/publisher-keys', { json: { publicKey: publisherKeys.publicKeyPem, label: 'ci' } });
  assert.ok(status === 201 || status === 409, `register key: ${status} ${JSON.stringify(body)}`);
  return keyIdOf(publisherKeys.publicKeyPem);
}

export async function publish(h: Harness, bytes: Uint8Array) {
  return h.json('POST', '/v1/versions', { bytes });
}

export interface Fleet {
  customerId: number;
  licenseId: number;
  deviceId: number;
  token: string;
}

/** A customer, a license on `tiny` and one device under it. */
export async function licensedDevice(h: Harness, license: Record<string, unknown>): Promise<Fleet> {
  const customer = await h.json('POST', '/v1/customers', { json: { name: 'acme' } });
  assert.is(customer.status, 201);
  const created = await h.json('POST', '/v1/licenses', { json: { customerId: customer.body.id, model: 'tiny', ...license } });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const device = await h.json('POST', '/v1/devices', { json: { licenseId: created.body.id, name: 'sensor-1' } });
  assert.is(device.status, 201);
  return { customerId: customer.body.id, licenseId: created.body.id, deviceId: device.body.deviceId, token: device.body.token };
}

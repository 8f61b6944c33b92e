// The operator client of the weight storage server: one method per admin and
// publisher call. Errors the server sends come back as HttpError with its
// code, status and message. Devices have their own client,
// device-sim/update-client.ts, on the contract in api/update-check.ts.
import type { z } from 'zod';
import type {
  ChangeTierBody,
  CreateCustomerBody,
  CreateLicenseBody,
  CreateTokenBody,
  RegisterDeviceBody,
  RegisterKeyBody,
  ReleaseBody,
  SetDeviceGroupBody,
  SetExpiryBody,
  WidenBody,
} from './api-schemas.ts';
import { HttpError } from './http-error.ts';
import type { PublishResult } from './store/publish.ts';
import type { LicenseView } from './store/license-changes.ts';
import type { RolloutView } from './store/rollouts.ts';
import type { InstallOutcome } from '../api/device-report.ts';

export { HttpError };
export type { PublishResult, LicenseView };

export interface PublisherKeyView {
  keyId: string;
  label: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  server: string;
  /** Bearer token (admin or publisher). */
  token?: string;
  fetch?: typeof fetch;
}

export interface Customer {
  id: number;
  name: string;
  createdAt: string;
}

/**
 * A license to create: the server's CreateLicenseBody (a tier name of the
 * model, or explicit interval ids; kind; expiry), with the expiry also as a
 * Date. The request schemas are the server's (api-schemas.ts), so client
 * and server cannot drift apart.
 */
export type CreateLicenseInput = Omit<z.input<typeof CreateLicenseBody>, 'expiresAt'> & { expiresAt?: string | Date | null };

/** A request body as the server's schema takes it: the client's bodies are checked against it when compiled. */
type Body<S extends z.ZodType> = z.input<S>;

/** The server's ChangeTierBody, as exactly one of its two forms. */
export type TierChange = Required<Pick<z.input<typeof ChangeTierBody>, 'tier'>> | Required<Pick<z.input<typeof ChangeTierBody>, 'intervals'>>;

export interface RegisteredDevice {
  deviceId: number;
  licenseId: number;
  name: string;
  /** The device token; shown once. */
  token: string;
  /** Its id, for `revokeToken`. */
  tokenId: number;
}

export interface DeviceView {
  id: number;
  licenseId: number;
  name: string;
  group: string | null;
  version: number | null;
  intervals: number[] | null;
  sha256: string | null;
  lastSeenAt: string | null;
  /** From its last install report: the slot it runs from, the outcome and why. */
  slot: 'A' | 'B' | null;
  state: InstallOutcome | null;
  reason: string | null;
  /** Bytes the last install attempt downloaded (patch or artifact). */
  downloadBytes: number | null;
  lastReportAt: string | null;
  createdAt: string;
}

export interface VersionView {
  version: number;
  state: 'draft' | 'published' | 'withdrawn';
  contentSha256: string;
  keyId: string | null;
  intervals: number[];
  createdAt: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actorTokenId: number | null;
  action: string;
  entity: string;
  entityId: string;
  detail: Record<string, unknown>;
}

const versionPath = (model: string, version: number) => `/v1/models/${encodeURIComponent(model)}/versions/${version}`;

const iso = (value: string | Date | null | undefined) => (value instanceof Date ? value.toISOString() : value);

export function createClient(options: ClientOptions) {
  const base = options.server.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;

  async function send(method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<Response> {
    const h: Record<string, string> = {};
    if (options.token) h.authorization = `Bearer ${options.token}`;
    let payload: BodyInit | undefined;
    if (raw) {
      h['content-type'] = 'application/octet-stream';
      payload = raw as Uint8Array<ArrayBuffer>;
    } else if (body !== undefined) {
      h['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, { method, headers: h, body: payload });
    } catch (error) {
      throw new HttpError(503, 'SERVER_UNREACHABLE', `cannot reach ${base}: ${(error as Error).message}; is \`weightgate serve\` running?`);
    }
    if (response.status >= 400) throw await toHttpError(response, method, path);
    return response;
  }

  async function call<T>(method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<T> {
    const response = await send(method, path, body, raw);
    return (await response.json()) as T;
  }

  return {
    health: () => call<{ ok: boolean }>('GET', '/healthz'),
    /** Publisher: upload a signed .wgm; with `draft`, staged until releaseVersion. */
    publish: (artifact: Uint8Array, options: { draft?: boolean } = {}) =>
      call<PublishResult>('POST', options.draft ? '/v1/versions?draft=true' : '/v1/versions', undefined, artifact),
    /** Release a draft: to every device, or (with a stage: percent and/or group) as a staged rollout. */
    releaseVersion: (model: string, version: number, stage: z.input<typeof ReleaseBody> = {}) =>
      call<{ model: string; version: number; state: 'published' }>(
        'POST',
        `/v1/models/${encodeURIComponent(model)}/versions/${version}/release`,
        stage satisfies z.input<typeof ReleaseBody>,
      ),
    rollout: (model: string, version: number) => call<RolloutView>('GET', `${versionPath(model, version)}/rollout`),
    widenRollout: (model: string, version: number, stage: Body<typeof WidenBody>) =>
      call<RolloutView>('POST', `${versionPath(model, version)}/rollout/widen`, stage),
    pauseRollout: (model: string, version: number, reason?: string) =>
      call<RolloutView>('POST', `${versionPath(model, version)}/rollout/pause`, reason === undefined ? {} : { reason }),
    resumeRollout: (model: string, version: number) => call<RolloutView>('POST', `${versionPath(model, version)}/rollout/resume`),
    listVersions: async (model: string) => (await call<{ versions: VersionView[] }>('GET', `/v1/models/${encodeURIComponent(model)}/versions`)).versions,
    withdrawVersion: (model: string, version: number) =>
      call<{ model: string; version: number; state: 'withdrawn' }>('POST', `/v1/models/${encodeURIComponent(model)}/versions/${version}/withdraw`),
    /** Admin: register a publisher's Ed25519 public key (PEM, or base64 SPKI/raw). */
    registerPublisherKey: (publicKey: string, label: string) =>
      call<{ keyId: string; label: string }>('POST', '/v1/publisher-keys', { publicKey, label } satisfies Body<typeof RegisterKeyBody>),
    listPublisherKeys: async () => (await call<{ keys: PublisherKeyView[] }>('GET', '/v1/publisher-keys')).keys,
    /** Admin: revoke a publisher key; uploads signed with it are refused from then on. */
    revokePublisherKey: (keyId: string) =>
      call<{ keyId: string; label: string; revokedAt: string; publishedVersionsSigned: { model: string; version: number }[] }>(
        'POST',
        `/v1/publisher-keys/${encodeURIComponent(keyId)}/revoke`,
      ),
    createToken: (role: 'admin' | 'publisher', label: string) =>
      call<{ id: number; role: string; label: string; token: string }>('POST', '/v1/tokens', { role, label } satisfies Body<typeof CreateTokenBody>),
    revokeToken: (id: number) => call<{ id: number; role: string; label: string; revoked: true }>('POST', `/v1/tokens/${id}/revoke`),
    createCustomer: (name: string) => call<Customer>('POST', '/v1/customers', { name } satisfies Body<typeof CreateCustomerBody>),
    listCustomers: async () => (await call<{ customers: Customer[] }>('GET', '/v1/customers')).customers,
    createLicense: (input: CreateLicenseInput) =>
      call<LicenseView>('POST', '/v1/licenses', { ...input, expiresAt: iso(input.expiresAt) } satisfies Body<typeof CreateLicenseBody>),
    getLicense: (id: number) => call<LicenseView>('GET', `/v1/licenses/${id}`),
    listLicenses: async () => (await call<{ licenses: LicenseView[] }>('GET', '/v1/licenses')).licenses,
    /** Dynamic licensing: change the tier (or explicit intervals) of a license. */
    changeLicenseTier: (id: number, change: TierChange) => call<LicenseView>('POST', `/v1/licenses/${id}/tier`, change),
    revokeLicense: (id: number) => call<LicenseView>('POST', `/v1/licenses/${id}/revoke`),
    setLicenseExpiry: (id: number, expiresAt: string | Date | null) =>
      call<LicenseView>('POST', `/v1/licenses/${id}/expiry`, { expiresAt: iso(expiresAt) ?? null } satisfies Body<typeof SetExpiryBody>),
    registerDevice: (licenseId: number, name: string, group?: string) =>
      call<RegisteredDevice>('POST', '/v1/devices', { licenseId, name, group } satisfies Body<typeof RegisterDeviceBody>),
    /** Admin: move a device into a named group (null: out of any), for staged rollouts. */
    setDeviceGroup: (id: number, group: string | null) =>
      call<{ id: number; group: string | null }>('POST', `/v1/devices/${id}/group`, { group } satisfies Body<typeof SetDeviceGroupBody>),
    /** Devices, of one license, in one state (their last install outcome) and/or in one group. */
    listDevices: async (filter: { licenseId?: number; state?: InstallOutcome; group?: string } = {}) => {
      const query = new URLSearchParams();
      if (filter.licenseId) query.set('licenseId', String(filter.licenseId));
      if (filter.state) query.set('state', filter.state);
      if (filter.group) query.set('group', filter.group);
      return (await call<{ devices: DeviceView[] }>('GET', `/v1/devices${query.size ? `?${query}` : ''}`)).devices;
    },
    audit: async () => (await call<{ entries: AuditEntry[] }>('GET', '/v1/audit')).entries,
    /** Admin: one page of the audit log, newest first; `next` is the following page's URL, or null. */
    auditPage: (page: { limit?: number; before?: number } = {}) => {
      const query = new URLSearchParams();
      if (page.limit !== undefined) query.set('limit', String(page.limit));
      if (page.before !== undefined) query.set('before', String(page.before));
      const text = query.toString();
      return call<{ entries: AuditEntry[]; next: string | null }>('GET', `/v1/audit${text ? `?${text}` : ''}`);
    },
  };
}

export type Client = ReturnType<typeof createClient>;

async function toHttpError(response: Response, method: string, path: string): Promise<HttpError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string' && typeof body.message === 'string') return new HttpError(response.status, body.code, body.message);
  } catch {
    // Not one of our error bodies (a proxy's page, say): fall through.
  }
  return new HttpError(response.status, `HTTP_${response.status}`, `${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`);
}

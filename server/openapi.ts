// /openapi.json, generated from the same zod schemas the handlers validate
// with, and /docs, a plain HTML reference rendered from that document.
import { z } from 'zod';
import * as S from './api-schemas.ts';
import { UpdateCheckQuery, UpdateCheckReply } from '../api/update-check.ts';
import { DeviceReport } from '../api/device-report.ts';

interface RouteDoc {
  method: 'get' | 'post';
  path: string;
  summary: string;
  role: string;
  body?: z.ZodType;
  binaryBody?: boolean;
  query?: z.ZodType;
  binaryResponse?: boolean;
  response?: z.ZodType;
}

export const routes: RouteDoc[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness: 200 when the server and its database answer.', role: 'none' },
  {
    method: 'post',
    path: '/v1/versions',
    summary: 'Publish a signed .wgm (verified before anything is stored; 409 if the version is not newer); ?draft=true stages it until released.',
    role: 'publisher',
    binaryBody: true,
  },
  { method: 'get', path: '/v1/models/{model}/versions', summary: 'List the versions of a model.', role: 'publisher' },
  {
    method: 'post',
    path: '/v1/models/{model}/versions/{version}/release',
    summary:
      'Release a draft (published with ?draft=true): devices are offered it from their next check; 409 unless it is a draft newer than every published version. ' +
      'With percent (below 100) and/or group, a staged rollout: only that stage is offered it, and it pauses by itself when more than maxFailurePercent of the stage reports failed installs.',
    role: 'publisher',
    body: S.ReleaseBody,
  },
  {
    method: 'get',
    path: '/v1/models/{model}/versions/{version}/rollout',
    summary: "A staged rollout's state (active, paused, complete), stage share and group, and its devices' install outcomes.",
    role: 'publisher',
  },
  {
    method: 'post',
    path: '/v1/models/{model}/versions/{version}/rollout/widen',
    summary: 'Take more devices into the stage (percent, group); percent 100 completes the rollout: every device is offered the version.',
    role: 'publisher',
    body: S.WidenBody,
  },
  {
    method: 'post',
    path: '/v1/models/{model}/versions/{version}/rollout/pause',
    summary: 'Stop offering the version to stage devices that do not run it yet.',
    role: 'publisher',
    body: S.PauseBody,
  },
  {
    method: 'post',
    path: '/v1/models/{model}/versions/{version}/rollout/resume',
    summary: "Offer a paused rollout's version to its stage again; the failed installs that paused it are forgotten.",
    role: 'publisher',
  },
  { method: 'post', path: '/v1/models/{model}/versions/{version}/withdraw', summary: 'Withdraw a version: devices are no longer sent it.', role: 'publisher' },
  { method: 'post', path: '/v1/customers', summary: 'Create a customer.', role: 'admin', body: S.CreateCustomerBody },
  { method: 'get', path: '/v1/customers', summary: 'List customers.', role: 'admin' },
  {
    method: 'post',
    path: '/v1/licenses',
    summary: 'Create a license: a tier or explicit intervals of a model, static or dynamic, optional expiry.',
    role: 'admin',
    body: S.CreateLicenseBody,
  },
  { method: 'get', path: '/v1/licenses', summary: 'List licenses.', role: 'admin' },
  { method: 'get', path: '/v1/licenses/{id}', summary: 'Show a license.', role: 'admin' },
  {
    method: 'post',
    path: '/v1/licenses/{id}/tier',
    summary: "Change a dynamic license's tier or intervals (409 for static licenses).",
    role: 'admin',
    body: S.ChangeTierBody,
  },
  { method: 'post', path: '/v1/licenses/{id}/revoke', summary: 'Revoke a license: its devices get 403 LICENSE_REVOKED.', role: 'admin' },
  { method: 'post', path: '/v1/licenses/{id}/expiry', summary: "Set or clear a license's expiry.", role: 'admin', body: S.SetExpiryBody },
  {
    method: 'post',
    path: '/v1/devices',
    summary: 'Register a device under a license; returns its device token (shown once).',
    role: 'admin',
    body: S.RegisterDeviceBody,
  },
  {
    method: 'post',
    path: '/v1/devices/{id}/group',
    summary: 'Move a device into a named group (or out of it: null).',
    role: 'admin',
    body: S.SetDeviceGroupBody,
  },
  {
    method: 'get',
    path: '/v1/devices',
    summary:
      'List devices with their last reported version, intervals, slot, last install outcome (state: installed, rolled-back, refused), group and times; ?state= filters by outcome, ?group= by group.',
    role: 'admin',
    query: S.ListDevicesQuery,
  },
  { method: 'post', path: '/v1/tokens', summary: 'Issue an admin or publisher token (shown once).', role: 'admin', body: S.CreateTokenBody },
  { method: 'post', path: '/v1/tokens/{id}/revoke', summary: 'Revoke an API token (admin, publisher or device): it gets 401 from then on.', role: 'admin' },
  { method: 'post', path: '/v1/publisher-keys', summary: 'Register a publisher Ed25519 public key.', role: 'admin', body: S.RegisterKeyBody },
  { method: 'get', path: '/v1/publisher-keys', summary: 'List registered publisher keys (with revokedAt).', role: 'admin' },
  {
    method: 'post',
    path: '/v1/publisher-keys/{keyId}/revoke',
    summary: 'Revoke a publisher key: uploads signed with it get 403 PUBLISHER_KEY_REVOKED; lists the published versions it signed.',
    role: 'admin',
  },
  {
    method: 'get',
    path: '/v1/audit',
    summary: 'Audit log entries, newest first: a page of `limit` (default and most 500); `next` is the URL of the following page, or null.',
    role: 'admin',
    query: S.AuditQuery,
  },
  {
    method: 'get',
    path: '/v1/device/update-check',
    summary: 'What the device should run: target version, granted intervals, artifact and patch URLs with size and hash.',
    role: 'device',
    query: UpdateCheckQuery,
    response: UpdateCheckReply,
  },
  {
    method: 'post',
    path: '/v1/device/report',
    summary:
      'After each install attempt: the version, held intervals and slot the device runs, and the outcome (installed, rolled-back, refused) with its reason.',
    role: 'device',
    body: DeviceReport,
  },
  {
    method: 'get',
    path: '/v1/artifacts/{sha256}',
    summary: 'A .wgm by its SHA-256 (ETag, Range, If-None-Match, immutable). Devices: only what their license grants.',
    role: 'any',
    binaryResponse: true,
  },
  {
    method: 'get',
    path: '/v1/patches/{from}/{to}',
    summary: 'A .wgp from one artifact to another, built on demand and cached. Devices: only to what their license grants.',
    role: 'any',
    binaryResponse: true,
  },
];

/** The methods the API answers on `path` (HEAD wherever GET), or [] for an unknown path. */
export function allowedMethods(path: string): string[] {
  const methods = new Set<string>();
  const all = [...routes.map((r) => ({ method: r.method, path: r.path })), { method: 'get', path: '/openapi.json' }, { method: 'get', path: '/docs' }];
  for (const route of all) {
    const pattern = new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{\w+\\?\}/g, '[^/]+')}$`);
    if (!pattern.test(path)) continue;
    methods.add(route.method.toUpperCase());
    if (route.method === 'get') methods.add('HEAD');
  }
  return [...methods].sort();
}

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] };

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (route.query) {
      const schema = z.toJSONSchema(route.query, { io: 'input' }) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, prop] of Object.entries(schema.properties ?? {})) {
        parameters.push({ name, in: 'query', required: (schema.required ?? []).includes(name), schema: prop as never });
      }
    }
    const operation: Record<string, unknown> = {
      summary: route.summary,
      'x-role': route.role,
      parameters,
      responses: {
        '200': route.binaryResponse
          ? {
              description:
                'The bytes (206 for a Range whose If-Range, if any, is the current ETag; 304 for a matching If-None-Match; 412 for a failed If-Match).',
              content: { 'application/octet-stream': {} },
            }
          : {
              description: 'JSON, or MessagePack with Accept: application/msgpack.',
              content: route.response
                ? { 'application/json': { schema: z.toJSONSchema(route.response) }, 'application/msgpack': { schema: z.toJSONSchema(route.response) } }
                : { 'application/json': {}, 'application/msgpack': {} },
            },
        default: { description: 'An error.', content: { 'application/json': { schema: errorSchema } } },
      },
    };
    if (route.role !== 'none') operation.security = [{ bearer: [] }];
    if (route.body) operation.requestBody = { required: true, content: { 'application/json': { schema: z.toJSONSchema(route.body, { io: 'input' }) } } };
    if (route.binaryBody) operation.requestBody = { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } };
    (paths[route.path] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'weightgate weight storage server', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

/** A plain, dependency-free HTML page listing every operation of the document. */
export function renderReference(doc: Record<string, unknown>): string {
  const rows: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op.parameters as Array<{ name: string; in: string; required: boolean }>)
        .map((p) => `${p.name} (${p.in}${p.required ? ', required' : ''})`)
        .join(', ');
      const body = op.requestBody ? `<pre>${escapeHtml(JSON.stringify((op.requestBody as { content: unknown }).content, null, 2))}</pre>` : '';
      rows.push(
        `<section><h2><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h2><p>${escapeHtml(String(op.summary))}</p>` +
          `<p>Token: <b>${escapeHtml(String(op['x-role']))}</b>${params ? ` · Parameters: ${escapeHtml(params)}` : ''}</p>${body}</section>`,
      );
    }
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>weightgate API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}section{border-top:1px solid #ccc}pre{background:#f5f5f5;padding:.5em;overflow:auto}</style>
</head><body><h1>weightgate weight storage server API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Errors are <code>{"code","message"}</code> with 400/401/403/404/405 (with Allow)/409/412/413, and 503 with Retry-After when the database is unreachable.</p>${rows.join('\n')}</body></html>`;
}

// The device's HTTP client for the server's device API (contract in the
// issue): update-check, and resumable downloads of artifacts and patches
// with HTTP Range. Every answer is untrusted input: the JSON is validated,
// the downloaded bytes are hashed before anything reads them.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DeviceError, DeviceErrorCode, PowerCutError } from './errors.ts';
import type { Flash, DownloadMeta } from './flash.ts';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const offerSchema = z.object({ url: z.string().startsWith('/'), sha256: sha256Hex, bytes: z.number().int().nonnegative() });

const updateCheckSchema = z.object({
  model: z.string(),
  upToDate: z.boolean(),
  version: z.number().int().nonnegative(),
  intervals: z.array(z.number().int().nonnegative()),
  artifact: offerSchema,
  patch: offerSchema.nullable(),
});

export type UpdateCheck = z.infer<typeof updateCheckSchema>;
export type Offer = z.infer<typeof offerSchema>;

export interface UpdateClient {
  check(current: { version: number; intervals: number[]; sha256?: string }): Promise<UpdateCheck>;
  /**
   * Downloads `offer` into the flash download area, resuming a partial one of
   * the same hash; returns the verified bytes and how many came over the network.
   */
  download(offer: Offer, kind: DownloadMeta['kind'], flash: Flash): Promise<{ bytes: Uint8Array; bytesSent: number }>;
}

export interface UpdateClientOptions {
  server: string;
  token: string;
  /** Network attempts per download before giving up (each resumes). */
  maxAttempts?: number;
}

async function serverError(response: Response, what: string): Promise<DeviceError> {
  let detail = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string') detail = `${body.code} (HTTP ${response.status}): ${String(body.message ?? '')}`;
  } catch {
    // not JSON: the status says enough
  }
  const error = new DeviceError(DeviceErrorCode.SERVER_ERROR, `${what} failed: ${detail}`);
  (error as DeviceError & { status: number }).status = response.status;
  return error;
}

export function createUpdateClient(options: UpdateClientOptions): UpdateClient {
  const base = options.server.replace(/\/+$/, '');
  const maxAttempts = options.maxAttempts ?? 5;
  const auth = { authorization: `Bearer ${options.token}` };

  async function check(current: { version: number; intervals: number[]; sha256?: string }): Promise<UpdateCheck> {
    const query = new URLSearchParams({ version: String(current.version), intervals: current.intervals.join(',') });
    if (current.sha256) query.set('sha256', current.sha256);
    const response = await fetch(`${base}/v1/device/update-check?${query}`, { headers: { ...auth, accept: 'application/json' } });
    if (!response.ok) throw await serverError(response, 'update-check');
    const parsed = updateCheckSchema.safeParse(await response.json());
    if (!parsed.success) {
      throw new DeviceError(DeviceErrorCode.SERVER_ERROR, `update-check answer does not follow the contract: ${parsed.error.message}`);
    }
    return parsed.data;
  }

  async function download(offer: Offer, kind: DownloadMeta['kind'], flash: Flash) {
    const meta: DownloadMeta = { sha256: offer.sha256, bytes: offer.bytes, kind };
    const staged = flash.readDownloadMeta();
    if (!staged || staged.sha256 !== meta.sha256 || staged.bytes !== meta.bytes || flash.downloadLength() > meta.bytes) {
      flash.beginDownload(meta);
    }
    let bytesSent = 0;
    let lastProblem = 'no attempt made';
    for (let attempt = 0; attempt < maxAttempts && flash.downloadLength() < meta.bytes; attempt++) {
      const have = flash.downloadLength();
      const headers: Record<string, string> = { ...auth };
      if (have > 0) headers.range = `bytes=${have}-`;
      let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
      try {
        const response = await fetch(`${base}${offer.url}`, { headers });
        if (response.status !== 200 && response.status !== 206) throw await serverError(response, `download of ${offer.url}`);
        if (response.status === 200 && have > 0) flash.beginDownload(meta); // server ignored Range: start over
        if (response.status === 206 && !new RegExp(`^bytes ${have}-`).test(response.headers.get('content-range') ?? '')) {
          throw new DeviceError(DeviceErrorCode.SERVER_ERROR, `download of ${offer.url}: Content-Range does not start at ${have}`);
        }
        if (!response.body) throw new DeviceError(DeviceErrorCode.SERVER_ERROR, `download of ${offer.url}: empty body`);
        reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          const room = meta.bytes - flash.downloadLength();
          if (value.length > room) {
            throw new DeviceError(DeviceErrorCode.DOWNLOAD_FAILED, `download of ${offer.url} is longer than the ${meta.bytes} bytes announced`);
          }
          bytesSent += value.length;
          flash.appendDownload(value);
        }
        reader = null;
      } catch (error) {
        if (error instanceof PowerCutError || error instanceof DeviceError) throw error;
        lastProblem = (error as Error).message; // network broke: resume on the next attempt
      } finally {
        if (reader) reader.cancel().catch(() => undefined);
      }
    }
    if (flash.downloadLength() !== meta.bytes) {
      throw new DeviceError(
        DeviceErrorCode.DOWNLOAD_FAILED,
        `download of ${offer.url} stopped at ${flash.downloadLength()} of ${meta.bytes} bytes after ${maxAttempts} attempts (${lastProblem}); the next check resumes it`,
      );
    }
    const bytes = flash.readDownload() ?? new Uint8Array(0);
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (hash !== meta.sha256) {
      flash.clearDownload();
      throw new DeviceError(DeviceErrorCode.DOWNLOAD_HASH_MISMATCH, `download of ${offer.url} hashes to ${hash}, the server promised ${meta.sha256}; discarded`);
    }
    return { bytes, bytesSent };
  }

  return { check, download };
}

// The device's HTTP client for the server's device API (its contract is
// api/update-check.ts): update-check, and resumable downloads of artifacts and patches
// with HTTP Range. Every answer is untrusted input: the JSON is validated,
// the downloaded bytes are hashed before anything reads them.
import { concatBytes, sha256Hex } from '../formats/index.ts';
import { type Offer, UpdateCheckReply, updateCheckSearch, type DeviceState } from '../api/update-check.ts';
import { DeviceError, DeviceErrorCode, PowerCutError } from './errors.ts';
import type { Flash, DownloadMeta } from './flash.ts';
import { DeviceReport as DeviceReportSchema, type DeviceReport } from '../api/device-report.ts';

export type UpdateCheck = UpdateCheckReply;
export type { Offer };

export interface UpdateClient {
  check(current: DeviceState): Promise<UpdateCheck>;
  /**
   * Downloads `offer` into the flash download area, resuming a partial one of
   * the same hash; returns the verified bytes and how many came over the network.
   */
  download(offer: Offer, kind: DownloadMeta['kind'], flash: Flash): Promise<{ bytes: Uint8Array; bytesSent: number }>;
  /** Tells the server how an install attempt went (POST /v1/device/report); a DeviceError when it could not. */
  report(report: DeviceReport): Promise<void>;
}

export interface Timeouts {
  /** From sending a request to its response headers. */
  connectMs: number;
  /** Longest silence while a body streams in. */
  idleMs: number;
  /** The whole update-check, or the whole download (all its attempts). */
  totalMs: number;
}

export const DEFAULT_CHECK_TIMEOUTS: Timeouts = { connectMs: 10_000, idleMs: 10_000, totalMs: 30_000 };
export const DEFAULT_DOWNLOAD_TIMEOUTS: Timeouts = { connectMs: 10_000, idleMs: 10_000, totalMs: 300_000 };
/** An update-check answer is a few hundred bytes; anything past this is not one. */
export const MAX_CHECK_BODY_BYTES = 64 * 1024;
/** Same-origin redirects followed per request. */
export const MAX_REDIRECTS = 5;

export interface UpdateClientOptions {
  server: string;
  token: string;
  /** Network attempts per download before giving up (each resumes). */
  maxAttempts?: number;
  checkTimeouts?: Partial<Timeouts>;
  downloadTimeouts?: Partial<Timeouts>;
}

type FailureCode = typeof DeviceErrorCode.SERVER_ERROR | typeof DeviceErrorCode.DOWNLOAD_FAILED;

/**
 * One operation's clock: an AbortSignal that fires at the total deadline, or
 * earlier when armed for connect or idle and the time runs out. `reason`
 * says which fired.
 */
class Clock {
  private controller = new AbortController();
  private readonly total: NodeJS.Timeout;
  private phase: NodeJS.Timeout | undefined;
  reason: 'total' | 'connect' | 'idle' | null = null;
  constructor(private readonly timeouts: Timeouts) {
    this.total = setTimeout(() => this.fire('total'), timeouts.totalMs);
  }
  get expired(): boolean {
    return this.reason === 'total';
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  private fire(reason: 'total' | 'connect' | 'idle'): void {
    if (this.reason && reason !== 'total') return;
    this.reason = reason;
    this.controller.abort(new Error(`${reason} timeout`));
  }
  /** After a connect or idle timeout: a fresh signal for the next attempt, within the same total. */
  renew(): void {
    if (this.reason === 'total') return;
    this.reason = null;
    this.controller = new AbortController();
  }
  /** (Re)arms the connect or idle timer. */
  arm(kind: 'connect' | 'idle'): void {
    clearTimeout(this.phase);
    this.phase = setTimeout(() => this.fire(kind), kind === 'connect' ? this.timeouts.connectMs : this.timeouts.idleMs);
  }
  disarm(): void {
    clearTimeout(this.phase);
  }
  /** Why a failed operation failed, in words. */
  describe(error: unknown): string {
    if (this.reason === 'total') return `no answer within ${this.timeouts.totalMs} ms in all`;
    if (this.reason === 'connect') return `no response within ${this.timeouts.connectMs} ms`;
    if (this.reason === 'idle') return `no data for ${this.timeouts.idleMs} ms`;
    const cause = (error as { cause?: { message?: string; code?: string } })?.cause;
    return `${(error as Error)?.message ?? String(error)}${cause?.code ? ` (${cause.code})` : cause?.message ? ` (${cause.message})` : ''}`;
  }
  done(): void {
    clearTimeout(this.total);
    clearTimeout(this.phase);
  }
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

  const checkTimeouts = { ...DEFAULT_CHECK_TIMEOUTS, ...options.checkTimeouts };
  const downloadTimeouts = { ...DEFAULT_DOWNLOAD_TIMEOUTS, ...options.downloadTimeouts };
  const origin = new URL(base).origin;

  /**
   * fetch with a connect timeout, following same-origin redirects only (at
   * most MAX_REDIRECTS): a redirect to another origin would hand the device
   * token and the download to someone else.
   */
  async function fetchHere(path: string, headers: Record<string, string>, clock: Clock, code: FailureCode, what: string): Promise<Response> {
    let url = new URL(`${base}${path}`);
    for (let hop = 0; ; hop++) {
      clock.arm('connect');
      const response = await fetch(url, { headers, redirect: 'manual', signal: clock.signal });
      clock.disarm();
      const location = response.headers.get('location');
      if (response.status < 300 || response.status > 399 || location === null) return response;
      await response.body?.cancel().catch(() => undefined);
      const next = new URL(location, url);
      if (next.origin !== origin) {
        throw new DeviceError(code, `${what}: the server redirects to another origin (${next.origin}); refused, the device talks to ${origin} only`);
      }
      if (hop + 1 > MAX_REDIRECTS) throw new DeviceError(code, `${what}: more than ${MAX_REDIRECTS} redirects (a loop?); refused`);
      url = next;
    }
  }

  /** The body, with the idle timer armed between chunks and at most `max` bytes. */
  async function readCapped(response: Response, clock: Clock, max: number, what: string): Promise<Uint8Array> {
    if (!response.body) return new Uint8Array(0);
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let length = 0;
    try {
      for (;;) {
        clock.arm('idle');
        const { done, value } = await reader.read();
        if (done) break;
        length += value.byteLength;
        if (length > max) throw new DeviceError(DeviceErrorCode.SERVER_ERROR, `${what}: the answer is longer than ${max} bytes; not an update-check answer`);
        chunks.push(value);
      }
    } finally {
      clock.disarm();
      reader.cancel().catch(() => undefined);
    }
    return concatBytes(chunks);
  }

  async function check(current: DeviceState): Promise<UpdateCheck> {
    const query = updateCheckSearch(current);
    const clock = new Clock(checkTimeouts);
    let raw: Uint8Array;
    try {
      const response = await fetchHere(
        `/v1/device/update-check?${query}`,
        { ...auth, accept: 'application/json' },
        clock,
        DeviceErrorCode.SERVER_ERROR,
        'update-check',
      );
      if (!response.ok) throw await serverError(response, 'update-check');
      raw = await readCapped(response, clock, MAX_CHECK_BODY_BYTES, 'update-check');
    } catch (error) {
      if (error instanceof DeviceError || error instanceof PowerCutError) throw error;
      throw new DeviceError(DeviceErrorCode.SERVER_ERROR, `update-check failed: ${clock.describe(error)}; the next check tries again`);
    } finally {
      clock.done();
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    } catch {
      throw new DeviceError(
        DeviceErrorCode.SERVER_ERROR,
        `update-check answer is not JSON (${raw.byteLength} bytes beginning ${JSON.stringify(new TextDecoder().decode(raw.subarray(0, 40)))}); the next check tries again`,
      );
    }
    const parsed = UpdateCheckReply.safeParse(body);
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
    let attempts = 0;
    const clock = new Clock(downloadTimeouts);
    try {
      for (; attempts < maxAttempts && flash.downloadLength() < meta.bytes && !clock.expired; attempts++) {
        const have = flash.downloadLength();
        const headers: Record<string, string> = { ...auth };
        if (have > 0) headers.range = `bytes=${have}-`;
        let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
        try {
          const response = await fetchHere(offer.url, headers, clock, DeviceErrorCode.DOWNLOAD_FAILED, `download of ${offer.url}`);
          if (response.status !== 200 && response.status !== 206) throw await serverError(response, `download of ${offer.url}`);
          if (response.status === 200 && have > 0) flash.beginDownload(meta); // server ignored Range: start over
          if (response.status === 206 && !new RegExp(`^bytes ${have}-`).test(response.headers.get('content-range') ?? '')) {
            throw new DeviceError(DeviceErrorCode.SERVER_ERROR, `download of ${offer.url}: Content-Range does not start at ${have}`);
          }
          if (!response.body) throw new DeviceError(DeviceErrorCode.SERVER_ERROR, `download of ${offer.url}: empty body`);
          reader = response.body.getReader();
          for (;;) {
            clock.arm('idle');
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
          lastProblem = clock.describe(error); // network broke or went quiet: resume on the next attempt
          if (clock.expired) break;
          clock.renew();
        } finally {
          clock.disarm();
          if (reader) reader.cancel().catch(() => undefined);
        }
      }
    } finally {
      clock.done();
    }
    if (flash.downloadLength() !== meta.bytes) {
      throw new DeviceError(
        DeviceErrorCode.DOWNLOAD_FAILED,
        `download of ${offer.url} stopped at ${flash.downloadLength()} of ${meta.bytes} bytes after ${attempts} attempt(s) (${lastProblem}); the next check resumes it`,
      );
    }
    const bytes = flash.readDownload() ?? new Uint8Array(0);
    const hash = sha256Hex(bytes);
    if (hash !== meta.sha256) {
      flash.clearDownload();
      throw new DeviceError(
        DeviceErrorCode.DOWNLOAD_HASH_MISMATCH,
        `download of ${offer.url} hashes to ${hash}, the server promised ${meta.sha256}; discarded`,
      );
    }
    return { bytes, bytesSent };
  }

  async function report(body: DeviceReport): Promise<void> {
    const checked = DeviceReportSchema.parse(body);
    let response: Response;
    try {
      // No redirects for a POST carrying the token: the server answers it itself.
      response = await fetch(`${base}/v1/device/report`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(checked),
        redirect: 'error',
        signal: AbortSignal.timeout(checkTimeouts.totalMs),
      });
    } catch (error) {
      throw new DeviceError(DeviceErrorCode.SERVER_ERROR, `report failed: ${(error as Error).message}`);
    }
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) throw new DeviceError(DeviceErrorCode.SERVER_ERROR, `report: the server answered ${response.status}`);
  }

  return { check, download, report };
}

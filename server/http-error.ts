// The one error type of server/: code throws it, the app's onError turns it
// into `{ "code", "message" }` with its status, and the client turns such a
// response back into it. A stable `code`, a message that says what, where and
// what to do.

export type HttpStatus = 400 | 401 | 403 | 404 | 405 | 409 | 412 | 413 | 416 | 500 | 503;

export class HttpError extends Error {
  /** CLI exit code: 2 for a refused request (bad input), 1 for anything else. */
  readonly exitCode: number;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers (Retry-After, Allow). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.exitCode = status >= 400 && status < 500 ? 2 : 1;
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);
export const unauthorized = (code: string, message: string) => new HttpError(401, code, message);
export const forbidden = (code: string, message: string) => new HttpError(403, code, message);
export const notFound = (code: string, message: string) => new HttpError(404, code, message);
export const conflict = (code: string, message: string) => new HttpError(409, code, message);

/** Seconds a client should wait before retrying when the database is unreachable. */
export const RETRY_AFTER_SECONDS = 5;

export const databaseUnavailable = () =>
  new HttpError(503, 'DATABASE_UNAVAILABLE', `the server cannot reach its database right now; retry in ${RETRY_AFTER_SECONDS} s`, {
    'Retry-After': String(RETRY_AFTER_SECONDS),
  });

// How the CLI turns any error into one line on stderr and an exit code.
//
// Every domain has its own error class (FormatError, BudgetError, HttpError,
// ...). They share a shape, not a base class, so formats/ depends on nothing:
// a string `code`, a message that says what/where/what to do, and optionally
// `exitCode` (1 = a failed check or budget, 2 = bad usage or bad input).
// An error without an exit code is a bug in weightgate (a TypeError, a
// RangeError, ...): exit 70, with a hint to rerun with --verbose for the
// stack. The operating system's errors (ENOENT, EACCES: a path that was
// given) stay bad input.

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
/** sysexits.h EX_SOFTWARE: an internal error, not the input's fault. */
export const EXIT_INTERNAL = 70;

/** Raised by CLI code itself for bad arguments. */
export class UsageError extends Error {
  readonly code = 'BAD_USAGE';
  readonly exitCode = EXIT_BAD_INPUT;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Raised when a check or budget fails (exit 1). */
export class CheckFailedError extends Error {
  readonly exitCode = EXIT_CHECK_FAILED;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CheckFailedError';
  }
}

interface CodedError {
  code?: unknown;
  exitCode?: unknown;
  message?: unknown;
  stack?: unknown;
}

/** An operating-system error such as ENOENT from fs, carrying its syscall. */
function isSystemError(error: unknown): boolean {
  const coded = error as CodedError & { syscall?: unknown };
  return typeof coded?.code === 'string' && /^E[A-Z0-9]+$/.test(coded.code) && typeof coded.syscall === 'string';
}

/** Whether the error is a bug (no exit code of its own, not from the OS). */
export function isInternalError(error: unknown): boolean {
  return typeof (error as CodedError)?.exitCode !== 'number' && !isSystemError(error);
}

export function exitCodeOf(error: unknown): number {
  const coded = error as CodedError;
  if (typeof coded?.exitCode === 'number') return coded.exitCode;
  return isSystemError(error) ? EXIT_BAD_INPUT : EXIT_INTERNAL;
}

/** What to do about a server's refusal, where its message alone leaves the reader guessing. */
const HINTS: Record<string, string> = {
  NOT_YOUR_MODEL: 'hint: use an admin token or the publisher token that owns the model (the one that first published it)',
  DATABASE_UNAVAILABLE: 'retryable: the server is up but cannot reach its database; run the command again shortly',
};

/** Formats an error as the single stderr line the CLI prints. */
export function describeError(error: unknown, verbose = false): string {
  const coded = error as CodedError;
  const message = typeof coded?.message === 'string' ? coded.message : String(error);
  if (isInternalError(error)) {
    const kind = error instanceof Error ? error.name : typeof error;
    const hint = verbose ? 'this is a bug in weightgate; the stack follows' : 'this is a bug in weightgate; rerun with --verbose for the stack trace';
    return `weightgate: internal error (${kind}): ${message} (${hint})`;
  }
  const code = typeof coded?.code === 'string' ? coded.code : 'ERROR';
  const hint = HINTS[code];
  return `weightgate: error ${code}: ${message}${hint ? ` (${hint})` : ''}`;
}

export function reportError(error: unknown, verbose: boolean): number {
  process.stderr.write(describeError(error, verbose) + '\n');
  if (verbose && typeof (error as CodedError)?.stack === 'string') {
    process.stderr.write(String((error as CodedError).stack) + '\n');
  }
  return exitCodeOf(error);
}

// How the CLI turns any error into one line on stderr and an exit code.
//
// Every domain has its own error class (FormatError, BudgetError, HttpError,
// ...). They share a shape, not a base class, so formats/ depends on nothing:
// a string `code`, a message that says what/where/what to do, and optionally
// `exitCode` (1 = a failed check or budget, 2 = bad usage or bad input).

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

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
  constructor(readonly code: string, message: string) {
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

export function exitCodeOf(error: unknown): number {
  const coded = error as CodedError;
  if (typeof coded?.exitCode === 'number') return coded.exitCode;
  return EXIT_BAD_INPUT;
}

/** Formats an error as the single stderr line the CLI prints. */
export function describeError(error: unknown): string {
  const coded = error as CodedError;
  const message = typeof coded?.message === 'string' ? coded.message : String(error);
  const code = typeof coded?.code === 'string' ? coded.code : 'ERROR';
  return `weightgate: error ${code}: ${message}`;
}

export function reportError(error: unknown, verbose: boolean): number {
  process.stderr.write(describeError(error) + '\n');
  if (verbose && typeof (error as CodedError)?.stack === 'string') {
    process.stderr.write(String((error as CodedError).stack) + '\n');
  }
  return exitCodeOf(error);
}

// The one error type of formats/: every rejection of bytes or input is a
// FormatError with a stable code and a message that says what and where.

export const FormatErrorCode = {
  TRUNCATED: 'TRUNCATED',
  BAD_IDENTIFIER: 'BAD_IDENTIFIER',
  OUT_OF_BOUNDS: 'OUT_OF_BOUNDS',
  TOO_LARGE: 'TOO_LARGE',
  BAD_VALUE: 'BAD_VALUE',
  HASH_MISMATCH: 'HASH_MISMATCH',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  UNSIGNED: 'UNSIGNED',
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  MISSING_SEGMENT: 'MISSING_SEGMENT',
  WRONG_BASE: 'WRONG_BASE',
  BAD_INPUT: 'BAD_INPUT',
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
} as const;

export type FormatErrorCode = (typeof FormatErrorCode)[keyof typeof FormatErrorCode];

export class FormatError extends Error {
  /** Bad bytes or bad input: the CLI exits 2. */
  readonly exitCode = 2;
  constructor(
    readonly code: FormatErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FormatError';
  }
}

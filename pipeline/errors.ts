// The errors of pipeline/: each carries a stable `code` and an `exitCode`
// (2 = bad input, 1 = a failed budget) that cli/errors.ts turns into one
// stderr line. Messages say what is wrong, where (the file), and what to do.

export const DatasetErrorCode = {
  BAD_SPEC: 'BAD_SPEC',
  NOT_FOUND: 'NOT_FOUND',
  BAD_MAGIC: 'BAD_MAGIC',
  TRUNCATED: 'TRUNCATED',
  SIZE_MISMATCH: 'SIZE_MISMATCH',
  BAD_LABEL: 'BAD_LABEL',
} as const;
export type DatasetErrorCode = (typeof DatasetErrorCode)[keyof typeof DatasetErrorCode];

/** A dataset spec or file that cannot be used. */
export class DatasetError extends Error {
  readonly exitCode = 2;
  constructor(
    readonly code: DatasetErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DatasetError';
  }
}

export const ModelErrorCode = {
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  BAD_MODEL_JSON: 'BAD_MODEL_JSON',
  UNSUPPORTED_LAYER: 'UNSUPPORTED_LAYER',
  BAD_WEIGHTS: 'BAD_WEIGHTS',
  SHAPE_MISMATCH: 'SHAPE_MISMATCH',
  UNKNOWN_PRESET: 'UNKNOWN_PRESET',
  BAD_STATE: 'BAD_STATE',
} as const;
export type ModelErrorCode = (typeof ModelErrorCode)[keyof typeof ModelErrorCode];

/** A model file (model.json, weights, a saved build state) that cannot be used. */
export class ModelError extends Error {
  readonly exitCode = 2;
  constructor(
    readonly code: ModelErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

/** A build option out of range (exit 2). */
export class BuildOptionError extends Error {
  readonly exitCode = 2;
  readonly code = 'BAD_OPTION';
  constructor(message: string) {
    super(message);
    this.name = 'BuildOptionError';
  }
}

/** The full artifact breaks --max-bytes or --min-accuracy (exit 1, CI gating). */
export class BudgetError extends Error {
  readonly exitCode = 1;
  constructor(
    readonly code: 'MAX_BYTES' | 'MIN_ACCURACY',
    message: string,
  ) {
    super(message);
    this.name = 'BudgetError';
  }
}

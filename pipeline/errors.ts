// The one error type of pipeline/: a PipelineError with a stable `code` and
// the `exitCode` cli/errors.ts turns into one stderr line: 1 when the built
// artifact breaks a budget (--max-bytes, --min-accuracy: CI gating), 2 for
// anything it was given that cannot be used (a dataset, a model file, a
// saved build state, an option). Messages say what is wrong, where (the
// file), and what to do.

export const PipelineErrorCode = {
  // A dataset spec or file.
  BAD_SPEC: 'BAD_SPEC',
  NOT_FOUND: 'NOT_FOUND',
  BAD_MAGIC: 'BAD_MAGIC',
  TRUNCATED: 'TRUNCATED',
  SIZE_MISMATCH: 'SIZE_MISMATCH',
  BAD_LABEL: 'BAD_LABEL',
  // A model file (model.json, weights, a preset, a saved build state).
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  BAD_MODEL_JSON: 'BAD_MODEL_JSON',
  UNSUPPORTED_LAYER: 'UNSUPPORTED_LAYER',
  BAD_WEIGHTS: 'BAD_WEIGHTS',
  SHAPE_MISMATCH: 'SHAPE_MISMATCH',
  UNKNOWN_PRESET: 'UNKNOWN_PRESET',
  BAD_STATE: 'BAD_STATE',
  // A build option out of range, or unusable.
  BAD_OPTION: 'BAD_OPTION',
  // --key is not an Ed25519 private key.
  BAD_KEY: 'BAD_KEY',
  // --from a signed build without --key: the next version would silently lose its signature.
  KEY_REQUIRED: 'KEY_REQUIRED',
  // The full artifact breaks a budget (exit 1).
  MAX_BYTES: 'MAX_BYTES',
  MIN_ACCURACY: 'MIN_ACCURACY',
  // The full tier is more points below the input model than --max-drop allows (exit 1).
  MAX_DROP: 'MAX_DROP',
} as const;
export type PipelineErrorCode = (typeof PipelineErrorCode)[keyof typeof PipelineErrorCode];

const BUDGET_CODES: ReadonlySet<PipelineErrorCode> = new Set([PipelineErrorCode.MAX_BYTES, PipelineErrorCode.MIN_ACCURACY, PipelineErrorCode.MAX_DROP]);

export class PipelineError extends Error {
  /** 1 for a broken budget, 2 for unusable input. */
  readonly exitCode: number;
  constructor(
    readonly code: PipelineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PipelineError';
    this.exitCode = BUDGET_CODES.has(code) ? 1 : 2;
  }
}

// Numeric option values: parsed strictly (no "", "0x10", "10k" or "NaN"
// slipping through Number()), checked against their range, and refused with
// one line that says what the option takes (exit 2).

/** An option value that is not what the option takes (exit 2). */
export class OptionValueError extends Error {
  readonly code = 'BAD_OPTION';
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'OptionValueError';
  }
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

interface Range {
  min: number;
  max?: number;
  /** Whether max itself is allowed (default true). */
  maxInclusive?: boolean;
  /** What the number counts, for the message ("seconds"). */
  unit?: string;
}

function describe(kind: 'an integer' | 'a number', { min, max, maxInclusive = true, unit }: Range): string {
  const what = unit ? `${kind === 'an integer' ? 'a whole number' : 'a number'} of ${unit}` : kind;
  if (max === undefined) return `${what} ${min}..`;
  return `${what} ${min}..${max}${maxInclusive ? '' : ` (below ${max})`}`;
}

function inRange(value: number, { min, max, maxInclusive = true }: Range): boolean {
  if (value < min) return false;
  if (max === undefined) return true;
  return maxInclusive ? value <= max : value < max;
}

/** Parses `text` as an integer in range, or throws naming `name`. */
export function parseInteger(name: string, text: string, range: Range): number {
  const value = DECIMAL.test(text.trim()) && text.trim() === text ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || !inRange(value, range)) throw new OptionValueError(`${name} must be ${describe('an integer', range)}, got "${text}"`);
  return value;
}

/** Parses `text` as a finite number in range, or throws naming `name`. */
export function parseNumber(name: string, text: string, range: Range): number {
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || !inRange(value, range)) throw new OptionValueError(`${name} must be ${describe('a number', range)}, got "${text}"`);
  return value;
}

/** Commander argument parsers. */
export const integerOption = (name: string, range: Range) => (text: string) => parseInteger(name, text, range);
export const numberOption = (name: string, range: Range) => (text: string) => parseNumber(name, text, range);

/** A positive integer (1..), as counts and ids are. */
export function positiveInt(name: string) {
  return (text: string): number => {
    const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 1) throw new OptionValueError(`${name} must be a positive integer, got "${text}"`);
    return value;
  };
}

export interface CtestResults {
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
  skippedNames: string[];
}
export function parseCtestOutput(output: string): CtestResults;

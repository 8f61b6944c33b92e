// Types of bundle.mjs, for the TypeScript modules that ask whether the compiled CLI is up to date.
export const root: string;
export const bundleDir: string;
export const INPUTS_FILE: string;
export function bundleIsFresh(dir?: string, base?: string): Promise<boolean>;
export function compiledEntry(name: string): Promise<string | null>;

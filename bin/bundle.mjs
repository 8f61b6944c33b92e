// Where the compiled CLI lives (scripts/build-cli.mjs writes it) and whether
// it is up to date, for bin/weightgate.js and the build script.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bundleDir = join(root, 'dist', 'cli');
export const INPUTS_FILE = 'inputs.json';

/**
 * True when `dir` holds a build whose every source (listed in its
 * inputs.json, relative to the checkout) still exists and is no newer than
 * the moment that build started (`base`: the folder the list is relative to).
 */
export async function bundleIsFresh(dir = bundleDir, base = root) {
  try {
    const { built, inputs } = JSON.parse(await readFile(join(dir, INPUTS_FILE), 'utf8'));
    if (!Number.isFinite(built) || !Array.isArray(inputs) || inputs.length === 0) return false;
    const times = await Promise.all(inputs.map((input) => stat(join(base, input)).then((s) => s.mtimeMs)));
    return times.every((time) => time <= built);
  } catch {
    return false;
  }
}

/**
 * The compiled module `name` (an entry of scripts/build-cli.mjs: 'main',
 * 'fleet-worker-main') to run instead of its TypeScript source, or null when
 * the sources must run: the build is missing or stale, or
 * WEIGHTGATE_FROM_SOURCE=1 asks for them.
 */
export async function compiledEntry(name) {
  if (process.env.WEIGHTGATE_FROM_SOURCE === '1') return null;
  const file = join(bundleDir, `${name}.js`);
  return existsSync(file) && (await bundleIsFresh()) ? file : null;
}

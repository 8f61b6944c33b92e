#!/usr/bin/env node
// Compiles the `weightgate` command (cli/main.ts and everything of ours it
// imports) into plain JavaScript under dist/cli/, so that bin/weightgate.js
// starts without tsx's loader: 0.19 CPU-seconds for `--help` against 0.68
// through tsx (measured on a 2-core machine), paid by every command a user, a script or the test suite
// runs. npm runs this after `npm install` (the `prepare` script) and the test
// runner runs it before the suite; it takes well under a second.
//
//   node scripts/build-cli.mjs          build dist/cli/
//   node scripts/build-cli.mjs --check  exit 1 when dist/cli/ is missing or older than a source
//   node scripts/build-cli.mjs --if-possible
//                                       build, but exit 0 on failure (npm install's prepare step)
//
// What it does:
// - esbuild bundles our TypeScript; packages from node_modules stay imports
//   (they resolve as they do for the sources, wasm and data files included).
// - Dynamic imports become chunks of their own, so each area still loads
//   only when its command runs.
// - `import.meta.url` in a source file stays that file's own URL, computed
//   from the bundle's location (scripts/esbuild-node.mjs), so reading a
//   file beside the source works from the bundle, and the checkout can move.
// - dist/cli/inputs.json lists the sources; bin/weightgate.js runs the
//   bundle only when none of them is newer than it (bin/bundle.mjs), and
//   otherwise the sources through tsx, so an edit never runs stale code.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleDir, bundleIsFresh, INPUTS_FILE, root } from '../bin/bundle.mjs';
import { nodeBundle } from './esbuild-node.mjs';

// The command, and the entry of a fleet worker (device-sim/fleet-workers.ts
// starts workers on it while this build is up to date).
const ENTRY_POINTS = { main: 'cli/main.ts', 'fleet-worker-main': 'device-sim/fleet-worker-main.ts' };

/** Compiles the CLI into `outdir` (default dist/cli/, emptied first). */
export async function buildCli(outdir = bundleDir) {
  const esbuild = await import('esbuild');
  const started = Date.now();
  await rm(outdir, { recursive: true, force: true });
  const result = await esbuild.build(nodeBundle({ root, entryPoints: ENTRY_POINTS, outdir, relativeTo: outdir, metafile: true, logLevel: 'warning' }));
  const inputs = Object.keys(result.metafile.inputs).filter((input) => !input.startsWith('node_modules/'));
  // The sources' times are compared with the moment the build started: a
  // file saved during the build makes the bundle stale, never the reverse.
  await writeFile(join(outdir, INPUTS_FILE), JSON.stringify({ built: started, inputs }, null, 1) + '\n');
  return { inputs: inputs.length, ms: Date.now() - started };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const fresh = await bundleIsFresh();
    process.stdout.write(fresh ? 'dist/cli is up to date\n' : 'dist/cli is missing or older than its sources: run node scripts/build-cli.mjs\n');
    process.exit(fresh ? 0 : 1);
  }
  try {
    const { inputs, ms } = await buildCli();
    process.stdout.write(`build-cli: dist/cli/ from ${inputs} sources in ${ms} ms\n`);
  } catch (error) {
    // At install (--if-possible) a failure must not fail `npm install`: the command then runs from source.
    const soft = process.argv.includes('--if-possible');
    process.stderr.write(
      `build-cli: ${error?.message ?? error}${soft ? '\nbuild-cli: weightgate will run from the TypeScript sources (slower to start)' : ''}\n`,
    );
    process.exit(soft ? 0 : 1);
  }
}

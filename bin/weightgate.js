#!/usr/bin/env node
// Entry point of the `weightgate` command. It runs the compiled CLI in
// dist/cli/ (scripts/build-cli.mjs; `npm install` and the test runner build
// it) when that is up to date with every source it was built from, and
// otherwise the TypeScript sources through tsx's loader, registered in this
// process, so a command costs one Node start-up either way and an edited
// source is never run stale. WEIGHTGATE_FROM_SOURCE=1 forces the sources.
// Signals (SIGINT, SIGTERM) reach the CLI itself, whose commands stop cleanly
// on them. The CLI sets the exit code.
import { compiledEntry } from './bundle.mjs';

// The shipped program runs as production unless told otherwise: libraries'
// development-mode checks (graphql's per-value class checks) are for
// developing them, and cost the server's GraphQL path a third of its time.
process.env.NODE_ENV ??= 'production';

if (await compiledEntry('main')) {
  // Stack traces name the TypeScript sources when someone asks for details.
  if (process.argv.includes('--verbose')) process.setSourceMapsEnabled(true);
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}

#!/usr/bin/env node
// Runs several compiled test files in one Node process, one after another,
// with uvu's own multi-file runner: each file's tests under a line naming it,
// then uvu's totals for all of them. The test runner (run-tests.mjs) starts
// one of these per group of files.
//
//   node scripts/run-test-group.mjs NAME=FILE [NAME=FILE ...]
//
// NAME is the file's path in the checkout (printed as its heading), FILE the
// compiled module to import.
import { run } from 'uvu/run';

const suites = process.argv.slice(2).map((arg) => {
  const at = arg.indexOf('=');
  if (at <= 0) {
    process.stderr.write(`run-test-group: expected NAME=FILE, got "${arg}"\n`);
    process.exit(2);
  }
  return { name: arg.slice(0, at), file: arg.slice(at + 1) };
});
await run(suites, {});

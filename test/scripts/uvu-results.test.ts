// Test files run several to a process (scripts/run-test-group.mjs) and the
// runner reads the results (scripts/uvu-results.mjs): on a real group of
// three small test files, one failing, one skipping, one crashing at import.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain JavaScript module without declarations
import { parseUvuOutput } from '../../scripts/uvu-results.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Inside the checkout, so that `uvu` resolves from node_modules.
const cache = join(root, 'node_modules', '.cache', 'weightgate');
mkdirSync(cache, { recursive: true });

const FILES: Record<string, string> = {
  'test/a.test.ts': `import { test } from 'uvu';
import * as assert from 'uvu/assert';
test('adds', () => assert.is(1 + 1, 2));
test('compares', () => assert.is(2 * 2, 5));
test.run();`,
  'test/b.test.ts': `import { test } from 'uvu';
import * as assert from 'uvu/assert';
test('works', () => assert.ok(true));
test.skip('later');
test('also works', () => assert.ok(true));
test.run();`,
};

/** Writes the files, runs them as one group, returns the process's output and status. */
function runGroup(files: Record<string, string>): { output: string; code: number; names: string[] } {
  const dir = mkdtempSync(join(cache, 'uvu-results-test-'));
  try {
    const pairs = Object.entries(files).map(([name, text]) => {
      const file = join(dir, name.replace(/\W/g, '_') + '.mjs');
      writeFileSync(file, text);
      return `${name}=${file}`;
    });
    const run = spawnSync(process.execPath, [join(root, 'scripts', 'run-test-group.mjs'), ...pairs], {
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    return { output: run.stdout + run.stderr, code: run.status ?? 1, names: Object.keys(files) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a group: every file under its own heading, totals for all, failures named with their file', () => {
  const { output, code, names } = runGroup(FILES);
  assert.is(code, 1, output);
  const result = parseUvuOutput(output, { files: names, code });
  assert.equal([result.passed, result.failed, result.skipped], [3, 1, 1], output);
  assert.equal(result.failures, ['test/a.test.ts: "compares"']);
  assert.ok(result.output.indexOf('test/a.test.ts') < result.output.indexOf('test/b.test.ts'), 'each file under its name, in order');
  assert.not.match(result.output, /Total:/, "uvu's totals are left out");
});

test('a file that throws at import fails its group, said once', () => {
  const { output, code, names } = runGroup({ ...FILES, 'test/c.test.ts': "throw new Error('broken at import');" });
  assert.is.not(code, 0);
  const result = parseUvuOutput(output, { files: names, code });
  assert.is(result.failed, 1);
  assert.match(result.output, 'broken at import');
});

test('one file alone: failures without a file name; a skip line is collected', () => {
  const output =
    'skip: test/x.test.ts needs flatc (apt install flatbuffers-compiler)\n  FAIL  "one"\n\n  Total:     2\n  Passed:    1\n  Skipped:   1\n  Duration:  1ms\n';
  const result = parseUvuOutput(output, { files: ['test/x.test.ts'], code: 1 });
  assert.equal([result.passed, result.failed, result.skipped], [1, 1, 1]);
  assert.equal(result.failures, ['"one"']);
  assert.equal(result.skips, ['skip: test/x.test.ts needs flatc (apt install flatbuffers-compiler)']);
  assert.is(parseUvuOutput('', { files: ['test/x.test.ts'], code: 0, signal: 'SIGKILL' }).failed, 1, 'killed before a summary');
});

test.run();

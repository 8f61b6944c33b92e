import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError, exitCodeOf, UsageError } from '../../cli/errors.ts';

function runCli(args: string[]) {
  return spawnSync(process.execPath, ['bin/weightgate.js', ...args], { encoding: 'utf8' });
}

const lines = (text: string) => text.trim().split('\n');

test('--help lists the program and exits 0', () => {
  const result = runCli(['--help']);
  assert.is(result.status, 0);
  assert.match(result.stdout, 'Usage: weightgate');
});

test('build --help ends with examples, the default budget first', () => {
  const result = runCli(['build', '--help']);
  assert.is(result.status, 0);
  const examples = result.stdout.slice(result.stdout.indexOf('Examples:'));
  assert.match(examples, /\$ weightgate build --preset paper-109k --out build\/v1\n\s+the smallest full artifact within 1 point/);
  assert.match(examples, /--sparsity 0\.95 --bits 4 --max-drop 2 .*\n\s+a fixed setting; the budget is only checked/);
});

test('an unknown command exits 2 with one line and a pointer to --help, not the whole help', () => {
  const result = runCli(['no-such-command']);
  assert.is(result.status, 2);
  assert.equal(lines(result.stderr), ["weightgate: error: unknown command 'no-such-command'", '(see: weightgate --help)']);
});

test("a usage error in a subcommand points at that subcommand's --help", () => {
  const missing = runCli(['inspect']);
  assert.is(missing.status, 2);
  assert.equal(lines(missing.stderr), ["weightgate: error: missing required argument 'file'", '(see: weightgate inspect --help)']);
  const unknown = runCli(['license', 'show', '7', '--bogus']);
  assert.is(unknown.status, 2);
  assert.equal(lines(unknown.stderr), ["weightgate: error: unknown option '--bogus'", '(see: weightgate license show --help)']);
});

test('errors become one line with their code and exit code', () => {
  const error = new UsageError('--bits must be 1..8');
  assert.is(describeError(error), 'weightgate: error BAD_USAGE: --bits must be 1..8');
  assert.is(exitCodeOf(error), 2);
  assert.is(exitCodeOf(Object.assign(new Error('x'), { exitCode: 1 })), 1);
  // The operating system's errors about a given path stay bad input.
  assert.is(exitCodeOf(Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: 'ENOENT', syscall: 'open' })), 2);
});

test('a bug is exit 70 with one line and a hint to rerun with --verbose', () => {
  const bug = new TypeError("Cannot read properties of undefined (reading 'bits')");
  assert.is(exitCodeOf(bug), 70);
  assert.is(
    describeError(bug),
    `weightgate: internal error (TypeError): ${bug.message} (this is a bug in weightgate; rerun with --verbose for the stack trace)`,
  );
});

// A program with a command that crashes, run the way bin/weightgate.js runs cli/main.ts.
const runTs = fileURLToPath(new URL('../../cli/run.ts', import.meta.url));
const crashDir = mkdtempSync(join(tmpdir(), 'wg-cli-'));
const crashing = join(crashDir, 'crashing.mts');
writeFileSync(
  crashing,
  `import { exitOnStrayErrors, newProgram, runProgram } from ${JSON.stringify(runTs)};
const program = newProgram('weightgate', 'test');
program.command('now').action(() => { (undefined as unknown as { bits: number }).bits; });
program.command('later').action(() => { setTimeout(() => { throw new RangeError('late'); }, 1); return new Promise(() => {}); });
exitOnStrayErrors(process.argv.includes('--verbose'));
process.exitCode = await runProgram(program, process.argv);
`,
);
const runCrashing = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', crashing, ...args], { encoding: 'utf8' });

test('a crash in an action exits 70 with one line; --verbose adds the stack', () => {
  const plain = runCrashing(['now']);
  assert.is(plain.status, 70);
  assert.is(lines(plain.stderr).length, 1, plain.stderr);
  assert.match(plain.stderr, /^weightgate: internal error \(TypeError\): .*rerun with --verbose/);
  const verbose = runCrashing(['now', '--verbose']);
  assert.is(verbose.status, 70);
  assert.match(verbose.stderr, /\n\s+at /);
});

test('a crash outside the awaited action (a timer) exits 70 too', () => {
  const result = runCrashing(['later']);
  assert.is(result.status, 70);
  assert.match(result.stderr, /^weightgate: internal error \(RangeError\): late/);
});

test.after(() => rmSync(crashDir, { recursive: true, force: true }));

test.run();

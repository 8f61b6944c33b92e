import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { describeError, exitCodeOf, UsageError } from '../../cli/errors.ts';

function runCli(args: string[]) {
  return spawnSync(process.execPath, ['bin/weightgate.js', ...args], { encoding: 'utf8' });
}

test('--help lists the program and exits 0', () => {
  const result = runCli(['--help']);
  assert.is(result.status, 0);
  assert.match(result.stdout, 'Usage: weightgate');
});

test('an unknown command exits 2 with a message on stderr', () => {
  const result = runCli(['no-such-command']);
  assert.is(result.status, 2);
  assert.match(result.stderr, /^error: /m);
});

test('errors become one line with their code and exit code', () => {
  const error = new UsageError('--bits must be 1..8');
  assert.is(describeError(error), 'weightgate: error BAD_USAGE: --bits must be 1..8');
  assert.is(exitCodeOf(error), 2);
  assert.is(exitCodeOf(Object.assign(new Error('x'), { exitCode: 1 })), 1);
});

test.run();

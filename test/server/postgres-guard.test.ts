// The guard against postgres.js's write-after-close crash
// (server/db/postgres-guard.ts): it lets exactly that error pass, and any
// other uncaught exception still ends the process with its stack and exit
// code 1. (test/server/db-outage.test.ts meets the real one.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { isPostgresWriteAfterClose } from '../../server/db/postgres-guard.ts';

/** A TypeError whose stack says it was thrown where `frame` says. */
function thrownAt(message: string, frame: string): TypeError {
  const error = new TypeError(message);
  error.stack = `TypeError: ${message}\n    at ${frame}\n    at process.processImmediate (node:internal/timers:483:21)`;
  return error;
}

const MESSAGE = "Cannot read properties of null (reading 'write')";
const DRIVER_FRAME = 'Immediate.nextWrite (file:///app/node_modules/postgres/src/connection.js:255:22)';

test('recognises the driver error, and nothing like it from elsewhere', () => {
  assert.ok(isPostgresWriteAfterClose(thrownAt(MESSAGE, DRIVER_FRAME)));
  assert.not.ok(isPostgresWriteAfterClose(thrownAt(MESSAGE, 'nextWrite (file:///app/server/mine.js:1:1)')), 'another module');
  assert.not.ok(isPostgresWriteAfterClose(thrownAt("Cannot read properties of null (reading 'end')", DRIVER_FRAME)), 'another message');
  assert.not.ok(isPostgresWriteAfterClose(new Error(MESSAGE)), 'not a TypeError');
  assert.not.ok(isPostgresWriteAfterClose('a string'));
});

/** Runs a child that installs the guard and then throws `error` from a timer. */
function childThrowing(errorExpression: string) {
  const guard = new URL('../../server/db/postgres-guard.ts', import.meta.url).href;
  const script = `
    const { installPostgresGuard } = await import(${JSON.stringify(guard)});
    installPostgresGuard();
    setImmediate(() => { throw ${errorExpression}; });
    setTimeout(() => { console.log('still alive'); }, 50);
  `;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
}

test('the driver error is logged and the process lives on', () => {
  const run = childThrowing(`Object.assign(new TypeError(${JSON.stringify(MESSAGE)}), { stack: 'TypeError: x\\n    at ${DRIVER_FRAME}' })`);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, 'still alive');
  assert.match(run.stderr, 'the PostgreSQL driver wrote to a connection that had closed');
});

test('any other uncaught exception still ends the process with its stack and exit code 1', () => {
  const run = childThrowing(`new RangeError('a bug of ours')`);
  assert.is(run.status, 1);
  assert.not.match(run.stdout, 'still alive');
  assert.match(run.stderr, 'RangeError: a bug of ours');
});

test.run();

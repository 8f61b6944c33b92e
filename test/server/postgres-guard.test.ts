// The guard against postgres.js's write-after-close crash and resets on the
// sockets it let go of (server/db/postgres-guard.ts): it lets exactly those
// errors pass, and any
// other uncaught exception still ends the process with its stack and exit
// code 1. (test/server/db-outage.test.ts meets the real one.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { isOrphanSocketReset, isPostgresWriteAfterClose } from '../../server/db/postgres-guard.ts';

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

/** A real "read ECONNRESET": a client whose peer resets the connection, caught by an 'error' listener. */
async function realReset(): Promise<Error> {
  // Reset once the client is connected and reading, not while it connects.
  const server = createServer((socket) => void setTimeout(() => socket.resetAndDestroy(), 50));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await new Promise<Error>((resolve) => {
      const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
      client.on('error', resolve);
    });
  } finally {
    server.close();
  }
}

test('recognises a reset read on a socket, and not other network errors', async () => {
  const reset = await realReset();
  assert.ok(isOrphanSocketReset(reset), reset.stack);
  assert.not.ok(isOrphanSocketReset(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' })), 'another code');
  assert.not.ok(isOrphanSocketReset(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' })), 'not from a socket read');
  assert.not.ok(isOrphanSocketReset('read ECONNRESET'));
});

test('a reset reaching a socket nobody listens to is logged and the process lives on', () => {
  const guard = new URL('../../server/db/postgres-guard.ts', import.meta.url).href;
  // The client has no 'error' listener, as a socket the driver let go of.
  const script = `
    const { installPostgresGuard } = await import(${JSON.stringify(guard)});
    const net = await import('node:net');
    installPostgresGuard();
    const server = net.createServer((socket) => void setTimeout(() => socket.resetAndDestroy(), 50));
    server.listen(0, '127.0.0.1', () => {
      net.connect(server.address().port, '127.0.0.1');
      setTimeout(() => { console.log('still alive'); server.close(); }, 300);
    });
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, 'still alive');
  assert.match(run.stderr, 'was reset by its peer');
});

test.run();

// postgres.js (3.4.9, the newest release) can throw from a timer after its
// connection to the database has closed: a small write it deferred with
// setImmediate runs on the socket the close has already dropped, and throws
// TypeError "Cannot read properties of null (reading 'write')" in
// connection.js's nextWrite. Thrown from a timer, no caller can catch it, so
// Node ends the process: a database outage while requests are in flight
// took the whole server down (test/server/db-outage.test.ts sends requests
// at once into an outage and hits it about every other run). By then the
// driver has failed that connection's queries (CONNECTION_CLOSED, which the
// server answers with 503) and reconnects on the next query.
//
// The same outage can end the process a second way: the driver removes
// every listener from a connection's socket once it closes (connection.js,
// closed()), and a reset that reaches such a socket afterwards is emitted
// with nobody listening: "read ECONNRESET" from TCP.onStreamRead, uncaught
// (test/server/db-outage.test.ts met it about one run in ten). Node has
// already destroyed that socket; nothing of ours holds it.
//
// The guard recognises exactly those two errors (the TypeError by its
// message and its place in the driver; the reset by its code, syscall and
// origin in the socket's read), logs them and lets the process live. Any
// other uncaught
// exception is left to whoever else listens for it, or, when nobody does,
// ends the process as Node would (the error printed, exit code 1): the guard
// never hides a bug of ours. Installed once per process, by the first
// PostgreSQL database opened.

let installed = false;

/** True for the driver's write-after-close TypeError (see the top of this file). */
export function isPostgresWriteAfterClose(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    error.message === "Cannot read properties of null (reading 'write')" &&
    /\bnextWrite\b[^\n]*[\\/]postgres[\\/]src[\\/]connection\.js/.test(error.stack?.split('\n')[1] ?? '')
  );
}

/** True for a read reset on a socket nobody listens to any more (see the top of this file). */
export function isOrphanSocketReset(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, syscall } = error as NodeJS.ErrnoException;
  return code === 'ECONNRESET' && syscall === 'read' && /^\s*at TCP\.onStreamRead /.test(error.stack?.split('\n')[1] ?? '');
}

export function installPostgresGuard(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): void {
  if (installed) return;
  installed = true;
  const guard = (error: Error): void => {
    if (isPostgresWriteAfterClose(error)) {
      log('weightgate server: the PostgreSQL driver wrote to a connection that had closed (its queries failed and are retried); continuing');
      return;
    }
    if (isOrphanSocketReset(error)) {
      log('weightgate server: a connection the PostgreSQL driver had closed was reset by its peer (the socket is gone); continuing');
      return;
    }
    // Not ours to handle: others who listen decide; alone, do what Node would have done.
    if (process.listenerCount('uncaughtException') > 1) return;
    process.stderr.write(`${error?.stack ?? String(error)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', guard);
}

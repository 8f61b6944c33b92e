#!/usr/bin/env node
// Entry point of the `weightgate` command: runs the TypeScript CLI through
// tsx in a child process, forwards SIGINT/SIGTERM/SIGHUP to it (so `kill`
// stops a `weightgate serve` cleanly) and exits with its exit code.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const main = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', require.resolve('tsx'), main, ...process.argv.slice(2)], { stdio: 'inherit' });

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}

child.on('exit', (code, signal) => {
  if (signal) {
    // Die of the same signal, as a shell expects.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});

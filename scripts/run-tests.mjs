#!/usr/bin/env node
// Runs every test file under test/ (names ending in .test.ts) with uvu, loaded
// through tsx's ESM loader, and ends with the plain line "N passed, N failed"
// that uvu does not print itself. Exit code: 0 only when nothing failed.
//
//   npm test                 all tests
//   npm test -- formats      only files whose path matches "formats"
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const uvuBin = fileURLToPath(new URL('../node_modules/uvu/bin.js', import.meta.url));
const filter = process.argv[2];
const pattern = filter ? `${filter}.*\\.test\\.ts$` : '\\.test\\.ts$';

const child = spawn(process.execPath, ['--import', 'tsx', uvuBin, 'test', pattern, '-c', 'false'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: '0' },
});

let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString('utf8');
});

child.on('close', (code, signal) => {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const count = (label) => {
    const match = plain.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'));
    return match ? Number(match[1]) : 0;
  };
  const total = count('Total');
  const passed = count('Passed');
  const skipped = count('Skipped');
  let failed = total - passed - skipped;
  // A crash before uvu's summary (an import error, a signal) is a failure too.
  if ((code !== 0 || signal) && failed === 0) failed = 1;
  const tail = skipped > 0 ? `, ${skipped} skipped` : '';
  process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
  process.exit(failed > 0 ? 1 : 0);
});

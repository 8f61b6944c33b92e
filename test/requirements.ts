// What a test needs from outside the npm install (a Debian tool, the shared
// models beside the checkout, a PostgreSQL server), and the one call that
// skips it, visibly, when that is missing:
//
//   requiring(test, FLATC)('formats/gen matches fresh flatc output', () => { ... });
//   const s = requiring(suite('on postgres'), POSTGRES);
//   requiring(test, SHARED_MODELS_FOLDER, FULL_RUN)('...', async () => { ... });
//
// When every requirement is met, `requiring` returns the test (or suite)
// itself. Otherwise it prints one line, `skip: FILE needs WHAT (HOW)`, and
// returns a stand-in whose tests uvu counts as skipped; scripts/run-tests.mjs
// collects those lines and counts the skips in its closing line.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'uvu';
import { missingCToolchain } from '../scripts/c-toolchain.mjs';

export interface Requirement {
  /** What is needed, as the skip line names it. */
  what: string;
  /** How to get it. */
  how: string;
  met: boolean;
}

const root = fileURLToPath(new URL('..', import.meta.url));

function tool(command: string, args: string[], debianPackage: string): Requirement {
  const run = spawnSync(command, args, { stdio: 'ignore' });
  return { what: command, how: `apt-get install ${debianPackage}`, met: !run.error };
}

let flatc: Requirement | undefined;
/** flatc, the FlatBuffers compiler (checked on first use: it spawns a process). */
export function FLATC(): Requirement {
  flatc ??= tool('flatc', ['--version'], 'flatbuffers-compiler');
  return flatc;
}

/** The three real TF.js models in `shared/models/` beside the checkout (CI's layout); no fallback elsewhere. */
export const SHARED_MODELS_DIR = fileURLToPath(new URL('../../shared/models', import.meta.url));
export const SHARED_MODELS_FOLDER: Requirement = {
  what: '../shared/models',
  how: 'put the shared folder beside the checkout, as CI lays it out',
  met: existsSync(SHARED_MODELS_DIR),
};

/** Slow tests that `npm run test:fast` (WG_TEST_FAST=1) leaves out. */
export const FULL_RUN: Requirement = {
  what: 'a full run',
  how: 'npm test runs it; npm run test:fast leaves it out',
  met: !process.env.WG_TEST_FAST,
};

/** A PostgreSQL server to create scratch databases in (test:fast leaves these tests out too). */
export const POSTGRES: Requirement = FULL_RUN.met
  ? {
      what: 'DATABASE_URL',
      how: 'a PostgreSQL server, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm test',
      met: Boolean(process.env.DATABASE_URL),
    }
  : FULL_RUN;

/** Debian's Chromium, which playwright-core drives for the console's browser test. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM: Requirement = { what: CHROMIUM_PATH, how: 'apt-get install chromium', met: existsSync(CHROMIUM_PATH) };

/** Mosquitto on 127.0.0.1:1883, as these machines run it (checked by connecting). */
export const MOSQUITTO_URL = 'mqtt://127.0.0.1:1883';
export async function MOSQUITTO(): Promise<Requirement> {
  const met = await new Promise<boolean>((resolve) => {
    const socket = connect(1883, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  return { what: 'Mosquitto on 127.0.0.1:1883', how: 'apt-get install mosquitto; mosquitto -d', met };
}

let cToolchain: Requirement | undefined;
/** CMake, a C compiler, cmocka and libsodium, as the C library's tests need (checked on first use). */
export function C_TOOLCHAIN(): Requirement {
  if (!cToolchain) {
    const missing = missingCToolchain();
    const packages = missing.map((m) => m.debianPackage).join(' ');
    cToolchain = { what: missing.map((m) => m.what).join(', '), how: `apt-get install ${packages}`, met: missing.length === 0 };
  }
  return cToolchain;
}

/** The test file that called us, relative to the project root (for the skip line). */
function callerFile(): string {
  const stack = new Error().stack ?? '';
  const match = stack.match(/(?:file:\/\/)?(\/[^\s():]+\.test\.ts)/);
  const file = match ? match[1] : (process.argv[1] ?? 'a test file');
  return relative(root, file);
}

const announced = new Set<string>();

function announce(requirements: Requirement[]): void {
  const missing = requirements.filter((r, i) => requirements.findIndex((o) => o.what === r.what) === i);
  const line = `skip: ${callerFile()} needs ${missing.map((r) => `${r.what} (${r.how})`).join(' and ')}`;
  if (announced.has(line)) return;
  announced.add(line);
  process.stdout.write(line + '\n');
}

const noHook = Object.assign(() => {}, { each: () => {} });

/** `t` when every requirement is met; else a stand-in that registers each test as skipped. */
export function requiring<T extends Test<any>>(t: T, ...requirements: Array<Requirement | (() => Requirement)>): T {
  const missing = requirements.map((r) => (typeof r === 'function' ? r() : r)).filter((r) => !r.met);
  if (missing.length === 0) return t;
  announce(missing);
  const skipped = (name: string) => t.skip(name);
  return Object.assign(skipped, { ...t, skip: t.skip, only: skipped, before: noHook, after: noHook, run: t.run }) as unknown as T;
}

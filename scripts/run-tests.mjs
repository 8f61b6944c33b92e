#!/usr/bin/env node
// Runs the whole test suite and ends with the line "N passed, N failed, N skipped".
//
//   npm test                    every test file, plus the C library's tests
//   npm test -- formats         only files whose path matches "formats" (a regular expression)
//   npm test -- --jobs 1        one file at a time (default: os.availableParallelism())
//   npm run test:fast           the inner loop: leaves out the slow ones (see below)
//   npm run test:models         only test/models/: the shared models built at
//                               default flags (minutes of training; CI runs it
//                               before npm test, which leaves test/models/ out)
//
// The test files under test/ (*.test.ts) run in Node processes (uvu), a
// pool of --jobs at a time: most share one with others of their folder, up
// to GROUP_SIZE of them, and some run alone (see "Groups" below). They are
// compiled first (see "The test files" below; WG_TEST_TSX=1 runs each as
// `node --import tsx FILE` instead); the longest jobs of the last run start
// first. A file's output is printed whole when
// it finishes, so files never interleave; failures are listed again at the
// end.
// A file with the line `// test: serial` runs alone, after the others; one
// with `// test: optimized-wasm` keeps V8's optimizing wasm compiler (below);
// one with `// test: own-process` runs in a process of its own; one with
// `// test: waits` (seconds of waiting on timers, little CPU) too, started
// at once beside the pool of --jobs rather than in it.
//
// Skips: a test that needs something outside `npm install` (flatc, the shared
// models, PostgreSQL, ...) declares it with test/requirements.ts, which prints
// `skip: FILE needs WHAT (HOW)`; uvu counts the test as skipped. With CI set,
// any skip fails the run: CI installs everything (.ci/run).
//
// C library: when firmware/CMakeLists.txt exists, one more job writes the
// conformance vectors (scripts/gen-conformance.ts, when present) into
// firmware/build/vectors and exports WG_VECTORS, builds firmware/ into
// firmware/build/host (Debug; with Ninja when it is installed, see
// c-toolchain.mjs) and runs every ctest test there; cmocka's
// per-test results count in the closing line. New ctest tests (a qemu step,
// more labels) are counted without a change here: a test without cmocka
// output counts once by its ctest status (exit 77 with SKIP_RETURN_CODE = skipped).
//
// test:fast (--fast) leaves out: the e2e demo (tens of seconds of training),
// the PostgreSQL variants of the database suites, the C library build, and
// the two slowest integration files (test/server/serve-cli,
// test/device-sim/server-e2e): about a third of the suite's CPU time. A test
// file joins them with requiring(test, FULL_RUN) (test/requirements.ts).
// They are counted as skipped; `npm test` runs them.
//
// The CLI: the run compiles it first (scripts/build-cli.mjs) unless dist/cli/
// is up to date, so the tests' `weightgate` commands skip tsx's loader.
//
// PGlite: the run sets WG_PGLITE_TEMPLATE_DIR, so each new PGlite database is
// a copy of one migrated database kept in node_modules/.cache/weightgate
// rather than a new initdb (server/db/connect.ts).
//
// Exit code: 0 when nothing failed (and, with CI set, nothing was skipped).
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleIsFresh } from '../bin/bundle.mjs';
import { buildCli } from './build-cli.mjs';
import { nodeBundle } from './esbuild-node.mjs';
import { cmakeGeneratorArgs, describeMissing, missingCToolchain } from './c-toolchain.mjs';
import { parseCtestOutput } from './ctest-results.mjs';
import { parseUvuOutput } from './uvu-results.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

function usage(message) {
  process.stderr.write(`run-tests: ${message}\nusage: node scripts/run-tests.mjs [FILTER] [--jobs N] [--fast | --models]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { filter: undefined, jobs: availableParallelism(), fast: false, models: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        [
          'usage: node scripts/run-tests.mjs [FILTER] [--jobs N] [--fast | --models]',
          '',
          '  FILTER      run only test files whose path matches this regular expression',
          '  --jobs N    test processes at a time (default: the available cores)',
          '  --fast      the inner loop: leaves out the slowest files and the C library (counted as skipped)',
          '  --models    only test/models/: the shared models built at default flags',
          '',
          'example: npm test -- device-sim --jobs 1',
          'The last line is "N passed, N failed, N skipped"; exit 0 when nothing failed.',
          '',
        ].join('\n'),
      );
      process.exit(0);
    }
    if (arg === '--fast') options.fast = true;
    else if (arg === '--models') options.models = true;
    else if (arg === '--jobs' || arg === '-j' || arg.startsWith('--jobs=')) {
      const text = arg.startsWith('--jobs=') ? arg.slice(7) : argv[++i];
      const jobs = Number(text);
      if (!Number.isInteger(jobs) || jobs < 1) usage(`--jobs must be a positive integer, got "${text}"`);
      options.jobs = jobs;
    } else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else if (options.filter === undefined) options.filter = arg;
    else usage(`one filter at most, got "${options.filter}" and "${arg}"`);
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
// What the runs keep between them: the PGlite template, the last run's times, each run's compiled tests.
const cacheDir = join(root, 'node_modules', '.cache', 'weightgate');
// Every PGlite database a test opens starts from one migrated copy kept here (server/db/connect.ts).
process.env.WG_PGLITE_TEMPLATE_DIR ??= cacheDir;
// The tests run the `weightgate` command as users do (bin/weightgate.js),
// which runs the compiled CLI when it is up to date: compile it once here
// rather than pay tsx's loader in each of some 200 commands. If that fails,
// the commands run from source and the suite still tests them.
if (!options.models && !(await bundleIsFresh())) {
  try {
    await buildCli();
  } catch (error) {
    process.stderr.write(`run-tests: could not compile the CLI (${error?.message ?? error}); commands run through tsx\n`);
  }
}
const ci = Boolean(process.env.CI) && !['0', 'false'].includes(process.env.CI.toLowerCase());
const timeoutMs = Number(process.env.WG_TEST_TIMEOUT ?? 900) * 1000;

// --- which jobs --------------------------------------------------------------

function listTestFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return listTestFiles(path);
      return entry.name.endsWith('.test.ts') ? [path] : [];
    })
    .sort();
}

const filter = options.filter === undefined ? null : new RegExp(options.filter);
const MODELS_DIR = join('test', 'models');
const inModels = (file) => file.startsWith(MODELS_DIR + '/');
const files = listTestFiles('test').filter((file) => inModels(file) === options.models && (!filter || filter.test(file)));
const withFirmware = !options.models && existsSync('firmware/CMakeLists.txt') && (!filter || filter.test('firmware/'));

// Durations of the last run, to start the longest first (a cache: losing it only costs order).
const timesFile = join(cacheDir, 'test-times.json');
let lastTimes = {};
try {
  lastTimes = JSON.parse(readFileSync(timesFile, 'utf8'));
} catch {}

// The test files: compiled in one esbuild run (a third of a second) into one
// bundle each with shared chunks, run on plain Node: tsx's loader would cost
// every file's process about half a CPU-second. Each source keeps its own
// import.meta.url; --enable-source-maps keeps stack traces on the sources.
// If compiling fails (a syntax error, say), every file runs through tsx,
// which reports the error where it is, and the failed compile counts as a
// failure of its own.
//
// One folder per run, removed at its end: two runs at once do not meet. A
// run that was killed leaves its folder: the next run removes those whose
// process is gone.
const testBundleDir = join(cacheDir, `tests-${process.pid}`);
removeDeadRuns(cacheDir, 'tests');

/** Removes the folders PREFIX-PID in `dir` of runs whose process is gone. */
function removeDeadRuns(dir, prefix) {
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const pid = Number(name.match(new RegExp(`^${prefix}-(\\d+)$`))?.[1]);
    if (pid && pid !== process.pid && !processIsAlive(pid)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function processIsAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error?.code === 'EPERM';
  }
}

let compileFailure;
// The C job's conformance vector generator is compiled with them.
const GEN_CONFORMANCE = 'scripts/gen-conformance.ts';
const compiled = await compileTests(withFirmware && existsSync(GEN_CONFORMANCE) ? [...files, GEN_CONFORMANCE] : files);
process.on('exit', () => rmSync(testBundleDir, { recursive: true, force: true }));

// Temporary files: the tests keep their databases, builds and devices in
// the system's temporary folder (os.tmpdir()). Where /dev/shm (memory) is
// there to write, the run points TMPDIR at a folder of its own in it:
// PGlite's data directories alone open and write thousands of files, and
// on a disk that cost the server tests a fifth of their CPU time. The
// folder goes at the end of the run, with whatever a test left in it.
// WG_TEST_TMPDIR=DIR puts it under DIR instead (WG_TEST_TMPDIR= : leave
// TMPDIR as it is).
const tmpParent = process.env.WG_TEST_TMPDIR ?? (isWritableDir('/dev/shm') ? '/dev/shm' : '');
if (tmpParent) {
  removeDeadRuns(tmpParent, 'weightgate-tests');
  const testTmp = join(tmpParent, `weightgate-tests-${process.pid}`);
  mkdirSync(testTmp, { recursive: true });
  process.env.TMPDIR = testTmp;
  process.on('exit', () => rmSync(testTmp, { recursive: true, force: true }));
}

function isWritableDir(dir) {
  try {
    accessSync(dir, constants.W_OK);
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
// Interrupted (Ctrl-C reaches the test processes too): exit, which removes the folders.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));

async function compileTests(list) {
  if (list.length === 0 || process.env.WG_TEST_TSX === '1') return null;
  try {
    const esbuild = await import('esbuild');
    rmSync(testBundleDir, { recursive: true, force: true });
    await esbuild.build(nodeBundle({ root, entryPoints: list, outdir: testBundleDir, outbase: '.', logLevel: 'silent' }));
    return (file) => join(testBundleDir, file.replace(/\.ts$/, '.js'));
  } catch (error) {
    // Counted as a failure (the files still run, through tsx): a silent fallback would only make the suite slower.
    const detail = (error?.errors ?? []).map((e) => `  ${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('\n');
    compileFailure = `could not compile the test files with esbuild; they ran through tsx\n${detail || `  ${error?.message ?? error}`}`;
    process.stderr.write(`run-tests: ${compileFailure}\n`);
    return null;
  }
}

// A file's `// test: WORD` lines (read once).
const directives = (file) => new Set([...readFileSync(file, 'utf8').matchAll(/^\/\/ test: ([\w-]+)/gm)].map((match) => match[1]));
// V8 compiles WebAssembly twice: at once with its baseline compiler
// (Liftoff), then the hot functions again with its optimizing one
// (TurboFan), on background threads. For PGlite's 9 MB module that second
// pass costs a test process about a CPU-second and pays back only in a long
// run: the test files run with --liftoff-only (the server files: 108 -> 81
// CPU-s), except those whose time goes to wasm compute, TF.js training in
// this process, which say so with the line `// test: optimized-wasm`.
//
// Groups: most files share a process with others of their folder, GROUP_SIZE at a
// time (scripts/run-test-group.mjs, uvu's multi-file runner): a process of
// its own costs a file about half a CPU-second of start-up (Node, our
// modules, PGlite's wasm) that a group pays once. The files of a group run
// one after another, and every file's tests are registered before the
// first runs, so a file must not change process-wide state at its top
// level. A file keeps a process of its own with `// test: own-process`
// (one of many CPU-seconds, which the pool balances better alone),
// `waits`, `serial` or `optimized-wasm`, and every file does when the
// tests are not compiled.
const GROUP_SIZE = 8;
const jobs = [];
const groups = new Map();
for (const file of files) {
  const said = directives(file);
  const alone = !compiled || said.has('serial') || said.has('optimized-wasm') || said.has('own-process') || said.has('waits');
  if (alone) {
    const wasmFlags = said.has('optimized-wasm') ? [] : ['--liftoff-only'];
    jobs.push({ name: file, serial: said.has('serial'), waits: said.has('waits'), run: () => runTestFile(file, wasmFlags) });
    continue;
  }
  const folder = file.slice(0, file.lastIndexOf('/') + 1);
  if (!groups.has(folder)) groups.set(folder, []);
  groups.get(folder).push(file);
}
for (const [folder, members] of groups) {
  for (let at = 0; at < members.length; at += GROUP_SIZE) {
    const chunk = members.slice(at, at + GROUP_SIZE);
    // A group of one is just that file; else the folder and the files' short names (stable from run to run: the files are sorted).
    const name = chunk.length === 1 ? chunk[0] : `${folder}{${chunk.map((file) => file.slice(folder.length).replace(/\.test\.ts$/, '')).join(',')}}`;
    jobs.push({ name, serial: false, run: () => (chunk.length === 1 ? runTestFile(chunk[0], ['--liftoff-only']) : runTestGroup(chunk)) });
  }
}
if (withFirmware) jobs.push({ name: 'firmware/', serial: false, run: () => runFirmware() });
// The longest first; without a last run, the end-to-end tests and the C build (the usual longest), then the rest.
const weight = (job) => lastTimes[job.name] ?? (job.name.startsWith('test/e2e/') || job.name === 'firmware/' ? 1e9 : 1e6);
jobs.sort((a, b) => weight(b) - weight(a));

if (jobs.length === 0) usage(`no test file matches "${options.filter}"`);

// --- one test file -------------------------------------------------------------

/** Runs a command, collecting stdout and stderr in one buffer in arrival order. */
function collect(command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, FORCE_COLOR: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => (output += `\n${command}: ${error.message}\n`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) output += `\nrun-tests: killed after ${timeoutMs / 1000} s (WG_TEST_TIMEOUT)\n`;
      resolve({ code: code ?? 1, signal, output });
    });
  });
}

async function runTestFile(file, wasmFlags) {
  const args = [...wasmFlags, ...(compiled ? ['--enable-source-maps', compiled(file)] : ['--import', 'tsx', file])];
  return runUvu(args, [file]);
}

async function runTestGroup(files) {
  const args = ['--liftoff-only', '--enable-source-maps', 'scripts/run-test-group.mjs', ...files.map((file) => `${file}=${compiled(file)}`)];
  return runUvu(args, files);
}

/** Runs a Node process of uvu tests (`files`, their names in the checkout) and reads its results. */
async function runUvu(args, files) {
  const env = options.fast ? { WG_TEST_FAST: '1' } : {};
  const { code, signal, output } = await collect(process.execPath, args, env);
  return parseUvuOutput(output, { files, code, signal });
}

// --- the C library ---------------------------------------------------------------

async function runFirmware() {
  const result = { passed: 0, failed: 0, skipped: 0, skips: [], output: '', failures: [] };
  const step = async (label, command, args, env) => {
    const run = await collect(command, args, env);
    const ok = run.code === 0 && !run.signal;
    if (!ok) {
      result.failed += 1;
      result.failures.push(`${label} failed`);
      result.output += `$ ${[command, ...args].join(' ')}\n${run.output.trim()}\n${label} failed\n`;
    }
    return ok ? run : null;
  };

  if (options.fast) {
    result.skipped = 1;
    result.skips.push('skip: firmware/ (the C library tests) needs a full run (npm test runs it; npm run test:fast leaves it out)');
    result.output = result.skips[0];
    return result;
  }
  const missing = missingCToolchain();
  if (missing.length > 0) {
    result.skipped = 1;
    result.skips.push(`skip: firmware/ (the C library tests) needs ${describeMissing(missing)}`);
    result.output = result.skips[0];
    return result;
  }

  // Conformance vectors from the TypeScript side, when their generator exists.
  const env = {};
  if (existsSync(GEN_CONFORMANCE)) {
    const vectors = join(root, 'firmware', 'build', 'vectors');
    const generator = compiled ? ['--enable-source-maps', compiled(GEN_CONFORMANCE)] : ['--import', 'tsx', GEN_CONFORMANCE];
    // Written anew each run, and there afterwards: a generator that ran but wrote nothing fails here, not as old vectors.
    rmSync(join(vectors, 'index.txt'), { force: true });
    if (!(await step('gen-conformance', process.execPath, [...generator, vectors]))) return result;
    if (!existsSync(join(vectors, 'index.txt'))) {
      result.failed += 1;
      result.failures.push('gen-conformance wrote no index.txt');
      return result;
    }
    env.WG_VECTORS = vectors;
  }
  const build = join('firmware', 'build', 'host');
  if (!(await step('cmake configure', 'cmake', ['-S', 'firmware', '-B', build, ...cmakeGeneratorArgs(build), '-DCMAKE_BUILD_TYPE=Debug'], env))) return result;
  if (!(await step('cmake build', 'cmake', ['--build', build, '-j2'], env))) return result;
  // Two at a time: the output stays apart (ctest -V prefixes every line with its test's number).
  const ctest = await collect('ctest', ['--test-dir', build, '--output-on-failure', '-V', '--parallel', '2'], env);
  const counts = parseCtestOutput(ctest.output);
  result.passed += counts.passed;
  result.failed += counts.failed;
  result.skipped += counts.skipped;
  result.failures.push(...counts.failures);
  if (counts.tests === 0 && ctest.code !== 0) {
    result.failed += 1;
    result.failures.push('ctest failed');
  }
  // Whole ctest output when something failed; otherwise its per-test status lines.
  const statusLines = ctest.output.split('\n').filter((line) => /Test\s+#\d+:/.test(line) && !/Start\s/.test(line));
  result.output += result.failed > 0 ? ctest.output.trim() : statusLines.map((line) => line.trim()).join('\n');
  for (const name of counts.skippedNames) result.skips.push(`skip: firmware/ ${name} (skipped by the C test itself)`);
  return result;
}

// --- the pool -------------------------------------------------------------------

const results = [];
if (compileFailure) {
  results.push({
    job: { name: 'compiling the test files' },
    result: { passed: 0, failed: 1, skipped: 0, skips: [], output: compileFailure, failures: ['esbuild failed'] },
  });
}
const times = { ...lastTimes };

function report(job, result, seconds) {
  const status = result.failed > 0 ? 'FAIL' : 'ok  ';
  const counts = `${result.passed} passed${result.failed ? `, ${result.failed} failed` : ''}${result.skipped ? `, ${result.skipped} skipped` : ''}`;
  let text = `${status} ${job.name}  (${counts}, ${seconds.toFixed(1)} s)\n`;
  if (result.output) text += result.output.replace(/^/gm, '  ').replace(/^ {2}(skip: )/gm, '$1') + '\n';
  process.stdout.write(text);
}

async function runJob(job) {
  const start = performance.now();
  let result;
  try {
    result = await job.run();
  } catch (error) {
    result = { passed: 0, failed: 1, skipped: 0, skips: [], output: String(error?.stack ?? error), failures: ['the runner itself failed'] };
  }
  const seconds = (performance.now() - start) / 1000;
  // Only full runs of a job say how long it takes (not test:fast, not its skipped variants).
  if (!options.fast && result.skipped === 0) times[job.name] = Math.round(seconds * 10) / 10;
  results.push({ job, result });
  report(job, result, seconds);
}

async function pool(list, size) {
  const queue = [...list];
  const worker = async () => {
    while (queue.length > 0) await runJob(queue.shift());
  };
  await Promise.all(Array.from({ length: Math.min(size, queue.length) }, worker));
}

const started = performance.now();
// Those that mostly wait start at once, beside the pool, rather than hold one of its places.
await Promise.all([
  pool(
    jobs.filter((job) => job.waits && !job.serial),
    Number.POSITIVE_INFINITY,
  ),
  pool(
    jobs.filter((job) => !job.waits && !job.serial),
    options.jobs,
  ),
]);
await pool(
  jobs.filter((job) => job.serial),
  1,
);

try {
  mkdirSync(join('node_modules', '.cache', 'weightgate'), { recursive: true });
  const temp = `${timesFile}.${process.pid}`;
  writeFileSync(temp, JSON.stringify(times, null, 1) + '\n');
  renameSync(temp, timesFile);
} catch {}

// --- the closing lines -------------------------------------------------------------

const total = { passed: 0, failed: 0, skipped: 0 };
for (const { result } of results) {
  total.passed += result.passed;
  total.failed += result.failed;
  total.skipped += result.skipped;
}
const failedJobs = results.filter(({ result }) => result.failed > 0);
const skips = results.flatMap(({ result }) => result.skips).sort();

let closing = `\n${jobs.length} jobs in ${((performance.now() - started) / 1000).toFixed(1)} s with --jobs ${options.jobs}${options.fast ? ' (test:fast)' : options.models ? ' (test:models)' : ''}\n`;
if (!options.models) closing += `(${MODELS_DIR}/, the shared models at default flags, is its own suite: npm run test:models; CI runs it)\n`;
if (skips.length > 0) closing += `\nSkipped:\n${skips.join('\n')}\n`;
if (failedJobs.length > 0) {
  closing += '\nFailed:\n';
  for (const { job, result } of failedJobs) {
    closing += `  ${job.name}\n`;
    for (const name of result.failures.length ? result.failures : ['(see its output above)']) closing += `    ${name}\n`;
  }
}
closing += `\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`;
process.stdout.write(closing);

if (ci && total.skipped > 0) {
  process.stderr.write(
    `run-tests: CI is set and ${total.skipped} tests were skipped; CI must run every test:\n${skips.map((line) => `  ${line}`).join('\n')}\n`,
  );
  process.exit(1);
}
process.exit(total.failed > 0 ? 1 : 0);

#!/usr/bin/env node
// `npm run fuzz:c -- --seconds N`: builds the C library's libFuzzer harnesses
// (firmware/fuzz, clang with AddressSanitizer and UBSan) and runs each for N
// seconds: fuzz_open on both arithmetic paths, seeded with the firmware's
// fixtures and, when `npx tsx scripts/gen-conformance.ts` can run, the
// conformance vectors' artifacts; fuzz_patch (the .wgp applier), seeded with
// and applying onto the patch vectors (firmware/test/patch/
// gen-patch-vectors.ts; skipped when they cannot be generated). Prints one
// line per harness and writes
// bench/results/fuzz.json (inputs run, inputs per second, crashes), which the
// README's fuzzing line is generated from.
//
//   npm run fuzz:c -- --seconds 60        60 s per path (default 30)
//   npm run fuzz:c -- --seconds 10 --jobs 2
//
// Exit code: 0 when no run crashed, 1 when one did (its reproducer is kept
// under firmware/build/fuzz/crashes/), 2 for bad usage or a missing tool.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const build = join(root, 'firmware/build/fuzz');

function usage(message) {
  process.stderr.write(`fuzz:c: ${message}\nusage: npm run fuzz:c -- [--seconds N] (e.g. npm run fuzz:c -- --seconds 60)\n`);
  process.exit(2);
}

let seconds = 30;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') {
    seconds = Number(args[++i]);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86400) usage(`--seconds takes a whole number from 1 to 86400, got "${args[i]}"`);
  } else if (args[i] === '--help' || args[i] === '-h') {
    usage("runs the C library's libFuzzer harnesses (open on both arithmetic paths, the patch applier)");
  } else usage(`unknown argument "${args[i]}"`);
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { cwd: root, encoding: 'utf8', ...options });
  if (result.error) usage(`${command} is not available (${result.error.code}); apt-get install clang cmake libsodium-dev`);
  return result;
}

const configure = run('cmake', [
  '-S',
  'firmware',
  '-B',
  build,
  '-DWG_FUZZ=ON',
  '-DWG_TESTS=OFF',
  '-DCMAKE_C_COMPILER=clang',
  '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
]);
if (configure.status !== 0) {
  process.stderr.write(configure.stdout + configure.stderr);
  usage('configuring the fuzz build failed (needs clang, cmake, libsodium-dev)');
}
const compile = run('cmake', ['--build', build, '-j2', '--target', 'fuzz_open_f32', 'fuzz_open_int', 'fuzz_patch']);
if (compile.status !== 0) {
  process.stderr.write(compile.stdout + compile.stderr);
  process.exit(1);
}

// Seeds: every artifact the fixtures and the vectors hold.
const seeds = join(build, 'seeds');
rmSync(seeds, { recursive: true, force: true });
mkdirSync(seeds, { recursive: true });
const addSeeds = (dir) => {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.wgm')) continue;
    cpSync(join(dir, name), join(seeds, `${n}-${name}`));
    n++;
  }
  return n;
};
let seedCount = addSeeds(join(root, 'firmware/test/fixtures'));
const vectors = join(build, 'vectors');
if (run('npx', ['--no-install', 'tsx', 'scripts/gen-conformance.ts', vectors]).status === 0) seedCount += addSeeds(vectors);

const crashes = join(build, 'crashes');
mkdirSync(crashes, { recursive: true });
const startLoad = loadavg();
const runs = [];

function fuzz(harness, fields, seedDirs, env = {}) {
  const corpus = join(build, `corpus-${harness}`);
  mkdirSync(corpus, { recursive: true });
  const binary = join(build, 'fuzz', harness);
  const result = run(binary, [corpus, ...seedDirs, `-max_total_time=${seconds}`, '-print_final_stats=1', `-artifact_prefix=${crashes}/${harness}-`], {
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  const log = `${result.stdout}${result.stderr}`;
  const stat = (name) => Number(log.match(new RegExp(`stat::${name}:\\s+(\\d+)`))?.[1] ?? Number.NaN);
  const inputs = stat('number_of_executed_units');
  const crashed = result.status !== 0;
  const entry = {
    harness,
    ...fields,
    seconds,
    inputs,
    inputsPerSecond: Math.round(inputs / seconds),
    crashes: crashed ? 1 : 0,
    peakRssMb: stat('peak_rss_mb'),
  };
  runs.push(entry);
  process.stdout.write(
    `${harness}: ${inputs} inputs in ${seconds} s (${entry.inputsPerSecond}/s), ${crashed ? 'CRASH (reproducer in firmware/build/fuzz/crashes/)' : '0 crashes'}\n`,
  );
  if (crashed) process.stderr.write(log.split('\n').slice(-40).join('\n') + '\n');
}

for (const arith of ['f32', 'int']) fuzz(`fuzz_open_${arith}`, { arith }, [seeds]);

// The patch applier: its sources and seeds are the patch vectors.
const patchVectors = join(build, 'patch-vectors');
rmSync(patchVectors, { recursive: true, force: true });
let patchSeeds = 0;
if (run('npx', ['--no-install', 'tsx', 'firmware/test/patch/gen-patch-vectors.ts', patchVectors]).status === 0) {
  const patchSeedDir = join(build, 'patch-seeds');
  rmSync(patchSeedDir, { recursive: true, force: true });
  mkdirSync(patchSeedDir, { recursive: true });
  for (const name of readdirSync(patchVectors)) {
    if (!name.endsWith('.wgp')) continue;
    cpSync(join(patchVectors, name), join(patchSeedDir, name));
    patchSeeds++;
  }
  fuzz('fuzz_patch', {}, [patchSeedDir], { WG_FUZZ_PATCH_SOURCES: patchVectors });
} else process.stdout.write('fuzz_patch: skipped (gen-patch-vectors.ts did not run)\n');

const resultsDir = join(root, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const report = { when: new Date().toISOString(), machine: { loadavg: startLoad }, seeds: seedCount, patchSeeds, runs };
writeFileSync(join(resultsDir, 'fuzz.json'), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`wrote bench/results/fuzz.json (${seedCount} seed artifacts, ${patchSeeds} seed patches)\n`);
process.exit(runs.some((r) => r.crashes > 0) ? 1 : 0);

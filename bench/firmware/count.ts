// Instructions per inference sample, counted repeatably: each bench program
// (bench_program.h) is built for the host with the system C compiler, run
// under valgrind's callgrind over the samples export-dense.ts writes, and
// only bench_classify is counted (--toggle-collect), then bench_setup in a
// second run. Callgrind's Ir (instructions executed) does not depend on the
// machine's load or clock, so the figures repeat exactly.
//
//   npx tsx bench/firmware/count.ts [--artifact A.wgm]... [--sparsity F] [--also-synthetic] [--also-rice] [--samples N]
//                                   [--synthetic] [--flags "-O2;-Os"] [--no-qemu] [--out bench/results/firmware.json]
//
// Then, unless --no-qemu (or no arm-none-eabi-gcc / qemu-system-arm), the
// same programs for Cortex-M in QEMU with -icount (count-qemu.ts): guest
// instructions per sample on the part's own instruction set.
//
// Without --artifact it makes the paper-shaped synthetic artifact
// (paper-artifact.ts; --sparsity sets its pruning, default 0.8);
// --also-synthetic measures it after the given artifacts; --also-rice
// measures each artifact again recoded with Rice segments (recodeArtifact:
// the same entries; docs/format.md §5.10), right after it. Each artifact is
// one entry of `runs` in the JSON; the first one's figures are also at the
// top level. Targets: execution image <= dense / 10 instructions per
// sample, coded <= dense, on the host builds and on each QEMU board. The
// JSON also carries the load average at the start, and the code sizes of
// bench/results/firmware-size.json (size.ts) when that file exists.
//
// Programs (programs.ts): dense-ref, and the library's two paths wg-image
// and wg-coded on each arithmetic path (f32, and -int), which compile firmware/src/*.c with the same flags and are
// skipped while firmware/include/weightgate.h is not in the tree. Each
// implements bench_program.h: bench_setup opens the model (and builds the
// image), bench_classify runs one inference. The artifact reaches them as
// the header WG_BENCH_ARTIFACT_HEADER ("wg_bench_artifact.h": exportC of the
// same bytes, wg_bench_artifact[] / wg_bench_artifact_len), the samples as
// dense_model_samples.h, both in the include path.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportC, readArtifact, recodeArtifact, type SegmentCoding } from '../../formats/index.ts';
import { exportDense } from './export-dense.ts';
import { paperArtifact } from './paper-artifact.ts';
import { BOARD_TARGETS, countOnBoard, qemuAvailable, type BoardCount } from './count-qemu.ts';
import { missing, PROGRAMS, programArgs, ROOT, type BenchProgram } from './programs.ts';

const HERE = fileURLToPath(new URL('./', import.meta.url));

export interface CountOptions {
  /** Directory holding dense_model.h, its _samples.h and wg_bench_artifact.h. */
  generatedDir: string;
  /** Scratch directory for binaries and callgrind output. */
  workDir: string;
  cc?: string;
  /** Optimisation and code-generation flags, e.g. ['-O2']. */
  flags: string[];
}

export interface ProgramCount {
  name: string;
  description: string;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  samples?: number;
  /** Instructions of bench_classify over all samples / samples. */
  irPerSample?: number;
  irClassifyTotal?: number;
  /** Instructions of bench_setup (once). */
  irSetup?: number;
  /** Samples whose class equals export-dense.ts's float32 forward pass. */
  agree?: number;
  /** Samples whose class equals the label (meaningless for synthetic weights). */
  correct?: number;
}

function run(command: string, args: string[], cwd = ROOT): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  return { status: result.status ?? 128, stdout: result.stdout, stderr: result.stderr };
}

function callgrindIr(outFile: string): number {
  const text = readFileSync(outFile, 'utf8');
  const match = text.match(/^(?:summary|totals):\s+(\d+)/m);
  if (!match) throw new Error(`${outFile}: no summary line`);
  return Number(match[1]);
}

/** Builds `program` with bench_main.c and counts it under callgrind. */
export function countInstructions(program: BenchProgram, options: CountOptions): ProgramCount {
  const base = { name: program.name, description: program.description };
  const host = program.host;
  if (!host) return { ...base, status: 'skipped', reason: 'no host build' };
  const absent = missing([...(program.needs ?? []), ...(host.needs ?? [])]);
  if (absent.length > 0) return { ...base, status: 'skipped', reason: `not there: ${absent.join(', ')}` };

  const exe = join(options.workDir, `${program.name}${options.flags.join('').replace(/[^A-Za-z0-9]+/g, '_')}`);
  const args = [
    ...options.flags,
    '-std=c11',
    '-Wall',
    '-Wextra',
    ...programArgs(program, host, options.generatedDir),
    join(HERE, 'bench_main.c'),
    ...(host.ldflags ?? []),
    '-lm',
    '-o',
    exe,
  ];
  const build = run(options.cc ?? process.env.CC ?? 'cc', args);
  if (build.status !== 0) return { ...base, status: 'failed', reason: `build failed:\n${build.stderr}` };

  const measure = (fn: string) => {
    const out = `${exe}.${fn}.callgrind`;
    const result = run('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, '--collect-atstart=no', `--toggle-collect=${fn}`, exe]);
    if (result.status !== 0) throw new Error(`${program.name}: exit status ${result.status}\n${result.stdout}${result.stderr}`);
    const line = result.stdout.match(/^bench: samples (\d+) agree (\d+) accuracy (\d+)$/m);
    if (!line) throw new Error(`${program.name}: no summary line in\n${result.stdout}`);
    return { ir: callgrindIr(out), samples: Number(line[1]), agree: Number(line[2]), correct: Number(line[3]) };
  };
  try {
    const classify = measure('bench_classify');
    const setup = measure('bench_setup');
    return {
      ...base,
      status: 'ok',
      samples: classify.samples,
      irPerSample: Math.round(classify.ir / classify.samples),
      irClassifyTotal: classify.ir,
      irSetup: setup.ir,
      agree: classify.agree,
      correct: classify.correct,
    };
  } catch (error) {
    return { ...base, status: 'failed', reason: (error as Error).message };
  }
}

function toolVersion(command: string, args: string[]): string {
  try {
    return run(command, args).stdout.split('\n')[0]!.trim();
  } catch {
    return 'not found';
  }
}

interface Target {
  program: string;
  role: 'image' | 'coded';
  arith?: 'f32' | 'int';
  /** Highest allowed ratio of the program's instructions per sample to dense-ref's. */
  maxRatio: number;
  ratio: number | null;
  met: boolean | null;
}

function targets(counts: ProgramCount[]): Target[] {
  const dense = counts.find((c) => c.name === 'dense-ref' && c.status === 'ok');
  return targetsAgainst(dense?.irPerSample, (name) => counts.find((c) => c.name === name && c.status === 'ok')?.irPerSample);
}

/** Each library program's ratio to the dense reference and whether its target is met. */
function targetsAgainst(dense: number | undefined, perSample: (name: string) => number | undefined): Target[] {
  const out: Target[] = [];
  for (const program of PROGRAMS) {
    if (program.role === 'reference') continue;
    // image: at least 10x fewer instructions than dense; coded: no more.
    const maxRatio = program.role === 'image' ? 0.1 : 1;
    const count = perSample(program.name);
    const ratio = dense && count ? count / dense : null;
    out.push({
      program: program.name,
      role: program.role,
      arith: program.arith,
      maxRatio,
      ratio: ratio === null ? null : Number(ratio.toFixed(4)),
      met: ratio === null ? null : ratio <= maxRatio,
    });
  }
  return out;
}

async function measureArtifact(argv: string[], work: string, given: string | undefined, flagSets: string[][], coding: SegmentCoding) {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  let artifactPath = given;
  let artifactNote = 'given';
  const gen = mkdtempSync(join(work, 'run-'));
  if (!artifactPath) {
    artifactPath = join(gen, 'paper-synthetic.wgm');
    const sparsity = Number(value('--sparsity') ?? 0.8);
    writeFileSync(artifactPath, paperArtifact({ sparsity }));
    artifactNote = `bench/firmware/paper-artifact.ts (synthetic, ${Math.round(sparsity * 100)} % pruned, seed 1)`;
  }
  if (coding === 'rice') {
    const recoded = join(
      gen,
      `${artifactPath
        .split('/')
        .pop()!
        .replace(/\.wgm$/, '')}.rice.wgm`,
    );
    writeFileSync(recoded, recodeArtifact(readArtifact(new Uint8Array(readFileSync(artifactPath))), 'rice'));
    artifactPath = recoded;
  }
  const bytes = new Uint8Array(readFileSync(artifactPath));
  const artifact = readArtifact(bytes);
  // What the artifact holds (a given one may be Rice-coded already).
  const held: SegmentCoding = artifact.manifest.tensors.some((t) => t.coding === 'rice') ? 'rice' : 'range';
  process.stdout.write(`artifact ${artifactPath.split('/').pop()} (${artifactNote}, ${held}-coded)\n`);
  const { net, samples } = await exportDense(artifactPath, join(gen, 'dense_model.h'), {
    samples: value('--samples') !== undefined ? Number(value('--samples')) : undefined,
    synthetic: argv.includes('--synthetic'),
  });
  writeFileSync(join(gen, 'wg_bench_artifact.h'), exportC(bytes, 'wg_bench_artifact'));
  const heldKernelEntries = artifact.segments.filter((s) => artifact.manifest.tensors[s.tensor]!.licensed).reduce((n, s) => n + s.count, 0);

  const builds = flagSets.map((flags) => {
    const counts = PROGRAMS.map((program) => {
      const count = countInstructions(program, { generatedDir: gen, workDir: gen, flags });
      const figure =
        count.status === 'ok'
          ? `${count.irPerSample} Ir/sample, setup ${count.irSetup} Ir, agree ${count.agree}/${count.samples}`
          : `${count.status}: ${count.reason}`;
      process.stdout.write(`${flags.join(' ')}  ${program.name}: ${figure}\n`);
      return count;
    });
    return { flags: flags.join(' '), programs: counts, targets: targets(counts) };
  });

  let boards: BoardCount[] | string = 'not run (--no-qemu)';
  let boardTargets: { target: string; targets: Target[] }[] = [];
  if (!argv.includes('--no-qemu')) {
    if (!qemuAvailable()) boards = 'not run: arm-none-eabi-gcc or qemu-system-arm missing';
    else {
      const counts: BoardCount[] = [];
      for (const program of PROGRAMS) {
        for (const target of BOARD_TARGETS) {
          const count = countOnBoard(program, target, { generatedDir: gen, workDir: gen });
          const figure =
            count.status === 'ok'
              ? `${count.instructionsPerSample} instructions/sample, ELF flash ${count.elfFlashBytes} B, agree ${count.agree}/${count.samples}`
              : `${count.status}: ${count.reason}`;
          process.stdout.write(`qemu ${target.name}  ${program.name}: ${figure}\n`);
          counts.push(count);
        }
      }
      boards = counts;
      boardTargets = BOARD_TARGETS.map((target) => {
        const on = (name: string) => counts.find((c) => c.program === name && c.target === target.name && c.status === 'ok')?.instructionsPerSample;
        return { target: target.name, targets: targetsAgainst(on('dense-ref'), on) };
      });
    }
  }

  return {
    artifact: {
      path: relative(ROOT, artifactPath).startsWith('..') ? artifactPath.split('/').pop() : relative(ROOT, artifactPath),
      source: artifactNote,
      coding: held,
      model: net.model,
      version: net.version,
      shape: [net.layers[0]!.inputs, ...net.layers.map((l) => l.units)].join('-'),
      bytes: bytes.length,
      sha256: net.sha256,
      license: net.license,
      denseParameters: net.layers.reduce((n, l) => n + l.inputs * l.units + l.units, 0),
      heldKernelEntries,
    },
    samples: { count: samples.count, source: samples.source },
    builds,
    qemu: {
      method: 'guest instructions of the sample loop / samples: board counter under QEMU -icount shift=0 (firmware/examples/run-qemu.sh, ICOUNT=1); -Os',
      counts: boards,
      targets: boardTargets,
    },
  };
}

async function main(argv: string[]): Promise<void> {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const flagSets = (value('--flags') ?? '-O2;-Os').split(';').map((set) => set.trim().split(/\s+/).filter(Boolean));
  const out = value('--out') ?? join(ROOT, 'bench/results/firmware.json');
  const given = argv.flatMap((arg, i) => (arg === '--artifact' && argv[i + 1] ? [argv[i + 1]!] : []));
  const artifacts: (string | undefined)[] = given.length === 0 ? [undefined] : argv.includes('--also-synthetic') ? [...given, undefined] : given;
  const load = loadavg().map((v) => Number(v.toFixed(2)));
  const work = mkdtempSync(join(tmpdir(), 'wg-bench-firmware-'));
  try {
    const runs = [];
    const codings: SegmentCoding[] = argv.includes('--also-rice') ? ['range', 'rice'] : ['range'];
    for (const artifact of artifacts) for (const coding of codings) runs.push(await measureArtifact(argv, work, artifact, flagSets, coding));
    const sizeFile = join(ROOT, 'bench/results/firmware-size.json');
    const result = {
      when: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        loadavg: load,
        node: process.version,
        cc: toolVersion('cc', ['--version']),
        valgrind: toolVersion('valgrind', ['--version']),
      },
      method: 'callgrind Ir of bench_classify over every sample / samples (bench_setup counted once, apart); host build, -ffp-contract=off',
      ...runs[0]!,
      runs,
      size: existsSync(sizeFile) ? JSON.parse(readFileSync(sizeFile, 'utf8')) : null,
    };
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(`wrote ${relative(ROOT, out)}\n`);
    const failed = runs.some(
      (r) =>
        r.builds.some((b) => b.programs.some((p) => p.status === 'failed')) ||
        (Array.isArray(r.qemu.counts) && r.qemu.counts.some((b) => b.status === 'failed')),
    );
    if (failed) process.exitCode = 1;
  } finally {
    if (process.env.WG_BENCH_KEEP) process.stderr.write(`count: kept ${work} (binaries, callgrind files for callgrind_annotate)\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`count: ${error.message}\n`);
    process.exit(1);
  });
}

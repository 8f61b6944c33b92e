// Code size per component: runs arm-none-eabi-size on object files and
// archives and sums each component's text + data (what it costs in flash)
// and bss (RAM it reserves statically).
//
//   npx tsx bench/firmware/size.ts [NAME=FILE[,FILE...]]... [--json OUT]
//
// With no NAME=... arguments it measures the default components:
//   dense-ref/<cpu>   bench/firmware/dense_ref.c compiled here with -Os for
//                     cortex-m4f and cortex-m0 (code only: the weights are
//                     in the model header, counted apart as model bytes)
//   board/<board>     the examples' board layer objects, if
//                     firmware/build/examples is built
//   weightgate/<dir>  every libweightgate*.a under firmware/build/ (the
//                     library's archives, per CPU, once its CMake builds
//                     them; the hook for the library)
// and writes bench/results/firmware-size.json (or OUT). It also reads every
// firmware/build/<build>/size/size_probe that firmware/size/report.sh
// built: its flash minus size_baseline's is the code open + verify +
// invoke take (`probes`, against the 8 KiB budget).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIZE = process.env.SIZE ?? 'arm-none-eabi-size';
const CC = process.env.ARM_CC ?? 'arm-none-eabi-gcc';

/** The same CPU flags as firmware/cmake/arm-none-eabi.cmake. */
export const CPU_FLAGS: Record<string, string[]> = {
  'cortex-m4f': ['-mcpu=cortex-m4', '-mthumb', '-mfpu=fpv4-sp-d16', '-mfloat-abi=hard'],
  'cortex-m0': ['-mcpu=cortex-m0', '-mthumb', '-mfloat-abi=soft'],
};

export interface FileSize {
  file: string;
  text: number;
  data: number;
  bss: number;
}

export interface ComponentSize {
  name: string;
  /** text + data: flash. */
  flash: number;
  text: number;
  data: number;
  bss: number;
  files: FileSize[];
}

/** arm-none-eabi-size (Berkeley format) of each file; an archive gives one row per member. */
export function sizeOf(files: string[]): FileSize[] {
  const result = spawnSync(SIZE, ['-B', ...files], { encoding: 'utf8' });
  if (result.error) throw new Error(`${SIZE}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${SIZE} ${files.join(' ')}:\n${result.stderr}`);
  const rows: FileSize[] = [];
  for (const line of result.stdout.split('\n').slice(1)) {
    const m = line.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+[0-9a-f]+\s+(.+)$/);
    if (m) rows.push({ text: Number(m[1]), data: Number(m[2]), bss: Number(m[3]), file: m[4]! });
  }
  return rows;
}

export function componentSize(name: string, files: string[]): ComponentSize {
  const rows = sizeOf(files);
  const sum = (key: 'text' | 'data' | 'bss') => rows.reduce((n, r) => n + r[key], 0);
  const text = sum('text');
  const data = sum('data');
  return { name, flash: text + data, text, data, bss: sum('bss'), files: rows.map((r) => ({ ...r, file: shortPath(r.file) })) };
}

/** A path relative to the repository, also inside `member (ex /abs/archive.a)` lines: no machine paths in results. */
function shortPath(file: string): string {
  const rel = relative(ROOT, file);
  if (!rel.startsWith('..') && !file.includes(' (ex ')) return rel;
  return file.includes(ROOT) ? file.split(ROOT).join('') : file.split('/').pop()!;
}

function walk(dir: string, match: (path: string) => boolean, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, match, out);
    else if (match(path)) out.push(path);
  }
  return out.sort();
}

function compileDenseRef(work: string): Array<[string, string[]]> {
  return Object.entries(CPU_FLAGS).map(([cpu, flags]) => {
    const obj = join(work, `dense_ref-${cpu}.o`);
    const result = spawnSync(
      CC,
      [...flags, '-Os', '-ffunction-sections', '-fdata-sections', '-ffp-contract=off', '-std=c11', '-c', join(ROOT, 'bench/firmware/dense_ref.c'), '-o', obj],
      { encoding: 'utf8' },
    );
    if (result.error || result.status !== 0) throw new Error(`${CC} dense_ref.c for ${cpu}: ${result.error?.message ?? result.stderr}`);
    return [`dense-ref/${cpu}`, [obj]];
  });
}

export function defaultComponents(work: string): Array<[string, string[]]> {
  const components = compileDenseRef(work);
  const examples = join(ROOT, 'firmware/build/examples/CMakeFiles');
  if (existsSync(examples)) {
    for (const dir of readdirSync(examples)
      .filter((d) => d.startsWith('wg_board_') && d.endsWith('.dir'))
      .sort()) {
      const objects = walk(join(examples, dir), (p) => p.endsWith('.obj') || p.endsWith('.o'));
      if (objects.length > 0) components.push([`board/${dir.slice('wg_board_'.length, -'.dir'.length)}`, objects]);
    }
  }
  // Only the Cortex-M trees report.sh builds (<cpu>-<arith>-canonical-<ON|OFF>): host, fuzz and test builds are not ARM.
  for (const archive of walk(join(ROOT, 'firmware/build'), (p) => /\/cortex-m[^/]*-canonical-(ON|OFF)\/libweightgate[^/]*\.a$/.test(p))) {
    components.push([`weightgate/${relative(join(ROOT, 'firmware/build'), archive)}`, [archive]]);
  }
  return components;
}

export interface ProbeSize {
  /** firmware/build/<build>, as report.sh names it: <cpu>-<arith>[-rice|-range]-canonical-<ON|OFF> (a one-coding build names its coding). */
  build: string;
  /** Flash of size_probe minus size_baseline: open + verify + invoke. */
  openVerifyInvoke: number;
  budget: number;
  underBudget: boolean;
}

/** open + verify + invoke of each build report.sh left under firmware/build. */
export function probeSizes(): ProbeSize[] {
  const dir = join(ROOT, 'firmware/build');
  if (!existsSync(dir)) return [];
  const out: ProbeSize[] = [];
  for (const build of readdirSync(dir).sort()) {
    const probe = join(dir, build, 'size/size_probe');
    const baseline = join(dir, build, 'size/size_baseline');
    if (!existsSync(probe) || !existsSync(baseline)) continue;
    const [p, b] = sizeOf([probe, baseline]);
    if (!p || !b) continue;
    const bytes = p.text + p.data - (b.text + b.data);
    out.push({ build, openVerifyInvoke: bytes, budget: 8192, underBudget: bytes <= 8192 });
  }
  return out;
}

function main(argv: string[]): void {
  const jsonAt = argv.indexOf('--json');
  const out = jsonAt >= 0 ? resolve(argv[jsonAt + 1]!) : join(ROOT, 'bench/results/firmware-size.json');
  const specs = argv.filter((a, i) => a.includes('=') && !(jsonAt >= 0 && i === jsonAt + 1));
  const work = mkdtempSync(join(tmpdir(), 'wg-bench-size-'));
  try {
    const components: Array<[string, string[]]> =
      specs.length > 0
        ? specs.map((spec) => {
            const [name, list] = spec.split('=', 2) as [string, string];
            return [
              name,
              list
                .split(',')
                .filter(Boolean)
                .map((f) => resolve(f)),
            ];
          })
        : defaultComponents(work);
    const sizes = components.map(([name, files]) => componentSize(name, files));
    const width = Math.max(9, ...sizes.map((s) => s.name.length));
    process.stdout.write(`${'component'.padEnd(width)}  ${'flash'.padStart(8)}  ${'text'.padStart(8)}  ${'data'.padStart(6)}  ${'bss'.padStart(6)}\n`);
    for (const s of sizes) {
      process.stdout.write(
        `${s.name.padEnd(width)}  ${String(s.flash).padStart(8)}  ${String(s.text).padStart(8)}  ${String(s.data).padStart(6)}  ${String(s.bss).padStart(6)}\n`,
      );
    }
    const probes = specs.length > 0 ? [] : probeSizes();
    for (const p of probes) process.stdout.write(`open+verify+invoke ${p.build}: ${p.openVerifyInvoke} B (budget ${p.budget})\n`);
    const versionLine = spawnSync(SIZE, ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), tool: versionLine.trim(), components: sizes, probes }, null, 2) + '\n');
    process.stdout.write(`wrote ${shortPath(out)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`size: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

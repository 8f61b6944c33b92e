// The same bench programs built for Cortex-M with firmware/examples' board
// layer and run in QEMU under -icount shift=0, where virtual time advances
// 1 ns per guest instruction, so the board counter around the sample loop
// gives guest instructions (Thumb-2 or Thumb-1, soft- or hard-float as
// built). Like callgrind's Ir these repeat exactly; unlike them they are the
// part's own instruction set. The loop's own bookkeeping (about ten
// instructions a sample) is included.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missing, programArgs, ROOT, type BenchProgram } from './programs.ts';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const BOARD = join(ROOT, 'firmware/examples/board');

export interface BoardTarget {
  name: string;
  /** run-qemu.sh's BOARD */
  board: 'mps2-an386' | 'mps2-an505' | 'microbit';
  cpuFlags: string[];
  boardSource: string;
  linkerScript: string;
  irqs: number;
  /** Defines for the board source (firmware/examples/boards.cmake's _DEFS). */
  defines?: string[];
  note?: string;
}

const M4F = ['-mcpu=cortex-m4', '-mthumb', '-mfpu=fpv4-sp-d16', '-mfloat-abi=hard'];
const M0 = ['-mcpu=cortex-m0', '-mthumb', '-mfloat-abi=soft'];
const M33 = ['-mcpu=cortex-m33', '-mthumb', '-mfpu=fpv5-sp-d16', '-mfloat-abi=hard'];

export const BOARD_TARGETS: BoardTarget[] = [
  { name: 'cortex-m4f/mps2-an386', board: 'mps2-an386', cpuFlags: M4F, boardSource: 'board_mps2.c', linkerScript: 'mps2-an386.ld', irqs: 48 },
  {
    name: 'cortex-m33/mps2-an505',
    board: 'mps2-an505',
    cpuFlags: M33,
    boardSource: 'board_mps2.c',
    linkerScript: 'mps2-an505.ld',
    irqs: 96,
    defines: ['WG_BOARD_MPS2_NAME="mps2-an505"', 'WG_BOARD_CPU_HZ=20000000u'],
  },
  { name: 'cortex-m0/microbit', board: 'microbit', cpuFlags: M0, boardSource: 'board_microbit.c', linkerScript: 'microbit.ld', irqs: 32 },
  {
    name: 'cortex-m0-code/mps2-an386',
    board: 'mps2-an386',
    cpuFlags: M0,
    boardSource: 'board_mps2.c',
    linkerScript: 'mps2-an386.ld',
    irqs: 48,
    note: 'ARMv6-M code with soft float run on the M4 machine (its 4 MiB flash): the instructions an M0/M0+ executes, for programs too big for the microbit',
  },
];

export interface BoardCount {
  program: string;
  target: string;
  status: 'ok' | 'skipped' | 'failed' | 'does-not-fit';
  reason?: string;
  note?: string;
  /** text + data of the whole ELF (program, samples, board layer): its flash. */
  elfFlashBytes?: number;
  samples?: number;
  instructionsPerSample?: number;
  agree?: number;
  correct?: number;
}

function tool(command: string): boolean {
  return !spawnSync(command, ['--version'], { encoding: 'utf8' }).error;
}

export function qemuAvailable(): boolean {
  return tool('arm-none-eabi-gcc') && tool('qemu-system-arm');
}

export function countOnBoard(program: BenchProgram, target: BoardTarget, options: { generatedDir: string; workDir: string; timeoutS?: number }): BoardCount {
  const base = { program: program.name, target: target.name, ...(target.note ? { note: target.note } : {}) };
  const board = program.board;
  if (!board) return { ...base, status: 'skipped', reason: 'no board build' };
  const absent = missing([...(program.needs ?? []), ...(board.needs ?? [])]);
  if (absent.length > 0) return { ...base, status: 'skipped', reason: `not there: ${absent.join(', ')}` };

  const elf = join(options.workDir, `${program.name}-${target.name.replace(/[^A-Za-z0-9]+/g, '_')}.elf`);
  const args = [
    ...target.cpuFlags,
    '-Os',
    '-ffunction-sections',
    '-fdata-sections',
    '-std=gnu11',
    `-DWG_BOARD_IRQS=${target.irqs}`,
    ...(target.defines ?? []).map((d) => `-D${d}`),
    `-I${BOARD}`,
    ...programArgs(program, board, options.generatedDir),
    join(HERE, 'bench_board_main.c'),
    ...['startup.c', 'board_common.c', target.boardSource, 'libc_min.c'].map((f) => join(BOARD, f)),
    '-nostdlib',
    '-Wl,--gc-sections',
    `-L${BOARD}`,
    `-T${join(BOARD, target.linkerScript)}`,
    ...(board.ldflags ?? []),
    '-lgcc',
    '-o',
    elf,
  ];
  const build = spawnSync('arm-none-eabi-gcc', args, { encoding: 'utf8' });
  if (build.status !== 0) {
    const overflow = build.stderr.match(/region `?(\w+)'? overflowed by (\d+) bytes/);
    if (overflow) return { ...base, status: 'does-not-fit', reason: `${overflow[1]} overflowed by ${overflow[2]} bytes` };
    return { ...base, status: 'failed', reason: `build failed:\n${build.stderr}` };
  }
  const size = spawnSync('arm-none-eabi-size', ['-B', elf], { encoding: 'utf8' }).stdout.split('\n')[1]?.trim().split(/\s+/) ?? [];
  const elfFlashBytes = Number(size[0]) + Number(size[1]);

  const runner = join(ROOT, 'firmware/examples/run-qemu.sh');
  const result = spawnSync('sh', [runner, target.board, elf, String(options.timeoutS ?? 300)], { encoding: 'utf8', env: { ...process.env, ICOUNT: '1' } });
  const line = result.stdout.match(/^bench: samples (\d+) agree (\d+) accuracy (\d+) instructions (\d+)$/m);
  if (result.status !== 0 || !line) {
    return { ...base, status: 'failed', elfFlashBytes, reason: `exit status ${result.status}\n${result.stdout}${result.stderr}` };
  }
  const samples = Number(line[1]);
  return {
    ...base,
    status: 'ok',
    elfFlashBytes,
    samples,
    instructionsPerSample: Math.round(Number(line[4]) / samples),
    agree: Number(line[2]),
    correct: Number(line[3]),
  };
}

/** Bytes of a file, for reports. */
export function fileBytes(path: string): number {
  return statSync(path).size;
}

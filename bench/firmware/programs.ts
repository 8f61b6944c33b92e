// The programs bench/firmware measures: each is bench_main.c (host) or
// bench_board_main.c (QEMU board) plus sources implementing
// bench_program.h. count.ts counts them with callgrind, count-qemu.ts on
// Cortex-M under QEMU -icount.
//
// The library's programs compile firmware/src/*.c together with the program
// (no prebuilt archive), so the library and the dense reference are always
// built with the same compiler and flags. WG_FIRMWARE_DIR points at another
// copy of firmware/ (default: this repository's).
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIRMWARE = process.env.WG_FIRMWARE_DIR ?? 'firmware';

export interface BuildParts {
  /** C sources, repository-relative or absolute; "DIR/*.c" takes every .c file of DIR. */
  sources?: string[];
  defines?: string[];
  /** Extra linker arguments, e.g. -lsodium. */
  ldflags?: string[];
  /** Paths without which this build is skipped. */
  needs?: string[];
}

export interface BenchProgram {
  name: string;
  description: string;
  /** Which target its count is held to: image <= dense / 10, coded <= dense. */
  role: 'reference' | 'image' | 'coded';
  /** The library's arithmetic path (docs/arithmetic.md); the reference is float32. */
  arith?: 'f32' | 'int';
  /** Classes must equal export-dense.ts's float32 forward pass exactly. */
  strict?: boolean;
  sources: string[];
  includeDirs?: string[];
  defines?: string[];
  needs?: string[];
  /** Added for the host build (callgrind). */
  host?: BuildParts;
  /** Added for the board builds (QEMU); absent: the program does not run on boards. */
  board?: BuildParts;
}

const library = (image: boolean, arith: 'f32' | 'int'): BenchProgram => ({
  name: `${image ? 'wg-image' : 'wg-coded'}${arith === 'int' ? '-int' : ''}`,
  description: `weightgate library, ${image ? 'execution-image path' : 'coded path (decodes segments while computing)'}, ${arith} arithmetic`,
  role: image ? 'image' : 'coded',
  arith,
  // The f32 image path sums in the dense reference's order
  // (docs/arithmetic.md): its classes must agree exactly; the coded path's
  // order differs, and the int path is another arithmetic.
  strict: image && arith === 'f32',
  sources: ['bench/firmware/prog_wg.c', `${FIRMWARE}/src/*.c`],
  includeDirs: [`${FIRMWARE}/include`, `${FIRMWARE}/src`],
  defines: [`WG_BENCH_IMAGE=${image ? 1 : 0}`, arith === 'int' ? 'WG_ARITH_INT=1' : 'WG_ARITH_F32=1'],
  needs: [`${FIRMWARE}/include/weightgate.h`],
  // Host: libsodium for the hashes and the signature (setup only).
  host: { sources: ['bench/firmware/bench_crypto_sodium.c'], ldflags: ['-lsodium'], needs: ['/usr/include/sodium.h'] },
  // Boards: the library's own portable crypto, once it is in the tree.
  board: {
    sources: [`${FIRMWARE}/src/crypto/*.c`],
    defines: ['WG_BENCH_CRYPTO=wg_crypto_portable', 'WG_BENCH_ARENA_BYTES=8192u', 'WG_BENCH_IMAGE_BYTES=131072u'],
    needs: [`${FIRMWARE}/src/crypto`],
  },
});

export const PROGRAMS: BenchProgram[] = [
  {
    name: 'dense-ref',
    description: 'plain dense float32 MLP (bench/firmware/dense_ref.c)',
    role: 'reference',
    strict: true,
    sources: ['bench/firmware/prog_dense.c', 'bench/firmware/dense_ref.c'],
    host: {},
    board: {},
  },
  library(true, 'f32'),
  library(false, 'f32'),
  library(true, 'int'),
  library(false, 'int'),
];

/** Absolute paths; "DIR/*.c" expands to DIR's .c files, sorted. */
export function expandSources(list: string[]): string[] {
  return list.flatMap((entry) => {
    const path = resolve(ROOT, entry);
    if (!path.endsWith('/*.c')) return [path];
    const dir = path.slice(0, -'/*.c'.length);
    return existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.c'))
          .sort()
          .map((f) => join(dir, f))
      : [];
  });
}

/** The paths of `needs` that do not exist. */
export function missing(needs: string[] = []): string[] {
  return needs.filter((path) => !existsSync(resolve(ROOT, path)));
}

/** Compiler arguments shared by the host and board builds of `program`, with `extra` added. */
export function programArgs(program: BenchProgram, extra: BuildParts, generatedDir: string): string[] {
  const here = fileURLToPath(new URL('./', import.meta.url));
  return [
    '-ffp-contract=off', // docs/arithmetic.md: no fused multiply-add on the f32 path
    '-DWG_BENCH_SAMPLES_HEADER="dense_model_samples.h"',
    '-DWG_BENCH_ARTIFACT_HEADER="wg_bench_artifact.h"',
    ...(program.strict ? ['-DWG_BENCH_STRICT'] : []),
    ...[...(program.defines ?? []), ...(extra.defines ?? [])].map((d) => `-D${d}`),
    `-I${here}`,
    `-I${generatedDir}`,
    ...(program.includeDirs ?? []).map((d) => `-I${resolve(ROOT, d)}`),
    ...expandSources([...program.sources, ...(extra.sources ?? [])]),
  ];
}

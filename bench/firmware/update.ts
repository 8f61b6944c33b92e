// The update half's figures, measured with the C library: for the
// paper-109k build (the directory of the artifact run.ts gets holds
// basic.wgm and full.wgm) a license upgrade (basic -> full) and a
// downgrade (full -> basic), and a new version (the synthetic paper-109k of
// bench/device/patching.ts, 5 % of its weights moved: version 1 -> 2), each
// as a .wgp from formats' diffArtifacts, applied by update_bench.c
// (wg_patch_apply through wg_patch_flash_sink into the update half's
// simulated NOR flash, firmware/test/update/sim_flash.c): the patch bytes,
// the C applier's working memory (wg_patch_plan; the apply runs with exactly
// that) beside device-sim's (formats' streaming applier on the device's
// arena, as UpdateOutcome.applyWorkingBytes), and the flash erases and
// programs of the update against writing the whole new artifact. Plus the
// update part's code size at -Os for Cortex-M4F (slots + state record +
// boot, and the patch applier with its flash sink: firmware/size/objects.sh,
// as the C tests run it).
//
//   npx tsx bench/firmware/update.ts BUILD_DIR/full.wgm   prints the JSON
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bufferSink, diffArtifacts, readArtifact, streamPatchToArtifact } from '../../formats/index.ts';
import { Arena, arenaMemory } from '../../device-sim/arena.ts';
import { paperArtifact } from '../device/paper-model.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FW = join(ROOT, 'firmware');

/** JANPatch's README: ~2.1 KB of flash on Cortex-M; detools does not publish a figure. */
export const UPDATE_REFERENCES = [
  { name: 'JANPatch', flashBytes: 2100, source: 'its README (~2.1 KB flash)' },
  { name: 'detools', flashBytes: null, source: 'not published' },
];

export interface UpdateRow {
  update: string;
  sourceBytes: number;
  targetBytes: number;
  patchBytes: number;
  /** wg_patch_plan's work_bytes: the C applier's working memory. */
  cWorkBytes: number;
  /** formats' streaming applier on device-sim's arena (UpdateOutcome.applyWorkingBytes). */
  deviceSimWorkBytes: number;
  ops: { reused: number; whole: number; byteDelta: number; entryDelta: number };
  /** The download staged, the patch applied into the inactive slot, switch and confirm. */
  patch: { erases: number; programs: number; programmedBytes: number; download: { erases: number; programs: number; programmedBytes: number } };
  /** The whole target written into the inactive slot, switch and confirm. */
  whole: { erases: number; programs: number; programmedBytes: number };
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw new Error(`bench/firmware/update: ${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`bench/firmware/update: ${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

const cFiles = (dir: string) =>
  readdirSync(join(FW, dir))
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(FW, dir, f));

/** update_bench.c with the library, the update half, the applier and the sim flash (host cc, -O2). */
function buildProgram(out: string): string {
  const binary = join(out, 'update_bench');
  run(process.env.CC ?? 'cc', [
    '-O2',
    '-std=c99',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-DWG_ARITH_F32=1',
    `-I${join(FW, 'include')}`,
    `-I${join(FW, 'src')}`,
    `-I${join(FW, 'src/update')}`,
    `-I${join(FW, 'test/update')}`,
    join(ROOT, 'bench/firmware/update_bench.c'),
    ...cFiles('src'),
    ...cFiles('src/crypto'),
    ...cFiles('src/update'),
    ...cFiles('src/patch'),
    join(FW, 'test/update/sim_flash.c'),
    '-o',
    binary,
  ]);
  return binary;
}

/** Formats' streaming applier on an arena, as device-sim applies a patch: its peak. */
function deviceSimWork(from: Uint8Array, patch: Uint8Array): number {
  const arena = new Arena(1 << 20);
  return streamPatchToArtifact(readArtifact(from), patch, bufferSink(), arenaMemory(arena, 'applying the patch')).workingBytes;
}

/**
 * text + data of one part's sources at -Os for Cortex-M4F, as
 * firmware/size/objects.sh compiles and sums them (the C tests run the same
 * script with the same arguments).
 */
function armFlash(label: string, dir: string, extra: string[]): number {
  const output = run('bash', [join(FW, 'size/objects.sh'), label, join(FW, dir), ...extra]);
  const m4f = output.slice(output.indexOf('== Cortex-m4f'));
  const totals = m4f.match(/^\s*(\d+)\s+(\d+)\s+\d+\s+\d+\s+\S+\s+\(TOTALS\)/m);
  if (!totals) throw new Error(`bench/firmware/update: no Cortex-M4F totals in:\n${output}`);
  return Number(totals[1]) + Number(totals[2]);
}

function codeSize(): object {
  try {
    const update = armFlash('update', 'src/update', [`-I${join(FW, 'src/update')}`]);
    const patch = armFlash('patch applier', 'src/patch', [`-I${join(FW, 'src')}`, '-DWG_ARITH_F32=1']);
    return { target: 'cortex-m4f', flags: '-Os', updateBytes: update, patchBytes: patch, totalBytes: update + patch, references: UPDATE_REFERENCES };
  } catch (error) {
    return { skipped: (error as Error).message.split('\n')[0] };
  }
}

export function measureUpdate(artifactPath: string, name?: string): object {
  const buildDir = dirname(artifactPath);
  const read = (name: string) => new Uint8Array(readFileSync(join(buildDir, name)));
  const basic = read('basic.wgm');
  const full = read('full.wgm');
  const cases: [string, Uint8Array, Uint8Array][] = [
    ['license upgrade basic -> full', basic, full],
    ['license downgrade full -> basic', full, basic],
    ['new version, 5 % of weights moved (synthetic paper-109k)', paperArtifact({ pruned: 0.95 }), paperArtifact({ pruned: 0.95, version: 2, changed: 0.05 })],
  ];
  const out = mkdtempSync(join(tmpdir(), 'wg-bench-update-'));
  try {
    const binary = buildProgram(out);
    const rows: UpdateRow[] = cases.map(([update, from, to], i) => {
      const patch = diffArtifacts(from, to);
      const files = [`${i}.src.wgm`, `${i}.wgp`, `${i}.dst.wgm`].map((f) => join(out, f));
      writeFileSync(files[0]!, from);
      writeFileSync(files[1]!, patch);
      writeFileSync(files[2]!, to);
      const c = JSON.parse(run(binary, files));
      return {
        update,
        sourceBytes: c.sourceBytes,
        targetBytes: c.targetBytes,
        patchBytes: c.patchBytes,
        cWorkBytes: c.planWorkBytes,
        deviceSimWorkBytes: deviceSimWork(from, patch),
        ops: c.ops,
        patch: c.patch,
        whole: c.whole,
      };
    });
    return {
      artifact: name ?? dirname(artifactPath).split('/').pop(),
      flash: {
        sectorBytes: 4096,
        programBytes: 8,
        layout: "device-sim default: state 0, state 1, slot A, slot B; the download staged in the inactive slot's tail",
      },
      workTargetBytes: 4096,
      rows,
      codeSize: codeSize(),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const artifact = process.argv[2];
  if (!artifact) {
    process.stderr.write('usage: npx tsx bench/firmware/update.ts BUILD_DIR/full.wgm\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(measureUpdate(artifact), null, 2)}\n`);
}

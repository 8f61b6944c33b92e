// Patches between the real pipeline's artifacts (not a test): the default
// `build --preset paper-109k` (run-all's shared build), its next version
// made with `build --from` (centroids fine-tuned, every segment
// byte-identical), and its tiers; each change as a `.wgp` beside
// `zstd -19 --patch-from` and `bsdiff` of the same two files. Both versions
// are signed with one fresh key, as a publisher ships them. Each patch is
// applied back and must give the target byte for byte.
//
//   npx tsx bench/run-all.ts patches     (BUILD_DIR: a default build to use instead of building one)
//
// Writes bench/results/patches.json.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPatch, diffArtifacts, generateKeyPair, readArtifact, signArtifact } from '../../formats/index.ts';
import { runBuild } from '../../pipeline/build.ts';
import { externalPatchSizes } from '../formats/baselines.ts';

export interface PipelinePatchRow {
  change: string;
  from: string;
  to: string;
  targetBytes: number;
  patchBytes: number;
  zstdPatchFrom: number | null;
  bsdiff: number | null;
  /** For a license change: the patch minus the target's segments the source lacks. */
  overheadBytes: number | null;
}

const progress = (line: string) => process.stderr.write(`[bench/patches] ${line}\n`);

/** Bytes of the segments `to` holds and `from` does not (a license change's payload). */
function addedSegmentBytes(from: Uint8Array, to: Uint8Array): number {
  const had = new Set(readArtifact(from).segments.map((s) => `${s.tensor}:${s.interval}`));
  return readArtifact(to).segments.reduce((n, s) => (had.has(`${s.tensor}:${s.interval}`) ? n : n + s.data.length), 0);
}

export async function runPatchesBench(buildDir: string): Promise<object> {
  const work = mkdtempSync(join(tmpdir(), 'wg-bench-patches-'));
  try {
    const { privateKeyPem, publicKeyPem } = generateKeyPair();
    progress(`next version of ${buildDir} (build --from)`);
    const v2Dir = join(work, 'v2');
    await runBuild({ fromDir: buildDir, outDir: v2Dir, key: privateKeyPem });
    const file = (dir: string, tier: string) => signArtifact(new Uint8Array(readFileSync(join(dir, `${tier}.wgm`))), privateKeyPem);
    const v1 = { basic: file(buildDir, 'basic'), standard: file(buildDir, 'standard'), full: file(buildDir, 'full') };
    const v2Full = new Uint8Array(readFileSync(join(v2Dir, 'full.wgm')));
    const changes: Array<[string, string, string, Uint8Array, Uint8Array, boolean]> = [
      ['new version, centroids fine-tuned', 'full v1', 'full v2', v1.full, v2Full, false],
      ['license upgrade', 'basic v1', 'full v1', v1.basic, v1.full, true],
      ['license upgrade', 'standard v1', 'full v1', v1.standard, v1.full, true],
      ['license downgrade', 'full v1', 'basic v1', v1.full, v1.basic, true],
      ['new version and upgrade', 'basic v1', 'full v2', v1.basic, v2Full, false],
    ];
    const rows: PipelinePatchRow[] = [];
    for (const [change, from, to, a, b, license] of changes) {
      const patch = diffArtifacts(a, b);
      const applied = applyPatch(a, patch, { publicKey: publicKeyPem });
      if (Buffer.compare(Buffer.from(applied), Buffer.from(b)) !== 0) throw new Error(`${from} -> ${to}: the patch did not give the target`);
      const external = externalPatchSizes(a, b);
      rows.push({
        change,
        from,
        to,
        targetBytes: b.length,
        patchBytes: patch.length,
        zstdPatchFrom: external.zstd,
        bsdiff: external.bsdiff,
        overheadBytes: license ? patch.length - addedSegmentBytes(a, b) : null,
      });
      progress(`${from} -> ${to}: .wgp ${patch.length} B, zstd ${external.zstd ?? '–'} B, bsdiff ${external.bsdiff ?? '–'} B`);
    }
    const report = JSON.parse(readFileSync(join(buildDir, 'report.json'), 'utf8'));
    return {
      when: new Date().toISOString(),
      build: { model: report.model, sparsity: report.sparsity, bits: report.bits, biases: report.biases ?? null, signed: true },
      rows,
      targets: {
        everyRowAtMostZstd: rows.every((r) => r.zstdPatchFrom === null || r.patchBytes <= r.zstdPatchFrom),
        licenseOverheadAtMost64: rows.every((r) => r.overheadBytes === null || r.overheadBytes <= 64),
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// RAM a device takes to apply updates: the arena bytes of each apply
// (UpdateOutcome.applyWorkingBytes) and the device's arena high-water after
// it, on an m0-32k, for the update kinds a fleet sees: a license upgrade,
// a downgrade, and new versions moving 5 % and 10 % of the weights of the
// synthetic paper-109k at the pipeline's 95 % sparsity; plus, when a build
// directory is given, its basic -> full upgrade.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffArtifacts, readArtifact } from '../../formats/index.ts';
import { openDevice } from '../../device-sim/device.ts';
import { paperArtifact, paperModelInput } from './paper-model.ts';

export interface PatchingRow {
  update: string;
  patchBytes: number;
  applyWorkingBytes: number;
  arenaHighWaterBytes: number;
  /** The whole local install of the patch: apply, verification, image build, self-test, state writes. */
  installMs: number;
}

export async function measurePatching(options: { buildDir?: string } = {}): Promise<{ profile: string; targetBytes: number; rows: PatchingRow[] }> {
  const input = paperModelInput({ pruned: 0.95 });
  const basic = input.tiers.find((t) => t.name === 'basic')!.intervals;
  const full = paperArtifact({ pruned: 0.95 });
  const cases: [string, Uint8Array, Uint8Array][] = [
    ['license upgrade basic -> full', paperArtifact({ pruned: 0.95, license: basic }), full],
    ['license downgrade full -> basic', full, paperArtifact({ pruned: 0.95, license: basic })],
    ['new version, 5 % of weights moved', full, paperArtifact({ pruned: 0.95, version: 2, changed: 0.05 })],
    ['new version, 10 % of weights moved', full, paperArtifact({ pruned: 0.95, version: 2, changed: 0.1 })],
  ];
  if (options.buildDir) {
    const read = (name: string) => new Uint8Array(readFileSync(join(options.buildDir!, name)));
    cases.push(['pipeline build: basic -> full', read('basic.wgm'), read('full.wgm')]);
  }
  let rows: PatchingRow[] = [];
  // Two passes; the second is reported (the first warms up the JIT).
  for (let pass = 0; pass < 2; pass++) {
    rows = [];
    for (const [update, from, to] of cases) rows.push(await applyOnce(update, from, to));
  }
  return { profile: 'm0-32k', targetBytes: 4096, rows };
}

async function applyOnce(update: string, from: Uint8Array, to: Uint8Array): Promise<PatchingRow> {
  {
    const dir = mkdtempSync(join(tmpdir(), 'wg-bench-patching-'));
    try {
      const device = await openDevice({ dir, profile: 'm0-32k' });
      device.installArtifact(from);
      const patch = diffArtifacts(from, to);
      const started = performance.now();
      const outcome = device.installPatch(patch);
      const installMs = Math.round((performance.now() - started) * 100) / 100;
      if (outcome.sha256 !== readArtifact(to).sha256) throw new Error(`${update}: the device does not run the target`);
      return {
        update,
        patchBytes: patch.length,
        applyWorkingBytes: outcome.applyWorkingBytes ?? 0,
        arenaHighWaterBytes: outcome.arenaHighWaterBytes,
        installMs,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measurePatching({ buildDir: process.argv[2] }), null, 2));
}

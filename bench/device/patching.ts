// RAM and CPU a device takes to apply updates: the arena bytes of each
// apply (UpdateOutcome.applyWorkingBytes) and the device's arena high-water
// after it, on an m0-32k, for the update kinds a fleet sees: a license
// upgrade, a downgrade, a new version that only fine-tuned the centroids
// (the pipeline's `build --from`), and new versions moving 5 % and 10 % of
// the weights of the synthetic paper-109k at the pipeline's 95 % sparsity;
// plus, when a build directory is given, its basic -> full upgrade. Every
// artifact is signed and the device holds the publisher's key, so each
// update pays its signature check.
//
// Time per update: the whole local install of the patch (apply into the
// inactive slot, verification, image, self-test, state writes into
// device-sim's flash directory), synchronous on one thread, so its wall time
// is its CPU time; the median of REPEATS. The flash directories go where
// bench/device/flash-dir.ts says ($BENCH_FLASH_DIR: put it on a tmpfs).
// Beside it, in the same run, the floor a device cannot go under: one SHA-256 over the target
// artifact and one Ed25519 verification of its manifest (key parsed once),
// and the ratio of the two.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { BENCH_FLASH_DIR, BENCH_FLASH_DIR_SOURCE } from './flash-dir.ts';
import { join } from 'node:path';
import { diffArtifacts, encodeArtifact, generateKeyPair, readArtifact, signArtifact } from '../../formats/index.ts';
import { openDevice } from '../../device-sim/device.ts';
import { changeCentroids } from '../../test/fixtures/model-versions.ts';
import { paperArtifact, paperModelInput } from './paper-model.ts';
import { median, roundTo } from '../stats.ts';

const REPEATS = 7;
/** The update the CPU target names: a new version that only fine-tuned the centroids. */
export const CENTROIDS_UPDATE = 'new version, centroids fine-tuned (v1 -> v2)';

export interface PatchingRow {
  update: string;
  patchBytes: number;
  applyWorkingBytes: number;
  arenaHighWaterBytes: number;
  /** The whole local install of the patch: apply, verification, image build, self-test, state writes (wall, median). */
  installMs: number;
  /** One SHA-256 over the target plus one Ed25519 verification, in the same run (median). */
  floorMs: number;
  /** installMs / floorMs. */
  overFloor: number;
}

const round = (n: number, digits = 3) => roundTo(n, digits);

export async function measurePatching(
  options: { buildDir?: string } = {},
): Promise<{ profile: string; targetBytes: number; repeats: number; flash: string; rows: PatchingRow[] }> {
  const { privateKeyPem, publicKeyPem } = generateKeyPair();
  const cases = patchingCases(privateKeyPem, options.buildDir);
  const rows: PatchingRow[] = [];
  for (const [update, from, to] of cases) {
    const key = publicKeyPem;
    await applyOnce(update, from, to, key); // warms up the JIT
    const runs = [];
    for (let r = 0; r < REPEATS; r++) runs.push(await applyOnce(update, from, to, key));
    const floorMs = floorOf(to, key);
    const installMs = median(runs.map((x) => x.installMs));
    rows.push({ ...runs[0]!, installMs: round(installMs, 2), floorMs: round(floorMs), overFloor: round(installMs / floorMs, 1) });
  }
  return { profile: 'm0-32k', targetBytes: 4096, repeats: REPEATS, flash: BENCH_FLASH_DIR_SOURCE, rows };
}

/** The update kinds a fleet sees, each as [label, from, to], every artifact signed with `privateKeyPem` (bench/firmware's update cost runs the same). */
export function patchingCases(privateKeyPem: string, buildDir?: string): [string, Uint8Array, Uint8Array][] {
  const signed = (o: Parameters<typeof paperArtifact>[0]) => paperArtifact({ ...o, privateKey: privateKeyPem });
  const input = paperModelInput({ pruned: 0.95 });
  const basic = input.tiers.find((t) => t.name === 'basic')!.intervals;
  const full = signed({ pruned: 0.95 });
  const cases: [string, Uint8Array, Uint8Array][] = [
    ['license upgrade basic -> full', signed({ pruned: 0.95, license: basic }), full],
    ['license downgrade full -> basic', full, signed({ pruned: 0.95, license: basic })],
    [CENTROIDS_UPDATE, full, encodeArtifact(changeCentroids(input, 0.002), { privateKey: privateKeyPem })],
    ['new version, 5 % of weights moved', full, signed({ pruned: 0.95, version: 2, changed: 0.05 })],
    ['new version, 10 % of weights moved', full, signed({ pruned: 0.95, version: 2, changed: 0.1 })],
  ];
  if (buildDir) {
    // The build's artifacts, signed here with the bench's key (a build signs only with --key).
    const read = (name: string) => signArtifact(new Uint8Array(readFileSync(join(buildDir, name))), privateKeyPem);
    cases.push(['pipeline build: basic -> full', read('basic.wgm'), read('full.wgm')]);
  }
  return cases;
}

/** One SHA-256 over `artifact` and one Ed25519 verification of its manifest (key parsed once): median of 50, in ms. */
function floorOf(artifact: Uint8Array, publicKeyPem: string): number {
  const key = createPublicKey(publicKeyPem);
  const { manifestBytes, signature } = readArtifact(artifact);
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    createHash('sha256').update(artifact).digest();
    if (!verify(null, manifestBytes, key, signature!)) throw new Error('bench/device/patching: the signature does not verify');
    times.push(performance.now() - started);
  }
  return median(times);
}

async function applyOnce(update: string, from: Uint8Array, to: Uint8Array, publicKey: string): Promise<Omit<PatchingRow, 'floorMs' | 'overFloor'>> {
  const dir = mkdtempSync(join(BENCH_FLASH_DIR, 'wg-bench-patching-'));
  try {
    const device = await openDevice({ dir, profile: 'm0-32k', publicKey });
    device.installArtifact(from);
    const patch = diffArtifacts(from, to);
    const started = performance.now();
    const outcome = device.installPatch(patch);
    const installMs = performance.now() - started;
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

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measurePatching({ buildDir: process.argv[2] }), null, 2));
}

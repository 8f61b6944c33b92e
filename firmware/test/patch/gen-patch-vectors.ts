// Patch conformance vectors for the C applier (firmware/src/patch): source
// artifacts, .wgp patches of every kind, the target device-sim streams into
// its slot, its working memory from the arena, and damaged patches with the
// status formats' applier gives. Deterministic (fixed seeds, Ed25519 keys
// from fixed seeds). Rice-coded models too (docs/format.md 5.10): an entry
// delta decodes its source in the source tensor's coding and re-encodes the
// target in the target's, also from a range-coded version to a Rice one.
//
//   npx --no-install tsx firmware/test/patch/gen-patch-vectors.ts DIR
//
// DIR/index.txt, one record per line, space-separated:
//   key HEX                                 the Ed25519 public key of the signed artifacts
//   patch NAME SOURCE PATCH TARGET WORK OPS the target device-sim makes (WORK: its arena peak
//                                           in bytes; OPS: reused,whole,byte,entry)
//   bad NAME SOURCE PATCH STATUS            applying gives STATUS (WG_E_<FormatError code>)
//   rollback NAME SOURCE PATCH              a patch to an older version (formats applies it;
//                                           a device refuses it: WG_E_ROLLBACK)
//   outputs NAME COUNT SAMPLES SRC DST      COUNT raw samples for patch NAME's model, and what
//                                           device-sim computes on the source and the target
//                                           (f32, coded kernels; the layout of gen-conformance's
//                                           `expect` records)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffArtifacts, encodeArtifact, FormatError, readArtifact, streamPatchToArtifact, bufferSink, type ModelInput } from '../../../formats/index.ts';
import { buildPatchBytes } from '../../../formats/patch/patch-writer.ts';
import { readPatchFields } from '../../../formats/patch/patch-reader.ts';
import { Arena, arenaMemory } from '../../../device-sim/arena.ts';
import { createRandom } from '../../../formats/random.ts';
import { syntheticModel } from '../../../test/fixtures/synthetic-model.ts';
import { changeWeights, nextVersion } from '../../../test/fixtures/model-versions.ts';
import { CONFORMANCE_KEY, expectedOutputs, samplesFor } from '../../../scripts/gen-conformance.ts';

/** Streams `patch` onto `source` as device-sim does (arena working memory); the target and the arena peak. */
function deviceSimApply(source: Uint8Array, patch: Uint8Array): { target: Uint8Array; work: number; ops: string } {
  const arena = new Arena(1 << 20);
  const sink = bufferSink();
  const r = streamPatchToArtifact(readArtifact(source), patch, sink, arenaMemory(arena, 'applying the patch'));
  return { target: sink.bytes().slice(), work: r.workingBytes, ops: `${r.reused},${r.whole},${r.byteDelta},${r.entryDelta}` };
}

function statusOf(source: Uint8Array, patch: Uint8Array): string {
  try {
    streamPatchToArtifact(readArtifact(source), patch, bufferSink(), arenaMemory(new Arena(1 << 20), 'applying'));
    return 'WG_OK';
  } catch (e) {
    if (e instanceof FormatError) return `WG_E_${e.code}`;
    throw e;
  }
}

export function generatePatchVectors(dir: string): { good: number; bad: number } {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [`key ${Buffer.from(CONFORMANCE_KEY.publicRaw).toString('hex')}`];
  const files = new Map<string, Uint8Array>();
  const file = (name: string, bytes: Uint8Array) => {
    files.set(name, bytes);
    writeFileSync(join(dir, name), bytes);
    return name;
  };
  const sign = (input: ModelInput, license?: number[]) => encodeArtifact(input, { heldIntervals: license, privateKey: CONFORMANCE_KEY.privateKey });
  const good: Array<{ name: string; source: string; patch: string }> = [];
  const addPatch = (name: string, from: Uint8Array, patch: Uint8Array) => {
    const { target, work, ops } = deviceSimApply(from, patch);
    const source = file(`${name}.src.wgm`, from);
    const p = file(`${name}.wgp`, patch);
    lines.push(`patch ${name} ${source} ${p} ${file(`${name}.dst.wgm`, target)} ${work} ${ops}`);
    // What each version computes, so a test can tell the one a device runs by its outputs too.
    const before = readArtifact(from);
    const count = 4;
    const samples = samplesFor(count, before.manifest.layers[0]!.inputs, 7000 + good.length);
    const outputsOf = (artifact: Uint8Array) => expectedOutputs(readArtifact(artifact), samples, 'f32', 'coded');
    lines.push(
      `outputs ${name} ${count} ${file(`${name}.samples.bin`, samples)} ${file(`${name}.src.out`, outputsOf(from))} ${file(`${name}.dst.out`, outputsOf(target))}`,
    );
    good.push({ name, source, patch: p });
  };

  const rice = (input: ModelInput): ModelInput => ({ ...input, tensors: input.tensors.map((t) => ({ ...t, coding: 'rice' as const })) });
  const encodings = ['codebook-sparse', 'int8', 'dense-f32'] as const;
  encodings.forEach((kernelEncoding, i) => {
    const tag = kernelEncoding.replace(/-.*/, '');
    const v1 = syntheticModel({ sizes: [40, 16, 6], sparsity: 0.75, bits: 4, intervals: 4, seed: 3 + i, kernelEncoding });
    const ids = v1.intervals.map((x) => x.id);
    const basic = sign(v1, ids.slice(1, 3));
    const full = sign(v1);
    const v2 = nextVersion(v1, 0.05, 11 + i);
    const v2full = sign(v2);
    addPatch(`${tag}-upgrade`, basic, diffArtifacts(basic, full));
    addPatch(`${tag}-downgrade`, full, diffArtifacts(full, basic));
    addPatch(`${tag}-version`, full, diffArtifacts(full, v2full));
    addPatch(`${tag}-version-license`, basic, diffArtifacts(basic, v2full));
    lines.push(`rollback ${tag}-rollback ${file(`${tag}-rollback.src.wgm`, v2full)} ${file(`${tag}-rollback.wgp`, diffArtifacts(v2full, full))}`);
    addPatch(`${tag}-version-unsigned`, encodeArtifact(v1, {}), diffArtifacts(encodeArtifact(v1, {}), encodeArtifact(nextVersion(v1, 0.3, 21 + i), {})));
    // Rice: a new version (entry deltas from and to Rice segments), a
    // license upgrade, and a range-coded version to a Rice-coded one
    const r1 = rice(v1);
    const r1full = sign(r1);
    const r1basic = sign(r1, ids.slice(1, 3));
    const r2full = sign(rice(v2));
    addPatch(`${tag}-rice-version`, r1full, diffArtifacts(r1full, r2full));
    addPatch(`${tag}-rice-version-license`, r1basic, diffArtifacts(r1basic, r2full));
    addPatch(`${tag}-rice-upgrade`, r1basic, diffArtifacts(r1basic, r1full));
    addPatch(`${tag}-range-to-rice`, full, diffArtifacts(full, r2full));
    addPatch(`${tag}-rice-to-range`, r1full, diffArtifacts(r1full, v2full));
  });
  // A larger retrained model: entry deltas over ~100k-element tensors.
  {
    const v1 = syntheticModel({ sizes: [784, 128, 10], sparsity: 0.8, bits: 4, intervals: 8, seed: 5 });
    const a = sign(v1, [0, 2, 4, 6]);
    addPatch('large-version', a, diffArtifacts(a, sign(changeWeights(v1, 0.1, 6))));
  }
  // B's manifest whole (the writer picks it when the delta is not smaller): force it.
  {
    const name = 'codebook-version';
    const entry = good.find((g) => g.name === name)!;
    const f = readPatchFields(files.get(entry.patch)!);
    const target = deviceSimApply(files.get(entry.source)!, files.get(entry.patch)!).target;
    const whole = buildPatchBytes({ ...f, manifestDelta: null, manifest: readArtifact(target).manifestBytes });
    addPatch('codebook-version-whole', files.get(entry.source)!, whole);
  }

  // Damaged patches: every byte of the short ones, a sample of the long ones, each flipped.
  let bad = 0;
  const random = createRandom(99);
  for (const g of good) {
    const patch = files.get(g.patch)!;
    const source = files.get(g.source)!;
    const positions = patch.length <= 160 ? [...patch.keys()] : Array.from({ length: 120 }, () => Math.floor(random() * patch.length));
    for (const at of new Set(positions)) {
      for (const xor of [0x01, 0x80]) {
        const mutated = patch.slice();
        mutated[at]! ^= xor;
        const name = `${g.name}-x${xor.toString(16)}-at${at}`;
        lines.push(`bad ${name} ${g.source} ${file(`${name}.wgp`, mutated)} ${statusOf(source, mutated)}`);
        bad++;
      }
    }
    for (const cut of [patch.length - 1, patch.length - 4, Math.floor(patch.length / 2)]) {
      const name = `${g.name}-cut${cut}`;
      const mutated = patch.slice(0, cut);
      lines.push(`bad ${name} ${g.source} ${file(`${name}.wgp`, mutated)} ${statusOf(source, mutated)}`);
      bad++;
    }
  }
  // The wrong base: a patch for another artifact.
  {
    const a = good.find((g) => g.name === 'int8-upgrade')!;
    const b = good.find((g) => g.name === 'codebook-upgrade')!;
    lines.push(`bad wrong-base ${b.source} ${a.patch} ${statusOf(files.get(b.source)!, files.get(a.patch)!)}`);
    bad++;
  }
  writeFileSync(join(dir, 'index.txt'), lines.join('\n') + '\n');
  return { good: good.length, bad };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: npx tsx firmware/test/patch/gen-patch-vectors.ts DIR\n');
    process.exit(2);
  }
  const r = generatePatchVectors(dir);
  process.stdout.write(`patch vectors in ${dir}: ${r.good} patches, ${r.bad} damaged\n`);
}

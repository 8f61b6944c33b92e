// The firmware rows of the benchmarks' overview table (bench/summary.ts's
// SummaryRow), from bench/results/firmware.json: the instruction targets
// on the first measured artifact (the paper-109k build run-all makes), on
// Cortex-M4F in QEMU where it ran, else the host; the code size of
// open + verify + invoke on Cortex-M4F; the arena the library plans; the
// update half (update.ts): the patch applier's working memory per update and
// the code size of slots + state record + boot + applier on Cortex-M4F;
// and the device's CPU to install a centroids-only version (update-cost.ts).
import type { SummaryRow } from '../summary.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- bench JSON is read loosely on purpose */
type Json = any;

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The measured build a target is judged on: Cortex-M4F in QEMU, else host -Os. */
function judgedBuild(run: Json): { label: string; count: (program: string) => number | undefined } | null {
  const m4f = (run.qemu?.counts ?? []).filter((c: Json) => c.target === 'cortex-m4f/mps2-an386' && c.status === 'ok');
  if (m4f.length) {
    return { label: 'Cortex-M4F in QEMU', count: (program) => m4f.find((c: Json) => c.program === program)?.instructionsPerSample };
  }
  const host = (run.builds ?? []).find((b: Json) => b.flags === '-Os') ?? run.builds?.[0];
  if (!host) return null;
  return { label: `host ${host.flags}`, count: (program) => host.programs.find((p: Json) => p.name === program && p.status === 'ok')?.irPerSample };
}

export function summarizeFirmware(r: Json): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const run = r.runs?.[0];
  const judged = run ? judgedBuild(run) : null;
  // The same artifact recoded with Rice segments, when count.ts measured it (--also-rice).
  const rice = (r.runs ?? []).find((x: Json) => x.artifact?.coding === 'rice' && x.artifact?.model === run?.artifact?.model);
  const riceJudged = rice ? judgedBuild(rice) : null;
  if (run && judged) {
    const count = judged.count;
    const dense = count('dense-ref');
    const model = `${run.artifact?.model ?? 'model'} full tier`;
    for (const [name, label, max, counter] of [
      ['wg-image', 'execution image', 0.1, count],
      ['wg-coded', 'coded kernels', 1, count],
      ['wg-coded', 'coded kernels on Rice segments', 1, riceJudged?.count],
    ] as const) {
      const mine = counter?.(name);
      if (!dense || !mine) continue;
      rows.push({
        area: 'firmware',
        figure: `${label}, instructions per sample, ${model} (${judged.label}, f32)`,
        value: int(mine),
        target: max < 1 ? `≤ 1/10 of dense f32 C` : '≤ dense f32 C',
        reference: `dense f32 C ${int(dense)} → ${(mine / dense).toFixed(3)}x`,
        met: mine <= dense * max,
      });
    }
  }
  // A device build decodes the one segment coding its models use (as a TFLM build registers only its operators).
  const probe = (build: string) => (r.size?.probes ?? []).find((p: Json) => p.build === build);
  const [rangeOnly, riceOnly, both] = ['cortex-m4f-f32-range-canonical-OFF', 'cortex-m4f-f32-rice-canonical-OFF', 'cortex-m4f-f32-canonical-OFF'].map(probe);
  if (rangeOnly && riceOnly) {
    rows.push({
      area: 'firmware',
      figure: 'code size, open + verify + invoke (Cortex-M4F, -Os, f32 device build of one segment coding)',
      value: `range ${int(rangeOnly.openVerifyInvoke)} B, Rice ${int(riceOnly.openVerifyInvoke)} B`,
      target: '≤ 8,192 B without crypto',
      reference: `both codings ${both ? `${int(both.openVerifyInvoke)} B` : '–'}; TFLM core ~16 KB; TinyMaix core < 3 KB without verification`,
      met: rangeOnly.openVerifyInvoke <= 8192 && riceOnly.openVerifyInvoke <= 8192,
    });
  }
  if (r.plan) {
    rows.push({
      area: 'firmware',
      figure: `arena, ${r.plan.artifact} full tier (wg_plan)`,
      value: `${int(r.plan.arenaCodedBytes)} B coded, ${int(r.plan.arenaImageBytes)} B image`,
      target: `≤ ${int(r.plan.arenaTargetBytes ?? 4096)} B`,
      reference: 'the C tests check wg_plan equals this for every conformance model',
      met: r.plan.arenaCodedBytes <= (r.plan.arenaTargetBytes ?? 4096),
    });
  }
  rows.push(...summarizeUpdate(r.update));
  rows.push(...summarizeUpdateCost(r.updateCost));
  return rows;
}

/** The device's CPU to install the centroids-only v1 -> v2 patch, against one SHA-256 and one Ed25519 verification. */
function summarizeUpdateCost(c: Json): SummaryRow[] {
  const centroids = (x: Json) => String(x.update).includes('centroids');
  const row = (c?.cached ?? []).find(centroids);
  if (!row) return [];
  const uncached = (c.uncached ?? []).find(centroids);
  const i = row.instructions;
  return [
    {
      area: 'firmware',
      figure: `device CPU to install a ${int(row.patchBytes)} B centroids-only v1 -> v2 patch (synthetic paper-109k, signed; ${c.target.split('/')[0]} in QEMU, instructions)`,
      value: `${int(i.total)}`,
      target: '≤ 3x one SHA-256 + one Ed25519 verification',
      reference: `SHA-256 + Ed25519 ${int(i.floor)} → ${row.overFloor}x${uncached ? `; verifying at every open ${uncached.overFloor}x` : ''}`,
      met: row.overFloor <= 3,
    },
  ];
}

/** The update half's rows: the C applier's working memory per update, and its code size. */
function summarizeUpdate(u: Json): SummaryRow[] {
  if (!u?.rows?.length) return [];
  const rows: SummaryRow[] = [];
  const target = u.workTargetBytes ?? 4096;
  for (const row of u.rows) {
    rows.push({
      area: 'firmware',
      figure: `update RAM, C patch applier (wg_patch_plan), ${row.update}`,
      value: `${int(row.cWorkBytes)} B (patch ${int(row.patchBytes)} B)`,
      target: `≤ ${int(target)} B`,
      reference: `device-sim ${int(row.deviceSimWorkBytes)} B; flash ${row.patch.erases} erases / ${int(row.patch.programmedBytes)} B programmed vs ${row.whole.erases} / ${int(row.whole.programmedBytes)} B whole`,
      met: row.cWorkBytes <= target,
    });
  }
  const size = u.codeSize;
  if (size?.totalBytes) {
    const refs = (size.references ?? []).map((ref: Json) => `${ref.name} ${ref.flashBytes ? `~${int(ref.flashBytes)} B` : ref.source}`).join('; ');
    rows.push({
      area: 'firmware',
      figure: 'code size, update half: slots + state record + boot + patch applier (Cortex-M4F, -Os)',
      value: `${int(size.totalBytes)} B`,
      target: 'stated beside the references',
      reference: `${int(size.updateBytes)} B update + ${int(size.patchBytes)} B applier; ${refs}`,
      met: null,
    });
  }
  return rows;
}

// The README's firmware block, rendered from bench/results/firmware.json
// (count.ts; its `size` is size.ts's firmware-size.json). bench/readme.ts
// registers it:
//
//   import { renderFirmware } from './firmware/readme-block.ts';
//   registerReadmeBlock('firmware', renderFirmware);
//
// One table per measured artifact: instructions per inference sample of the
// dense float32 reference and of the library's two kernels on both
// arithmetic paths, per build (host callgrind, Cortex-M under QEMU), each
// with its ratio to the reference; then whether the targets hold and the
// code size of open + verify + invoke.

/* eslint-disable @typescript-eslint/no-explicit-any -- bench JSON is read loosely on purpose */
type Json = any;

const int = (n: number) => Math.round(n).toLocaleString('en-US');

const COLUMNS: { program: string; title: string }[] = [
  { program: 'wg-image', title: 'image, f32' },
  { program: 'wg-coded', title: 'coded, f32' },
  { program: 'wg-image-int', title: 'image, int' },
  { program: 'wg-coded-int', title: 'coded, int' },
];

function cell(count: number | undefined, dense: number | undefined): string {
  if (count === undefined) return '–';
  return dense ? `${int(count)} (${(count / dense).toFixed(count / dense < 1 ? 3 : 2)}x)` : int(count);
}

interface Row {
  build: string;
  perSample: (program: string) => number | undefined;
}

function rowsOf(run: Json): Row[] {
  const rows: Row[] = [];
  for (const build of run.builds ?? []) {
    const ok = (name: string) => build.programs?.find((p: Json) => p.name === name && p.status === 'ok')?.irPerSample;
    rows.push({ build: `host x86-64 \`${build.flags}\` (callgrind Ir)`, perSample: ok });
  }
  const counts: Json[] = Array.isArray(run.qemu?.counts) ? run.qemu.counts : [];
  const targets = [...new Set(counts.map((c) => c.target as string))];
  for (const target of targets) {
    const ok = (name: string) => counts.find((c) => c.program === name && c.target === target && c.status === 'ok')?.instructionsPerSample;
    if (ok('dense-ref') === undefined && COLUMNS.every((c) => ok(c.program) === undefined)) continue;
    rows.push({ build: `${target} \`-Os\` (QEMU -icount)`, perSample: ok });
  }
  return rows;
}

function artifactTitle(run: Json): string {
  const a = run.artifact ?? {};
  const kept =
    a.heldKernelEntries && a.denseParameters
      ? `, ${int(a.heldKernelEntries)} held entries of ${int(a.denseParameters)} parameters (${((1 - a.heldKernelEntries / a.denseParameters) * 100).toFixed(1)} % sparse)`
      : '';
  const coding = a.coding === 'rice' ? ', **Rice-coded segments** (recoded, the same entries)' : '';
  return `**${a.model ?? a.path}**${coding} (${a.shape}${kept}; ${a.source === 'given' ? a.path : a.source})`;
}

function targetLine(run: Json): string {
  const verdicts: string[] = [];
  const check = (where: string, list: Json[] | undefined) => {
    for (const t of list ?? []) {
      if (t.ratio === null || t.ratio === undefined) continue;
      verdicts.push(`${t.program} ${where}: ${t.ratio.toFixed(3)}x ${t.met ? 'met' : 'not met'}`);
    }
  };
  for (const build of run.builds ?? []) check(`host ${build.flags}`, build.targets);
  for (const board of run.qemu?.targets ?? []) check(board.target, board.targets);
  const image = verdicts.filter((v) => v.startsWith('wg-image'));
  const coded = verdicts.filter((v) => v.startsWith('wg-coded'));
  const summary = (list: string[]) => {
    const met = list.filter((v) => v.endsWith(' met') && !v.endsWith('not met')).length;
    return `${met} of ${list.length}`;
  };
  return `Targets, per build and arithmetic path: execution image at most 1/10 of the dense reference's instructions (met in ${summary(image)}); coded path no more than the reference (met in ${summary(coded)}).`;
}

/** What a report.sh build decodes, from its name: one coding (WG_CODING_RANGE or WG_CODING_RICE off) or both. */
export function codingsOf(build: string): string {
  return /-rice-/.test(build) ? 'Rice only' : /-range-/.test(build) ? 'range only' : 'range and Rice';
}

function sizeLines(size: Json): string[] {
  const probes: Json[] = size?.probes ?? [];
  if (!probes.length) return [];
  return [
    '',
    '| build (`-Os`, crypto excluded) | segment codings | open + verify + invoke | at most 8 KiB |',
    '|---|---|---|---|',
    ...probes.map((p) => `| ${p.build} | ${codingsOf(p.build)} | ${int(p.openVerifyInvoke)} B | ${p.underBudget ? 'yes' : 'no'} |`),
  ];
}

/** The README block `firmware`, or null while bench/results/firmware.json is missing. */
export function renderFirmware(results: { firmware: Json | null }): string | null {
  const fw = results.firmware;
  if (!fw?.builds) return null;
  const runs: Json[] = Array.isArray(fw.runs) && fw.runs.length ? fw.runs : [fw];
  const m = fw.machine ?? {};
  const load = Array.isArray(m.loadavg) ? `, load average ${m.loadavg.map((v: number) => v.toFixed(2)).join(' / ')} at the start` : '';
  const lines: string[] = [
    `Instructions per inference sample (\`npx tsx bench/firmware/count.ts\`), measured ${String(fw.when).slice(0, 16).replace('T', ' ')} UTC on ${m.cpus} cores${load}; instruction counts do not depend on the load. Ratios are to the dense float32 reference of the same build.`,
  ];
  for (const run of runs) {
    const rows = rowsOf(run);
    if (!rows.length) continue;
    lines.push(
      '',
      `${artifactTitle(run)}, ${run.samples?.count ?? '?'} samples (${run.samples?.source ?? ''}):`,
      '',
      `| build | dense f32 reference | ${COLUMNS.map((c) => c.title).join(' | ')} |`,
      `|---|---|${COLUMNS.map(() => '---').join('|')}|`,
      ...rows.map((r) => {
        const dense = r.perSample('dense-ref');
        return `| ${r.build} | ${dense === undefined ? '–' : int(dense)} | ${COLUMNS.map((c) => cell(r.perSample(c.program), dense)).join(' | ')} |`;
      }),
      '',
      targetLine(run),
    );
  }
  lines.push(...sizeLines(fw.size));
  return lines.join('\n');
}

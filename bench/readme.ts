// Writes the benchmarks' figures into README.md, so no number there is ever
// typed by hand. The README marks each generated block:
//
//   <!-- bench:NAME -->
//   ...generated, overwritten by every `npm run bench`...
//   <!-- /bench:NAME -->
//
// and each block is rendered from bench/results/<area>.json (the detail every
// bench writes) and latest.json (the overview). `npm run bench -- --summary`
// rewrites the blocks from the stored results without running anything;
// test/bench/readme.test.ts fails when the README and the results disagree.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { renderMeasuredLine, renderSummaryMarkdown, type SummaryRow } from './summary.ts';
import { renderFirmware } from './firmware/readme-block.ts';
import { sparsityPercent } from '../pipeline/report.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- bench JSON is read loosely on purpose */
type Json = any;

export interface BenchResults {
  latest: Json | null;
  formats: Json | null;
  pipeline: Json | null;
  pipelineSeeds: Json | null;
  server: Json | null;
  device: Json | null;
  firmware: Json | null;
  fuzz: Json | null;
  push: Json | null;
  pushScale: Json | null;
  patches: Json | null;
  cnn: Json | null;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const bytes = (n: number) => `${int(n)} B`;
const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
const ratio = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)}x`;

/** bench/firmware's counts with the newest size report (size.ts runs apart from count.ts). */
function withSizes(firmware: Json | null, sizes: Json | null): Json | null {
  if (!firmware || !sizes) return firmware;
  return String(sizes.when) > String(firmware.size?.when ?? '') ? { ...firmware, size: sizes } : firmware;
}

export function loadBenchResults(resultsDir: string): BenchResults {
  const read = (name: string): Json | null => {
    const file = `${resultsDir}${name}.json`;
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
  };
  return {
    latest: read('latest'),
    formats: read('formats'),
    pipeline: read('pipeline'),
    pipelineSeeds: read('pipeline-seeds'),
    server: read('server'),
    device: read('device'),
    firmware: withSizes(read('firmware'), read('firmware-size')),
    fuzz: read('fuzz'),
    push: read('push'),
    pushScale: read('push-scale'),
    patches: read('patches'),
    cnn: read('cnn'),
  };
}

/** One paragraph of headline figures for the README's opening. */
function renderHeadline(r: BenchResults): string | null {
  const paper = r.pipeline?.rows?.find((row: Json) => row.preset === 'paper-109k' && row.data === 'mnist');
  const latency = r.device?.latency;
  if (!paper || !latency) return null;
  const worstApply = Math.max(...(r.device?.patching?.rows ?? []).map((row: Json) => row.arenaHighWaterBytes));
  const upgrade = (r.device?.patching?.rows ?? []).find((row: Json) => String(row.update).startsWith('pipeline build'));
  const parts = [
    `In numbers (\`npm run bench\`, ${r.latest?.machine?.cpus ?? 2} cores): the paper's 109,386-parameter MLP on`,
    `MNIST digits becomes a **${int(paper.fullBytes)}-byte** full-tier artifact (unsigned), ${ratio(paper.denseFloat32Bytes / paper.fullBytes)} smaller`,
    `than its dense float32 weights (${bytes(paper.denseFloat32Bytes)}) and ${ratio(2_340_000 / paper.fullBytes)} smaller than the paper's`,
    `2.34 MB, at ${pct(paper.fullAccuracy)} test accuracy against ${pct(paper.denseAccuracy)} for the dense model;`,
    upgrade ? `a license upgrade sends ${bytes(upgrade.patchBytes)};` : '',
    `a simulated Cortex-M0-class device (32 KiB RAM) runs it in ${bytes(latency.arenaHighWaterBytes)} of arena at`,
    `${latency.device.medianUs} µs a sample, ${ratio(latency.speedup)} faster than TF.js (${latency.tfjs.backend}) on the dense model,`,
    Number.isFinite(worstApply) ? `and applies its updates in at most ${bytes(worstApply)} of RAM.` : '',
  ].filter(Boolean);
  return wrap(parts.join(' '));
}

function renderSummary(r: BenchResults): string | null {
  const latest = r.latest;
  if (!latest?.rows) return null;
  return `${renderMeasuredLine(latest)}\n\n${renderSummaryMarkdown(latest.rows as SummaryRow[])}`;
}

function renderFormatsSizes(r: BenchResults): string | null {
  const sizes: Json[] = r.formats?.sizes ?? [];
  const rows = sizes.filter((s) => s.model === 'mlp-784-128-64-10' && (s.biases === 'int8' || s.intervals === 16));
  if (!rows.length) return null;
  const dense = r.formats.denseF32Bytes;
  return [
    '| sparsity | codebook | k | biases | full-tier bytes | x smaller | manifest | bits / non-zero | Rice-coded | Deep Compression | order-0 bound |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (s) =>
        `| ${Math.round(s.sparsity * 100)} % | ${s.bits} bit | ${s.intervals} | ${s.biases} | ${int(s.artifactBytes)} | ${(dense / s.artifactBytes).toFixed(1)} | ${int(s.manifestBytes)} | ${s.bitsPerNonzero.toFixed(2)} | ${typeof s.riceBitsPerNonzero === 'number' ? s.riceBitsPerNonzero.toFixed(2) : '–'} | ${s.deepCompressionBitsPerNonzero.toFixed(2)} | ${s.order0BoundBitsPerNonzero.toFixed(2)} |`,
    ),
  ].join('\n');
}

function renderFormatsPatches(r: BenchResults): string | null {
  const patches: Json[] = r.formats?.patches ?? [];
  if (!patches.length) return null;
  const cell = (v: number | null) => (typeof v === 'number' ? int(v) : '–');
  return [
    '| model | change | target bytes | `.wgp` | `zstd -19 --patch-from` | `bsdiff` |',
    '|---|---|---:|---:|---:|---:|',
    ...patches.map((p) => `| ${p.model} | ${p.change} | ${int(p.targetBytes)} | ${int(p.patchBytes)} | ${cell(p.zstdPatchFrom)} | ${cell(p.bsdiff)} |`),
  ].join('\n');
}

/** bench/patches: the default build's real changes, each beside zstd and bsdiff. */
function renderPipelinePatches(r: BenchResults): string | null {
  const rows: Json[] = r.patches?.rows ?? [];
  if (!rows.length) return null;
  const cell = (v: number | null) => (typeof v === 'number' ? int(v) : '–');
  const b = r.patches.build ?? {};
  return [
    `${b.model ?? 'paper-109k'} at default flags (sparsity ${pct(b.sparsity ?? 0)}, ${b.bits} bits), every artifact signed; version 2 made with \`build --from\`:`,
    '',
    '| change | from → to | target bytes | `.wgp` | `zstd -19 --patch-from` | `bsdiff` | `.wgp` / zstd | over the added segments |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (p) =>
        `| ${p.change} | ${p.from} → ${p.to} | ${int(p.targetBytes)} | ${int(p.patchBytes)} | ${cell(p.zstdPatchFrom)} | ${cell(p.bsdiff)} | ${typeof p.zstdPatchFrom === 'number' ? (p.patchBytes / p.zstdPatchFrom).toFixed(2) : '–'} | ${typeof p.overheadBytes === 'number' ? bytes(p.overheadBytes) : '–'} |`,
    ),
  ].join('\n');
}

function renderPipeline(r: BenchResults): string | null {
  const rows: Json[] = r.pipeline?.rows ?? [];
  if (!rows.length) return null;
  return [
    '| model | data | chosen (sparsity, bits) | validation: points below input | full tier bytes | vs dense f32 | test acc (full) | dense | test: points below | tiers (bytes, test acc) | build s |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|',
    ...rows.map((row) => {
      const chosen = row.chosen ? `${sparsityPercent(row.chosen.sparsity)} %, ${row.chosen.bits}-bit` : 'fixed';
      const tiers = (row.tiers ?? [])
        .filter((t: Json) => t.name !== 'full')
        .map((t: Json) => `${t.name} ${bytes(t.bytes)} ${pct(t.accuracy)}`)
        .join('; ');
      const dense = row.denseAccuracy === null ? '–' : pct(row.denseAccuracy);
      return `| ${row.preset} | ${row.data} | ${chosen} | ${row.validationDrop ?? '–'} | ${int(row.fullBytes)} | ${ratio(row.denseFloat32Bytes / row.fullBytes)} | ${pct(row.fullAccuracy)} | ${dense} | ${row.pointsBelowDense ?? '–'} | ${tiers} | ${row.seconds} |`;
    }),
  ].join('\n');
}

/** bench/pipeline/seeds.ts: the default build and a candidate ladder at several seeds. */
function renderPipelineSeeds(r: BenchResults): string | null {
  const p = r.pipelineSeeds;
  if (!p?.rows?.length) return null;
  const lines = [
    '| build | seed | chosen (sparsity, bits, schedule) | validation: points below input | test: points below dense | full tier | signed | vs dense f32 (signed) | build s |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    ...p.rows.map(
      (row: Json) =>
        `| ${row.ladder} | ${row.seed} | ${sparsityPercent(row.sparsity)} %, ${row.bits}-bit, ${row.schedule} | ${row.validationDrop.toFixed(2)} | ${row.testDrop.toFixed(2)} | ${int(row.fullBytes)} | ${int(row.signedBytes)} | ${ratio(row.denseFloat32Bytes / row.signedBytes)} | ${Math.round(row.seconds)} |`,
    ),
    '',
  ];
  const summary = p.summaries
    .map(
      (s: Json) =>
        `${s.ladder} (ladder ${s.sparsities.map((x: number) => sparsityPercent(x)).join(', ')} %): ${s.withinValidationBudget} of ${s.builds} within the budget on validation, ${s.withinOnTest} within ${p.maxDrop} point of dense on test (worst ${s.worstTestDrop.toFixed(2)}), ${s.within64x} at most ${int(p.targetSignedBytes)} B signed (64x).`,
    )
    .join(' ');
  lines.push(
    wrap(
      `${summary} Schedule: "ladder", the search's nested masks; "rebuild", its choice pruned again from the dense model in --prune-rounds rounds. Measured ${p.when.slice(0, 10)} on ${p.machine.cpus} x ${p.machine.model}, two builds at a time (a build is deterministic for its seed; its seconds are wall time beside the other).`,
    ),
  );
  return lines.join('\n');
}

function renderServer(r: BenchResults): string | null {
  const runs = r.server?.runs;
  if (!runs) return null;
  const line = (label: string, run: Json | undefined) => (run ? `| ${label} | ${int(run.requestsPerSecond)} | ${run.p50Ms} ms | ${run.p99Ms} ms |` : null);
  return [
    `${r.server.model?.name ?? ''}: artifact ${bytes(r.server.model?.artifactBytes ?? 0)}, patch ${bytes(r.server.model?.patchBytes ?? 0)}; ${r.server.tool ?? ''}; ${r.server.machine?.database ?? ''}.`,
    '',
    '| request (32 connections) | req/s | p50 | p99 |',
    '|---|---:|---:|---:|',
    line('cached patch via weightgate', runs.patch),
    line('same bytes, bare `node:http` from memory', runs.barePatch),
    line('full artifact via weightgate', runs.artifact),
    line('update-check (device up to date)', runs.updateCheck),
  ]
    .filter((l) => l !== null)
    .join('\n');
}

function renderServerGraphql(r: BenchResults): string | null {
  const g = r.server?.graphql;
  if (!g) return null;
  const line = (label: string, run: Json) => `| ${label} | ${int(run.requestsPerSecond)} | ${run.p50Ms} ms | ${run.p99Ms} ms |`;
  const lines = [
    `| list of ${int(g.devices)} devices (${g.tool}) | req/s | p50 | p99 |`,
    '|---|---:|---:|---:|',
    line('REST `GET /v1/devices`', g.rest),
    line('GraphQL, the same fields', g.graphql),
    '',
    `GraphQL p99 is ${g.p99Ratio}x REST's (target: at most 2x).`,
  ];
  if (g.console) {
    lines.push(
      `The console in Chromium on that data: sign-in page interactive ${int(g.console.signInInteractiveMs)} ms after navigation, ` +
        `the first page ${int(g.console.firstPageMs)} ms after signing in, the ${int(g.devices)}-device page ${int(g.console.devicesPageMs)} ms after its click.`,
    );
  }
  return lines.join('\n');
}

/** What one change cost in CPU, by process, and the least time that work can take on the machine's cores. */
function renderChangeCpu(change: Json, cores: number): string {
  const c = change.cpuSeconds;
  const parts = [
    `the server ${c.server} s`,
    ...(c.devices !== null ? [`the simulated devices ${c.devices} s`] : []),
    ...(c.database !== null ? [`PostgreSQL ${c.database} s`] : []),
  ];
  return (
    `The measured change (the later upgrade; the first one also pays for the server building the patch and for compiling the devices' patch-install code) took ${parts.join(', ')} of CPU: ` +
    `on ${cores} cores no schedule of that work finishes in under ${change.floorSeconds} s.`
  );
}

function renderPush(r: BenchResults): string | null {
  const p = r.push;
  if (!p?.latencySeconds) return null;
  const l = p.latencySeconds;
  const row = (label: string, v: Json) => `| ${label} | ${v.p50} s | ${v.p99} s | ${v.max} s |`;
  const idle = p.idlePerDevicePerHour;
  return [
    `${int(p.devices)} simulated devices on one license (${p.model}) in ${p.processes ?? 1} child processes, the server alone in the bench's process, ${p.database}, flash in ${p.flash}; load average ${p.load.before[0]} → ${p.load.after[0]} on ${p.load.cores} cores.`,
    '',
    "| from the operator's tier change to | p50 | p99 | max |",
    '|---|---:|---:|---:|',
    row('the notice at the device (push)', l.pushNotice),
    row('running the new tier (push)', l.push),
    ...(p.changes ? [row('running the new tier (push), the first change since the processes started', p.changes.firstUpgrade.running)] : []),
    row('running the new tier (polling every 60 s, simulated clock)', l.polling60s),
    '',
    ...(p.changes ? [renderChangeCpu(p.changes.upgrade, p.load.cores), ''] : []),
    `The devices' installs share this machine's cores with the server (one device's check and install, from its notice, median under that load: ${l.installMedian} s); real devices install in parallel, each on its own CPU. ` +
      `The server spent ${p.serverCpuMsPerDevice} ms of CPU per device on the change (update check, patch, install report, notice).`,
    `An idle device for an hour costs the server ${idle.push.httpRequests} HTTP requests and ${idle.push.cpuSeconds} CPU seconds with push, against ${idle.polling60s.httpRequests} and ${idle.polling60s.cpuSeconds} s polling every 60 s` +
      (idle.serverBaselineCpuPerSecond !== undefined
        ? ` (net of the server's own ${idle.serverBaselineCpuPerSecond} CPU-s per second with no device connected).`
        : '.'),
  ].join('\n');
}

function renderPushScale(r: BenchResults): string | null {
  const p = r.pushScale;
  if (!p?.release) return null;
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  return [
    `${int(p.devices)} simulated devices (${p.model}) in ${p.processes} child processes, the server alone in the bench's process, ${p.database}; load average ${p.load.before[0]} → ${p.load.after[0]} on ${p.load.cores} cores.`,
    '',
    '| figure | value |',
    '|---|---:|',
    `| connections held by the embedded broker (after ${p.idle.windowSeconds} s idle) | ${int(p.connections.heldAfterIdle)} of ${int(p.devices)} |`,
    `| time for all to connect and subscribe | ${p.connections.subscribeSeconds} s |`,
    `| server memory per connected device (RSS, heap) | ${kib(p.serverMemory.rssPerDevice)}, ${kib(p.serverMemory.heapPerDevice)} |`,
    `| server CPU per idle device-hour (net of its ${p.idle.serverBaselineCpuPerSecond ?? '?'} CPU-s per second with none connected) | ${p.idle.serverCpuSecondsPerDeviceHour} s |`,
    `| a release, publish to every device running it: p50, p99, max | ${p.release.p50} s, ${p.release.p99} s, ${p.release.max} s |`,
    `| server CPU for that release | ${p.release.serverCpuSeconds} s (${((1000 * p.release.serverCpuSeconds) / p.devices).toFixed(2)} ms per device) |`,
    '',
    `${int(p.release.reached)} of ${int(p.devices)} devices ran the release (${int(p.release.noticesSent)} notices sent, ${int(p.release.failures)} failed checks); the devices' installs share the ${p.load.cores} cores with the server and its database.`,
  ].join('\n');
}

function renderServerPatchGeneration(r: BenchResults): string | null {
  const g = r.server?.patchGeneration;
  if (!g?.rows?.length) return null;
  return [
    '| model | kept weights | change | patch | build from stored parts | read both back and diff | ratio |',
    '|---|---:|---|---:|---:|---:|---:|',
    ...g.rows.map(
      (row: Json) =>
        `| ${row.model} | ${int(row.entries)} | ${row.change} | ${bytes(row.patchBytes)} | ${row.fromPartsMs} ms | ${row.readBackMs} ms | ${(row.readBackMs / row.fromPartsMs).toFixed(1)}x |`,
    ),
    '',
    `Medians of ${g.repeats}, in one process (\`bench/server/patch-generation.ts\`). Single flight: ${g.singleFlight.requests} concurrent first update-checks for a new version built its patch ${g.singleFlight.builds === 1 ? 'once' : `${g.singleFlight.builds} times`}.`,
  ].join('\n');
}

function renderDevicePatching(r: BenchResults): string | null {
  const rows: Json[] = r.device?.patching?.rows ?? [];
  if (!rows.length) return null;
  // Older results have no floor column.
  const floor = rows.every((row) => typeof row.floorMs === 'number');
  const where = r.device.patching.flash ? ` (device flash on ${r.device.patching.flash}, median of ${r.device.patching.repeats})` : '';
  return [
    '| update | patch | apply working memory | arena high-water | ' + (floor ? 'install, one thread | SHA-256 + Ed25519 of the target | ratio |' : 'install |'),
    '|---|---|---|---|---|' + (floor ? '---|---|' : ''),
    ...rows.map(
      (row) =>
        `| ${row.update} | ${bytes(row.patchBytes)} | ${bytes(row.applyWorkingBytes)} | ${bytes(row.arenaHighWaterBytes)} | ${row.installMs} ms |` +
        (floor ? ` ${row.floorMs} ms | ${row.overFloor}x |` : ''),
    ),
    ...(floor
      ? [
          '',
          `Install: apply into the inactive slot, verification, execution image, self-test and state writes, each update on a fresh m0-32k with the publisher's key${where}. The floor beside it: one SHA-256 over the target artifact and one Ed25519 verification of its manifest, measured in the same run.`,
        ]
      : []),
  ].join('\n');
}

function renderFuzz(r: BenchResults): string | null {
  const runs: Json[] = r.fuzz?.runs ?? [];
  if (!runs.length) return null;
  const load = Array.isArray(r.fuzz.machine?.loadavg) ? `, load average ${r.fuzz.machine.loadavg[0].toFixed(2)} at the start` : '';
  const lines = runs.map(
    // older results name only the arithmetic path of fuzz_open
    (run) => `| \`${run.harness ?? `fuzz_open_${run.arith}`}\` | ${run.seconds} s | ${int(run.inputs)} | ${int(run.inputsPerSecond)} | ${run.crashes} |`,
  );
  const patchSeeds = typeof r.fuzz.patchSeeds === 'number' ? `, ${int(r.fuzz.patchSeeds)} seed patches` : '';
  return [
    `\`npm run fuzz:c\` on ${String(r.fuzz.when).slice(0, 10)} (${r.fuzz.seeds} seed artifacts${patchSeeds}${load}):`,
    '',
    '| harness | time | inputs | inputs / s | crashes |',
    '|---|---:|---:|---:|---:|',
    ...lines,
  ].join('\n');
}

function renderFirmwareAccuracy(r: BenchResults): string | null {
  const rows: Json[] = r.firmware?.accuracy ?? [];
  if (!rows.length) return null;
  const points = (a: number, b: number) => `${(a - b) * 100 >= 0 ? '+' : ''}${((a - b) * 100).toFixed(2)}`;
  return [
    `Test accuracy per tier of the ${r.firmware.plan?.artifact ?? 'measured'} build on each arithmetic path (${rows[0].samples} MNIST test digits; the library computes these bit for bit):`,
    '',
    '| tier | pipeline (TF.js) | f32 path | int path | int − f32 (points) |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((t) => `| ${t.tier} | ${pct(t.pipeline)} | ${pct(t.f32)} | ${pct(t.int)} | ${points(t.int, t.f32)} |`),
  ].join('\n');
}

/** The update half (bench/firmware/update.ts): patches applied by the C library on simulated flash. */
function renderFirmwareUpdate(r: BenchResults): string | null {
  const u = r.firmware?.update;
  if (!u?.rows?.length) return null;
  const target = u.workTargetBytes ?? 4096;
  const flash = (f: Json) => `${f.erases} / ${int(f.programmedBytes)} B`;
  const lines = [
    `Updates of the ${u.artifact} build applied by the C library (\`wg_patch_apply\` into the update half's slot on simulated NOR flash, ${int(u.flash.sectorBytes / 1024)} KiB sectors; the download is staged in flash first), against writing the whole new artifact (\`bench/firmware/update.ts\`):`,
    '',
    `| update | patch | C applier RAM (\`wg_patch_plan\`) | device-sim RAM | ≤ ${int(target)} B | erases / programmed, patch | erases / programmed, whole |`,
    '|---|---:|---:|---:|:---:|---:|---:|',
    ...u.rows.map(
      (row: Json) =>
        `| ${row.update} | ${int(row.patchBytes)} B | ${int(row.cWorkBytes)} B | ${int(row.deviceSimWorkBytes)} B | ${row.cWorkBytes <= target ? 'yes' : 'no'} | ${flash(row.patch)} | ${flash(row.whole)} |`,
    ),
  ];
  const size = u.codeSize;
  if (size?.totalBytes) {
    const refs = (size.references ?? []).map((ref: Json) => `${ref.name} ${ref.flashBytes ? `~${int(ref.flashBytes)} B` : `${ref.source}`}`).join(', ');
    lines.push(
      '',
      `Code size of the update half on Cortex-M4F at ${size.flags}: ${int(size.totalBytes)} B (slots + state record + boot ${int(size.updateBytes)} B, patch applier ${int(size.patchBytes)} B; the core library's reader it calls is not counted); ${refs}.`,
    );
  }
  lines.push(...renderUpdateCost(r.firmware?.updateCost));
  return lines.join('\n');
}
/** The device's CPU per update kind, in Cortex-M instructions, against the floor (bench/firmware/update-cost.ts). */
function renderUpdateCost(c: Json): string[] {
  if (!c?.cached?.length) return [];
  const uncached = new Map((c.uncached ?? []).map((row: Json) => [row.update, row]));
  const m = (n: number) => `${(n / 1e6).toFixed(2)} M`;
  return [
    '',
    `What an install costs the device's CPU: guest instructions on ${c.target} in QEMU (\`-icount\`), the library at -Os with its own crypto, each update from staging the download to the confirmed boot (apply into the inactive slot with the key, the slot's check, the switch record, boot's check and self-test inference, the confirm record), beside one SHA-256 over the target and one Ed25519 verification measured in the same run. The hooks open the new slot with \`WG_OPEN_VERIFIED\` (docs/firmware.md, "Verify once"); the last column verifies the signature at every open instead (\`bench/firmware/update-cost.ts\`):`,
    '',
    '| update | patch | stage | apply | check | switch | boot + self-test | install | SHA-256 + Ed25519 | ratio | verifying at every open |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...c.cached.map((row: Json) => {
      const i = row.instructions;
      const u = uncached.get(row.update) as Json;
      return `| ${row.update} | ${int(row.patchBytes)} B | ${m(i.stage)} | ${m(i.apply)} | ${m(i.check)} | ${m(i.switch)} | ${m(i.boot)} | ${m(i.total)} | ${m(i.floor)} | ${row.overFloor}x | ${u ? `${m(u.instructions.total)} (${u.overFloor}x)` : '–'} |`;
    }),
  ];
}
function renderFormatsGeneral(r: BenchResults): string | null {
  const rows: Json[] = (r.formats?.sizes ?? []).filter((s: Json) => s.generalPurpose && (s.biases === 'int8' || s.model !== 'mlp-784-128-64-10'));
  if (!rows.length) return null;
  const cell = (v: number | null) => (v === null ? '–' : int(v));
  return [
    '| model | sparsity | codebook | k | weights as bytes + codebooks | `xz -9e` | `zstd -19` | ours: segments + codebooks | ours / best of the two |',
    '|---|---|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((s) => {
      const g = s.generalPurpose;
      const best = Math.min(...[g.xz, g.zstd].filter((v: number | null) => v !== null));
      return `| ${s.model} | ${Math.round(s.sparsity * 100)} % | ${s.bits} bit | ${s.intervals} | ${int(g.raw)} | ${cell(g.xz)} | ${cell(g.zstd)} | ${int(g.ours)} | ${Number.isFinite(best) ? (g.ours / best).toFixed(2) : '–'} |`;
    }),
  ].join('\n');
}

const RENDERERS: Record<string, (r: BenchResults) => string | null> = {
  firmware: renderFirmware,
  'firmware-update': renderFirmwareUpdate,
  'firmware-accuracy': renderFirmwareAccuracy,
  fuzz: renderFuzz,
  headline: renderHeadline,
  summary: renderSummary,
  'formats-sizes': renderFormatsSizes,
  'formats-patches': renderFormatsPatches,
  'formats-general': renderFormatsGeneral,
  'pipeline-patches': renderPipelinePatches,
  pipeline: renderPipeline,
  'pipeline-seeds': renderPipelineSeeds,
  server: renderServer,
  'server-patch-generation': renderServerPatchGeneration,
  'server-graphql': renderServerGraphql,
  push: renderPush,
  'push-scale': renderPushScale,
  'device-patching': renderDevicePatching,
  cnn: renderCnn,
};

/** bench/cnn: each CNN preset's size, accuracy, arena plan and latency against TF.js. */
function renderCnn(r: BenchResults): string | null {
  const c = r.cnn;
  if (!c) return null;
  const lines = [
    '| preset | layers | params | full tier | vs dense f32 | test acc (full) | dense | points below | planned scratch | naive sum | arena high-water | device µs/sample | TF.js µs/sample | faster | build s |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of c.rows as Json[]) {
    lines.push(
      `| ${row.preset} | ${row.layers} | ${int(row.params)} | ${bytes(row.fullArtifactBytes)}${row.signed ? ' signed' : ''} | ${ratio(row.ratio)} | ${pct(row.fullAccuracy)} | ${pct(row.denseAccuracy)} | ${row.pointsBelowDense.toFixed(2)} | ${bytes(row.plannedScratchBytes)} | ${bytes(row.naiveScratchBytes)} | ${bytes(row.arenaHighWaterBytes)} | ${row.deviceMedianUs.toFixed(0)} (${row.kernel}) | ${row.tfjsMedianUs.toFixed(0)} (${row.tfjsBackend}) | ${ratio(row.speedup)} | ${row.buildSeconds} |`,
    );
  }
  lines.push(
    '',
    wrap(
      `Targets: at least ${c.targets.ratio}x smaller than the dense float32 weights, signed; within ${c.targets.points} point of dense; at least ${c.targets.speedup}x faster than TF.js. Measured ${c.when.slice(0, 10)} on ${c.machine.cpus} x ${c.machine.model}, load average ${c.machine.loadAverage.map((v: number) => v.toFixed(2)).join(' ')}; ${c.rows[0]?.samples ?? 0} test digits per preset; the device (m4-256k profile) runs its default kernels, named beside its time; "planned scratch" is the greedy planner's block for those kernels' activation maps (the coded kernels add two chunk buffers: ${c.rows.map((r: Json) => `${r.preset} ${bytes(r.codedPlannedScratchBytes)}`).join(', ')}); "arena high-water" is the arena's peak over the whole run, segment tables and execution-image mapping included.`,
    ),
  );
  return lines.join('\n');
}

/** Registers a renderer for another area's block (bench/firmware adds its own). */
export function registerReadmeBlock(name: string, render: (r: BenchResults) => string | null): void {
  RENDERERS[name] = render;
}

function wrap(text: string, width = 78): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

const BLOCK = /<!-- bench:([a-z0-9-]+) -->\n[\s\S]*?<!-- \/bench:\1 -->/g;

/**
 * The README with every bench block rendered from `results`. A block whose
 * results are missing is left as it is; an unknown block name is an error.
 */
export function renderReadme(readme: string, results: BenchResults): string {
  return readme.replace(BLOCK, (whole, name: string) => {
    const render = RENDERERS[name];
    if (!render) throw new Error(`README.md names bench block "${name}", which no renderer in bench/readme.ts writes`);
    const body = render(results);
    return body === null ? whole : `<!-- bench:${name} -->\n${body.trimEnd()}\n<!-- /bench:${name} -->`;
  });
}

export function writeReadme(readmePath: string, resultsDir: string): boolean {
  const before = readFileSync(readmePath, 'utf8');
  const after = renderReadme(before, loadBenchResults(resultsDir));
  if (after !== before) writeFileSync(readmePath, after);
  return after !== before;
}

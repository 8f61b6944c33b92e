// Stage 5 and the whole run: dataset → compress (or next version) → Algorithm 1
// → one artifact per tier plus full, signed with --key, C headers with --c →
// report.json / report.md / report.svg / state for --from → budgets.
// This is the programmatic API the CLI and the demo call.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeArtifact, exportC, keyIdOf, readArtifact, sha256Hex, type ModelInput, type Tier } from '../formats/index.ts';
import type { SelectedTier } from './algorithm1.ts';
import { selectBackend } from './backend.ts';
import { resolveOptions, type BuildOptions, type ResolvedOptions } from './build-options.ts';
import { compressModel, type CompressedModel } from './compress.ts';
import { searchCompression, withinBudget, type SearchReport } from './search.ts';
import { loadDataset, type Dataset } from './datasets.ts';
import { PipelineError } from './errors.ts';
import { equalIntervals } from './intervals.ts';
import { createCutEvaluator, licenseModel, measureIntervalBytes } from './license-stage.ts';
import { missingTrainingKernels } from './conv-ops.ts';
import { countNonzero, kernelCount, parameterCount } from './model.ts';
import { toModelInput } from './model-input.ts';
import { nextVersion } from './next-version.ts';
import { silentProgress, type ProgressSink } from './progress.ts';
import { compareOrders, fullTierDrop, renderReportMarkdown, type BuildReport, type OrderComparison, type TierReport } from './report.ts';
import { renderReportSvg } from './report-svg.ts';
import { loadState, saveState, type BuildState, type SavedTier } from './state.ts';

export type { BuildOptions } from './build-options.ts';
export type { ProgressSink } from './progress.ts';
export type { BuildReport } from './report.ts';

export interface BuildArtifact {
  tier: string;
  /** Absolute or as given: join(outDir, `${tier}.wgm`). */
  file: string;
  bytes: Uint8Array;
}

export interface BuildResult {
  report: BuildReport;
  artifacts: BuildArtifact[];
  /** The full version's input (tiers included), as encoded. */
  modelInput: ModelInput;
}

const elapsed = (since: number) => Math.round((performance.now() - since) / 10) / 100;

/**
 * Runs a whole build. Checks every input before any work. When a budget is
 * broken it throws PipelineError (exitCode 1) after writing everything: the
 * artifacts and report stay in outDir for inspection, and the error says so.
 */
export async function runBuild(buildOptions: BuildOptions, progress: ProgressSink = silentProgress): Promise<BuildResult> {
  const started = performance.now();
  const options = await resolveOptions(buildOptions);
  const state = options.fromDir ? await loadState(options.fromDir) : null;
  const backend = await selectBackend();
  progress.log(`backend: ${backend}`);
  const data = buildOptions.data ?? state?.data ?? options.data;
  const dataset = await loadDataset(data);
  progress.log(`dataset ${dataset.name}: ${dataset.train.count} train / ${dataset.validation.count} validation / ${dataset.test.count} test`);

  let search: SearchReport | undefined;
  let compressed: CompressedModel;
  let bits = options.bits;
  if (state) {
    compressed = await nextVersion(state, options, dataset, progress);
    bits = state.bits;
  } else if (options.search) {
    const searched = await searchCompression(options, dataset, options.maxDrop as number, progress);
    ({ search, bits } = searched);
    compressed = searched;
  } else {
    compressed = await compressModel(options, dataset, progress);
  }
  const version = options.version ?? (state ? state.version + 1 : 1);
  const encodable = { kernels: compressed.weights.kernels, biases: compressed.weights.biases, shared: compressed.shared, bits };

  let t = performance.now();
  const intervals = state ? state.intervals : equalIntervals(compressed.weights.kernels, options.intervals);
  const previousFull = options.fromDir ? await readOptional(join(options.fromDir, 'full.wgm')) : null;
  // A next version keeps its build's coding unless told otherwise.
  const coding = options.coding ?? (previousFull && readArtifact(previousFull).manifest.tensors.some((t) => t.coding === 'rice') ? 'rice' : 'range');
  const untiered = toModelInput(compressed.spec, encodable, intervals, [], version, coding);
  const allIds = intervals.map((iv) => iv.id);
  let selected: Array<{ name: string; target: number | null; intervals: number[] }>;
  let comparison: OrderComparison[] = [];
  let intervalBytes: number[];
  if (state) {
    selected = state.tiers.filter((tier) => tier.name !== 'full');
    intervalBytes = measureIntervalBytes(untiered);
  } else {
    const outcome = licenseModel(compressed.spec, compressed.weights, untiered, dataset.validation, options.tiers, options.order, options.tolerance, progress);
    selected = outcome.chosen.map((tier: SelectedTier) => ({ name: tier.name, target: tier.target, intervals: tier.intervals }));
    comparison = compareOrders(outcome.comparison.paper, outcome.comparison.greedy);
    intervalBytes = outcome.intervalBytes;
  }
  selected.push({ name: 'full', target: null, intervals: allIds });

  // Accuracy of each tier exactly as its artifact holds it: validation (what Algorithm 1 saw) and test (reported).
  const validation = createCutEvaluator(compressed.spec, compressed.weights, intervals, dataset.validation);
  const test = createCutEvaluator(compressed.spec, compressed.weights, intervals, dataset.test);
  const measured = selected.map((tier) => ({ ...tier, validationAccuracy: validation.accuracyOf(tier.intervals), accuracy: test.accuracyOf(tier.intervals) }));
  validation.dispose();
  test.dispose();
  const licenseSeconds = elapsed(t);

  t = performance.now();
  // Lower tiers first (fewer intervals), full last.
  const ordered = [...measured].sort((a, b) => (a.target === null ? 1 : 0) - (b.target === null ? 1 : 0) || a.intervals.length - b.intervals.length);
  const tiers: Tier[] = ordered.map((tier) => ({ name: tier.name, intervals: tier.intervals, accuracy: tier.accuracy }));
  const modelInput: ModelInput = { ...untiered, tiers };
  await mkdir(options.outDir, { recursive: true });
  const artifacts: BuildArtifact[] = [];
  const tierReports: TierReport[] = [];
  for (const tier of ordered) {
    const bytes = encodeArtifact(modelInput, { heldIntervals: tier.intervals, privateKey: options.keyPem });
    const file = `${tier.name}.wgm`;
    await writeFile(join(options.outDir, file), bytes);
    artifacts.push({ tier: tier.name, file: join(options.outDir, file), bytes });
    const report: TierReport = {
      name: tier.name,
      target: tier.target,
      intervals: tier.intervals,
      accuracy: tier.accuracy,
      validationAccuracy: tier.validationAccuracy,
      met: tier.target === null || tier.validationAccuracy >= tier.target,
      artifactBytes: bytes.length,
      file,
      sha256: sha256Hex(bytes),
    };
    if (options.c) {
      report.header = `${tier.name}.h`;
      await writeFile(join(options.outDir, report.header), exportC(bytes, cIdentifier(`${compressed.spec.name}_${tier.name}`)));
    }
    tierReports.push(report);
  }
  const full = artifacts[artifacts.length - 1].bytes;
  const prunedBytes = compressed.pruned ? prunedArtifactBytes(compressed, intervals, version) : null;
  const buildSeconds = elapsed(t);

  const params = parameterCount(compressed.spec);
  const substituted = missingTrainingKernels(
    backend,
    compressed.spec.layers.map((l) => l.kind),
  );
  const nonzero = countNonzero(compressed.weights.kernels);
  const kernels = kernelCount(compressed.spec);
  const previousReport = options.fromDir ? await readJsonOptional(join(options.fromDir, 'report.json')) : null;
  const report: BuildReport = {
    model: compressed.spec.name,
    version,
    data,
    backend,
    ...(substituted.length > 0 ? { substitutedKernels: substituted } : {}),
    seed: options.seed,
    ...(options.augment > 0 ? { augment: options.augment } : {}),
    params,
    denseFloat32Bytes: params * 4,
    nonzero,
    sparsity: 1 - nonzero / kernels,
    layerSparsity: compressed.layerSparsity,
    bits,
    encoding: compressed.shared ? 'codebook' : 'int8',
    biases: untiered.tensors.filter((t) => !t.licensed).map((t) => (t.encoding === 'int8' ? 'int8' : 'dense-f32')),
    inputValidationAccuracy: compressed.inputValidationAccuracy ?? previousReport?.inputValidationAccuracy ?? null,
    maxDrop: options.maxDrop ?? null,
    accuracy: {
      dense: compressed.accuracy.dense ?? previousReport?.accuracy?.dense ?? null,
      pruned: compressed.accuracy.pruned ?? previousReport?.accuracy?.pruned ?? null,
      quantized: compressed.accuracy.quantized,
    },
    prunedArtifactBytes: prunedBytes ?? previousReport?.prunedArtifactBytes ?? null,
    fullArtifactBytes: full.length,
    compressionRatio: (params * 4) / full.length,
    intervals: intervals.map((iv, i) => ({ ...iv, bytes: intervalBytes[i] })),
    tiers: tierReports,
    licensing: { order: options.order, tolerance: options.tolerance, comparison },
    signed: options.keyPem !== undefined,
    keyId: options.keyPem ? keyIdOf(options.keyPem) : null,
    seconds: { ...compressed.seconds, license: licenseSeconds, build: buildSeconds, total: elapsed(started) },
  };
  if (search) report.search = search;
  if (state && options.fromDir) report.from = { dir: options.fromDir, previousVersion: state.version, ...segmentChanges(previousFull, full, modelInput) };

  await writeFile(join(options.outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(options.outDir, 'report.md'), renderReportMarkdown(report));
  await writeFile(
    join(options.outDir, 'report.svg'),
    renderReportSvg(
      `${report.model} v${version}`,
      tierReports,
      { denseFloat32Bytes: report.denseFloat32Bytes, denseAccuracy: report.accuracy.dense },
      search?.trials,
    ),
  );
  if (compressed.shared) {
    const savedTiers: SavedTier[] = measured.map((tier) => ({ name: tier.name, target: tier.target, intervals: tier.intervals }));
    const next: BuildState = {
      spec: compressed.spec,
      data,
      version,
      bits,
      seed: options.seed,
      intervals,
      tiers: savedTiers,
      biases: compressed.weights.biases,
      shared: compressed.shared,
    };
    await saveState(options.outDir, next);
  }
  checkBudgets(options, report);
  return { report, artifacts, modelInput };
}

/** The pruned float32 weights as one unlicensed artifact: the paper's "pruning" column. */
function prunedArtifactBytes(compressed: CompressedModel, intervals: ModelInput['intervals'], version: number): number {
  const pruned = compressed.pruned!;
  const input = toModelInput(compressed.spec, { kernels: pruned.kernels, biases: pruned.biases, shared: null, bits: 32 }, intervals, [], version);
  for (const tensor of input.tensors) {
    tensor.encoding = 'dense-f32';
    tensor.licensed = false;
  }
  return encodeArtifact(input).length;
}

function segmentChanges(previous: Uint8Array | null, next: Uint8Array, input: ModelInput) {
  const after = readArtifact(next).manifest.segments;
  const before = new Map<string, string>();
  if (previous) {
    for (const s of readArtifact(previous).manifest.segments) before.set(`${s.tensor}:${s.interval}`, sha256Hex(s.sha256));
  }
  const changedSegments: Array<{ tensor: string; interval: number }> = [];
  for (const s of after) {
    if (before.get(`${s.tensor}:${s.interval}`) !== sha256Hex(s.sha256)) changedSegments.push({ tensor: input.tensors[s.tensor].name, interval: s.interval });
  }
  return { segments: after.length, changedSegments, unchangedSegments: after.length - changedSegments.length };
}

function checkBudgets(options: ResolvedOptions, report: BuildReport): void {
  const full = report.tiers[report.tiers.length - 1];
  const kept = `; the artifacts written to ${options.outDir} for inspection failed this check: do not release them`;
  const drop = fullTierDrop(report);
  if (options.maxDrop !== undefined && drop !== null && !withinBudget(drop, options.maxDrop)) {
    const what = report.search
      ? `no setting tried (${report.search.trials.length}, in report.json "search") keeps the full tier within --max-drop ${options.maxDrop}; the closest, written, is ${drop.toFixed(2)} points below`
      : `full artifact ${full.file} is ${drop.toFixed(2)} points below the input model's validation accuracy, over --max-drop ${options.maxDrop}`;
    throw new PipelineError(
      'MAX_DROP',
      `${what} (input ${(report.inputValidationAccuracy! * 100).toFixed(2)} %, full tier ${(full.validationAccuracy * 100).toFixed(2)} %)${kept}`,
    );
  }
  if (options.maxBytes !== undefined && full.artifactBytes > options.maxBytes) {
    throw new PipelineError('MAX_BYTES', `full artifact ${full.file} is ${full.artifactBytes} bytes, over --max-bytes ${options.maxBytes}${kept}`);
  }
  if (options.minAccuracy !== undefined && full.accuracy < options.minAccuracy) {
    throw new PipelineError(
      'MIN_ACCURACY',
      `full artifact ${full.file} has test accuracy ${full.accuracy.toFixed(4)}, under --min-accuracy ${options.minAccuracy}${kept}`,
    );
  }
}

function cIdentifier(name: string): string {
  const id = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(id) ? `m_${id}` : id;
}

async function readOptional(file: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(file));
  } catch {
    return null;
  }
}

async function readJsonOptional(file: string): Promise<Partial<BuildReport> | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Partial<BuildReport>;
  } catch {
    return null;
  }
}

export type { Dataset, ResolvedOptions };

// report.json's shape, and report.md: the paper's results table beside ours,
// then the tiers and how the two Algorithm 1 orders compare.
import type { SelectedTier } from './algorithm1.ts';
import type { SearchReport } from './search.ts';

export interface TierReport {
  name: string;
  /** Validation accuracy the tier was selected for; null for full. */
  target: number | null;
  intervals: number[];
  /** Test accuracy of exactly what the artifact holds. */
  accuracy: number;
  validationAccuracy: number;
  /** Whether validationAccuracy reaches the target (always true for full). */
  met: boolean;
  artifactBytes: number;
  /** Relative to the out dir. */
  file: string;
  header?: string;
  sha256: string;
}

export interface OrderComparison {
  name: string;
  target: number;
  paper: { intervals: number[]; validationAccuracy: number; met: boolean; intervalBytes: number };
  greedy: { intervals: number[]; validationAccuracy: number; met: boolean; intervalBytes: number };
  /** The order that meets the target with fewer segment bytes ('tie' when equal). */
  fewestBytes: 'paper' | 'greedy' | 'tie' | 'neither';
}

export interface BuildReport {
  model: string;
  version: number;
  data: string;
  backend: string;
  /** Backward kernels the backend lacks for this model's convolutions, whose gradients the pipeline computed itself (pipeline/conv-ops.ts); absent when none. */
  substitutedKernels?: string[];
  seed: number;
  /** Training shifted each sample by up to this many pixels (--augment); absent when it did not. */
  augment?: number;
  params: number;
  denseFloat32Bytes: number;
  nonzero: number;
  sparsity: number;
  layerSparsity: number[];
  bits: number;
  encoding: 'codebook' | 'int8';
  /** How the biases are stored: int8 (one scale per layer) or float32, per layer. */
  biases: Array<'int8' | 'dense-f32'>;
  accuracy: { dense: number | null; pruned: number | null; quantized: number };
  /** The input model's validation accuracy (the --max-drop reference); null for a --from build without it. */
  inputValidationAccuracy: number | null;
  /** --max-drop, when given. */
  maxDrop: number | null;
  /** With --max-drop and no fixed --sparsity/--bits: what the search tried and chose. */
  search?: SearchReport;
  /** Bytes of the pruned float32 weights alone as an artifact (the paper's "pruning" column). */
  prunedArtifactBytes: number | null;
  fullArtifactBytes: number;
  /** denseFloat32Bytes / fullArtifactBytes. */
  compressionRatio: number;
  intervals: Array<{ id: number; lower: number; upper: number; bytes: number }>;
  tiers: TierReport[];
  licensing: { order: 'paper' | 'greedy'; tolerance: number; comparison: OrderComparison[] };
  /** Set for a `--from` build: what changed against the previous version. */
  from?: { dir: string; previousVersion: number; segments: number; changedSegments: Array<{ tensor: string; interval: number }>; unchangedSegments: number };
  signed: boolean;
  keyId: string | null;
  seconds: Record<string, number>;
}

/** A sparsity as a percentage for people: 0.97 -> '97', 0.965 -> '96.5' (a tenth of a point at most). */
export function sparsityPercent(sparsity: number): string {
  return String(Math.round(sparsity * 1000) / 10);
}

/** Points the full tier's validation accuracy lies below the input model's, or null when there is no reference. */
export function fullTierDrop(report: BuildReport): number | null {
  const full = report.tiers[report.tiers.length - 1];
  return report.inputValidationAccuracy === null ? null : (report.inputValidationAccuracy - full.validationAccuracy) * 100;
}

export function compareOrders(paper: SelectedTier[], greedy: SelectedTier[]): OrderComparison[] {
  return paper.map((p, i) => {
    const g = greedy[i];
    const summary = (t: SelectedTier) => ({ intervals: t.intervals, validationAccuracy: t.validationAccuracy, met: t.met, intervalBytes: t.intervalBytes });
    let fewestBytes: OrderComparison['fewestBytes'] = 'neither';
    if (p.met && g.met) fewestBytes = p.intervalBytes === g.intervalBytes ? 'tie' : p.intervalBytes < g.intervalBytes ? 'paper' : 'greedy';
    else if (p.met) fewestBytes = 'paper';
    else if (g.met) fewestBytes = 'greedy';
    return { name: p.name, target: p.target, paper: summary(p), greedy: summary(g), fewestBytes };
  });
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)} %`);
const kb = (bytes: number | null) => (bytes === null ? '–' : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${bytes.toLocaleString('en-US')} B`);

/** The paper's "cost of memory storage" table (slides, Results). */
const PAPER_ROWS = [
  { params: 109386, full: '13MB', pruned: '2.92MB', quantized: '2.34MB' },
  { params: 101770, full: '12MB', pruned: '2.65MB', quantized: '2.09MB' },
];

function biasWords(biases: BuildReport['biases'] | undefined): string {
  if (!biases?.length) return 'float32';
  if (biases.every((b) => b === 'int8')) return 'int8';
  if (biases.every((b) => b === 'dense-f32')) return 'float32';
  return biases.map((b) => (b === 'int8' ? 'int8' : 'float32')).join(' / ');
}

export function renderReportMarkdown(r: BuildReport): string {
  const lines: string[] = [];
  lines.push(`# weightgate build: ${r.model} v${r.version}`, '');
  lines.push(
    `Data \`${r.data}\`, backend \`${r.backend}\`${r.substitutedKernels?.length ? ` (its missing ${r.substitutedKernels.join(', ')} computed from forward convolutions)` : ''}, seed ${r.seed}${r.augment ? `, samples shifted up to ${r.augment} px in training` : ''}, ${r.encoding === 'int8' ? 'int8' : `${r.bits}-bit codebooks`}, sparsity ${pct(r.sparsity)} (per layer ${r.layerSparsity.map((s) => pct(s)).join(' / ')}), biases ${biasWords(r.biases)}.`,
    '',
  );
  lines.push('## Storage: the paper beside this build', '');
  lines.push(`| | params | full | pruning | + quantization / sharing |`, '|---|---:|---:|---:|---:|');
  for (const row of PAPER_ROWS) lines.push(`| paper | ${row.params.toLocaleString('en-US')} | ${row.full} | ${row.pruned} (80 %) | ${row.quantized} |`);
  lines.push(
    `| this build | ${r.params.toLocaleString('en-US')} | ${kb(r.denseFloat32Bytes)} (float32) | ${kb(r.prunedArtifactBytes)} (${pct(r.sparsity)}) | ${kb(r.fullArtifactBytes)} (${r.compressionRatio.toFixed(1)}x smaller) |`,
  );
  lines.push('', `Test accuracy: dense ${pct(r.accuracy.dense)}, pruned ${pct(r.accuracy.pruned)}, shared/quantized ${pct(r.accuracy.quantized)}.`, '');
  if (r.search) {
    const s = r.search;
    lines.push(
      `## Search within --max-drop ${s.maxDrop} (input model: validation ${pct(s.reference)})`,
      '',
      `Chosen: sparsity ${pct(s.chosen.sparsity)}, ${s.chosen.bits}-bit codebooks${s.chosen.schedule === 'rebuild' ? ', rebuilt from the dense model' : ''}${s.met ? '' : ' (the closest: nothing tried was within the budget)'}.`,
      '',
      'Schedule: "ladder", one prune round from the previous sparsity (plus any recovery rounds); "rebuild", --prune-rounds rounds from the dense model.',
      '',
      '| sparsity | bits | schedule | fine-tuning epochs | validation | points below | test | full artifact (unsigned, before tiers) | within |',
      '|---:|---:|---|---:|---:|---:|---:|---:|:---:|',
    );
    for (const t of s.trials) {
      lines.push(
        `| ${pct(t.sparsity)} | ${t.bits} | ${t.schedule} | ${t.fineTuneEpochs} | ${pct(t.validationAccuracy)} | ${t.drop.toFixed(2)} | ${pct(t.testAccuracy)} | ${kb(t.fullBytes)} | ${t.withinBudget ? 'yes' : 'no'} |`,
      );
    }
    lines.push('');
  }
  lines.push('## Tiers (nested; Algorithm 1 on the validation split, accuracy on the test split)', '');
  lines.push('| tier | target | intervals | validation | test | artifact | file |', '|---|---:|---|---:|---:|---:|---|');
  for (const t of r.tiers) {
    lines.push(
      `| ${t.name} | ${t.target === null ? '–' : pct(t.target) + (t.met ? '' : ' (missed)')} | ${t.intervals.length} of ${r.intervals.length} | ${pct(t.validationAccuracy)} | ${pct(t.accuracy)} | ${kb(t.artifactBytes)} | ${t.file} |`,
    );
  }
  if (r.licensing.comparison.length > 0) {
    lines.push('', `## Algorithm 1 orders (artifacts use \`${r.licensing.order}\`)`, '');
    lines.push(
      '| tier | target | paper: intervals, validation, segment bytes | greedy: intervals, validation, segment bytes | fewest bytes |',
      '|---|---:|---|---|---|',
    );
    for (const c of r.licensing.comparison) {
      const cell = (o: OrderComparison['paper']) => `${o.intervals.length}, ${pct(o.validationAccuracy)}${o.met ? '' : ' (missed)'}, ${kb(o.intervalBytes)}`;
      lines.push(`| ${c.name} | ${pct(c.target)} | ${cell(c.paper)} | ${cell(c.greedy)} | ${c.fewestBytes} |`);
    }
  }
  if (r.from) {
    lines.push('', `## Changes against v${r.from.previousVersion} (${r.from.dir})`, '');
    lines.push(
      `${r.from.changedSegments.length} of ${r.from.segments} segments changed; ${r.from.unchangedSegments} are byte-identical (only the codebooks in the manifest moved).`,
    );
    for (const s of r.from.changedSegments) lines.push(`- ${s.tensor}, interval ${s.interval}`);
  }
  lines.push(
    '',
    `Seconds per stage: ${Object.entries(r.seconds)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
  );
  return lines.join('\n');
}

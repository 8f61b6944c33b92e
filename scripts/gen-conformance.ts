// Conformance vectors for the C library (firmware/): what device-sim computes
// and refuses, written to a directory the C tests read. Deterministic: fixed
// seeds, and Ed25519 keys from fixed 32-byte seeds (signatures are
// deterministic), so regenerating gives the same bytes.
//
//   npx tsx scripts/gen-conformance.ts DIR
//
// DIR/index.txt, one record per line, space-separated, `#` comments:
//   key HEX                              the signed vectors' Ed25519 public key (32 bytes)
//   model NAME FILE INPUTS OUTPUTS       a good signed artifact
//   samples NAME FILE COUNT              COUNT x INPUTS raw sample bytes
//   expect NAME ARITH KERNEL FILE        ARITH f32|int, KERNEL coded|image; per sample:
//                                        OUTPUTS logits (f32: float32 LE; int: int32 LE),
//                                        for int one int32 LE exponent, then a uint32 LE class
//   refuse NAME ARITH KERNEL STATUS      the model does not run on ARITH with KERNEL: opening it there
//                                        (with the key and the planned arena) gives STATUS (WG_E_UNSUPPORTED)
//   plan NAME ARENA_CODED ARENA_IMAGE IMAGE_BYTES   IMAGE_BYTES: the execution image's (its weighted layers)
//   image NAME FILE                      device-sim's execution image of the model (every model has one)
//   bad NAME FILE STATUS [INT_STATUS]    opening it with the key gives STATUS (WG_OK or WG_E_<FormatError code>,
//                                        or WG_E_UNSUPPORTED), on the int path INT_STATUS when given
//   unsigned NAME FILE INPUTS OUTPUTS    a good unsigned artifact (opens without a key)
//   forged NAME FILE STATUS              an unsigned artifact whose Rice segment was damaged and its
//                                        manifest's size and SHA-256 rewritten to match: opening it
//                                        without a key (every segment decoded and checked) gives STATUS,
//                                        in every build (a Rice stream's canonical check is never left out)
//   badunsigned NAME FILE STATUS [INT_STATUS]
//                                        an unsigned artifact with one byte changed: opening it without
//                                        a key gives STATUS in a build that replays the manifest writer
//                                        (WG_CANONICAL=ON; docs/firmware.md), on the int path INT_STATUS;
//                                        a NAME ending in `-v2fields` fails the verifier only in a Layer's
//                                        window fields, which a build without WG_SPATIAL does not know:
//                                        there it is refused with another status
//   badgraph NAME FILE STATUS [INT_STATUS]
//                                        an unsigned artifact whose manifest formats' own writer wrote from
//                                        a layer graph that breaks (or, WG_OK, keeps) a rule of docs/format.md
//                                        3.3 rule 6: opening it without a key gives STATUS in every build
//
// INPUTS is the preprocessed input's elements, OUTPUTS the last layer's
// (a feature map's: height x width x channels). Version-2 (convolutional)
// models' names, and the records made from them, start with `conv` or
// `relu6`; a `badgraph` record's name says its manifest's version
// (`graph-v1-`, `graph-v2-`, `graph-v3-`), so a build without WG_SPATIAL
// knows which it refuses with WG_E_UNSUPPORTED_VERSION.
//
// The expected status is what device-sim does to open an artifact for a
// device (check-artifact.ts): formats' readArtifact (verifier, manifest,
// license, segment hashes, canonical form), then the signature with the key;
// a model formats reads is then WG_OK or, when the C library does not run
// it on that path with the coded kernels (device-sim/firmware-plan.ts's
// checkFirmwareSupport), WG_E_UNSUPPORTED.
//
// Segment codings (docs/format.md 5.10): every model also comes Rice-coded
// (NAME-rice..., same entries, same samples), and its expected outputs
// must equal the range-coded twin's bit for bit; the generator checks it.
//
// Convolutional models (format version 2) run on both paths with both
// kernels (the int path: docs/arithmetic.md "Convolutional layers (int
// path)"; the f32 image's order: "Convolutional layers"): they have four
// `expect` records (the int image's equal to the int coded ones: exact
// sums) and an `image` record.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createRandom,
  encodeArtifact,
  FormatError,
  readArtifact,
  type Artifact,
  type Interval,
  type Layer,
  type ModelInput,
  type TensorEncoding,
  type TensorInput,
  type Tier,
} from '../formats/index.ts';
import { Arena } from '../device-sim/arena.ts';
import { buildExecImage, openExecImage } from '../device-sim/exec-image.ts';
import { checkFirmwareSupport, firmwarePlan, layerOutputs, type Arithmetic, type FirmwareKernel } from '../device-sim/firmware-plan.ts';
import { DeviceError, DeviceErrorCode } from '../device-sim/errors.ts';
import { createInterpreter } from '../device-sim/interpreter.ts';
import { argmax } from '../device-sim/kernels/dense-reference.ts';
import { argmaxInt } from '../device-sim/kernels/int-reference.ts';
import { paperModelInput } from '../bench/device/paper-model.ts';
import { writeManifest } from '../formats/artifact/manifest-writer.ts';
import { buildArtifactBytes } from '../formats/artifact/artifact-writer.ts';
import { sha256 } from '../formats/artifact/signing.ts';
import { RiceWriter } from '../formats/coding/rice-code.ts';
import { decodeRawEntries, rawBitsOf } from '../formats/coding/segment-raw.ts';
import { valueBytesPerEntry } from '../formats/coding/segment-layout.ts';
import { concatBytes } from '../formats/container/bytes.ts';
import { elementCount } from '../formats/artifact/manifest-reader.ts';
import { kernelShape } from '../formats/artifact/layer-graph.ts';
import { convModel } from '../test/fixtures/conv-model.ts';
import { moveLayerField } from '../test/fixtures/flatbuffer-edit.ts';
import * as flatbuffers from 'flatbuffers';
import { ARTIFACT_IDENTIFIER } from '../formats/artifact/artifact-writer.ts';
import { MANIFEST_IDENTIFIER } from '../formats/artifact/manifest-writer.ts';
import { verifyBuffer, type TableSpec } from '../formats/container/flatbuffer-verifier.ts';
import { artifactSpec, layerSpec, manifestSpec } from '../formats/container/schema-specs.ts';
import { Artifact as FbArtifact } from '../formats/gen/weightgate/fb/artifact.ts';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 key pair from a 32-byte seed (RFC 8032's private key). */
export function keyFromSeed(seed: Uint8Array): { privateKey: KeyObject; publicKey: KeyObject; publicRaw: Uint8Array } {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey, publicRaw: new Uint8Array(der.subarray(der.length - 32)) };
}

const seedBytes = (byte: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (byte + i * 7) & 0xff);
export const CONFORMANCE_KEY = keyFromSeed(seedBytes(0x31));
const FOREIGN_KEY = keyFromSeed(seedBytes(0x99));

// ---------------------------------------------------------------- models

const INTERVALS: Interval[] = [
  { id: 0, lower: -1, upper: -0.5 },
  { id: 1, lower: -0.5, upper: 0 },
  { id: 2, lower: 0, upper: 0.5 },
  { id: 3, lower: 0.5, upper: 1 },
];
const TIERS: Tier[] = [
  { name: 'basic', intervals: [1, 2], accuracy: 0.5 },
  { name: 'full', intervals: [0, 1, 2, 3], accuracy: 0.9 },
];
const CODEBOOK = Float32Array.from({ length: 16 }, (_, j) => -0.9375 + j * 0.125);

interface LayerSpec {
  units: number;
  kernel: TensorEncoding;
  /** null: no bias tensor. */
  bias: TensorEncoding | null;
  /** Bias split by interval (a partial license then holds only some bias entries). */
  biasLicensed?: boolean;
  activation?: 'linear' | 'relu' | 'softmax';
}

interface ModelSpec {
  name: string;
  inputs: number;
  layers: LayerSpec[];
  seed: number;
  pruned: number;
  scale: number;
  offset: number;
}

function tensorOf(name: string, shape: number[], encoding: TensorEncoding, values: Float32Array, licensed: boolean): TensorInput {
  return { name, shape, encoding, values, licensed, ...(encoding === 'codebook-sparse' ? { codebook: CODEBOOK, bits: 4 } : {}) };
}

function modelInput(spec: ModelSpec): ModelInput {
  const random = createRandom(spec.seed);
  const draw = (encoding: TensorEncoding): number => {
    const c = CODEBOOK[Math.floor(random() * CODEBOOK.length)]!;
    return encoding === 'codebook-sparse' ? c : c * (0.5 + 0.5 * random());
  };
  const tensors: TensorInput[] = [];
  const layers: Layer[] = [];
  let inputs = spec.inputs;
  spec.layers.forEach((ls, l) => {
    const kernel = new Float32Array(inputs * ls.units);
    for (let i = 0; i < kernel.length; i++) if (random() >= spec.pruned) kernel[i] = draw(ls.kernel);
    const weight = tensors.length;
    tensors.push(tensorOf(`dense_${l}/kernel`, [inputs, ls.units], ls.kernel, kernel, true));
    let bias = -1;
    if (ls.bias) {
      const values = Float32Array.from({ length: ls.units }, () => (ls.bias === 'codebook-sparse' ? draw(ls.bias) : (random() - 0.5) * 0.4));
      bias = tensors.length;
      tensors.push(tensorOf(`dense_${l}/bias`, [ls.units], ls.bias, values, ls.biasLicensed ?? false));
    }
    const last = l === spec.layers.length - 1;
    layers.push({ kind: 'dense', name: `dense_${l}`, inputs, units: ls.units, activation: ls.activation ?? (last ? 'softmax' : 'relu'), kernel: weight, bias });
    inputs = ls.units;
  });
  return {
    model: spec.name,
    version: 1,
    preprocess: { inputShape: [spec.inputs], scale: spec.scale, offset: spec.offset },
    layers,
    tensors,
    intervals: INTERVALS,
    tiers: TIERS,
  };
}

const SPECS: ModelSpec[] = [
  {
    name: 'tiny',
    inputs: 16,
    layers: [
      { units: 8, kernel: 'codebook-sparse', bias: 'dense-f32' },
      { units: 4, kernel: 'codebook-sparse', bias: 'dense-f32' },
    ],
    seed: 11,
    pruned: 0.4,
    scale: 1 / 255,
    offset: 0,
  },
  {
    // every kernel and bias encoding, an offset (raw 0 is not x = 0), linear last
    name: 'mixed',
    inputs: 48,
    layers: [
      { units: 24, kernel: 'int8', bias: 'codebook-sparse' },
      { units: 12, kernel: 'dense-f32', bias: 'int8' },
      { units: 6, kernel: 'codebook-sparse', bias: 'dense-f32', activation: 'linear' },
    ],
    seed: 23,
    pruned: 0.5,
    scale: 1 / 127.5,
    offset: -1,
  },
  {
    // licensed biases (a partial license holds some bias entries), a layer without bias, relu last
    name: 'licensed-bias',
    inputs: 40,
    layers: [
      { units: 20, kernel: 'codebook-sparse', bias: 'codebook-sparse', biasLicensed: true },
      { units: 10, kernel: 'int8', bias: null },
      { units: 5, kernel: 'dense-f32', bias: 'int8', biasLicensed: true, activation: 'relu' },
    ],
    seed: 37,
    pruned: 0.3,
    scale: 0.0123,
    offset: 0.25,
  },
  {
    // more than 255 units: wider counts and entries in the image (its generic kernel)
    name: 'wide',
    inputs: 24,
    layers: [
      { units: 300, kernel: 'dense-f32', bias: 'dense-f32' },
      { units: 3, kernel: 'int8', bias: 'dense-f32' },
    ],
    seed: 41,
    pruned: 0.7,
    scale: 1 / 255,
    offset: 0,
  },
];

// ---------------------------------------------------------------- convolutional models

/** A layer of a graph spec: the layer without tensor indices, and its tensors' encodings (weighted kinds). */
type GraphLayer = Record<string, unknown> & {
  kind: Layer['kind'];
  name: string;
  inputs: number;
  units: number;
  kernelEncoding?: TensorEncoding;
  biasEncoding?: TensorEncoding | null;
  biasLicensed?: boolean;
};

interface GraphSpec {
  name: string;
  inputShape: number[];
  layers: GraphLayer[];
  seed: number;
  pruned: number;
  scale: number;
  offset: number;
}

/** A model of any layer kinds (format version 2 when one is not Dense or uses relu6), weights drawn as modelInput's. */
function graphInput(spec: GraphSpec): ModelInput {
  const random = createRandom(spec.seed);
  const draw = (encoding: TensorEncoding): number => {
    const c = CODEBOOK[Math.floor(random() * CODEBOOK.length)]!;
    return encoding === 'codebook-sparse' ? c : c * (0.5 + 0.5 * random());
  };
  const tensors: TensorInput[] = [];
  const layers: Layer[] = spec.layers.map((ls) => {
    const { kernelEncoding, biasEncoding, biasLicensed, ...rest } = ls;
    if (!kernelEncoding) return rest as unknown as Layer;
    const layer = { ...rest, kernel: tensors.length, bias: -1 } as unknown as Layer & { kernel: number; bias: number };
    const shape = kernelShape(layer)!;
    const kernel = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < kernel.length; i++) if (random() >= spec.pruned) kernel[i] = draw(kernelEncoding);
    tensors.push(tensorOf(`${ls.name}/kernel`, shape, kernelEncoding, kernel, true));
    if (biasEncoding) {
      const values = Float32Array.from({ length: ls.units }, () => (biasEncoding === 'codebook-sparse' ? draw(biasEncoding) : (random() - 0.5) * 0.4));
      layer.bias = tensors.length;
      tensors.push(tensorOf(`${ls.name}/bias`, [ls.units], biasEncoding, values, biasLicensed ?? false));
    }
    return layer;
  });
  return {
    model: spec.name,
    version: 1,
    preprocess: { inputShape: spec.inputShape, scale: spec.scale, offset: spec.offset },
    layers,
    tensors,
    intervals: INTERVALS,
    tiers: TIERS,
  };
}

const GRAPHS: GraphSpec[] = [
  {
    // strides 2 with 'same' padding (an odd total: one row above, two below), a depthwise
    // multiplier of 3, pooling over padded borders, a 1x1 conv with stride 2 > window, Dense
    // after the flattened 2x2x6 map; every encoding; an offset (no input is 0)
    name: 'conv-strided',
    inputShape: [9, 11, 2],
    layers: [
      {
        kind: 'conv2d',
        name: 'c1',
        inputs: 2,
        units: 4,
        window: [4, 3],
        strides: [2, 2],
        padding: 'same',
        activation: 'relu',
        kernelEncoding: 'codebook-sparse',
        biasEncoding: 'dense-f32',
      },
      {
        kind: 'depthwise-conv2d',
        name: 'dw',
        inputs: 4,
        units: 12,
        window: [3, 3],
        strides: [1, 1],
        padding: 'same',
        activation: 'linear',
        kernelEncoding: 'int8',
        biasEncoding: 'int8',
        biasLicensed: true,
      },
      { kind: 'max-pool2d', name: 'pool_max', inputs: 12, units: 12, window: [3, 3], strides: [2, 2], padding: 'same' },
      { kind: 'avg-pool2d', name: 'pool_avg', inputs: 12, units: 12, window: [2, 2], strides: [1, 1], padding: 'same' },
      {
        kind: 'conv2d',
        name: 'pw',
        inputs: 12,
        units: 6,
        window: [1, 1],
        strides: [2, 2],
        padding: 'valid',
        activation: 'relu6',
        kernelEncoding: 'dense-f32',
        biasEncoding: 'codebook-sparse',
      },
      { kind: 'dense', name: 'fc', inputs: 24, units: 8, activation: 'relu', kernelEncoding: 'codebook-sparse', biasEncoding: 'int8' },
      { kind: 'dense', name: 'out', inputs: 8, units: 5, activation: 'softmax', kernelEncoding: 'int8', biasEncoding: 'dense-f32' },
    ],
    seed: 51,
    pruned: 0.4,
    scale: 1 / 127.5,
    offset: -1,
  },
  {
    // 1x1 maps: 'same' windows of 3x3 and 2x2 over one cell, pooling and the global pool of one cell
    name: 'conv-edge',
    inputShape: [1, 1, 3],
    layers: [
      {
        kind: 'conv2d',
        name: 'c1',
        inputs: 3,
        units: 4,
        window: [3, 3],
        strides: [1, 1],
        padding: 'same',
        activation: 'relu',
        kernelEncoding: 'codebook-sparse',
        biasEncoding: 'dense-f32',
      },
      {
        kind: 'depthwise-conv2d',
        name: 'dw',
        inputs: 4,
        units: 8,
        window: [2, 2],
        strides: [1, 1],
        padding: 'same',
        activation: 'relu6',
        kernelEncoding: 'codebook-sparse',
        biasEncoding: 'codebook-sparse',
      },
      { kind: 'max-pool2d', name: 'pool_max', inputs: 8, units: 8, window: [3, 3], strides: [2, 2], padding: 'same' },
      { kind: 'avg-pool2d', name: 'pool_avg', inputs: 8, units: 8, window: [2, 2], strides: [1, 1], padding: 'same' },
      { kind: 'global-avg-pool2d', name: 'gap', inputs: 8, units: 8 },
      { kind: 'dense', name: 'out', inputs: 8, units: 3, activation: 'linear', kernelEncoding: 'int8', biasEncoding: 'dense-f32' },
    ],
    seed: 53,
    pruned: 0.2,
    scale: 1 / 255,
    offset: 0,
  },
  {
    // a rank-2 input ([h, w] read as [h, w, 1]) and a pooling layer last: the logits are a 2x2x2 map
    name: 'conv-head',
    inputShape: [6, 6],
    layers: [
      {
        kind: 'conv2d',
        name: 'c1',
        inputs: 1,
        units: 2,
        window: [3, 3],
        strides: [1, 1],
        padding: 'valid',
        activation: 'linear',
        kernelEncoding: 'dense-f32',
        biasEncoding: 'int8',
      },
      { kind: 'avg-pool2d', name: 'pool', inputs: 2, units: 2, window: [2, 2], strides: [2, 2], padding: 'valid' },
    ],
    seed: 57,
    pruned: 0.3,
    scale: 1 / 255,
    offset: 0,
  },
  {
    // Dense layers only, with relu6: format version 2, and the image kernels run it too (both paths)
    name: 'relu6-mlp',
    inputShape: [20],
    layers: [
      { kind: 'dense', name: 'dense_0', inputs: 20, units: 12, activation: 'relu6', kernelEncoding: 'codebook-sparse', biasEncoding: 'dense-f32' },
      { kind: 'dense', name: 'dense_1', inputs: 12, units: 4, activation: 'softmax', kernelEncoding: 'codebook-sparse', biasEncoding: 'dense-f32' },
    ],
    seed: 59,
    pruned: 0.3,
    scale: 6 / 255,
    offset: 0,
  },
];

interface Vector {
  name: string;
  input: ModelInput;
  license?: number[];
  samples: number;
  /** A Rice-coded copy: the range-coded vector of the same weights and samples. */
  twin?: string;
}

/** `input` with the tensors `which` picks (default: all) in `coding`. */
function withCoding(input: ModelInput, coding: 'range' | 'rice', which: (t: TensorInput, i: number) => boolean = () => true): ModelInput {
  return { ...input, tensors: input.tensors.map((t, i) => (which(t, i) ? { ...t, coding } : t)) };
}

function vectors(): Vector[] {
  const out: Vector[] = [];
  for (const spec of SPECS) {
    const input = modelInput(spec);
    out.push({ name: spec.name, input, samples: 8 });
    if (spec.name !== 'tiny') {
      out.push({ name: `${spec.name}-basic`, input, license: [1, 2], samples: 8 });
      out.push({ name: `${spec.name}-part`, input, license: [0, 3], samples: 8 });
    }
  }
  out.push({ name: 'licensed-bias-none', input: modelInput(SPECS[2]!), license: [], samples: 4 });
  // 784-128-64-10, 80 % pruned, 4-bit codebook, k = 8 intervals: the paper's shape.
  const paper = paperModelInput();
  out.push({ name: 'paper', input: paper, samples: 16 });
  out.push({ name: 'paper-basic', input: paper, license: paper.tiers[0]!.intervals, samples: 8 });
  // Convolutional models (format version 2): test/fixtures/conv-model.ts's
  // every-kind chain on 12x12 (full and its basic tier), then GRAPHS.
  const conv = convModel();
  out.push({ name: 'conv', input: conv, samples: 8 });
  out.push({ name: 'conv-basic', input: conv, license: conv.tiers[0]!.intervals, samples: 8 });
  for (const spec of GRAPHS) {
    const input = graphInput(spec);
    out.push({ name: spec.name, input, samples: 8 });
    if (spec.name === 'conv-strided') out.push({ name: `${spec.name}-part`, input, license: [0, 3], samples: 8 });
  }
  // Every one of them again with Rice segments (after them: the range
  // vectors keep their sample seeds), and a model whose kernels are Rice
  // and biases range.
  for (const v of [...out])
    out.push({
      ...v,
      name: v.name.replace(/^(tiny|mixed|licensed-bias|wide|paper|conv-strided|conv-edge|conv-head|conv|relu6-mlp)/, '$1-rice'),
      input: withCoding(v.input, 'rice'),
      twin: v.name,
    });
  const mixed = out.find((v) => v.name === 'mixed')!;
  out.push({ ...mixed, name: 'mixed-rice-kernels', input: withCoding(mixed.input, 'rice', (t) => t.name.endsWith('/kernel')), twin: 'mixed' });
  return out;
}

/** Raw samples: random bytes with blank stretches (zero inputs are skipped), an all-zero and an all-255 one. */
export function samplesFor(count: number, size: number, seed: number): Uint8Array {
  const random = createRandom(seed);
  const bytes = new Uint8Array(count * size);
  for (let s = 0; s < count; s++) {
    const sample = bytes.subarray(s * size, (s + 1) * size);
    if (s === 0) continue; // all zero
    if (s === 1) {
      sample.fill(255);
      continue;
    }
    for (let i = 0; i < size; i++) sample[i] = random() < 0.4 ? 0 : Math.floor(random() * 256);
  }
  return bytes;
}

// ---------------------------------------------------------------- running device-sim

export type KernelKind = 'coded' | 'image';
export const ARITHS: readonly Arithmetic[] = ['f32', 'int'];
export const KERNELS: readonly KernelKind[] = ['coded', 'image'];

/** device-sim's execution image of a verified artifact. */
export function imageBytesOf(artifact: Artifact): Uint8Array {
  return buildExecImage(artifact, new Arena(1 << 20));
}

/**
 * Per sample, what the C library returns: the logits (f32, or int32 and
 * their exponent), then the class (argmax, first on ties), as the `expect`
 * file lays them out.
 */
export function expectedOutputs(artifact: Artifact, samples: Uint8Array, arith: Arithmetic, kernel: KernelKind): Uint8Array {
  const arena = new Arena(1 << 20);
  let image = null;
  if (kernel === 'image') {
    const opened = openExecImage(imageBytesOf(artifact), artifact);
    if (typeof opened === 'string') throw new Error(opened);
    image = opened;
  }
  const interpreter = createInterpreter(artifact, arena, { image, arithmetic: arith });
  const size = interpreter.inputSize;
  const outputs = interpreter.outputSize;
  const count = samples.length / size;
  const record = (outputs + (arith === 'int' ? 2 : 1)) * 4;
  const out = new Uint8Array(count * record);
  const view = new DataView(out.buffer);
  for (let s = 0; s < count; s++) {
    const sample = samples.subarray(s * size, (s + 1) * size);
    const at = s * record;
    if (arith === 'f32') {
      const logits = interpreter.logits(sample);
      logits.forEach((v, j) => view.setFloat32(at + j * 4, v, true));
      view.setUint32(at + outputs * 4, argmax(logits), true);
    } else {
      const { values, exponent } = interpreter.intLogits(sample);
      values.forEach((v, j) => view.setInt32(at + j * 4, v, true));
      view.setInt32(at + outputs * 4, exponent, true);
      view.setUint32(at + outputs * 4 + 4, argmaxInt(values), true);
    }
  }
  return out;
}

/**
 * The status a device gets opening `bytes` with `publicKey`: WG_OK or
 * WG_E_<FormatError code>. (A key object, not PEM text, spares a parse per
 * call: the generator opens thousands of artifacts.)
 */
export function openStatus(bytes: Uint8Array, publicKey: KeyObject | string): string {
  try {
    readArtifact(bytes, { publicKey, requireSignature: true });
    return 'WG_OK';
  } catch (error) {
    if (error instanceof FormatError) return `WG_E_${error.code}`;
    throw new Error(`opening a mutated artifact threw a non-FormatError: ${(error as Error).stack}`);
  }
}

/**
 * What wg_open gives on `arith` with the coded kernels: formats' status
 * (with the key when `publicKey` is given, else an unsigned artifact without
 * one), then WG_E_UNSUPPORTED for a model the library does not run there.
 */
export function deviceStatus(bytes: Uint8Array, arith: Arithmetic, publicKey: KeyObject | string | null): string {
  try {
    const artifact = publicKey === null ? readArtifact(bytes) : readArtifact(bytes, { publicKey, requireSignature: true });
    checkFirmwareSupport(artifact, arith, 'coded');
    return 'WG_OK';
  } catch (error) {
    if (error instanceof FormatError) return `WG_E_${error.code}`;
    if (error instanceof DeviceError && error.code === DeviceErrorCode.UNSUPPORTED_MODEL) return 'WG_E_UNSUPPORTED';
    throw new Error(`opening an artifact threw a non-FormatError: ${(error as Error).stack}`);
  }
}

/** A record's STATUS [INT_STATUS] words: the f32 path's status, then the int path's when it differs. */
export function statusWords(bytes: Uint8Array, publicKey: KeyObject | string | null): string {
  const f32 = deviceStatus(bytes, 'f32', publicKey);
  const int = deviceStatus(bytes, 'int', publicKey);
  return int === f32 ? f32 : `${f32} ${int}`;
}

// ---------------------------------------------------------------- mutations

interface Region {
  name: string;
  start: number;
  end: number;
}

/** Where the FlatBuffers header, vtable, table and vectors of an artifact lie. */
function regionsOf(artifact: Artifact): Region[] {
  const bytes = artifact.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const root = view.getUint32(0, true);
  const vtable = root - view.getInt32(root, true);
  const vtableBytes = view.getUint16(vtable, true);
  const tableBytes = view.getUint16(vtable + 2, true);
  const off = (v: Uint8Array): number => v.byteOffset - bytes.byteOffset;
  const regions: Region[] = [
    { name: 'header', start: 0, end: 8 },
    { name: 'vtable', start: vtable, end: vtable + vtableBytes },
    { name: 'table', start: root, end: root + tableBytes },
    { name: 'manifest-length', start: off(artifact.manifestBytes) - 4, end: off(artifact.manifestBytes) },
    { name: 'manifest', start: off(artifact.manifestBytes), end: off(artifact.manifestBytes) + artifact.manifestBytes.length },
  ];
  if (artifact.signature) {
    regions.push({ name: 'signature-length', start: off(artifact.signature) - 4, end: off(artifact.signature) });
    regions.push({ name: 'signature', start: off(artifact.signature), end: off(artifact.signature) + artifact.signature.length });
  }
  if (artifact.segments.length > 0) {
    const first = off(artifact.segments[0]!.data);
    const lastSegment = artifact.segments[artifact.segments.length - 1]!;
    regions.push({ name: 'segdata-length', start: first - 4, end: first });
    regions.push({ name: 'segdata', start: first, end: off(lastSegment.data) + lastSegment.data.length });
  }
  return regions;
}

function regionAt(regions: Region[], at: number): string {
  return regions.find((r) => at >= r.start && at < r.end)?.name ?? 'other';
}

interface BadVector {
  name: string;
  bytes: Uint8Array;
}

function mutations(base: string, artifact: Artifact, all: boolean): BadVector[] {
  const bytes = artifact.bytes;
  const n = bytes.length;
  const regions = regionsOf(artifact);
  const out: BadVector[] = [];
  // truncations: every length below 64, then every 13th, and one short of whole
  const cuts = new Set<number>();
  for (let i = 0; i < Math.min(64, n); i++) cuts.add(i);
  for (let i = 64; i < n; i += all ? 13 : 97) cuts.add(i);
  cuts.add(n - 1);
  for (const cut of [...cuts].sort((a, b) => a - b)) out.push({ name: `${base}-cut-${cut}`, bytes: bytes.slice(0, cut) });
  // single-byte changes: every byte (xor 0x01) of the small model, a few per region of the others
  const flip = (at: number, mask: number, tag: string): void => {
    const b = bytes.slice();
    b[at] ^= mask;
    out.push({ name: `${base}-${tag}-${regionAt(regions, at)}-${at}`, bytes: b });
  };
  // (the manifest's bytes one per word, lanes rotating, after its first 64: its own header and root vtable)
  if (all) {
    for (let at = 0; at < n; at++) {
      const region = regions.find((r) => at >= r.start && at < r.end);
      const sparse = region?.name === 'manifest' && at - region.start >= 64 && at % 4 !== (at >> 2) % 4;
      if (!sparse) flip(at, 0x01, 'flip');
    }
  }
  for (const region of regions) {
    const span = region.end - region.start;
    for (const at of new Set([region.start, region.start + (span >> 1), region.end - 1])) flip(at, 0x80, 'hi');
  }
  // forged u32 lengths and offsets
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const forge = (at: number, value: number, tag: string): void => {
    const b = bytes.slice();
    new DataView(b.buffer).setUint32(at, value >>> 0, true);
    out.push({ name: `${base}-forge-${tag}-${value >>> 0}`, bytes: b });
  };
  const u32Fields: Array<[string, number]> = [['root', 0]];
  for (const region of regions) if (region.name.endsWith('-length')) u32Fields.push([region.name, region.start]);
  // the table's offset fields (uoffset to each vector)
  const root = view.getUint32(0, true);
  const vtable = root - view.getInt32(root, true);
  const vtableBytes = view.getUint16(vtable, true);
  for (let slot = 4; slot < vtableBytes; slot += 2) {
    const field = view.getUint16(vtable + slot, true);
    if (field !== 0 && slot >= 6) u32Fields.push([`field${(slot - 4) / 2}`, root + field]);
  }
  for (const [tag, at] of u32Fields) {
    const value = view.getUint32(at, true);
    const forged = new Set([0, 1, value + 1, value - 1, value + 4, n, n - at, 0x7fffffff, 0xffffffff].map((v) => v >>> 0));
    forged.delete(value);
    for (const v of forged) forge(at, v, tag);
  }
  return out;
}

// ---------------------------------------------------------------- Rice forgeries

/**
 * What a device gets opening an unsigned artifact without a key on `arith`
 * (coded kernels): WG_OK or WG_E_<code>; a model formats reads but the
 * firmware does not run (an activation changed to sigmoid, an input shape
 * that no longer feeds the first layer) is WG_E_UNSUPPORTED.
 */
export function unsignedStatus(bytes: Uint8Array, arith: Arithmetic = 'f32'): string {
  return deviceStatus(bytes, arith, null);
}

/**
 * `artifact` unsigned, with held segment `held` replaced by `data` (and its
 * manifest record's count by `count`): the manifest names the new size and
 * SHA-256, so only decoding the segment can refuse it.
 */
function forgeSegment(artifact: Artifact, held: number, data: Uint8Array, count?: number): Uint8Array {
  const m = artifact.manifest;
  const s = artifact.segments[held]!;
  const segments = m.segments.map((ref) =>
    ref.tensor === s.tensor && ref.interval === s.interval ? { ...ref, bytes: data.length, sha256: sha256(data), count: count ?? ref.count } : ref,
  );
  const manifestBytes = writeManifest({ ...m, segments });
  return buildArtifactBytes(
    manifestBytes,
    null,
    artifact.heldIntervals,
    artifact.segments.map((x, i) => (i === held ? data : x.data)),
  );
}

/** A Rice segment of `entries` (position, stored form) as RiceWriter writes it, after the value block `values`. */
function riceSegment(elements: number, count: number, codeBits: number, values: Uint8Array, entries: Array<[number, number]>): Uint8Array {
  const w = new RiceWriter(elements, count, codeBits);
  for (const [p, raw] of entries) w.add(p, raw);
  return concatBytes([values, w.finish()]);
}

/**
 * Damaged Rice segments of the Rice models: the stream cut, a byte after
 * it, a pad bit set, all zeros (a run of zero bits past the bound), a last
 * position past the tensor, a local code past its centroids, a stored zero,
 * the declared count one off (which changes k), and single bit flips.
 */
function forgeries(all: Vector[]): BadVector[] {
  const out: BadVector[] = [];
  const unsignedOf = (name: string): Artifact => {
    const v = all.find((w) => w.name === name)!;
    return readArtifact(encodeArtifact(v.input, { heldIntervals: v.license }));
  };
  // 3 centroids in the codebook: a 2-bit code can name a fourth
  const three: ModelInput = {
    model: 'rice-three',
    version: 1,
    preprocess: { inputShape: [8], scale: 1 / 255, offset: 0 },
    layers: [{ kind: 'dense', name: 'dense_0', inputs: 8, units: 4, activation: 'softmax', kernel: 0, bias: -1 }],
    tensors: [
      {
        name: 'dense_0/kernel',
        shape: [8, 4],
        encoding: 'codebook-sparse',
        bits: 2,
        codebook: Float32Array.from([-0.5, 0.25, 0.75]),
        values: Float32Array.from({ length: 32 }, (_, i) => (i % 5 === 1 ? -0.5 : i % 7 === 2 ? 0.75 : i % 3 === 0 ? 0.25 : 0)),
        licensed: false,
        coding: 'rice',
      },
    ],
    intervals: INTERVALS,
    tiers: TIERS,
  };
  const models: Array<[string, Artifact]> = [
    ['tiny-rice', unsignedOf('tiny-rice')],
    ['mixed-rice', unsignedOf('mixed-rice')],
    ['licensed-bias-rice-part', unsignedOf('licensed-bias-rice-part')],
    ['rice-three', readArtifact(encodeArtifact(three))],
  ];
  for (const [name, artifact] of models) {
    const m = artifact.manifest;
    artifact.segments.forEach((s, held) => {
      const tensor = m.tensors[s.tensor]!;
      if (tensor.coding !== 'rice') return;
      const elements = elementCount(tensor.shape);
      const codeBits = tensor.encoding === 'codebook-sparse' ? rawBitsOf(tensor, s.interval, m.intervals) : 0;
      const valueBytes = s.count * valueBytesPerEntry(tensor);
      const values = s.data.subarray(0, valueBytes);
      const { positions, raws } = decodeRawEntries(s.tensor, tensor, s.interval, m.intervals, s.count, s.data);
      const entries: Array<[number, number]> = Array.from(positions, (p, i) => [p, codeBits ? raws[i]! : 0]);
      const tag = `${name}-t${s.tensor}-i${s.interval === 0xffff ? 'base' : s.interval}`;
      const add = (what: string, data: Uint8Array, count?: number): void => {
        out.push({ name: `forge-${tag}-${what}`, bytes: forgeSegment(artifact, held, data, count) });
      };
      add('good', s.data);
      add('cut', s.data.subarray(0, s.data.length - 1));
      add('trailing-zero', concatBytes([s.data, new Uint8Array([0])]));
      add('trailing-one', concatBytes([s.data, new Uint8Array([0x80])]));
      const last = s.data[s.data.length - 1]!;
      const padBits = (last & -last) === 0 ? 0 : Math.log2(last & -last); // the zero bits under the last one
      for (let b = 0; b < padBits; b++) {
        const d = s.data.slice();
        d[d.length - 1] = last | (1 << b);
        add(`pad-bit${b}`, d);
      }
      add('zeros', concatBytes([values, new Uint8Array(s.data.length - valueBytes)]));
      add('all-ones', concatBytes([values, new Uint8Array(s.data.length - valueBytes).fill(0xff)]));
      add(
        'past-end',
        riceSegment(
          elements,
          s.count,
          codeBits,
          values,
          entries.map(([p, r], i) => [i === entries.length - 1 ? elements : p, r]),
        ),
      );
      add('count-plus-one', s.data, s.count + 1);
      if (s.count > 1) add('count-minus-one', s.data, s.count - 1);
      if (codeBits > 0) {
        add(
          'top-code',
          riceSegment(
            elements,
            s.count,
            codeBits,
            values,
            entries.map(([p], i) => [p, i === entries.length >> 1 ? (1 << codeBits) - 1 : 0]),
          ),
        );
      }
      if (valueBytes > 0) {
        const d = s.data.slice();
        d.fill(0, 0, tensor.encoding === 'int8' ? 1 : 4);
        add('zero-value', d);
      }
      // single bit flips of the stream: every bit of a short one, 24 of a long one
      const streamBits = 8 * (s.data.length - valueBytes);
      const step = Math.max(1, Math.floor(streamBits / 24));
      for (let bit = 0; bit < streamBits; bit += step) {
        const d = s.data.slice();
        d[valueBytes + (bit >> 3)]! ^= 0x80 >> (bit & 7);
        add(`bit${bit}`, d);
      }
    });
  }
  return out;
}

/**
 * Every byte before the segment data of an unsigned artifact (container,
 * manifest, held intervals) xor 0x01 and xor 0x80: the manifest's coding
 * field among them, which a signed artifact's signature keeps out of reach.
 * (A byte of segment data changed is a hash mismatch.)
 */
function unsignedFlips(base: string, bytes: Uint8Array): BadVector[] {
  const out: BadVector[] = [];
  const artifact = readArtifact(bytes);
  const first = artifact.segments.length > 0 ? artifact.segments[0]!.data.byteOffset - artifact.bytes.byteOffset : bytes.length;
  for (let at = 0; at < first; at++) {
    for (const x of [0x01, 0x80]) {
      const b = bytes.slice();
      b[at]! ^= x;
      const name = `${base}-unsigned-x${x.toString(16)}-${at}`;
      out.push({ name: failsOnlyInWindowFields(b) ? `${name}-v2fields` : name, bytes: b });
    }
  }
  return out;
}

/** The verifier's view of a Layer before version 2: field slots 0-6, the window fields unknown. */
const versionOneManifestSpec: TableSpec = {
  ...manifestSpec,
  fields: manifestSpec.fields.map((f) =>
    f.kind === 'tables' && f.table === layerSpec ? { ...f, table: { ...layerSpec, fields: layerSpec.fields.slice(0, 7) } } : f,
  ),
};

/**
 * Whether formats' FlatBuffers verifier refuses the artifact's manifest only
 * for a Layer's window fields (field slots 7-11): a build without WG_SPATIAL
 * (a reader of version 1) does not know those fields, so it refuses the
 * manifest later and for another reason (the canonical replay).
 */
function failsOnlyInWindowFields(bytes: Uint8Array): boolean {
  let manifest: Uint8Array | null;
  try {
    verifyBuffer(bytes, ARTIFACT_IDENTIFIER, artifactSpec, 'artifact');
    manifest = FbArtifact.getRootAsArtifact(new flatbuffers.ByteBuffer(bytes)).manifestArray();
    if (!manifest) return false;
    verifyBuffer(manifest, MANIFEST_IDENTIFIER, versionOneManifestSpec, 'manifest');
  } catch {
    return false;
  }
  try {
    verifyBuffer(manifest, MANIFEST_IDENTIFIER, manifestSpec, 'manifest');
    return false;
  } catch {
    return true;
  }
}

// ---------------------------------------------------------------- layer graphs the reader refuses

/**
 * Unsigned artifacts whose manifest formats' writer (which checks nothing)
 * wrote from a changed layer graph of `base`, segments unchanged: each
 * breaks one rule of docs/format.md 3.3 rule 6, or keeps them all but is
 * not one the firmware runs (a softmax on a feature map or before the last
 * layer), or is valid. Named graph-vN-WHAT by the manifest's version.
 */
function badGraphs(base: Artifact, dense: Artifact): BadVector[] {
  const out: BadVector[] = [];
  const add = (what: string, from: Artifact, edit: (m: Artifact['manifest']) => Artifact['manifest']): void => {
    const manifest = edit(structuredClone(from.manifest));
    const bytes = buildArtifactBytes(
      writeManifest(manifest),
      null,
      from.heldIntervals,
      from.segments.map((x) => x.data),
    );
    out.push({ name: `graph-v${manifest.formatVersion}-${what}`, bytes });
  };
  type Any = Record<string, unknown>;
  const layer = (m: Artifact['manifest'], name: string): Any => m.layers.find((l) => l.name === name)! as unknown as Any;
  const set = (name: string, field: string, value: unknown) => (m: Artifact['manifest']) => {
    layer(m, name)[field] = value;
    return m;
  };
  // conv-strided: c1 conv2d, dw depthwise, pool_max, pool_avg, pw (1x1 conv, stride 2), fc, out
  add('good', base, (m) => m);
  add('dense-only', dense, (m) => ({ ...m, formatVersion: 2 }));
  add('conv', base, (m) => ({ ...m, formatVersion: 1 }));
  add('relu6', dense, (m) => {
    (m.layers[0] as unknown as Any).activation = 'relu6';
    return m;
  });
  add('version3', base, (m) => ({ ...m, formatVersion: 3 }));
  // a window field whose offset leaves its Layer table (formats' writer never writes one): the verifier's
  const moved = (what: string, layerIndex: number, slot: number): void => {
    const manifest = moveLayerField(writeManifest(base.manifest), layerIndex, slot, 'past-end');
    out.push({
      name: `graph-v2-${what}`,
      bytes: buildArtifactBytes(
        manifest,
        null,
        base.heldIntervals,
        base.segments.map((x) => x.data),
      ),
    });
  };
  moved('window-offset', 0, 7);
  moved('stride-offset', 0, 9);
  moved(
    'padding-offset',
    base.manifest.layers.findIndex((l) => 'padding' in l && l.padding === 'same'),
    11,
  );
  add('window-h0', base, set('c1', 'window', [0, 3]));
  add('window-w0', base, set('pool_max', 'window', [3, 0]));
  add('stride-h0', base, set('dw', 'strides', [0, 1]));
  add('stride-w0', base, set('pool_avg', 'strides', [1, 0]));
  add('padding', base, set('c1', 'padding', 'full'));
  add('kind', base, set('pool_avg', 'kind', 'upsample2d'));
  add('activation', base, set('c1', 'activation', 'swish'));
  add('pool-activation', base, set('pool_max', 'activation', 'relu'));
  add('pool-kernel', base, set('pool_max', 'kernel', 1));
  add('pool-bias', base, set('pool_avg', 'bias', 0));
  add('dense-window', base, set('fc', 'window', [1, 1]));
  add('dense-stride', base, set('out', 'strides', [2, 1]));
  add('dense-padding', base, set('fc', 'padding', 'same'));
  add('kernel-shape', base, set('c1', 'window', [3, 3]));
  add('kernel-missing', base, set('pw', 'kernel', 200));
  add('bias-missing', base, set('pw', 'bias', 200));
  add('bias-negative', base, set('fc', 'bias', -2));
  add('bias-size', base, (m) => {
    const fc = layer(m, 'fc');
    const out = layer(m, 'out');
    [fc.bias, out.bias] = [out.bias, fc.bias];
    return m;
  });
  add('depthwise-multiple', base, (m) => {
    layer(m, 'dw').units = 10;
    return m;
  });
  add('pool-units', base, set('pool_max', 'units', 6));
  add('channels', base, set('c1', 'inputs', 3));
  add('inputs-zero', base, set('pool_avg', 'inputs', 0));
  add('valid-too-large', base, (m) => {
    const pool = layer(m, 'pool_avg');
    pool.window = [4, 4];
    pool.padding = 'valid';
    return m;
  });
  add('dense-inputs', base, set('fc', 'inputs', 25));
  add('input-rank1', base, (m) => ({ ...m, preprocess: { ...m.preprocess, inputShape: [198] } }));
  add('input-rank4', base, (m) => ({ ...m, preprocess: { ...m.preprocess, inputShape: [9, 11, 2, 1] } }));
  add('input-shape', base, (m) => ({ ...m, preprocess: { ...m.preprocess, inputShape: [9, 11, 3] } }));
  // valid graphs the firmware library does not run (formats reads them)
  add('softmax-map', base, (m) => {
    m.layers = m.layers.slice(0, 5);
    (m.layers[4] as unknown as Any).activation = 'softmax';
    return m;
  });
  add('softmax-hidden', base, set('fc', 'activation', 'softmax'));
  add('sigmoid', base, set('pw', 'activation', 'sigmoid'));
  // valid: the model cut after its pooling layers (a map is the output), stride > window
  add('pool-last', base, (m) => {
    m.layers = m.layers.slice(0, 4);
    return m;
  });
  add('stride-over-window', base, (m) => {
    const pool = layer(m, 'pool_avg');
    pool.window = [1, 1];
    pool.strides = [3, 2];
    pool.padding = 'valid';
    m.layers = m.layers.filter((l) => l.name !== 'fc' && l.name !== 'out');
    return m;
  });
  return out;
}

// ---------------------------------------------------------------- writing

export interface ConformanceSummary {
  models: number;
  samples: number;
  expects: number;
  bad: number;
  unsigned: number;
  /** `forged`, `badunsigned` and `badgraph` records (unsigned artifacts opened without a key). */
  forged: number;
  badUnsigned: number;
  badGraph: number;
  /** `refuse` records: a model on a path or kernel that does not run it. */
  refusals: number;
}

export function generateConformance(dir: string): ConformanceSummary {
  for (const sub of ['models', 'samples', 'expect', 'images', 'bad', 'unsigned']) mkdirSync(join(dir, sub), { recursive: true });
  const lines: string[] = [
    '# weightgate conformance vectors: generated by scripts/gen-conformance.ts; do not edit',
    '# record formats: see the header of scripts/gen-conformance.ts',
    `key ${Buffer.from(CONFORMANCE_KEY.publicRaw).toString('hex')}`,
  ];
  const write = (file: string, bytes: Uint8Array): string => {
    writeFileSync(join(dir, file), bytes);
    return file;
  };
  const summary: ConformanceSummary = { models: 0, samples: 0, expects: 0, bad: 0, unsigned: 0, forged: 0, badUnsigned: 0, badGraph: 0, refusals: 0 };
  const signed = new Map<string, Artifact>();
  const all = vectors();
  const expected = new Map<string, Uint8Array>();
  all.forEach((v, index) => {
    const bytes = encodeArtifact(v.input, { heldIntervals: v.license, privateKey: CONFORMANCE_KEY.privateKey });
    const artifact = readArtifact(bytes, { publicKey: CONFORMANCE_KEY.publicKey, requireSignature: true });
    signed.set(v.name, artifact);
    const inputs = elementCount(artifact.manifest.preprocess.inputShape);
    const sizes = layerOutputs(artifact);
    const outputs = sizes[sizes.length - 1]!;
    const codings = [...new Set(artifact.manifest.tensors.map((t) => t.coding ?? 'range'))].join('+');
    const graph = artifact.manifest.layers.map((l, i) => (l.kind === 'dense' ? `${sizes[i]}` : `${l.kind}:${sizes[i]}`));
    lines.push('', `# ${v.name}: ${[inputs, ...graph].join('-')}, license [${artifact.heldIntervals}], ${codings}`);
    lines.push(`model ${v.name} ${write(`models/${v.name}.wgm`, bytes)} ${inputs} ${outputs}`);
    // a Rice twin runs its range twin's samples: the same weights give the same outputs
    const seedIndex = v.twin ? all.findIndex((w) => w.name === v.twin) : index;
    const samples = samplesFor(v.samples, inputs, 1000 + seedIndex);
    lines.push(`samples ${v.name} ${write(`samples/${v.name}.bin`, samples)} ${v.samples}`);
    summary.models++;
    summary.samples += v.samples;
    for (const arith of ARITHS) {
      for (const kernel of KERNELS) {
        const refusal = supportStatus(artifact, arith, kernel);
        if (refusal !== 'WG_OK') {
          // device-sim refuses it too (its interpreter has no such path for the model)
          lines.push(`refuse ${v.name} ${arith} ${kernel} ${refusal}`);
          summary.refusals++;
          continue;
        }
        const out = expectedOutputs(artifact, samples, arith, kernel);
        const twin = v.twin ? expected.get(`${v.twin}.${arith}.${kernel}`) : undefined;
        if (v.twin && (!twin || Buffer.compare(Buffer.from(twin), Buffer.from(out)) !== 0)) {
          throw new Error(`${v.name} (${arith}, ${kernel}): device-sim's outputs differ from its range-coded twin ${v.twin}'s`);
        }
        expected.set(`${v.name}.${arith}.${kernel}`, out);
        const file = write(`expect/${v.name}.${arith}.${kernel}.bin`, out);
        lines.push(`expect ${v.name} ${arith} ${kernel} ${file}`);
        summary.expects++;
      }
    }
    const plan = firmwarePlan(artifact, 'f32');
    lines.push(`plan ${v.name} ${plan.arenaCodedBytes} ${plan.arenaImageBytes} ${plan.imageBytes}`);
    if (plan.imageBytes > 0) lines.push(`image ${v.name} ${write(`images/${v.name}.wgx`, imageBytesOf(artifact))}`);
  });

  lines.push('', '# artifacts that do not open (or, where a change is harmless, do: WG_OK)');
  const bad: BadVector[] = [];
  bad.push(...mutations('tiny', signed.get('tiny')!, true));
  bad.push(...mutations('mixed-part', signed.get('mixed-part')!, false));
  bad.push(...mutations('tiny-rice', signed.get('tiny-rice')!, true));
  bad.push(...mutations('mixed-rice-part', signed.get('mixed-rice-part')!, false));
  bad.push(...mutations('conv-edge', signed.get('conv-edge')!, true));
  bad.push(...mutations('conv-strided-rice-part', signed.get('conv-strided-rice-part')!, false));
  for (const name of ['tiny', 'mixed', 'tiny-rice', 'conv-head']) {
    const model = all.find((v) => v.name === name)!;
    bad.push({ name: `${name}-foreign-key`, bytes: encodeArtifact(model.input, { privateKey: FOREIGN_KEY.privateKey }) });
    bad.push({ name: `${name}-unsigned`, bytes: encodeArtifact(model.input, {}) });
  }
  for (const v of bad) {
    lines.push(`bad ${v.name} ${write(`bad/${v.name}.wgm`, v.bytes)} ${statusWords(v.bytes, CONFORMANCE_KEY.publicKey)}`);
    summary.bad++;
  }

  lines.push('', '# unsigned artifacts: open without a key');
  for (const v of all.filter((v) =>
    ['tiny', 'mixed', 'licensed-bias-basic', 'tiny-rice', 'mixed-rice', 'licensed-bias-rice-basic', 'mixed-rice-kernels'].includes(v.name),
  )) {
    const bytes = encodeArtifact(v.input, { heldIntervals: v.license });
    const artifact = readArtifact(bytes);
    const layers = artifact.manifest.layers;
    lines.push(`unsigned ${v.name} ${write(`unsigned/${v.name}.wgm`, bytes)} ${layers[0]!.inputs} ${layers[layers.length - 1]!.units}`);
    summary.unsigned++;
  }

  lines.push('', '# unsigned artifacts with a damaged Rice segment, their manifest rewritten to match: open without a key');
  for (const v of forgeries(all)) {
    lines.push(`forged ${v.name} ${write(`unsigned/${v.name}.wgm`, v.bytes)} ${statusWords(v.bytes, null)}`);
    summary.forged++;
  }
  lines.push('', '# unsigned Rice artifacts, and a convolutional one, with a byte changed: open without a key (canonical builds)');
  for (const name of ['tiny-rice', 'mixed-rice-kernels', 'conv-edge']) {
    const v = all.find((w) => w.name === name)!;
    const bytes = encodeArtifact(v.input, { heldIntervals: v.license });
    for (const m of unsignedFlips(name, bytes)) {
      lines.push(`badunsigned ${m.name} ${write(`unsigned/${m.name}.wgm`, m.bytes)} ${statusWords(m.bytes, null)}`);
      summary.badUnsigned++;
    }
  }
  lines.push('', '# unsigned artifacts the writer made from changed layer graphs: open without a key (every build)');
  for (const m of badGraphs(
    readArtifact(encodeArtifact(all.find((w) => w.name === 'conv-strided')!.input)),
    readArtifact(encodeArtifact(all.find((w) => w.name === 'tiny')!.input)),
  )) {
    lines.push(`badgraph ${m.name} ${write(`unsigned/${m.name}.wgm`, m.bytes)} ${statusWords(m.bytes, null)}`);
    summary.badGraph++;
  }
  writeFileSync(join(dir, 'index.txt'), lines.join('\n') + '\n');
  return summary;
}

/** WG_OK, or the status wg_open gives a good artifact on a path and kernel that do not run it. */
export function supportStatus(artifact: Artifact, arith: Arithmetic, kernel: FirmwareKernel): string {
  try {
    checkFirmwareSupport(artifact, arith, kernel);
    return 'WG_OK';
  } catch (error) {
    if (error instanceof DeviceError && error.code === DeviceErrorCode.UNSUPPORTED_MODEL) return 'WG_E_UNSUPPORTED';
    throw error;
  }
}

// Run as a program: this source (through tsx), or the test runner's compiled copy of it (where
// import.meta.url still names this source), so the check is on the name run.
if (/(^|[\\/])gen-conformance\.(ts|js)$/.test(process.argv[1] ?? '')) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: npx tsx scripts/gen-conformance.ts DIR\n');
    process.exit(2);
  }
  const start = Date.now();
  const summary = generateConformance(dir);
  process.stdout.write(
    `conformance vectors in ${dir}: ${summary.models} models, ${summary.samples} samples, ${summary.expects} expected outputs, ` +
      `${summary.refusals} refusals, ${summary.bad} bad artifacts, ${summary.unsigned} unsigned, ${summary.forged} forged Rice segments, ` +
      `${summary.badUnsigned} damaged unsigned, ${summary.badGraph} layer graphs (${Date.now() - start} ms)\n`,
  );
}

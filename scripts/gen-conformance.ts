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
//   plan NAME ARENA_CODED ARENA_IMAGE IMAGE_BYTES
//   image NAME FILE                      device-sim's execution image of the model
//   bad NAME FILE STATUS                 opening it with the key gives STATUS (WG_OK or WG_E_<FormatError code>)
//   unsigned NAME FILE INPUTS OUTPUTS    a good unsigned artifact (opens without a key)
//   forged NAME FILE STATUS              an unsigned artifact whose Rice segment was damaged and its
//                                        manifest's size and SHA-256 rewritten to match: opening it
//                                        without a key (every segment decoded and checked) gives STATUS,
//                                        in every build (a Rice stream's canonical check is never left out)
//   badunsigned NAME FILE STATUS         an unsigned artifact with one byte changed: opening it without
//                                        a key gives STATUS in a build that replays the manifest writer
//                                        (WG_CANONICAL=ON; docs/firmware.md)
//
// The expected status is what device-sim does to open an artifact for a
// device (check-artifact.ts): formats' readArtifact (verifier, manifest,
// license, segment hashes, canonical form), then the signature with the key.
//
// Segment codings (docs/format.md 5.10): every model also comes Rice-coded
// (NAME-rice..., same entries, same samples), and its expected outputs
// must equal the range-coded twin's bit for bit; the generator checks it.
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
import { checkFirmwareSupport, firmwarePlan, type Arithmetic } from '../device-sim/firmware-plan.ts';
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

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 key pair from a 32-byte seed (RFC 8032's private key). */
export function keyFromSeed(seed: Uint8Array): { privateKey: KeyObject; publicPem: string; publicRaw: Uint8Array } {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), publicRaw: new Uint8Array(der.subarray(der.length - 32)) };
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
  // Every one of them again with Rice segments (after them: the range
  // vectors keep their sample seeds), and a model whose kernels are Rice
  // and biases range.
  for (const v of [...out])
    out.push({ ...v, name: v.name.replace(/^(tiny|mixed|licensed-bias|wide|paper)/, '$1-rice'), input: withCoding(v.input, 'rice'), twin: v.name });
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

/** The status a device gets opening `bytes` with `publicPem`: WG_OK or WG_E_<FormatError code>. */
export function openStatus(bytes: Uint8Array, publicPem: string): string {
  try {
    readArtifact(bytes, { publicKey: publicPem, requireSignature: true });
    return 'WG_OK';
  } catch (error) {
    if (error instanceof FormatError) return `WG_E_${error.code}`;
    throw new Error(`opening a mutated artifact threw a non-FormatError: ${(error as Error).stack}`);
  }
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
 * What a device gets opening an unsigned artifact without a key: WG_OK or
 * WG_E_<code>; a model formats reads but the firmware does not run (an
 * activation changed to sigmoid, or an input shape that no longer feeds the
 * first layer) is WG_E_UNSUPPORTED.
 */
export function unsignedStatus(bytes: Uint8Array): string {
  try {
    checkFirmwareSupport(readArtifact(bytes));
    return 'WG_OK';
  } catch (error) {
    if (error instanceof FormatError) return `WG_E_${error.code}`;
    if (error instanceof DeviceError && error.code === DeviceErrorCode.UNSUPPORTED_MODEL) return 'WG_E_UNSUPPORTED';
    throw new Error(`opening a forged artifact threw a non-FormatError: ${(error as Error).stack}`);
  }
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
      out.push({ name: `${base}-unsigned-x${x.toString(16)}-${at}`, bytes: b });
    }
  }
  return out;
}

// ---------------------------------------------------------------- writing

export interface ConformanceSummary {
  models: number;
  samples: number;
  expects: number;
  bad: number;
  unsigned: number;
  /** `forged` and `badunsigned` records (unsigned artifacts opened without a key). */
  forged: number;
  badUnsigned: number;
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
  const summary: ConformanceSummary = { models: 0, samples: 0, expects: 0, bad: 0, unsigned: 0, forged: 0, badUnsigned: 0 };
  const signed = new Map<string, Artifact>();
  const all = vectors();
  const expected = new Map<string, Uint8Array>();
  all.forEach((v, index) => {
    const bytes = encodeArtifact(v.input, { heldIntervals: v.license, privateKey: CONFORMANCE_KEY.privateKey });
    const artifact = readArtifact(bytes, { publicKey: CONFORMANCE_KEY.publicPem, requireSignature: true });
    signed.set(v.name, artifact);
    const inputs = artifact.manifest.layers[0]!.inputs;
    const outputs = artifact.manifest.layers[artifact.manifest.layers.length - 1]!.units;
    const codings = [...new Set(artifact.manifest.tensors.map((t) => t.coding ?? 'range'))].join('+');
    lines.push('', `# ${v.name}: ${[inputs, ...artifact.manifest.layers.map((l) => l.units)].join('-')}, license [${artifact.heldIntervals}], ${codings}`);
    lines.push(`model ${v.name} ${write(`models/${v.name}.wgm`, bytes)} ${inputs} ${outputs}`);
    // a Rice twin runs its range twin's samples: the same weights give the same outputs
    const seedIndex = v.twin ? all.findIndex((w) => w.name === v.twin) : index;
    const samples = samplesFor(v.samples, inputs, 1000 + seedIndex);
    lines.push(`samples ${v.name} ${write(`samples/${v.name}.bin`, samples)} ${v.samples}`);
    summary.models++;
    summary.samples += v.samples;
    for (const arith of ARITHS) {
      for (const kernel of KERNELS) {
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
    const plan = firmwarePlan(artifact);
    lines.push(`plan ${v.name} ${plan.arenaCodedBytes} ${plan.arenaImageBytes} ${plan.imageBytes}`);
    lines.push(`image ${v.name} ${write(`images/${v.name}.wgx`, imageBytesOf(artifact))}`);
  });

  lines.push('', '# artifacts that do not open (or, where a change is harmless, do: WG_OK)');
  const bad: BadVector[] = [];
  bad.push(...mutations('tiny', signed.get('tiny')!, true));
  bad.push(...mutations('mixed-part', signed.get('mixed-part')!, false));
  bad.push(...mutations('tiny-rice', signed.get('tiny-rice')!, true));
  bad.push(...mutations('mixed-rice-part', signed.get('mixed-rice-part')!, false));
  for (const name of ['tiny', 'mixed', 'tiny-rice']) {
    const model = all.find((v) => v.name === name)!;
    bad.push({ name: `${name}-foreign-key`, bytes: encodeArtifact(model.input, { privateKey: FOREIGN_KEY.privateKey }) });
    bad.push({ name: `${name}-unsigned`, bytes: encodeArtifact(model.input, {}) });
  }
  for (const v of bad) {
    lines.push(`bad ${v.name} ${write(`bad/${v.name}.wgm`, v.bytes)} ${openStatus(v.bytes, CONFORMANCE_KEY.publicPem)}`);
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
    lines.push(`forged ${v.name} ${write(`unsigned/${v.name}.wgm`, v.bytes)} ${unsignedStatus(v.bytes)}`);
    summary.forged++;
  }
  lines.push('', '# unsigned Rice artifacts with a byte changed: open without a key (canonical builds)');
  for (const name of ['tiny-rice', 'mixed-rice-kernels']) {
    const v = all.find((w) => w.name === name)!;
    const bytes = encodeArtifact(v.input, { heldIntervals: v.license });
    for (const m of unsignedFlips(name, bytes)) {
      lines.push(`badunsigned ${m.name} ${write(`unsigned/${m.name}.wgm`, m.bytes)} ${unsignedStatus(m.bytes)}`);
      summary.badUnsigned++;
    }
  }
  writeFileSync(join(dir, 'index.txt'), lines.join('\n') + '\n');
  return summary;
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
      `${summary.bad} bad artifacts, ${summary.unsigned} unsigned, ${summary.forged} forged Rice segments, ${summary.badUnsigned} damaged unsigned (${Date.now() - start} ms)\n`,
  );
}

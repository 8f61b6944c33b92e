// The execution image: what a device runs inference from. The .wgm's
// segments are range-coded to travel and to be stored small (~8 bits per
// kept weight), but decoding them costs ~160 ns per weight, on every
// inference. So once per install the device transcodes its verified artifact
// into this byte-aligned sparse form, programs it into the slot's flash after
// the artifact, and the kernels read it in place from then on.
//
// It stays sparse and encoded (no dense copy of a weight matrix: about 2
// bytes per kept weight), and it is laid out for the kernel: the kernel
// matrix [inputs, units] as rows, one row per input feature, so a zero input
// (blank pixels; ReLU zeros) skips its whole row.
//
// Layout (little-endian, every section 4-byte aligned):
//
//   header     HEADER_BYTES
//     0  magic "WGX1"        4  image format version
//     8  artifact SHA-256   40  SHA-256 of everything after the header
//    72  layer count        76  total image bytes
//   per layer  LAYER_BYTES: 12 u32
//     inputs, units, entries, countBytes (1|2|4: width of a row's count),
//     entryBytes (2|4), colBits, tableLength (0: values are per-entry f32),
//     countsAt, entriesAt, valuesAt, biasAt, reserved
//   per layer sections
//     counts   inputs × countBytes: kept weights in each row
//     entries  entries × entryBytes, rows in order, columns ascending in a
//              row: column | (table index << colBits)
//     values   tableLength × f32 (the layer's codebook), or entries × f32
//              (int8 and dense-f32 kernels, dequantized)
//     bias     units × f32 (zero where the held intervals hold no bias entry)
//
// The image is derived data, not trusted: it names the artifact it was made
// from and hashes its own body, and openExecImage checks every count, column
// and table index once before a kernel runs, so a torn or rotten image is
// rebuilt (device.ts), never run.
import { createHash } from 'node:crypto';
import {
  BASE_INTERVAL,
  bytesEqual,
  isWeighted,
  intervalIndexOf,
  localCodebookIndices,
  decodeEntries,
  openSegment,
  type Artifact,
  type EntryReader,
  type Segment,
  type SegmentCursor,
} from '../formats/index.ts';
import { arenaMemory, type Arena } from './arena.ts';
import { BudgetError, DeviceError, DeviceErrorCode } from './errors.ts';

const MAGIC = 0x31584757; // "WGX1" read as a little-endian u32
export const EXEC_IMAGE_VERSION = 1;
const HEADER_BYTES = 80;
const LAYER_WORDS = 12;
const LAYER_BYTES = LAYER_WORDS * 4;
const SHA_AT = 8;
const BODY_SHA_AT = 40;

/** One layer of an opened image: typed views straight into the image's bytes. */
export interface ImageLayer {
  inputs: number;
  units: number;
  entryCount: number;
  counts: Uint8Array | Uint16Array | Uint32Array;
  entries: Uint16Array | Uint32Array;
  colBits: number;
  /** The codebook the entries index, or null when `values` holds one f32 per entry. */
  table: Float32Array | null;
  values: Float32Array | null;
  bias: Float32Array;
}

export interface ExecImage {
  bytes: Uint8Array;
  layers: ImageLayer[];
}

interface LayerPlan {
  layer: ImageLayerSpec;
  weightSegments: number[];
  biasSegments: number[];
  entries: number;
  countBytes: 1 | 2 | 4;
  entryBytes: 2 | 4;
  colBits: number;
  tableLength: number;
  countsAt: number;
  entriesAt: number;
  valuesAt: number;
  biasAt: number;
}

const align4 = (n: number): number => (n + 3) & ~3;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const bitsFor = (n: number): number => (n <= 1 ? 0 : 32 - Math.clz32(n - 1));

function unsupported(message: string): DeviceError {
  return new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, message);
}

/**
 * A weighted layer as the image holds it: its kernel as a matrix of `inputs`
 * rows and `units` columns (a dense layer's own; a convolution's rows are
 * (ky, kx, input channel) and its columns the kernel's last dimension: output
 * channels, or the depthwise multiplier), and `outputs` bias values.
 */
interface ImageLayerSpec {
  name: string;
  kernel: number;
  bias: number;
  inputs: number;
  units: number;
  outputs: number;
}

/** The model's weighted layers, in order: one image layer each (pooling layers have none). */
function imageLayers(artifact: Artifact): ImageLayerSpec[] {
  return artifact.manifest.layers.filter(isWeighted).map((layer) => {
    const shape = artifact.manifest.tensors[layer.kernel]!.shape;
    const units = shape[shape.length - 1]!;
    return { name: layer.name, kernel: layer.kernel, bias: layer.bias, inputs: shape.reduce((a, b) => a * b, 1) / units, units, outputs: layer.units };
  });
}

function planLayers(artifact: Artifact): { plans: LayerPlan[]; totalBytes: number } {
  const { tensors } = artifact.manifest;
  const layers = imageLayers(artifact);
  let at = HEADER_BYTES + layers.length * LAYER_BYTES;
  const plans = layers.map((layer): LayerPlan => {
    const weightSegments: number[] = [];
    const biasSegments: number[] = [];
    let entries = 0;
    artifact.segments.forEach((segment, index) => {
      if (segment.tensor === layer.kernel) {
        weightSegments.push(index);
        entries += segment.count;
      } else if (layer.bias >= 0 && segment.tensor === layer.bias) {
        biasSegments.push(index);
      }
    });
    const kernel = tensors[layer.kernel]!;
    const tableLength = kernel.encoding === 'codebook-sparse' && kernel.codebook ? kernel.codebook.length : 0;
    const colBits = Math.max(1, bitsFor(layer.units));
    const packedBits = colBits + bitsFor(tableLength);
    if (packedBits > 32) throw unsupported(`layer "${layer.name}": ${layer.units} units and ${tableLength} centroids do not pack into 32 bits`);
    const entryBytes = packedBits <= 16 ? 2 : 4;
    const countBytes = layer.units <= 0xff ? 1 : layer.units <= 0xffff ? 2 : 4;
    const countsAt = at;
    const entriesAt = align4(countsAt + layer.inputs * countBytes);
    const valuesAt = align4(entriesAt + entries * entryBytes);
    const biasAt = valuesAt + (tableLength > 0 ? tableLength : entries) * 4;
    at = biasAt + layer.outputs * 4;
    return { layer, weightSegments, biasSegments, entries, countBytes, entryBytes, colBits, tableLength, countsAt, entriesAt, valuesAt, biasAt };
  });
  return { plans, totalBytes: at };
}

/** Bytes the image of `artifact` takes in flash (for fit checks before building it). */
export function execImageBytes(artifact: Artifact): number {
  return planLayers(artifact).totalBytes;
}

/** A merge head past its segment's last entry: above every position (a tensor has at most MAX_TENSOR_ELEMENTS). */
const EXHAUSTED = 0xffffffff;

/** An entry of a merge: its position, value, the artifact segment it is from and its stored form there (decodeEntries' raws). */
type MergeVisit = (position: number, value: number, segment: number, raw: number) => void;

/**
 * Visits the entries of several segments of one tensor in ascending position
 * order (a k-way merge; the held intervals partition the positions). Each
 * open segment holds its models and a one-entry look-ahead (12 bytes) in the
 * arena: decoding more ahead built paper-109k's image at most 5-10 % faster
 * for 300-1,700 more bytes of RAM at 16 intervals.
 */
function mergeSegments(artifact: Artifact, segments: readonly number[], arena: Arena, visit: MergeVisit): void {
  const k = segments.length;
  if (k === 0) return;
  const memory = arenaMemory(arena);
  const cursors: SegmentCursor[] = segments.map((s) => openSegment(artifact, s, memory));
  // Each segment's next entry; its position is EXHAUSTED past its last.
  const heads = arena.uint32(arena.allocate(k * 4, 'merge look-ahead positions'), k);
  const values = arena.float32(arena.allocate(k * 4, 'merge look-ahead values'), k);
  const raws = arena.uint32(arena.allocate(k * 4, 'merge look-ahead stored forms'), k);
  // One-entry windows onto the look-ahead, made once (not per entry).
  const headWindows = cursors.map((_, i) => heads.subarray(i, i + 1));
  const valueWindows = cursors.map((_, i) => values.subarray(i, i + 1));
  const rawWindows = cursors.map((_, i) => raws.subarray(i, i + 1));
  const advance = (i: number): void => {
    if (decodeEntries(cursors[i]!, headWindows[i]!, valueWindows[i]!, rawWindows[i]!) === 0) heads[i] = EXHAUSTED;
  };
  for (let i = 0; i < k; i++) advance(i);
  let previous = -1;
  for (;;) {
    let best = 0;
    for (let i = 1; i < k; i++) if (heads[i]! < heads[best]!) best = i;
    const position = heads[best]!;
    if (position === EXHAUSTED) return;
    if (position <= previous) {
      throw new DeviceError(
        DeviceErrorCode.UNSUPPORTED_MODEL,
        `two held segments of tensor ${artifact.segments[segments[best]!]!.tensor} both hold position ${position}`,
      );
    }
    visit(position, values[best]!, segments[best]!, raws[best]!);
    previous = position;
    advance(best);
  }
}

/** The image a device already runs, and the verified artifact it was made from. */
export interface PreviousImage {
  artifact: Artifact;
  image: ExecImage;
}

const sameNumbers = (a: ArrayLike<number> | null, b: ArrayLike<number> | null): boolean => {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
};

/** For each centroid, the first centroid of equal value (the table index buildExecImage finds). */
const firstIndices = (codebook: Float32Array): number[] => Array.from(codebook, (v) => codebook.indexOf(v));

/**
 * The previous image's layer `l` when its counts and entries sections are
 * exactly what transcoding `plan` would write: the same shape and layout,
 * the same weight segments (bytes, tensor, interval, count) in the same
 * order, and a decoding that maps their stored forms to the same table
 * indices (int8 / dense-f32: the same tensor description and intervals, so
 * the same per-entry values too; codebook: the same local centroids per
 * interval and the same first-index map, whatever the centroids' values,
 * which the table section takes from the new manifest).
 */
function reusableLayer(artifact: Artifact, plan: LayerPlan, previous: PreviousImage, l: number): ImageLayer | null {
  const before = previous.artifact;
  const old = previous.image.layers[l];
  const oldLayer = imageLayers(before)[l];
  const layer = plan.layer;
  if (!old || !oldLayer || oldLayer.inputs !== layer.inputs || oldLayer.units !== layer.units) return null;
  const tensor = artifact.manifest.tensors[layer.kernel]!;
  const oldTensor = before.manifest.tensors[oldLayer.kernel]!;
  if (old.entryCount !== plan.entries || (old.table ? old.table.length : 0) !== plan.tableLength) return null;
  if (tensor.encoding !== oldTensor.encoding || !sameNumbers(tensor.shape, oldTensor.shape) || tensor.bits !== oldTensor.bits) return null;
  const oldSegments = before.segments.filter((s) => s.tensor === oldLayer.kernel);
  if (oldSegments.length !== plan.weightSegments.length) return null;
  for (let i = 0; i < oldSegments.length; i++) {
    const next = artifact.segments[plan.weightSegments[i]!]!;
    const prior = oldSegments[i]!;
    if (next.interval !== prior.interval || next.count !== prior.count || !bytesEqual(next.data, prior.data)) return null;
  }
  const intervals = artifact.manifest.intervals;
  const oldIntervals = before.manifest.intervals;
  if (plan.tableLength > 0) {
    if (!sameNumbers(firstIndices(tensor.codebook!), firstIndices(oldTensor.codebook!))) return null;
    const sameIds = intervals.length === oldIntervals.length && intervals.every((x, i) => x.id === oldIntervals[i]!.id);
    if (sameIds) {
      // Each interval's local centroids are the centroids whose values fall in
      // it: with the same interval ids in the same order, they are the same
      // for every interval when each centroid falls in the same one.
      const fallsIn = (codebook: Float32Array, bounds: typeof intervals) => Array.from(codebook, (v) => intervalIndexOf(v, bounds));
      if (!sameNumbers(fallsIn(tensor.codebook!, intervals), fallsIn(oldTensor.codebook!, oldIntervals))) return null;
    } else {
      for (const s of plan.weightSegments) {
        const interval = artifact.segments[s]!.interval;
        if (!sameNumbers(localCodebookIndices(tensor, interval, intervals), localCodebookIndices(oldTensor, interval, oldIntervals))) return null;
      }
    }
  } else {
    const sameIntervals =
      intervals.length === oldIntervals.length &&
      intervals.every((x, i) => x.id === oldIntervals[i]!.id && Object.is(x.lower, oldIntervals[i]!.lower) && Object.is(x.upper, oldIntervals[i]!.upper));
    if (!sameIntervals || !sameNumbers(tensor.scales, oldTensor.scales)) return null;
  }
  return old;
}

interface CarriedLayer {
  old: ImageLayer;
  /** Per table index: whether entries of that centroid stay (their interval is still held). */
  keep: Uint8Array;
  /** The new artifact's segments of the kernel whose interval the running artifact did not hold. */
  gained: number[];
}

/**
 * When the new artifact has the running one's manifest (a license change)
 * and the layer's kernel is codebook-sparse, what the new layer takes from
 * the running image: an entry's interval follows from its centroid's value
 * (the interval rule), so the entries of intervals still held are kept as
 * they are and only the gained intervals' segments need decoding. Null when
 * the layer must be built from its segments.
 */
function carriedEntries(artifact: Artifact, plan: LayerPlan, previous: PreviousImage, l: number): CarriedLayer | null {
  const old = previous.image.layers[l];
  const layer = plan.layer;
  if (!old || !old.table || plan.tableLength === 0 || old.table.length !== plan.tableLength) return null;
  if (old.inputs !== layer.inputs || old.units !== layer.units || old.colBits !== plan.colBits) return null;
  if (!bytesEqual(previous.artifact.manifestBytes, artifact.manifestBytes)) return null;
  const tensor = artifact.manifest.tensors[layer.kernel]!;
  const intervals = artifact.manifest.intervals;
  const heldNow = new Set(plan.weightSegments.map((s) => artifact.segments[s]!.interval));
  const heldBefore = new Set(previous.artifact.segments.filter((s) => s.tensor === layer.kernel).map((s) => s.interval));
  const keep = new Uint8Array(plan.tableLength);
  tensor.codebook!.forEach((value, index) => {
    const interval = tensor.licensed ? intervals[intervalIndexOf(value, intervals)]?.id : BASE_INTERVAL;
    keep[index] = interval !== undefined && heldNow.has(interval) && heldBefore.has(interval) ? 1 : 0;
  });
  const gained = plan.weightSegments.filter((s) => !heldBefore.has(artifact.segments[s]!.interval));
  return { old, keep, gained };
}

/** Visits the kept entries of the running image's layer and the gained segments' entries, in ascending position order. */
function mergeCarried(artifact: Artifact, carried: CarriedLayer, arena: Arena, visit: MergeVisit, visitPacked: (row: number, packed: number) => void): void {
  const { old, keep } = carried;
  const { units, inputs, counts, entries, entryCount, colBits } = old;
  const mask = 2 ** colBits - 1;
  // The running image's entry `e` (in row `row`, whose entries end before
  // `rowEnd`), the next one of an interval still held, and its position.
  let e = -1;
  let row = 0;
  let rowEnd = inputs > 0 ? counts[0]! : 0;
  const advance = (): number => {
    for (e++; e < entryCount; e++) {
      const packed = entries[e]!;
      if (keep[packed >>> colBits]) {
        while (e >= rowEnd && row + 1 < inputs) rowEnd += counts[++row]!;
        return row * units + (packed & mask);
      }
    }
    return Number.POSITIVE_INFINITY;
  };
  // A kept entry is copied packed as it is: same columns, same table (the same manifest).
  let oldPosition = advance();
  mergeSegments(artifact, carried.gained, arena, (position, value, segment, raw) => {
    while (oldPosition < position) {
      visitPacked(row, entries[e]!);
      oldPosition = advance();
    }
    visit(position, value, segment, raw);
  });
  while (oldPosition !== Number.POSITIVE_INFINITY) {
    visitPacked(row, entries[e]!);
    oldPosition = advance();
  }
}

/**
 * Transcodes a verified artifact into its execution image. Working memory
 * (segment models, merge look-ahead) comes from the arena and is released
 * before returning; the image itself is the flash being programmed.
 *
 * With the image the device runs now (`previous`), a layer whose weight
 * segments did not change is copied from it instead of decoded (a new
 * version that only fine-tuned centroids, a change of held intervals that left the
 * layer's intervals alone): only changed segments are transcoded. Biases
 * are always decoded (a few dense values per layer).
 */
export function buildExecImage(artifact: Artifact, arena: Arena, previous?: PreviousImage): Uint8Array {
  const { plans, totalBytes } = planLayers(artifact);
  const image = new Uint8Array(totalBytes);
  const view = new DataView(image.buffer);
  const tensors = artifact.manifest.tensors;
  plans.forEach((plan, l) => {
    const layer = plan.layer;
    const units = layer.units;
    const words = [
      layer.inputs,
      units,
      plan.entries,
      plan.countBytes,
      plan.entryBytes,
      plan.colBits,
      plan.tableLength,
      plan.countsAt,
      plan.entriesAt,
      plan.valuesAt,
      plan.biasAt,
      0,
    ];
    words.forEach((w, i) => view.setUint32(HEADER_BYTES + l * LAYER_BYTES + i * 4, w, true));

    const table = plan.tableLength > 0 ? Float32Array.from(tensors[layer.kernel]!.codebook!) : null;
    table?.forEach((v, i) => view.setFloat32(plan.valuesAt + i * 4, v, true));
    const setCount = (row: number, n: number): void => {
      const at = plan.countsAt + row * plan.countBytes;
      if (plan.countBytes === 1) view.setUint8(at, n);
      else if (plan.countBytes === 2) view.setUint16(at, n, true);
      else view.setUint32(at, n, true);
    };
    const mark = arena.mark();
    const reuse = previous ? reusableLayer(artifact, plan, previous, l) : null;
    if (reuse) {
      const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      image.set(bytesOf(reuse.counts), plan.countsAt);
      image.set(bytesOf(reuse.entries), plan.entriesAt);
      if (reuse.values) image.set(bytesOf(reuse.values), plan.valuesAt);
      mergeSegments(artifact, plan.biasSegments, arena, (position, value) => view.setFloat32(plan.biasAt + position * 4, value, true));
      arena.rewind(mark);
      return;
    }
    let written = 0;
    let row = 0;
    let inRow = 0;
    // Entries are written through a typed view where the host is
    // little-endian, as the image is (a DataView call per entry otherwise).
    const entries16 = LITTLE_ENDIAN_HOST && plan.entryBytes === 2 ? new Uint16Array(image.buffer, plan.entriesAt, plan.entries) : null;
    const entries32 = LITTLE_ENDIAN_HOST && plan.entryBytes === 4 ? new Uint32Array(image.buffer, plan.entriesAt, plan.entries) : null;
    /** Appends an entry of row `r`: its column and table index packed (or its column, with its f32 value written already). */
    const emitPacked = (r: number, packed: number): void => {
      if (r !== row) {
        setCount(row, inRow);
        row = r;
        inRow = 0;
      }
      inRow++;
      if (entries16) entries16[written] = packed;
      else if (entries32) entries32[written] = packed;
      else if (plan.entryBytes === 2) view.setUint16(plan.entriesAt + written * 2, packed, true);
      else view.setUint32(plan.entriesAt + written * 4, packed, true);
      written++;
    };
    // Per weight segment: each local code's table index (the first centroid
    // of the code's value, what a search of the table by value finds),
    // shifted above the column bits; -1 for none.
    const colScale = 2 ** plan.colBits;
    const tableIndex: Float64Array[] = [];
    if (table) {
      for (const s of plan.weightSegments) {
        const local = localCodebookIndices(tensors[layer.kernel]!, artifact.segments[s]!.interval, artifact.manifest.intervals);
        tableIndex[s] = Float64Array.from(local, (c) => {
          const index = table.indexOf(table[c]!);
          return index < 0 ? -1 : index * colScale;
        });
      }
    }
    const emit = (position: number, value: number, segment: number, raw: number): void => {
      const r = Math.floor(position / units);
      const col = position - r * units;
      if (table) {
        const shifted = tableIndex[segment]![raw]!;
        if (shifted < 0) throw unsupported(`layer "${layer.name}": weight ${value} is not a centroid of its codebook`);
        emitPacked(r, col + shifted);
      } else {
        view.setFloat32(plan.valuesAt + written * 4, value, true);
        emitPacked(r, col);
      }
    };
    const carried = previous ? carriedEntries(artifact, plan, previous, l) : null;
    if (carried) {
      // The same manifest with other intervals held (a license change): the
      // running image's entries of intervals still held, merged in position
      // order with the entries of the gained segments, the only ones decoded.
      mergeCarried(artifact, carried, arena, emit, emitPacked);
      if (written !== plan.entries) {
        // Not what the segment counts say (an image that does not match its
        // artifact): build the layer from its segments after all.
        image.fill(0, plan.countsAt, plan.valuesAt);
        written = 0;
        row = 0;
        inRow = 0;
        arena.rewind(mark);
        mergeSegments(artifact, plan.weightSegments, arena, emit);
      }
    } else {
      mergeSegments(artifact, plan.weightSegments, arena, emit);
    }
    if (plan.entries > 0) setCount(row, inRow);
    arena.rewind(mark);
    mergeSegments(artifact, plan.biasSegments, arena, (position, value) => view.setFloat32(plan.biasAt + position * 4, value, true));
    arena.rewind(mark);
    if (written !== plan.entries) throw unsupported(`layer "${layer.name}": segments decoded ${written} weights, their counts say ${plan.entries}`);
  });
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, EXEC_IMAGE_VERSION, true);
  image.set(hexBytes(artifact.sha256), SHA_AT);
  view.setUint32(72, plans.length, true);
  view.setUint32(76, totalBytes, true);
  image.set(createHash('sha256').update(image.subarray(HEADER_BYTES)).digest(), BODY_SHA_AT);
  return image;
}

/**
 * What a device does at install, and `device infer` without one: the image
 * of `artifact` built and checked, or null with the reason the coded kernels
 * run instead (a slot of `slotCapacity` bytes cannot hold the artifact and
 * the image, or transcoding needs more RAM than the arena has: it opens
 * every interval's segment at once, the coded kernels one at a time).
 * Programming the image into flash is the caller's.
 */
export function prepareExecImage(
  artifact: Artifact,
  arena: Arena,
  slotCapacity: number,
  previous?: PreviousImage,
): { image: ExecImage; note: null } | { image: null; note: string } {
  const total = artifact.bytes.length + execImageBytes(artifact);
  if (total > slotCapacity) {
    const why = new BudgetError(
      'FLASH',
      total,
      slotCapacity,
      `artifact (${artifact.bytes.length} bytes) and its execution image (${total - artifact.bytes.length} bytes)`,
    );
    return { image: null, note: `coded kernels: ${why.message}` };
  }
  let bytes: Uint8Array;
  try {
    bytes = buildExecImage(artifact, arena, previous);
  } catch (error) {
    if (error instanceof BudgetError) return { image: null, note: `coded kernels: building the execution image: ${error.message}` };
    throw error;
  }
  // Built here from a verified artifact (and a checked previous image): its
  // layout is checked, its body hash and every entry need not be.
  const opened = openExecImage(bytes, artifact, { built: true });
  if (typeof opened === 'string') throw new DeviceError(DeviceErrorCode.UNSUPPORTED_MODEL, `freshly built execution image is invalid: ${opened}`);
  return { image: opened, note: null };
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * Opens an image read from flash for `artifact`, checking everything a kernel
 * relies on; a reason string when it is not a valid image of this artifact
 * (the device then rebuilds it).
 */
export function openExecImage(bytes: Uint8Array, artifact: Artifact, options: { built?: boolean } = {}): ExecImage | string {
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
  if (bytes.length < HEADER_BYTES) return `image is ${bytes.length} bytes, shorter than its header`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) return 'image has no WGX1 magic';
  if (view.getUint32(4, true) !== EXEC_IMAGE_VERSION) return `image format version ${view.getUint32(4, true)}, this device reads ${EXEC_IMAGE_VERSION}`;
  if (Buffer.from(bytes.subarray(SHA_AT, SHA_AT + 32)).toString('hex') !== artifact.sha256) return 'image was made from another artifact';
  if (view.getUint32(76, true) !== bytes.length) return `image says ${view.getUint32(76, true)} bytes, flash holds ${bytes.length}`;
  if (!options.built) {
    const body = createHash('sha256').update(bytes.subarray(HEADER_BYTES)).digest();
    if (!body.equals(bytes.subarray(BODY_SHA_AT, BODY_SHA_AT + 32))) return 'image body does not match its SHA-256 (torn or damaged)';
  }
  const layers = imageLayers(artifact);
  if (view.getUint32(72, true) !== layers.length) return `image has ${view.getUint32(72, true)} layers, the model ${layers.length}`;
  if (HEADER_BYTES + layers.length * LAYER_BYTES > bytes.length) return 'image layer table runs past its end';
  const out: ImageLayer[] = [];
  for (let l = 0; l < layers.length; l++) {
    const w = (i: number): number => view.getUint32(HEADER_BYTES + l * LAYER_BYTES + i * 4, true);
    const [inputs, units, entryCount, countBytes, entryBytes, colBits, tableLength, countsAt, entriesAt, valuesAt, biasAt] = Array.from(
      { length: 11 },
      (_, i) => w(i),
    ) as number[] as [number, number, number, number, number, number, number, number, number, number, number];
    const where = `image layer ${l}`;
    if (inputs !== layers[l]!.inputs || units !== layers[l]!.units)
      return `${where} is ${inputs}x${units}, the model's ${layers[l]!.inputs}x${layers[l]!.units}`;
    if (![1, 2, 4].includes(countBytes) || ![2, 4].includes(entryBytes) || colBits < 1 || colBits > 31) return `${where} has a bad entry layout`;
    const within = (at: number, n: number): boolean => at % 4 === 0 && at >= HEADER_BYTES && at + n <= bytes.length;
    const valueCount = tableLength > 0 ? tableLength : entryCount;
    if (
      !within(countsAt, inputs * countBytes) ||
      !within(entriesAt, entryCount * entryBytes) ||
      !within(valuesAt, valueCount * 4) ||
      !within(biasAt, layers[l]!.outputs * 4)
    ) {
      return `${where} has a section outside the image`;
    }
    const buffer = bytes.buffer;
    const base = bytes.byteOffset;
    const counts =
      countBytes === 1
        ? new Uint8Array(buffer, base + countsAt, inputs)
        : countBytes === 2
          ? new Uint16Array(buffer, base + countsAt, inputs)
          : new Uint32Array(buffer, base + countsAt, inputs);
    const entries = entryBytes === 2 ? new Uint16Array(buffer, base + entriesAt, entryCount) : new Uint32Array(buffer, base + entriesAt, entryCount);
    let total = 0;
    for (let i = 0; i < inputs && !options.built; i++) {
      if (counts[i]! > units) return `${where} row ${i} holds ${counts[i]} weights, more than ${units} units`;
      total += counts[i]!;
    }
    if (!options.built && total !== entryCount) return `${where} rows hold ${total} weights, the layer says ${entryCount}`;
    const colMask = 2 ** colBits - 1;
    for (let e = 0; e < entryCount && !options.built; e++) {
      const packed = entries[e]!;
      if ((packed & colMask) >= units) return `${where} entry ${e} names column ${packed & colMask} of ${units}`;
      if (tableLength > 0 ? Math.floor(packed / 2 ** colBits) >= tableLength : packed > colMask) return `${where} entry ${e} names a value it does not have`;
    }
    out.push({
      inputs,
      units,
      entryCount,
      counts,
      entries,
      colBits,
      table: tableLength > 0 ? new Float32Array(buffer, base + valuesAt, tableLength) : null,
      values: tableLength > 0 ? null : new Float32Array(buffer, base + valuesAt, entryCount),
      bias: new Float32Array(buffer, base + biasAt, layers[l]!.outputs),
    });
  }
  return { bytes, layers: out };
}

/**
 * The running image as the source of a patch's entry deltas (formats'
 * StreamPatchOptions.sourceEntries): a codebook segment's entries are the
 * image layer's entries whose centroid is one of the segment interval's
 * local centroids, in the same ascending positions, each local code being
 * the centroid's rank among them. So the apply walks the image, decoded
 * once at install and in flash, instead of decoding the segment again.
 * Null for a segment the image cannot give back exactly (int8 and dense
 * kernels, whose image holds dequantized values; a codebook with repeated
 * values, whose image holds the first of them), which the applier decodes.
 * `image` must be the image of `artifact`, the patch's source.
 */
export function imageSourceEntries(image: ExecImage, artifact: Artifact): (segment: Segment) => EntryReader | null {
  // Per kernel tensor: its layer's entries of each local centroid set, counted once per apply.
  const counted = new Map<number, Map<number, number>>();
  return (segment) => {
    const l = imageLayers(artifact).findIndex((layer) => layer.kernel === segment.tensor);
    const layer = image.layers[l];
    const tensor = artifact.manifest.tensors[segment.tensor];
    if (!layer || !tensor || tensor.encoding !== 'codebook-sparse' || !tensor.codebook || !layer.table) return null;
    if (layer.table.length !== tensor.codebook.length || new Set(tensor.codebook).size !== tensor.codebook.length) return null;
    const local = localCodebookIndices(tensor, segment.interval, artifact.manifest.intervals);
    const localOf = new Int32Array(layer.table.length).fill(-1);
    local.forEach((index, code) => (localOf[index] = code));
    let counts = counted.get(segment.tensor);
    if (!counts) {
      counts = new Map();
      counted.set(segment.tensor, counts);
    }
    let count = counts.get(segment.interval);
    if (count === undefined) {
      count = 0;
      for (let e = 0; e < layer.entryCount; e++) if (localOf[layer.entries[e]! >>> layer.colBits]! >= 0) count++;
      counts.set(segment.interval, count);
    }
    // The image must give back the segment's entries exactly: another count, and the applier decodes instead.
    if (count !== segment.count) return null;
    return new ImageEntries(layer, localOf, count);
  };
}

/** An EntryReader over one interval's entries of an image layer. */
class ImageEntries implements EntryReader {
  private row = 0;
  /** Entries of the image before `row`, and the next image entry to look at. */
  private rowEnd = 0;
  private e = 0;
  private currentPosition = 0;
  private currentRaw = 0;
  private readonly mask: number;

  constructor(
    private readonly layer: ImageLayer,
    private readonly localOf: Int32Array,
    readonly count: number,
  ) {
    this.mask = 2 ** layer.colBits - 1;
    this.rowEnd = layer.inputs > 0 ? layer.counts[0]! : 0;
    this.seek();
  }

  position(): number {
    return this.currentPosition;
  }

  raw(): number {
    return this.currentRaw;
  }

  next(): void {
    this.e++;
    this.seek();
  }

  /** Moves `e` to the next entry of the interval (or past the last) and reads its position and local code. */
  private seek(): void {
    const { layer, localOf } = this;
    const colBits = layer.colBits;
    for (; this.e < layer.entryCount; this.e++) {
      const packed = layer.entries[this.e]!;
      const code = localOf[packed >>> colBits] ?? -1;
      if (code < 0) continue;
      while (this.e >= this.rowEnd) this.rowEnd += layer.counts[++this.row]!;
      this.currentPosition = this.row * layer.units + (packed & this.mask);
      this.currentRaw = code;
      return;
    }
  }
}

// Reads the signed manifest: runs the verifier over its bytes, decodes it with
// the generated accessors into plain structs, then checks what the structure
// alone cannot: enum ranges, shapes, indices, canonical segment order.
import * as flatbuffers from 'flatbuffers';
import { Manifest as FbManifest } from '../gen/weightgate/fb/manifest.ts';
import { verifyBuffer } from '../container/flatbuffer-verifier.ts';
import { manifestSpec } from '../container/schema-specs.ts';
import { MANIFEST_IDENTIFIER, writeManifest } from './manifest-writer.ts';
import { ACTIVATIONS, CODINGS, ENCODINGS, LAYER_KINDS, PADDINGS } from '../container/enum-names.ts';
import { layerShapes, needsSpatialVersion } from './layer-graph.ts';
import { FormatError } from '../errors.ts';
import { bytesEqual } from '../container/bytes.ts';
import { int8Channels } from '../coding/quantize.ts';
import { FORMAT_VERSION, GRAPH_FORMAT_VERSION, MAX_CODEBOOK, MAX_SEGMENTS, MAX_TENSOR_ELEMENTS, SHA256_BYTES } from '../caps.ts';
import { readVarint, type ByteCursor } from '../container/varint.ts';
import { BASE_INTERVAL, type Interval, type Layer, type Manifest, type SegmentRef, type TensorInfo, type Tier } from '../model.ts';

function bad(message: string): FormatError {
  return new FormatError('BAD_VALUE', `manifest: ${message}`);
}

function readUints(length: number, at: (i: number) => number | null): number[] {
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(at(i) ?? 0);
  return out;
}

function readFloats(length: number, at: (i: number) => number | null, where: string): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const v = at(i) ?? 0;
    if (!Number.isFinite(v)) throw bad(`${where}[${i}] is not finite`);
    out[i] = v;
  }
  return out;
}

function checkShape(shape: number[], where: string): number {
  if (shape.length === 0) throw bad(`${where} has no dimensions`);
  let elements = 1;
  for (const d of shape) {
    if (d < 1) throw bad(`${where} has a dimension of ${d}`);
    elements *= d;
    if (elements > MAX_TENSOR_ELEMENTS) throw new FormatError('TOO_LARGE', `manifest: ${where} has over ${MAX_TENSOR_ELEMENTS} elements`);
  }
  return elements;
}

/** Number of elements of a shape (already checked). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Parses and checks a manifest. `signed`: the caller verified a signature
 * over exactly these bytes, so the canonical-form proof (re-encoding the
 * manifest and comparing) is not needed: the bytes are the publisher's, who
 * wrote them with formats' canonical writer. Every structural and value
 * check still runs.
 */
export function readManifest(bytes: Uint8Array, options: { signed?: boolean } = {}): Manifest {
  verifyBuffer(bytes, MANIFEST_IDENTIFIER, manifestSpec, 'manifest');
  const fb = FbManifest.getRootAsManifest(new flatbuffers.ByteBuffer(bytes));

  const formatVersion = fb.formatVersion();
  if (formatVersion !== FORMAT_VERSION && formatVersion !== GRAPH_FORMAT_VERSION) {
    throw new FormatError(
      'UNSUPPORTED_VERSION',
      `manifest: format version ${formatVersion}; this build reads versions ${FORMAT_VERSION} and ${GRAPH_FORMAT_VERSION}; upgrade weightgate`,
    );
  }
  const model = fb.model() ?? '';
  if (model.length === 0) throw bad('model name is empty');
  const version = fb.version();
  if (version < 1) throw bad(`model version ${version} (must be >= 1)`);

  const pre = fb.preprocess();
  if (!pre) throw bad('preprocess is missing');
  const inputShape = readUints(pre.inputShapeLength(), (i) => pre.inputShape(i));
  checkShape(inputShape, 'preprocess.input_shape');
  const preprocess = { inputShape, scale: pre.scale(), offset: pre.offset() };
  if (!Number.isFinite(preprocess.scale) || !Number.isFinite(preprocess.offset)) throw bad('preprocess scale/offset not finite');

  const tensors: TensorInfo[] = [];
  const elements: number[] = [];
  for (let t = 0; t < fb.tensorsLength(); t++) {
    const ft = fb.tensors(t)!;
    const where = `tensors[${t}]`;
    const shape = readUints(ft.shapeLength(), (i) => ft.shape(i));
    elements.push(checkShape(shape, `${where}.shape`));
    const encoding = ENCODINGS[ft.encoding()];
    if (!encoding) throw bad(`${where} has unknown encoding ${ft.encoding()}`);
    const bits = ft.bits();
    let codebook: Float32Array | null = null;
    let scales: Float32Array | null = null;
    if (encoding === 'codebook-sparse') {
      if (bits < 1 || bits > 8) throw bad(`${where} codebook bits ${bits} (must be 1..8)`);
      const n = ft.codebookLength();
      if (n < 1 || n > Math.min(MAX_CODEBOOK, 1 << bits)) throw bad(`${where} codebook has ${n} entries for ${bits} bits`);
      codebook = readFloats(n, (i) => ft.codebook(i), `${where}.codebook`);
    } else if (ft.codebookLength() !== 0) {
      throw bad(`${where} is ${encoding} but has a codebook`);
    }
    if (encoding === 'int8') {
      if (bits !== 8) throw bad(`${where} int8 with bits ${bits}`);
      const channels = int8Channels(shape);
      if (ft.scalesLength() !== channels) throw bad(`${where} has ${ft.scalesLength()} scales for ${channels} channels`);
      scales = readFloats(channels, (i) => ft.scales(i), `${where}.scales`);
    } else if (ft.scalesLength() !== 0) {
      throw bad(`${where} is ${encoding} but has scales`);
    }
    if (encoding === 'dense-f32' && bits !== 32) throw bad(`${where} dense-f32 with bits ${bits}`);
    const coding = CODINGS[ft.coding()];
    if (!coding) throw bad(`${where} has unknown segment coding ${ft.coding()}`);
    const info: TensorInfo = { name: ft.name() ?? '', shape, encoding, bits, codebook, scales, nonzero: 0, licensed: ft.licensed() };
    if (coding === 'rice') info.coding = 'rice';
    tensors.push(info);
  }

  const layers: Layer[] = [];
  for (let l = 0; l < fb.layersLength(); l++) {
    const fl = fb.layers(l)!;
    const where = `layers[${l}]`;
    const kind = LAYER_KINDS[fl.kind()];
    if (!kind) throw bad(`${where} has unknown kind ${fl.kind()}`);
    const activation = ACTIVATIONS[fl.activation()];
    if (!activation) throw bad(`${where} has unknown activation ${fl.activation()}`);
    const padding = PADDINGS[fl.padding()];
    if (!padding) throw bad(`${where} has unknown padding ${fl.padding()}`);
    const common = { name: fl.name() ?? '', inputs: fl.inputs(), units: fl.units() };
    const window = { window: [fl.windowH(), fl.windowW()] as [number, number], strides: [fl.strideH(), fl.strideW()] as [number, number], padding };
    const tensorsOf = { activation, kernel: fl.kernel(), bias: fl.bias() };
    let layer: Layer;
    if (kind === 'dense') layer = { kind, ...common, ...tensorsOf };
    else if (kind === 'conv2d' || kind === 'depthwise-conv2d') layer = { kind, ...common, ...tensorsOf, ...window };
    else if (kind === 'global-avg-pool2d') layer = { kind, ...common };
    else layer = { kind, ...common, ...window };
    if (!('activation' in layer) && (fl.activation() !== 0 || fl.kernel() !== 0 || fl.bias() !== -1))
      throw bad(`${where} is ${kind} but names an activation or tensors`);
    if (!('window' in layer) && (fl.windowH() !== 0 || fl.windowW() !== 0 || fl.strideH() !== 1 || fl.strideW() !== 1 || fl.padding() !== 0)) {
      throw bad(`${where} is ${kind} but has a window`);
    }
    layers.push(layer);
  }
  if (needsSpatialVersion(layers) !== (formatVersion === GRAPH_FORMAT_VERSION)) {
    throw bad(`format version ${formatVersion} does not match its layers (version ${GRAPH_FORMAT_VERSION} if and only if a layer is not Dense or uses relu6)`);
  }
  layerShapes(
    inputShape,
    layers,
    (t) => tensors[t]?.shape,
    (detail) => {
      throw bad(detail);
    },
  );

  const intervals: Interval[] = [];
  const intervalIndex = new Map<number, number>();
  const boundCount = fb.intervalBoundsLength();
  const edges = fb.intervalEdges();
  if (edges ? boundCount < 2 : boundCount % 2 !== 0) throw bad(`${boundCount} interval bounds do not make whole intervals`);
  const intervalCount = edges ? boundCount - 1 : boundCount / 2;
  const idCount = fb.intervalIdsLength();
  if (idCount !== 0 && idCount !== intervalCount) throw bad(`${idCount} interval ids for ${intervalCount} intervals`);
  for (let i = 0; i < intervalCount; i++) {
    const lower = fb.intervalBounds(edges ? i : 2 * i) ?? NaN;
    const upper = fb.intervalBounds(edges ? i + 1 : 2 * i + 1) ?? NaN;
    const interval = { id: idCount ? (fb.intervalIds(i) ?? 0) : i, lower, upper };
    if (interval.id === BASE_INTERVAL || intervalIndex.has(interval.id)) throw bad(`interval id ${interval.id} is reserved or repeated`);
    if (!Number.isFinite(interval.lower) || !Number.isFinite(interval.upper) || !(interval.lower <= interval.upper)) {
      throw bad(`interval ${interval.id} bounds [${interval.lower}, ${interval.upper}] are invalid`);
    }
    intervalIndex.set(interval.id, i);
    intervals.push(interval);
  }

  const tiers: Tier[] = [];
  for (let i = 0; i < fb.tiersLength(); i++) {
    const ft = fb.tiers(i)!;
    const ids = readUints(ft.intervalsLength(), (j) => ft.intervals(j));
    for (const id of ids) if (!intervalIndex.has(id)) throw bad(`tier ${i} names unknown interval ${id}`);
    const accuracy = ft.accuracy();
    if (!Number.isFinite(accuracy)) throw bad(`tier ${i} accuracy is not finite`);
    tiers.push({ name: ft.name() ?? '', intervals: ids, accuracy });
  }

  const hashes = fb.hashesArray() ?? new Uint8Array(0);
  const table = fb.segmentTableArray() ?? new Uint8Array(0);
  const cursor: ByteCursor = { bytes: table, at: 0, end: table.length, what: 'manifest segment table' };
  const segments: SegmentRef[] = [];
  let previousKey = -1;
  let previousTensor = 0;
  for (let i = 0; cursor.at < cursor.end; i++) {
    if (i >= MAX_SEGMENTS) throw new FormatError('TOO_LARGE', `manifest: more than ${MAX_SEGMENTS} segments`);
    if (SHA256_BYTES * (i + 1) > hashes.length) throw bad(`segment ${i} has no SHA-256 (${hashes.length} hash bytes)`);
    const tensorIndex = previousTensor + readVarint(cursor);
    const intervalCode = readVarint(cursor);
    const tensor = tensors[tensorIndex];
    if (!tensor) throw bad(`segment ${i} names tensor ${tensorIndex}, which does not exist`);
    const interval = intervalCode === 0 ? BASE_INTERVAL : intervals[intervalCode - 1]?.id;
    if (interval === undefined || tensor.licensed === (interval === BASE_INTERVAL)) {
      throw bad(`segment ${i} of tensor ${tensorIndex} has interval code ${intervalCode}, not valid for this tensor`);
    }
    const ref: SegmentRef = {
      tensor: tensorIndex,
      interval,
      count: readVarint(cursor),
      bytes: readVarint(cursor),
      sha256: hashes.subarray(SHA256_BYTES * i, SHA256_BYTES * (i + 1)),
    };
    previousTensor = tensorIndex;
    // Canonical order: by tensor, then by the interval's place in the table (its code).
    const key = ref.tensor * 0x10000 + intervalCode;
    if (key <= previousKey) throw bad(`segment ${i} is out of canonical (tensor, interval) order`);
    previousKey = key;
    if (ref.count < 1 || ref.count > elements[ref.tensor]!) throw bad(`segment ${i} count ${ref.count} is outside 1..${elements[ref.tensor]}`);
    tensor.nonzero += ref.count;
    if (tensor.nonzero > elements[ref.tensor]!) throw bad(`tensor ${ref.tensor} has more entries than elements`);
    segments.push(ref);
  }
  if (hashes.length !== SHA256_BYTES * segments.length) {
    throw bad(`${hashes.length} hash bytes for ${segments.length} segments (needs ${SHA256_BYTES} each)`);
  }

  const manifest: Manifest = { formatVersion, model, version, preprocess, layers, tensors, intervals, tiers, segments };
  // One manifest, one byte string: anything the writer would not produce
  // (padding, explicit defaults, shared or reordered data) is refused, so the
  // signature and the SHA-256 of an artifact pin its content exactly.
  if (options.signed) return manifest;
  const canonical = writeManifest(manifest);
  if (!bytesEqual(canonical, bytes)) {
    throw bad('bytes are not in canonical form (altered padding, layout or defaults)');
  }
  return manifest;
}

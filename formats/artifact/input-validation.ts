// The writer validates what goes in: a ModelInput that would encode into a
// manifest the reader rejects is refused here, with BAD_INPUT and the place.
import { FormatError } from '../errors.ts';
import { MAX_INTERVALS, MAX_LAYERS, MAX_RANK, MAX_STRING_BYTES, MAX_TENSOR_ELEMENTS, MAX_TENSORS, MAX_TIERS } from '../caps.ts';
import { ACTIVATIONS, CODINGS, ENCODINGS, LAYER_KINDS } from '../container/enum-names.ts';
import { layerShapes } from './layer-graph.ts';
import { BASE_INTERVAL, type ModelInput } from '../model.ts';

function bad(detail: string): FormatError {
  return new FormatError('BAD_INPUT', `model input: ${detail}`);
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

function checkName(name: unknown, where: string, allowEmpty: boolean): void {
  if (typeof name !== 'string' || (!allowEmpty && name.length === 0) || utf8Length(name) > MAX_STRING_BYTES) {
    throw bad(`${where} must be a string of ${allowEmpty ? 0 : 1}..${MAX_STRING_BYTES} bytes`);
  }
}

function checkShape(shape: unknown, where: string): number {
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > MAX_RANK) throw bad(`${where} must have 1..${MAX_RANK} dimensions`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1 || d > 0xffffffff) throw bad(`${where} has a bad dimension ${d}`);
    n *= d;
  }
  if (n > MAX_TENSOR_ELEMENTS) throw bad(`${where} has ${n} elements (cap ${MAX_TENSOR_ELEMENTS})`);
  return n;
}

export function validateModelInput(input: ModelInput): void {
  checkName(input.model, 'model', false);
  if (!Number.isInteger(input.version) || input.version < 1 || input.version > 0xffffffff) throw bad(`version ${input.version} must be a positive integer`);
  checkShape(input.preprocess?.inputShape, 'preprocess.inputShape');
  if (!Number.isFinite(input.preprocess.scale) || !Number.isFinite(input.preprocess.offset)) throw bad('preprocess scale and offset must be finite');
  if (input.tensors.length > MAX_TENSORS) throw bad(`${input.tensors.length} tensors (cap ${MAX_TENSORS})`);
  if (input.layers.length > MAX_LAYERS) throw bad(`${input.layers.length} layers (cap ${MAX_LAYERS})`);
  if (input.intervals.length > MAX_INTERVALS) throw bad(`${input.intervals.length} intervals (cap ${MAX_INTERVALS})`);
  if (input.tiers.length > MAX_TIERS) throw bad(`${input.tiers.length} tiers (cap ${MAX_TIERS})`);
  input.tensors.forEach((t, i) => {
    checkName(t.name, `tensors[${i}].name`, true);
    const n = checkShape(t.shape, `tensors[${i}] (${t.name}).shape`);
    if (!(t.values instanceof Float32Array) || t.values.length !== n) throw bad(`tensors[${i}] (${t.name}) needs a Float32Array of ${n} values`);
    if (!ENCODINGS.includes(t.encoding)) throw bad(`tensors[${i}] (${t.name}) has unknown encoding "${t.encoding}"`);
    if (t.coding !== undefined && !CODINGS.includes(t.coding)) throw bad(`tensors[${i}] (${t.name}) has unknown segment coding "${t.coding}" (range or rice)`);
  });
  input.layers.forEach((l, i) => {
    checkName(l.name, `layers[${i}].name`, true);
    if (!LAYER_KINDS.includes(l.kind)) throw bad(`layers[${i}] (${l.name}) kind "${l.kind}" is not one of ${LAYER_KINDS.join(', ')}`);
    if ('activation' in l && !ACTIVATIONS.includes(l.activation)) throw bad(`layers[${i}] (${l.name}) has unknown activation "${l.activation}"`);
    if ('bias' in l && l.bias !== -1 && !(Number.isInteger(l.bias) && l.bias >= 0 && l.bias <= 0x7fff))
      throw bad(`layers[${i}] (${l.name}) bias index ${l.bias} is out of range`);
  });
  layerShapes(
    input.preprocess.inputShape,
    input.layers,
    (t) => input.tensors[t]?.shape,
    (detail) => {
      throw bad(detail);
    },
  );
  const ids = new Set<number>();
  input.intervals.forEach((iv, i) => {
    if (!Number.isInteger(iv.id) || iv.id < 0 || iv.id >= BASE_INTERVAL || ids.has(iv.id))
      throw bad(`intervals[${i}] id ${iv.id} must be a unique integer in 0..${BASE_INTERVAL - 1}`);
    ids.add(iv.id);
    const lower = Math.fround(iv.lower);
    const upper = Math.fround(iv.upper);
    if (!Number.isFinite(lower) || !Number.isFinite(upper) || !(lower <= upper)) throw bad(`intervals[${i}] bounds [${iv.lower}, ${iv.upper}] are invalid`);
  });
  input.tiers.forEach((tier, i) => {
    checkName(tier.name, `tiers[${i}].name`, true);
    for (const id of tier.intervals) if (!ids.has(id)) throw bad(`tiers[${i}] (${tier.name}) names unknown interval ${id}`);
    if (!Number.isFinite(tier.accuracy)) throw bad(`tiers[${i}] (${tier.name}) accuracy must be finite`);
  });
}

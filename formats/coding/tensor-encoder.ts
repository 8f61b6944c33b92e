// Splits one input tensor into segments: its non-zero weights grouped by the
// interval their value falls in (one BASE_INTERVAL segment when unlicensed),
// each encoded with segment-encoder.ts.
import { FormatError } from '../errors.ts';
import { intervalIndexOf } from '../artifact/intervals.ts';
import { quantizeInt8Full } from './quantize.ts';
import { codeBitsFor, localCodebookIndices } from './segment-layout.ts';
import { encodeSegment } from './segment-encoder.ts';
import { BASE_INTERVAL, type Interval, type TensorInfo, type TensorInput } from '../model.ts';

export interface EncodedTensor {
  info: TensorInfo;
  /** In canonical order: interval table order, or the one BASE segment. Empty segments left out. */
  segments: Array<{ interval: number; count: number; data: Uint8Array }>;
}

function badInput(tensor: TensorInput, detail: string): FormatError {
  return new FormatError('BAD_INPUT', `tensor "${tensor.name}": ${detail}`);
}

export function encodeTensor(tensor: TensorInput, intervals: readonly Interval[]): EncodedTensor {
  const { values } = tensor;
  let scales: Float32Array | null = null;
  let quantized: Int8Array | null = null;
  let codebook: Float32Array | null = null;
  let bits = 32;
  if (tensor.encoding === 'int8') {
    const q = quantizeInt8Full(values, tensor.shape);
    scales = q.scales;
    quantized = q.quantized;
    bits = 8;
  } else if (tensor.encoding === 'codebook-sparse') {
    bits = tensor.bits ?? 0;
    if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw badInput(tensor, `codebook bits ${tensor.bits} (must be 1..8)`);
    if (!tensor.codebook || tensor.codebook.length < 1 || tensor.codebook.length > 1 << bits) {
      throw badInput(tensor, `needs a codebook of 1..${1 << bits} entries for ${bits} bits`);
    }
    codebook = Float32Array.from(tensor.codebook);
    for (const c of codebook) if (!Number.isFinite(c)) throw badInput(tensor, 'codebook has a non-finite entry');
  } else if (tensor.encoding !== 'dense-f32') {
    throw badInput(tensor, `unknown encoding "${String(tensor.encoding)}"`);
  }
  const info: TensorInfo = {
    name: tensor.name,
    shape: [...tensor.shape],
    encoding: tensor.encoding,
    bits,
    codebook,
    scales,
    nonzero: 0,
    licensed: tensor.licensed,
  };
  if (tensor.coding === 'rice') info.coding = 'rice';
  const coding = tensor.coding;

  // Group index of each element: interval index, 0 for the BASE group, -1 if zero.
  const groups = tensor.licensed ? intervals.length : 1;
  const group = new Int32Array(values.length);
  const counts = new Uint32Array(groups);
  for (let p = 0; p < values.length; p++) {
    const v = values[p]!;
    if (!Number.isFinite(v)) throw badInput(tensor, `value at ${p} is not finite`);
    const stored = quantized ? quantized[p] !== 0 : v !== 0;
    if (!stored) {
      group[p] = -1;
      continue;
    }
    const g = tensor.licensed ? intervalIndexOf(v, intervals) : 0;
    if (g < 0) throw badInput(tensor, `value ${v} at position ${p} lies in no interval; widen the interval table`);
    group[p] = g;
    counts[g]!++;
  }

  // Codebook lookup: float32 bits of a centroid -> its index.
  const codeOf = new Map<number, number>();
  const bitsView = new Uint32Array(1);
  const floatView = new Float32Array(bitsView.buffer);
  if (codebook) {
    codebook.forEach((c, i) => {
      floatView[0] = c;
      if (!codeOf.has(bitsView[0]!)) codeOf.set(bitsView[0]!, i);
    });
  }

  const segments: EncodedTensor['segments'] = [];
  for (let g = 0; g < groups; g++) {
    const count = counts[g]!;
    if (count === 0) continue;
    const intervalId = tensor.licensed ? intervals[g]!.id : BASE_INTERVAL;
    const positions = new Uint32Array(count);
    let n = 0;
    for (let p = 0; p < values.length; p++) if (group[p] === g) positions[n++] = p;
    if (codebook) {
      const local = localCodebookIndices(info, intervalId, intervals);
      const localOf = new Map(local.map((c, i) => [c, i]));
      const codes = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        floatView[0] = values[positions[i]!]!;
        const code = codeOf.get(bitsView[0]!);
        const localCode = code === undefined ? undefined : localOf.get(code);
        if (localCode === undefined) throw badInput(tensor, `value ${values[positions[i]!]} at ${positions[i]} is not a codebook entry of its interval`);
        codes[i] = localCode;
      }
      segments.push({
        interval: intervalId,
        count,
        data: encodeSegment({ count, positions, elements: values.length, codes, codeBits: codeBitsFor(local.length), coding }),
      });
    } else if (quantized) {
      const int8 = new Int8Array(count);
      for (let i = 0; i < count; i++) int8[i] = quantized[positions[i]!]!;
      segments.push({ interval: intervalId, count, data: encodeSegment({ count, positions, elements: values.length, int8, coding }) });
    } else {
      const float32 = new Float32Array(count);
      for (let i = 0; i < count; i++) float32[i] = values[positions[i]!]!;
      segments.push({ interval: intervalId, count, data: encodeSegment({ count, positions, elements: values.length, float32, coding }) });
    }
    info.nonzero += count;
  }
  return { info, segments };
}

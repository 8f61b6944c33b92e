// Encodes one segment (see segment-layout.ts), one entry at a time:
// SegmentWriter takes (ascending position, stored form) pairs, so a segment
// can be re-encoded while it is decoded (validateSegment) in memory bounded
// by the segment's own size. encodeSegment is the whole-array form.
// SegmentStreamWriter is the range-coded part alone, over caller-owned
// models and encoder: the streaming patch applier (patch-stream.ts) writes
// the value block itself and the stream straight to its output (a Rice
// stream's is rice-code.ts' RiceWriter).
import { RangeEncoder, PROB_INIT } from './range-coder.ts';
import { modelLayout, type ModelLayout } from './segment-layout.ts';
import { encodeGap, encodeTree } from './gap-code.ts';
import { RiceWriter } from './rice-code.ts';
import type { SegmentCoding, TensorEncoding } from '../model.ts';

export type ValueKind = 'codebook' | 'int8' | 'float32';

/** What a tensor's entries store: a local code, an int8 byte or float32 bits. */
export function valueKindOf(tensor: { encoding: TensorEncoding }): ValueKind {
  return tensor.encoding === 'int8' ? 'int8' : tensor.encoding === 'dense-f32' ? 'float32' : 'codebook';
}

/** The stream of a segment: gap codes, and local codes when `layout.codeBits` > 0 (codebook segments). */
export class SegmentStreamWriter {
  private previous = -1;

  /** `probs` holds layout.total models, set to PROB_INIT by the caller. */
  constructor(
    private readonly rc: RangeEncoder,
    private readonly probs: Uint16Array,
    private readonly layout: ModelLayout,
  ) {}

  add(position: number, raw: number): void {
    const { rc, probs, layout } = this;
    encodeGap(rc, probs, layout.gapAt, layout.maxExponent, position - this.previous);
    this.previous = position;
    encodeTree(rc, probs, layout.codeAt, layout.codeBits, raw);
  }
}

export class SegmentWriter {
  private readonly stream: SegmentStreamWriter | RiceWriter;
  private readonly finishStream: () => Uint8Array;
  private readonly values: Uint8Array;
  private readonly view: DataView;
  private written = 0;

  /** `count` sizes the int8/float32 value block (and sets a Rice stream's parameter); `codeBits` is 0 unless kind is codebook. */
  constructor(
    elements: number,
    private readonly kind: ValueKind,
    codeBits: number,
    count: number,
    coding: SegmentCoding = 'range',
  ) {
    const bits = kind === 'codebook' ? codeBits : 0;
    if (coding === 'rice') {
      const rice = new RiceWriter(elements, count, bits);
      this.stream = rice;
      this.finishStream = () => rice.finish();
    } else {
      const layout = modelLayout(elements, bits);
      const rc = new RangeEncoder(count + 16);
      this.stream = new SegmentStreamWriter(rc, new Uint16Array(layout.total).fill(PROB_INIT), layout);
      this.finishStream = () => rc.finish();
    }
    this.values = new Uint8Array(kind === 'int8' ? count : kind === 'float32' ? 4 * count : 0);
    this.view = new DataView(this.values.buffer);
  }

  /** Adds an entry: `raw` is the local code, the int8 byte (0..255) or the float32 bits. */
  add(position: number, raw: number): void {
    this.stream.add(position, raw);
    if (this.kind === 'int8') {
      this.values[this.written] = raw;
    } else if (this.kind === 'float32') {
      this.view.setUint32(4 * this.written, raw, true);
    }
    this.written++;
  }

  finish(): Uint8Array {
    const stream = this.finishStream();
    const out = new Uint8Array(this.values.length + stream.length);
    out.set(this.values);
    out.set(stream, this.values.length);
    return out;
  }
}

export interface SegmentEntries {
  count: number;
  /** Ascending flat positions in the tensor. */
  positions: Uint32Array;
  /** Elements of the tensor (bounds the gap exponent). */
  elements: number;
  /** codebook-sparse: local code per entry, `codeBits` wide. */
  codes?: Uint8Array;
  codeBits?: number;
  /** int8: quantized value per entry (never 0). */
  int8?: Int8Array;
  /** dense-f32: value per entry (never 0). */
  float32?: Float32Array;
  /** The stream's coding; absent: 'range'. */
  coding?: SegmentCoding;
}

export function encodeSegment(entries: SegmentEntries): Uint8Array {
  const { count, positions } = entries;
  const kind: ValueKind = entries.codes ? 'codebook' : entries.int8 ? 'int8' : 'float32';
  const writer = new SegmentWriter(entries.elements, kind, entries.codeBits ?? 0, count, entries.coding);
  const bits = entries.float32 ? new Uint32Array(entries.float32.buffer, entries.float32.byteOffset, count) : null;
  for (let i = 0; i < count; i++) {
    const raw = entries.codes ? entries.codes[i]! : entries.int8 ? entries.int8[i]! & 0xff : bits![i]!;
    writer.add(positions[i]!, raw);
  }
  return writer.finish();
}

// Rebuilds one target segment from an entry delta (entry-delta.ts) straight
// into an ArtifactStreamWriter, in working memory that does not grow with
// the segment: the source segment is decoded CHUNK_ENTRIES entries at a time
// by a SegmentCursor whose models come from working memory, merged with the
// delta one entry at a time (mergeEntryDelta), and re-encoded by a
// SegmentStreamWriter whose range coder writes through the output page.
//
// A segment is [value block][stream] (segment-layout.ts). Codebook targets
// have no value block: one pass. Int8 and dense-f32 targets store one value
// per entry before the stream, so the merge runs twice over the same flash
// bytes: first writing the value block, then the stream. The output stays a
// sequence of appends (flash is programmed in order) at the cost of decoding
// the source segment and the delta twice.
//
// Working memory of one pass, for a tensor of E elements (maxExponent
// e = floor(log2 E)) and c-bit codes: decoder models 2 * (5(e+1) + 2^c) B +
// centroids, CHUNK_ENTRIES * 12 B of chunk, delta models 2 * (2 + 10(e+1) +
// 2^c) B, encoder models as the decoder's: ~1 KiB for 100,000 elements.
import { FormatError } from '../errors.ts';
import { elementCount } from '../artifact/manifest-reader.ts';
import { entryDeltaModelCount, mergeEntryDelta, readEntryDeltaHeader, type EntryReader, type EntryWriter } from './entry-delta.ts';
import { decodeEntries, SegmentCursor } from '../coding/segment-cursor.ts';
import { SegmentStreamWriter } from '../coding/segment-encoder.ts';
import { RiceWriter } from '../coding/rice-code.ts';
import { modelLayout, valueBytesPerEntry } from '../coding/segment-layout.ts';
import { rawBitsOf } from '../coding/segment-raw.ts';
import { PROB_INIT, RangeEncoder } from '../coding/range-coder.ts';
import type { ArtifactStreamWriter } from '../artifact/artifact-stream.ts';
import type { Manifest, Segment, SegmentRef, TensorInfo } from '../model.ts';
import type { ByteCursor } from '../container/varint.ts';
import type { WorkingMemory } from './working-memory.ts';

/** Base entries decoded per refill: 16 x 12 bytes of working memory. */
export const CHUNK_ENTRIES = 16;

/** A SegmentCursor read one entry at a time through chunk buffers from working memory. */
class ChunkedEntries implements EntryReader {
  readonly count: number;
  private readonly positions: Uint32Array;
  private readonly values: Float32Array;
  private readonly raws: Uint32Array;
  private filled = 0;
  private at = 0;

  constructor(
    private readonly cursor: SegmentCursor,
    memory: WorkingMemory,
  ) {
    this.count = cursor.count;
    this.positions = memory.uint32(CHUNK_ENTRIES, 'entry chunk positions');
    this.values = memory.float32(CHUNK_ENTRIES, 'entry chunk values');
    this.raws = memory.uint32(CHUNK_ENTRIES, 'entry chunk stored forms');
  }

  position(): number {
    if (this.at === this.filled) this.refill();
    return this.positions[this.at]!;
  }

  raw(): number {
    if (this.at === this.filled) this.refill();
    return this.raws[this.at]!;
  }

  next(): void {
    if (this.at === this.filled) this.refill();
    this.at++;
  }

  private refill(): void {
    this.filled = decodeEntries(this.cursor, this.positions, this.values, this.raws);
    this.at = 0;
  }
}

/** Writes each entry's stored form as the value block does: 1 byte (int8) or 4 bytes little-endian (float32 bits). */
function valueBlockWriter(out: ArtifactStreamWriter, valueBytes: number): EntryWriter {
  return {
    add(_position, raw) {
      for (let i = 0; i < valueBytes; i++) out.writeByte((raw >>> (8 * i)) & 0xff);
    },
  };
}

export interface EntryDeltaJob {
  source: { manifest: Manifest };
  /** The source's segment at the target's (tensor, interval): what the delta edits. */
  sourceSegment: Segment;
  manifest: Manifest;
  ref: SegmentRef;
  where: string;
  /** The source segment's entries decoded already (StreamPatchOptions.sourceEntries), or null: decode them. */
  sourceEntries?: (segment: Segment) => EntryReader | null;
}

/** Rebuilds `job.ref` from its source segment and the entry delta at `c` into `out`; `c` is left just past the delta. */
export function streamEntryDelta(job: EntryDeltaJob, c: ByteCursor, memory: WorkingMemory, out: ArtifactStreamWriter): void {
  const { source, sourceSegment, manifest, ref } = job;
  const sourceTensor = source.manifest.tensors[sourceSegment.tensor]!;
  const tensor = manifest.tensors[ref.tensor]!;
  const elements = elementCount(tensor.shape);
  if (elementCount(sourceTensor.shape) !== elements)
    throw new FormatError('BAD_VALUE', `patch: entry delta for ${job.where} across tensors of different sizes`);
  const rawBits = rawBitsOf(tensor, ref.interval, manifest.intervals);
  const valueBytes = valueBytesPerEntry(tensor);
  const start = c.at;
  if (valueBytes > 0) {
    mergePass(job, sourceTensor, c, memory, { rawBits, elements }, () => valueBlockWriter(out, valueBytes));
    c.at = start;
  }
  const codeBits = tensor.encoding === 'codebook-sparse' ? rawBits : 0;
  if (tensor.coding === 'rice') {
    // The target's coding decides; the source was decoded with its own.
    const rice = new RiceWriter(elements, ref.count, codeBits, out);
    mergePass(job, sourceTensor, c, memory, { rawBits, elements }, () => rice);
    rice.finish();
    return;
  }
  const rc = new RangeEncoder(0, out);
  mergePass(job, sourceTensor, c, memory, { rawBits, elements }, () => {
    const layout = modelLayout(elements, codeBits);
    const probs = memory.uint16(layout.total, `range-coder models of rebuilt ${job.where}`).fill(PROB_INIT);
    return new SegmentStreamWriter(rc, probs, layout);
  });
  // Flushing needs no models: only the coder's registers.
  rc.finish();
}

/** One merge of the source segment with the delta at `c` into the writer `openWriter` makes; releases its working memory. */
function mergePass(
  job: EntryDeltaJob,
  sourceTensor: TensorInfo,
  c: ByteCursor,
  memory: WorkingMemory,
  shape: { rawBits: number; elements: number },
  openWriter: () => EntryWriter,
): void {
  const { sourceSegment, ref, source } = job;
  const mark = memory.mark();
  try {
    const header = readEntryDeltaHeader(c, sourceSegment.count, ref.count);
    const decoded = job.sourceEntries?.(sourceSegment) ?? null;
    if (decoded && decoded.count !== sourceSegment.count) {
      throw new FormatError('BAD_VALUE', `patch: ${decoded.count} decoded entries offered for ${job.where}, whose source segment holds ${sourceSegment.count}`);
    }
    const reader =
      decoded ??
      new ChunkedEntries(
        new SegmentCursor(
          sourceSegment.tensor,
          sourceTensor,
          sourceSegment.interval,
          source.manifest.intervals,
          sourceSegment.count,
          sourceSegment.data,
          memory,
        ),
        memory,
      );
    const probs = memory.uint16(header.edits > 0 ? entryDeltaModelCount(shape.elements, shape.rawBits) : 0, `entry delta models of ${job.where}`);
    mergeEntryDelta(header, reader, c, { ...shape, targetCount: ref.count }, probs, openWriter());
  } finally {
    memory.rewind(mark);
  }
}

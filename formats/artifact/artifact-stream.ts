// Writes a canonical .wgm into an ArtifactSink piece by piece, in file
// order, so a device can program the target of a patch straight into its
// inactive flash slot without holding it in RAM.
//
// Layout. buildArtifactBytes (artifact-writer.ts) stays the one writer: it
// creates the segment_data vector first, and FlatBuffers lays a buffer out
// from its end with offsets relative to where they are stored, so the file
// ends with [u32 L][L segment bytes][zero padding to 4], and every byte
// before that is the same for any L' with L' = L modulo 4. artifactHeader
// builds the artifact around a 0..4-byte stand-in for the segments and keeps
// that prefix, with the real L written into its last four bytes.
//
//   header (manifest, signature, heldIntervals, u32 L) | segment 0 | segment 1 | ... | padding
//
// ArtifactStreamWriter hashes the whole file and each segment as they pass
// (node:crypto's incremental SHA-256, O(1) state) and gathers single bytes
// (a range coder's output) into one page of working memory; views of flash
// (reused segments, patch payload, byte-delta copies) go to the sink as they
// are.
import { createHash, type Hash } from 'node:crypto';
import { buildArtifactBytes } from './artifact-writer.ts';
import { bytesEqual } from '../container/bytes.ts';
import { FormatError } from '../errors.ts';
import type { RangeOutput } from '../coding/range-coder.ts';
import type { SegmentRef } from '../model.ts';
import type { WorkingMemory } from '../patch/working-memory.ts';

/** Where a streamed artifact goes (a device: its inactive flash slot). */
export interface ArtifactSink {
  /** Called once, before any append, with the artifact's exact size: the sink may refuse it (a slot too small). */
  begin(totalBytes: number): void;
  /**
   * Programs `bytes` right after the previous ones. They are views into
   * flash or into working memory that is reused: copy or write them before
   * returning.
   */
  append(bytes: Uint8Array): void;
}

/** One NOR flash page: output is programmed in pieces of at most this size (besides views of flash). */
export const OUTPUT_PAGE_BYTES = 256;

/**
 * The bytes of the artifact before its segment data, for `segmentBytes`
 * bytes of held segments, and the zero padding after them. Heap: one
 * FlatBuffers build of the manifest, like readManifest's own check.
 */
export function artifactHeader(
  manifestBytes: Uint8Array,
  signature: Uint8Array | null,
  held: readonly number[],
  segmentBytes: number,
): { header: Uint8Array; padding: number } {
  const standIn = segmentBytes === 0 ? 0 : ((segmentBytes - 1) & 3) + 1;
  const padding = -segmentBytes & 3;
  const built = buildArtifactBytes(manifestBytes, signature, held, [new Uint8Array(standIn)]);
  const header = built.subarray(0, built.length - standIn - padding);
  new DataView(header.buffer, header.byteOffset + header.length - 4, 4).setUint32(0, segmentBytes, true);
  return { header, padding };
}

export class ArtifactStreamWriter implements RangeOutput {
  private readonly page: Uint8Array;
  private fill = 0;
  private readonly whole: Hash = createHash('sha256');
  /** Bytes the sink has received. */
  written = 0;
  private segment: Hash | null = null;
  private segmentBytes = 0;
  private segmentLimit = 0;

  /** Takes its page from `memory` (before the sink is begun, so a too-small memory fails before any write). */
  constructor(
    private readonly sink: ArtifactSink,
    memory: WorkingMemory,
  ) {
    this.page = memory.uint8(OUTPUT_PAGE_BYTES, 'patch output page');
  }

  writeByte(byte: number): void {
    if (this.fill === OUTPUT_PAGE_BYTES) this.flush();
    this.page[this.fill++] = byte;
  }

  /** Bytes that already live in flash go to the sink as they are. */
  writeBytes(bytes: Uint8Array): void {
    this.flush();
    this.deliver(bytes);
  }

  /** Starts a segment the manifest says is `bytes` long: bytes past that are counted, not written. */
  beginSegment(bytes: number): void {
    this.flush();
    this.segment = createHash('sha256');
    this.segmentBytes = 0;
    this.segmentLimit = bytes;
  }

  /** HASH_MISMATCH unless the segment just written is the one `ref` names. */
  endSegment(ref: SegmentRef, where: string): void {
    this.flush();
    const hash = this.segment!.digest();
    this.segment = null;
    if (this.segmentBytes !== ref.bytes || !bytesEqual(hash, ref.sha256)) {
      throw new FormatError('HASH_MISMATCH', `patch: rebuilt ${where} does not match the manifest's SHA-256; the patch is damaged`);
    }
  }

  /** Flushes the page; returns the SHA-256 of everything the sink received. */
  finish(): Uint8Array {
    this.flush();
    return this.whole.digest();
  }

  private flush(): void {
    if (this.fill === 0) return;
    this.deliver(this.page.subarray(0, this.fill));
    this.fill = 0;
  }

  private deliver(bytes: Uint8Array): void {
    if (this.segment) {
      this.segmentBytes += bytes.length;
      // A damaged delta may make a longer segment: keep decoding it (its own
      // errors come first, as in applyPatch) but write nothing past the
      // length the manifest promised; endSegment then refuses it.
      if (this.segmentBytes > this.segmentLimit) return;
      this.segment.update(bytes);
    }
    this.whole.update(bytes);
    this.written += bytes.length;
    this.sink.append(bytes);
  }
}

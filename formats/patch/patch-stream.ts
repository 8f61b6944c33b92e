// Applies a .wgp patch the way a microcontroller must: the source artifact
// and the patch are read in place (both live in flash), the target artifact
// is written once, in file order, into a sink (the inactive flash slot), and
// every buffer whose size depends on the data comes from a WorkingMemory
// (the device's RAM arena), released before returning. Peak working memory
// is a page of output, the target manifest when the patch carries it as a
// delta, and the models and chunk buffers of one segment being rebuilt; it
// does not grow with the segments' or the artifact's size.
//
// It checks the patch's form, its base (WRONG_BASE, by the 4-byte SHA-256
// prefix the patch names), B's version, its delta ops and payload use, each
// rebuilt segment's length and SHA-256 against the manifest, and the first 4
// bytes of the whole target's SHA-256 against the patch's check.
// The caller then reads the target where the sink put it with readArtifact
// (structure, segments, and the signature with a key). Nothing but the sink
// is written, so on any error the source is untouched; the sink may hold a
// partial target, which the caller discards.
//
// applyPatch and applyPatchToArtifact, for hosts, are thin layers over it:
// a heap buffer as the sink, the heap as working memory, then readArtifact.
//
//   per target segment    source (flash)        patch (flash)       sink
//   OP_REUSE (implied)    segment, same hash ──────────────────────► as is
//   OP_WHOLE (implied)                          payload ───────────► as is
//   OP_BYTE_DELTA         copies ─────────────► literals ──────────► pieces (streamByteDelta)
//   OP_ENTRY_DELTA        entries, decoded ───► edits, merged ─────► re-encoded (entry-delta-stream.ts)
import type { KeyObject } from 'node:crypto';
import { indexSegments } from './patch-writer.ts';
import { isBase, readPatchFields, rebuildManifest, wrongBase } from './patch-reader.ts';
import { heldFromToggles } from './patch-head.ts';
import { readArtifact } from '../artifact/artifact-reader.ts';
import { readManifest } from '../artifact/manifest-reader.ts';
import { streamByteDelta } from './byte-delta.ts';
import { streamEntryDelta } from './entry-delta-stream.ts';
import { ArtifactStreamWriter, artifactHeader, type ArtifactSink } from '../artifact/artifact-stream.ts';
import { holdsInterval } from '../artifact/intervals.ts';
import { bytesEqual, toHex } from '../container/bytes.ts';
import { FormatError } from '../errors.ts';
import { MAX_FILE_BYTES } from '../caps.ts';
import { OP_BYTE_DELTA, OP_REUSE, OP_WHOLE } from './patch-ops.ts';
import { intervalLabel, type Artifact, type Manifest, type Segment } from '../model.ts';
import type { EntryReader } from './entry-delta.ts';
import type { ByteCursor } from '../container/varint.ts';
import { heapWorkingMemory, type WorkingMemory } from './working-memory.ts';
import { sha256Hex, verifyBytes } from '../artifact/signing.ts';
import type { PatchFields } from './patch-head.ts';

export type { ArtifactSink } from '../artifact/artifact-stream.ts';

export interface StreamPatchOptions {
  /** The publisher's key: a new target manifest's signature is verified with it before the manifest is decoded. */
  publicKey?: KeyObject | string;
  /** The patch's fields, when the caller already read them from these bytes (readPatchFields). */
  fields?: PatchFields;
  /**
   * The entries of a source segment an entry delta edits, when the caller
   * holds them decoded already (a device: its execution image, transcoded
   * once at install); null, or no function, and the applier decodes the
   * segment. They must be exactly the segment's entries: wrong ones make a
   * target that fails its hash, and the apply is refused.
   */
  sourceEntries?: (segment: Segment) => EntryReader | null;
}

export interface StreamedPatch {
  /** SHA-256 (hex) of the bytes written: the one the patch names. */
  sha256: string;
  /** Bytes written to the sink: the target artifact's size. */
  bytes: number;
  /** Peak working memory of the apply, in bytes (alignment included). */
  workingBytes: number;
  /** Target segments by how they were rebuilt. */
  reused: number;
  whole: number;
  byteDelta: number;
  entryDelta: number;
  /** The target's model, version and held intervals. */
  model: string;
  version: number;
  heldIntervals: number[];
  /** The target's manifest as parsed here, and its exact bytes (signature-checked only when verifiedSignature says so). */
  manifest: Manifest;
  manifestBytes: Uint8Array;
  /** The new manifest's bytes and signature, verified here with options.publicKey; null when no key was given or the manifest is the source's. */
  verifiedSignature: { manifestBytes: Uint8Array; signature: Uint8Array } | null;
}

/** Wraps `memory` to record how far above its starting mark it ever reached. */
function trackPeak(memory: WorkingMemory): { memory: WorkingMemory; peak: () => number } {
  const base = memory.mark();
  let peak = 0;
  const seen = <T>(buffer: T): T => {
    peak = Math.max(peak, memory.mark() - base);
    return buffer;
  };
  return {
    memory: {
      uint8: (length, what) => seen(memory.uint8(length, what)),
      uint16: (length, what) => seen(memory.uint16(length, what)),
      uint32: (length, what) => seen(memory.uint32(length, what)),
      float32: (length, what) => seen(memory.float32(length, what)),
      mark: () => memory.mark(),
      rewind: (mark) => memory.rewind(mark),
    },
    peak: () => peak,
  };
}

/**
 * Streams the artifact `patch` makes from `source` into `sink`, with working
 * memory from `memory` (whose mark() counts bytes in use); see the header.
 */
export function streamPatchToArtifact(
  source: Artifact,
  patch: Uint8Array,
  sink: ArtifactSink,
  memory: WorkingMemory,
  options: StreamPatchOptions = {},
): StreamedPatch {
  const start = memory.mark();
  const tracked = trackPeak(memory);
  try {
    return applyInto(source, patch, sink, tracked.memory, tracked.peak, options);
  } finally {
    memory.rewind(start);
  }
}

function applyInto(
  source: Artifact,
  patch: Uint8Array,
  sink: ArtifactSink,
  memory: WorkingMemory,
  peak: () => number,
  options: StreamPatchOptions,
): StreamedPatch {
  const f = options.fields ?? readPatchFields(patch);
  if (!isBase(f, source.sha256)) throw wrongBase(f, source.sha256);
  const newManifest = f.manifest !== null || f.manifestDelta !== null;
  const manifestBytes = f.manifest ?? (f.manifestDelta ? rebuildManifest(source.manifestBytes, f.manifestDelta, memory) : source.manifestBytes);
  const signature = newManifest ? f.signature : source.signature;
  // With a key, the new manifest's signature is checked before anything in
  // it is decoded (as readArtifact does), and the signed bytes then need no
  // canonical-form proof.
  let verifiedSignature: StreamedPatch['verifiedSignature'] = null;
  if (newManifest && options.publicKey !== undefined) {
    if (!signature) throw new FormatError('UNSIGNED', 'patch: its target manifest is not signed; the publisher must sign every version');
    if (!verifyBytes(manifestBytes, signature, options.publicKey)) {
      throw new FormatError(
        'BAD_SIGNATURE',
        'patch: the target manifest signature does not verify with the given public key; wrong key, or the patch was altered',
      );
    }
    verifiedSignature = { manifestBytes, signature };
  }
  const manifest = newManifest ? readManifest(manifestBytes, { signed: verifiedSignature !== null }) : source.manifest;
  if (manifest.version !== f.toVersion) throw new FormatError('BAD_VALUE', `patch: names version ${f.toVersion}, its manifest is version ${manifest.version}`);
  const held = heldFromToggles(
    manifest.intervals.map((i) => i.id),
    source.heldIntervals,
    f.toggles,
  );
  const index = indexSegments(source);

  let segmentBytes = 0;
  for (const ref of manifest.segments) if (holdsInterval(held, ref.interval)) segmentBytes += ref.bytes;
  const { header, padding } = artifactHeader(manifestBytes, signature, held, segmentBytes);
  const totalBytes = header.length + segmentBytes + padding;
  if (totalBytes > MAX_FILE_BYTES) throw new FormatError('TOO_LARGE', `patch: makes a ${totalBytes}-byte artifact, over the ${MAX_FILE_BYTES}-byte cap`);
  const out = new ArtifactStreamWriter(sink, memory);
  sink.begin(totalBytes);
  out.writeBytes(header);

  const cursor: ByteCursor = { bytes: f.data, at: 0, end: f.data.length, what: 'patch' };
  const counts = { reused: 0, whole: 0, byteDelta: 0, entryDelta: 0 };
  let op = 0;
  let change = 0;
  for (const ref of manifest.segments) {
    if (!holdsInterval(held, ref.interval)) continue;
    const where = `segment (tensor ${ref.tensor}, ${intervalLabel(ref.interval)})`;
    // Reuse and whole are implied: reuse when A holds the same SHA-256, else
    // whole, unless the patch names a delta for this segment.
    const reused = index.byHash.get(toHex(ref.sha256));
    let kind = reused ? OP_REUSE : OP_WHOLE;
    if (f.changes[change]?.at === op) {
      if (reused) throw new FormatError('BAD_VALUE', `patch: a delta for ${where}, which the source holds as it is`);
      kind = f.changes[change++]!.op;
    }
    op++;
    out.beginSegment(ref.bytes);
    if (reused) {
      out.writeBytes(reused.data);
      counts.reused++;
    } else if (kind === OP_WHOLE) {
      if (ref.bytes > cursor.end - cursor.at) throw new FormatError('TRUNCATED', `patch: data ends inside ${where}`);
      out.writeBytes(f.data.subarray(cursor.at, cursor.at + ref.bytes));
      cursor.at += ref.bytes;
      counts.whole++;
    } else {
      const sourceSegment = index.byKey.get(ref.tensor * 0x10000 + ref.interval);
      if (!sourceSegment) throw new FormatError('WRONG_BASE', `patch: has a delta against ${where}, which the source does not hold`);
      if (kind === OP_BYTE_DELTA) {
        streamByteDelta(sourceSegment.data, cursor, ref.bytes, (piece) => out.writeBytes(piece));
        counts.byteDelta++;
      } else {
        streamEntryDelta({ source, sourceSegment, manifest, ref, where, sourceEntries: options.sourceEntries }, cursor, memory, out);
        counts.entryDelta++;
      }
    }
    out.endSegment(ref, where);
  }
  if (change !== f.changes.length || cursor.at !== cursor.end) {
    throw new FormatError(
      'BAD_VALUE',
      `patch: ${f.changes.length - change} delta ops past the target's ${op} segments, or ${cursor.end - cursor.at} unused data bytes`,
    );
  }

  if (padding > 0) out.writeBytes(new Uint8Array(padding));
  const sha256 = out.finish();
  if (!bytesEqual(sha256.subarray(0, f.check.length), f.check)) {
    throw new FormatError('HASH_MISMATCH', `patch: the patched artifact's SHA-256 does not begin ${toHex(f.check)} as the patch says; the patch is damaged`);
  }
  return {
    sha256: toHex(sha256),
    bytes: out.written,
    workingBytes: peak(),
    ...counts,
    model: manifest.model,
    version: manifest.version,
    heldIntervals: held,
    manifest,
    manifestBytes,
    verifiedSignature,
  };
}

/**
 * Applies `patch` to `source` into a sink that only hashes (heap working
 * memory): what readPatch(bytes, source) reports exactly.
 */
export function hashPatchTarget(source: Artifact, patch: Uint8Array): StreamedPatch {
  return streamPatchToArtifact(source, patch, { begin() {}, append() {} }, heapWorkingMemory());
}

/** An ArtifactSink into one heap buffer of the announced size. */
export function bufferSink(): ArtifactSink & { bytes(): Uint8Array } {
  let buffer = new Uint8Array(0);
  let at = 0;
  return {
    begin(totalBytes) {
      buffer = new Uint8Array(totalBytes);
      at = 0;
    },
    append(bytes) {
      buffer.set(bytes, at);
      at += bytes.length;
    },
    bytes: () => buffer.subarray(0, at),
  };
}

export function applyPatch(from: Uint8Array, patch: Uint8Array, options: { publicKey?: KeyObject | string } = {}): Uint8Array {
  const f = readPatchFields(patch);
  const actualFrom = sha256Hex(from);
  if (!isBase(f, actualFrom)) throw wrongBase(f, actualFrom);
  return applyPatchToArtifact(readArtifact(from), patch, options).bytes;
}

/**
 * applyPatch for a caller that already holds the source as a verified
 * Artifact and wants the result verified as an Artifact: the source is not
 * read again and the result is read once (bench/device fleet).
 */
export function applyPatchToArtifact(source: Artifact, patch: Uint8Array, options: { publicKey?: KeyObject | string } = {}): Artifact {
  const sink = bufferSink();
  streamPatchToArtifact(source, patch, sink, heapWorkingMemory());
  return readArtifact(sink.bytes(), options);
}

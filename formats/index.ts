// formats/: the contract in the middle. pipeline/, server/ and device-sim/
// import from this file only. It depends on nothing of ours.
//
// API contract (implemented in the files this module re-exports):
//
//   encodeArtifact(input, { heldIntervals?, privateKey? }) -> .wgm bytes
//       heldIntervals defaults to every interval; signed when privateKey is given.
//       Same input -> byte-identical output.
//   readArtifact(bytes, { publicKey?, requireSignature? }) -> Artifact
//       Cheap and decisive first: the verifier (offsets, lengths, counts,
//       caps), the manifest, the Ed25519 signature when publicKey is given,
//       declared segment sizes against the file's length and entry counts
//       against what their bytes can encode; only then checks every held
//       segment against the manifest's SHA-256 and decodes it once (work
//       bounded per input byte). FormatError on any problem.
//   readArtifactHeader(bytes) -> { manifest, manifestBytes, signature, heldIntervals }
//       the same first checks without touching a segment (whose key signed it?).
//   splitArtifact(artifact) -> ReleaseParts        (what a server stores)
//   assembleArtifact(parts, heldIntervals) -> .wgm bytes  (no key needed; deterministic)
//   signArtifact(bytes, privateKey) -> .wgm bytes with the manifest signed
//   diffArtifacts(from, to) -> .wgp bytes; applyPatch(from, patch, { publicKey? }) -> .wgm bytes
//   applyPatchToArtifact(fromArtifact, patch, { publicKey? }) -> Artifact (no re-reads)
//   readPatch(bytes, source?) -> PatchDetails (PatchInfo + how many target
//       segments are reused / delta / whole, payload bytes, whether the
//       manifest changes). Alone, a patch names A and B by SHA-256 prefixes
//       and B's version; with its source artifact every field is exact.
//   streamPatchToArtifact(fromArtifact, patch, sink, memory) -> StreamedPatch:
//       the one patch applier (applyPatch* are heap layers over it). Reads the
//       source and the patch in place, writes the target's bytes in order
//       into `sink` (ArtifactSink: begin(totalBytes), append(bytes); a
//       device's inactive flash slot, or bufferSink()), takes every
//       data-sized buffer from `memory` (WorkingMemory: a device's arena,
//       fixedWorkingMemory(n) in tests, heapWorkingMemory()), and checks
//       every rebuilt segment's and the whole target's SHA-256; the caller
//       then reads the sink's bytes with readArtifact. Reports the peak
//       working bytes.
//   openSegment(artifact, i, memory?) + readSegmentEntries(cursor, positions, values):
//       i indexes artifact.segments (the segments this artifact holds);
//       the device's streaming decoder of (flat position, float value) pairs,
//       into caller-owned buffers, with no dense copy of the tensor; the
//       cursor's models and centroids come from `memory` (CursorMemory: a
//       device's arena) or the JS heap.
//   decodeTensor(artifact, tensorIndex) -> Float32Array (tests and tools only;
//       segments the artifact does not hold read as zero)
//   quantizeInt8(values, shape) -> { dequantized, scales }: the exact int8
//       rounding the encoder applies, so the pipeline can measure its accuracy
//       (one scale per last-dimension channel; one scale for a rank-1 tensor).
//   generateKeyPair(), keyIdOf(publicKey), exportC(bytes, name), sha256Hex(bytes)
//   intervalIndexOf(value, intervals): the one rule for which interval holds a
//       weight ([lower, upper) as float32, the last interval closed).
//   createRandom(seed): the one seeded PRNG (mulberry32) of every folder.
//   concatBytes(parts)
//   cursorStateBytes(cursor): RAM a device reserves for one open segment
//       (its adaptive models), for arena accounting.
//
// Layout notes: manifest.segments lists non-empty segments only (a
// (tensor, interval) pair with no weights has no segment and no hash);
// readArtifact refuses any byte string the writer would not produce
// (canonical form), so equal content <=> equal bytes <=> equal SHA-256.

export * from './model.ts';
export * from './errors.ts';
export { encodeArtifact, assembleArtifact, artifactOfVerifiedParts } from './artifact/artifact-writer.ts';
export {
  readArtifact,
  readArtifactHeader,
  maxEntriesFor,
  splitArtifact,
  signArtifact,
  verifySignature,
  type ArtifactHeader,
  type ReadArtifactOptions,
} from './artifact/artifact-reader.ts';
export { openSegment, readSegmentEntries, decodeTensor, SegmentCursor } from './coding/tensor-reader.ts';
export { cursorStateBytes, decodeEntries, segmentDecodeStats, type CursorMemory } from './coding/segment-cursor.ts';
export { quantizeInt8 } from './coding/quantize.ts';
export { generateKeyPair, keyIdOf, publicKeyObject, sha256Hex } from './artifact/signing.ts';
export { exportC } from './artifact/c-export.ts';
export { intervalIndexOf } from './artifact/intervals.ts';
export { featureMap, kernelShape, layerShapes, outputLength, padBefore, type LayerShape } from './artifact/layer-graph.ts';
export { createRandom, type Random } from './random.ts';
export { bytesEqual, concatBytes, toHex } from './container/bytes.ts';
export { readManifest, elementCount } from './artifact/manifest-reader.ts';
export { recodeArtifact } from './artifact/recode.ts';
export { codeBitsFor, localCodebookIndices, modelLayout } from './coding/segment-layout.ts';
export { isBase, readPatchFields } from './patch/patch-reader.ts';
export type { PatchFields } from './patch/patch-head.ts';
export { diffArtifacts, diffReadArtifacts, applyPatch, applyPatchToArtifact, readPatch, type PatchDetails } from './patch/patch.ts';
export {
  streamPatchToArtifact,
  bufferSink,
  fixedWorkingMemory,
  heapWorkingMemory,
  type ArtifactSink,
  type StreamedPatch,
  type StreamPatchOptions,
  type EntryReader,
  type WorkingMemory,
  type FixedWorkingMemory,
} from './patch/patch.ts';

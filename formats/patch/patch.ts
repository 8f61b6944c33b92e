// .wgp patches: see patch-writer.ts (diff), patch-reader.ts (read) and patch-stream.ts (apply).
export { diffArtifacts, diffReadArtifacts } from './patch-writer.ts';
export { readPatch, type PatchDetails } from './patch-reader.ts';
export {
  applyPatch,
  applyPatchToArtifact,
  bufferSink,
  streamPatchToArtifact,
  type ArtifactSink,
  type StreamedPatch,
  type StreamPatchOptions,
} from './patch-stream.ts';
export type { EntryReader } from './entry-delta.ts';
export { fixedWorkingMemory, heapWorkingMemory, type FixedWorkingMemory, type WorkingMemory } from './working-memory.ts';

// .wgp patches: see patch-writer.ts (diff) and patch-reader.ts (read, apply).
export { diffArtifacts } from './patch-writer.ts';
export { applyPatch, applyPatchToArtifact, readPatch, type PatchDetails } from './patch-reader.ts';

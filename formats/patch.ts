import { FormatError } from './errors.ts';
import type { KeyObject } from 'node:crypto';
import type { PatchInfo } from './model.ts';
export function diffArtifacts(_from: Uint8Array, _to: Uint8Array): Uint8Array {
  throw new FormatError('NOT_IMPLEMENTED', 'diffArtifacts is not implemented yet');
}
export function applyPatch(_from: Uint8Array, _patch: Uint8Array, _options: { publicKey?: KeyObject | string } = {}): Uint8Array {
  throw new FormatError('NOT_IMPLEMENTED', 'applyPatch is not implemented yet');
}
export function readPatch(_bytes: Uint8Array): PatchInfo {
  throw new FormatError('NOT_IMPLEMENTED', 'readPatch is not implemented yet');
}

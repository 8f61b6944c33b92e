// Reads .wgp patches: readPatchFields (verifier, then canonical form),
// readPatch (what a patch changes), and the pieces the applier
// (patch-stream.ts) shares: the manifest rebuilt from a delta, the base
// check and its error.
import * as flatbuffers from 'flatbuffers';
import { Patch as FbPatch } from '../gen/weightgate/fb/patch.ts';
import { verifyBuffer } from '../container/flatbuffer-verifier.ts';
import { patchSpec, patchVersionSpec } from '../container/schema-specs.ts';
import { buildFrame, type PatchFields } from './patch-writer.ts';
import { manifestDeltaModelCount, readManifestDeltaLength, streamManifestDelta } from './patch-manifest-delta.ts';
import { heapWorkingMemory, type WorkingMemory } from './working-memory.ts';
import { sha256Hex } from '../artifact/signing.ts';
import { bytesEqual, toHex } from '../container/bytes.ts';
import { FormatError } from '../errors.ts';
import { OP_BYTE_DELTA, OP_ENTRY_DELTA, PATCH_FORMAT_VERSION, PATCH_IDENTIFIER } from './patch-ops.ts';
import { decodeBody, encodeHead } from './patch-head.ts';
import { readManifest } from '../artifact/manifest-reader.ts';
import { hashPatchTarget } from './patch-stream.ts';
import type { Artifact, PatchInfo } from '../model.ts';

/** Verifies a .wgp and returns its fields; refuses anything buildPatchBytes would not write. */
export function readPatchFields(bytes: Uint8Array): PatchFields {
  // format_version first, alone: a patch of another version is refused as
  // such, whatever its other fields are.
  verifyBuffer(bytes, PATCH_IDENTIFIER, patchVersionSpec, 'patch');
  const version = FbPatch.getRootAsPatch(new flatbuffers.ByteBuffer(bytes)).formatVersion();
  if (version !== PATCH_FORMAT_VERSION) {
    throw new FormatError(
      'UNSUPPORTED_VERSION',
      `patch: format version ${version}; this build reads version ${PATCH_FORMAT_VERSION}; make the patch again with this weightgate`,
    );
  }
  verifyBuffer(bytes, PATCH_IDENTIFIER, patchSpec, 'patch');
  const fb = FbPatch.getRootAsPatch(new flatbuffers.ByteBuffer(bytes));
  const body = fb.bodyArray();
  if (!body) throw new FormatError('BAD_VALUE', 'patch: has no body');
  const { fields, headBytes } = decodeBody(body, fb.manifestArray());
  if (!isCanonicalPatch(fields, headBytes, bytes)) {
    throw new FormatError('BAD_VALUE', 'patch: bytes are not in canonical form (altered padding, layout, varints or trailing bytes); the file is damaged');
  }
  return fields;
}

/**
 * Whether `bytes` are what buildPatchBytes writes for `f`, without copying
 * the payload (a device checks a patch where it was downloaded, in flash).
 * buildPatchBytes writes the body first, so it ends the file as
 * [u32 length][body][zero padding to 4]; FlatBuffers offsets are relative and
 * laid out from the end, so every byte before it is the same for any body
 * of the same length modulo 4: build with a 1..4-byte stand-in body and
 * compare that prefix, the length and the padding; then the head (the body
 * before data) against its encoding (minimal varints, nothing left over).
 */
function isCanonicalPatch(f: PatchFields, headBytes: number, bytes: Uint8Array): boolean {
  const length = headBytes + f.data.length;
  const standIn = ((length - 1) & 3) + 1;
  const padding = -length & 3;

  const small = buildFrame(f, standIn);
  const prefix = small.length - standIn - padding - 4;
  if (bytes.length !== prefix + 4 + length + padding) return false;
  if (!bytesEqual(small.subarray(0, prefix), bytes.subarray(0, prefix))) return false;
  if (new DataView(bytes.buffer, bytes.byteOffset + prefix, 4).getUint32(0, true) !== length) return false;
  for (let i = bytes.length - padding; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return bytesEqual(encodeHead(f), bytes.subarray(prefix + 4, prefix + 4 + headBytes));
}

/**
 * What a patch does. Without the source artifact, a patch knows A and B only
 * by the first 4 bytes of their SHA-256 (fromSha256 and toSha256 are then 8
 * hex digits), B's version, and B's model when B's manifest travels whole;
 * model is '', fromVersion 0 (B's version when the manifest does not change)
 * and the licenses empty when they are unknown. With the source (readPatch(bytes, source)),
 * the patch is applied to a hashing sink and every field is exact.
 */
export interface PatchDetails extends PatchInfo {
  /** Whether the patch carries the target's manifest (a new version), or reuses the source's. */
  carriesManifest: boolean;
  /** Target segments by how the patch rebuilds them. */
  reused: number;
  whole: number;
  delta: number;
  /** Payload bytes. */
  payloadBytes: number;
  /** Whether the fields are exact: the patch was applied to the source given (its base matched). */
  exact: boolean;
}

/** What a patch does; pass the source artifact for exact fields (and a FormatError if the patch does not apply to it). */
export function readPatch(bytes: Uint8Array, source?: Artifact): PatchDetails {
  const f = readPatchFields(bytes);
  const count = (wanted: number[]) => f.changes.reduce((n, c) => n + (wanted.includes(c.op) ? 1 : 0), 0);
  const carriesManifest = f.manifest !== null || f.manifestDelta !== null;
  const details: PatchDetails = {
    model: f.manifest ? readManifest(f.manifest).model : '',
    fromVersion: carriesManifest ? 0 : f.toVersion,
    toVersion: f.toVersion,
    fromHeldIntervals: [],
    toHeldIntervals: [],
    fromSha256: toHex(f.base),
    toSha256: toHex(f.check),
    bytes: bytes.length,
    sha256: sha256Hex(bytes),
    carriesManifest,
    reused: 0,
    whole: 0,
    delta: count([OP_BYTE_DELTA, OP_ENTRY_DELTA]),
    payloadBytes: f.data.length,
    exact: false,
  };
  if (!source || !source.sha256.startsWith(details.fromSha256)) return details;
  const applied = hashPatchTarget(source, bytes);
  return {
    ...details,
    model: applied.model,
    fromVersion: source.manifest.version,
    fromHeldIntervals: [...source.heldIntervals],
    toHeldIntervals: applied.heldIntervals,
    fromSha256: source.sha256,
    toSha256: applied.sha256,
    reused: applied.reused,
    whole: applied.whole,
    exact: true,
  };
}

/**
 * The target manifest from a delta against the source's (patch-manifest-delta.ts),
 * in `memory` (a device: working memory; default: the heap): a dry run first,
 * so a damaged delta is refused before its length is allocated; the models
 * are released, the manifest stays.
 */
export function rebuildManifest(source: Uint8Array, delta: Uint8Array, memory: WorkingMemory = heapWorkingMemory()): Uint8Array {
  const { length } = readManifestDeltaLength(delta);
  const models = () => memory.uint16(manifestDeltaModelCount(source.length, length), 'manifest delta models');
  const start = memory.mark();
  streamManifestDelta(source, delta, models(), { byte() {}, copy() {} });
  memory.rewind(start);
  const into = memory.uint8(length, 'target manifest');
  const afterManifest = memory.mark();
  let t = 0;
  streamManifestDelta(source, delta, models(), {
    byte(value) {
      into[t++] = value;
    },
    copy(piece) {
      into.set(piece, t);
      t += piece.length;
    },
  });
  memory.rewind(afterManifest);
  return into;
}

/** Whether the artifact whose SHA-256 is `sha256` (hex) is the patch's base. */
export function isBase(f: PatchFields, sha256: string): boolean {
  return sha256.startsWith(toHex(f.base));
}

export function wrongBase(f: PatchFields, actual: string): FormatError {
  return new FormatError(
    'WRONG_BASE',
    `patch starts from an artifact whose SHA-256 begins ${toHex(f.base)}, but this artifact's is ${actual.slice(0, 16)}…; fetch the patch for the artifact you hold`,
  );
}

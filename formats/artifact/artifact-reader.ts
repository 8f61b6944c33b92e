// Reads .wgm artifacts, cheap and decisive checks first: the verifier, the
// Ed25519 signature over the manifest when a public key is given, the
// manifest, the held intervals, the declared segment sizes against the file's own
// length and each declared entry count against what its bytes can hold;
// only then every held segment against the manifest's SHA-256, and, unless
// the signature was verified with a key, decoded once to check it is
// canonical. So an untrusted or lying file is refused before any segment is
// decoded, and decoding work is bounded per input byte.
import * as flatbuffers from 'flatbuffers';
import type { KeyObject } from 'node:crypto';
import { Artifact as FbArtifact } from '../gen/weightgate/fb/artifact.ts';
import { verifyBuffer } from '../container/flatbuffer-verifier.ts';
import { artifactSpec } from '../container/schema-specs.ts';
import { ARTIFACT_IDENTIFIER, buildArtifactBytes } from './artifact-writer.ts';
import { readManifest } from './manifest-reader.ts';
import { FormatError } from '../errors.ts';
import { bytesEqual } from '../container/bytes.ts';
import { ED25519_SIGNATURE_BYTES, FORMAT_VERSION } from '../caps.ts';
import { holdsInterval } from './intervals.ts';
import { validateSegment } from '../coding/segment-raw.ts';
import { sha256, sha256Hex, signBytes, verifyBytes } from './signing.ts';
import { intervalLabel, type Artifact, type Manifest, type ReleaseParts, type Segment } from '../model.ts';

export interface ReadArtifactOptions {
  publicKey?: KeyObject | string;
  requireSignature?: boolean;
  /**
   * What the caller has itself checked of these exact bytes, so it is not
   * computed again: their SHA-256 (hex), and that every held segment
   * matches its SHA-256 in the manifest (formats' patch applier checks each
   * segment as it writes it, and the whole target's hash). Only for bytes
   * the caller produced or hashed itself, never for a claim that came with
   * the input.
   */
  checked?: {
    sha256: string;
    segmentHashes: boolean;
    /** The manifest the caller parsed from exactly these manifest bytes (used when the file's are the same bytes). */
    manifest?: { bytes: Uint8Array; manifest: Manifest };
    /** A signature the caller verified, with options.publicKey, over these manifest bytes (used when the file's are the same bytes). */
    signature?: { manifestBytes: Uint8Array; signature: Uint8Array };
    /**
     * These exact bytes are formats' own writer's output (the patch
     * applier's ArtifactStreamWriter: artifactHeader, the held segments in
     * manifest order, the padding), so canonical by construction: the
     * container is not rebuilt to compare.
     */
    canonical?: boolean;
  };
}

/** Reads a held-intervals vector: ascending, unique, ids of the manifest's intervals. */
export function readHeldIntervals(manifest: Manifest, length: number, at: (i: number) => number | null, what: string): number[] {
  const known = new Set(manifest.intervals.map((i) => i.id));
  const held: number[] = [];
  for (let i = 0; i < length; i++) {
    const id = at(i) ?? 0;
    if (!known.has(id)) throw new FormatError('BAD_VALUE', `${what}: held intervals name interval ${id}, which the manifest does not have`);
    if (i > 0 && id <= held[i - 1]!) throw new FormatError('BAD_VALUE', `${what}: held interval ids are not strictly ascending`);
    held.push(id);
  }
  return held;
}

/** What readArtifact checks before any segment: the manifest, its signature and the held intervals. */
export interface ArtifactHeader {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  signature: Uint8Array | null;
  heldIntervals: number[];
}

/** The container of a .wgm, checked: the nested manifest's bytes and the signature. */
interface ArtifactContainer {
  fb: FbArtifact;
  manifestBytes: Uint8Array;
  signature: Uint8Array | null;
}

/** Verifier, format version, the manifest's presence and the signature's length: nothing decoded yet. */
function readContainer(bytes: Uint8Array): ArtifactContainer {
  verifyBuffer(bytes, ARTIFACT_IDENTIFIER, artifactSpec, 'artifact');
  const fb = FbArtifact.getRootAsArtifact(new flatbuffers.ByteBuffer(bytes));
  if (fb.formatVersion() !== FORMAT_VERSION) {
    throw new FormatError(
      'UNSUPPORTED_VERSION',
      `artifact: format version ${fb.formatVersion()}; this build reads version ${FORMAT_VERSION}; upgrade weightgate`,
    );
  }
  const manifestBytes = fb.manifestArray();
  if (!manifestBytes) throw new FormatError('BAD_VALUE', 'artifact: has no manifest');
  const signature = fb.signatureArray();
  if (signature && signature.length !== ED25519_SIGNATURE_BYTES) {
    throw new FormatError('BAD_SIGNATURE', `artifact: signature is ${signature.length} bytes, an Ed25519 signature is ${ED25519_SIGNATURE_BYTES}`);
  }
  return { fb, manifestBytes, signature };
}

/**
 * The verified structure, manifest, held intervals and signature bytes of a .wgm,
 * without hashing or decoding a segment: cheap (linear in the file, no
 * decompression), for deciding whom the file is from before reading it.
 */
export function readArtifactHeader(bytes: Uint8Array): ArtifactHeader {
  const { fb, manifestBytes, signature } = readContainer(bytes);
  const manifest = readManifest(manifestBytes);
  const held = readHeldIntervals(manifest, fb.heldIntervalsLength(), (i) => fb.heldIntervals(i), 'artifact');
  return { manifest, manifestBytes, signature, heldIntervals: held };
}

/**
 * Entries a range-coded segment of `bytes` bytes may declare at most. Every
 * entry costs at least one binary decision, and a decision at the coder's
 * most skewed probability (2017/2048: 11-bit probabilities adapted by 1/32)
 * consumes at least log2(2048/2017) = 0.0220 bits, so one byte holds at
 * most 363.6 of them; the decoder reads at most 4 bytes past the end as
 * zero, and 4 more settle its first code. An integer bound, so the C
 * library computes the same: (bytes + 8) * 364.
 */
export const MAX_ENTRIES_PER_BYTE = 364;

export function maxEntriesFor(bytes: number): number {
  return (bytes + 8) * MAX_ENTRIES_PER_BYTE;
}

/**
 * Reads and verifies a .wgm, the cheapest decisive check first: the
 * container, then the signature over the manifest's exact bytes (with a
 * key), then the manifest and held intervals, the declared segment sizes against
 * the file, each held segment's SHA-256 and encoding, the canonical form.
 * A file signed by another key is refused before anything in it is decoded.
 */
export function readArtifact(bytes: Uint8Array, options: ReadArtifactOptions = {}): Artifact {
  const { fb, manifestBytes, signature } = readContainer(bytes);
  if (options.publicKey !== undefined || options.requireSignature) {
    if (!signature) throw new FormatError('UNSIGNED', 'artifact: is not signed; sign it with `weightgate sign FILE --key KEY`');
  }
  const verified = options.checked?.signature;
  const alreadyVerified =
    options.publicKey !== undefined &&
    verified !== undefined &&
    bytesEqual(verified.manifestBytes, manifestBytes) &&
    bytesEqual(verified.signature, signature!);
  if (options.publicKey !== undefined && !alreadyVerified && !verifyBytes(manifestBytes, signature!, options.publicKey)) {
    throw new FormatError('BAD_SIGNATURE', `artifact: manifest signature does not verify with the given public key; wrong key, or the manifest was altered`);
  }
  const signatureVerified = options.publicKey !== undefined;
  const parsed = options.checked?.manifest;
  const manifest = parsed && bytesEqual(parsed.bytes, manifestBytes) ? parsed.manifest : readManifest(manifestBytes, { signed: signatureVerified });
  const held = readHeldIntervals(manifest, fb.heldIntervalsLength(), (i) => fb.heldIntervals(i), 'artifact');
  const data = fb.segmentDataArray() ?? new Uint8Array(0);
  let declared = 0;
  for (const ref of manifest.segments) {
    if (!holdsInterval(held, ref.interval)) continue;
    declared += ref.bytes;
    const tensor = manifest.tensors[ref.tensor]!;
    if (tensor.encoding === 'codebook-sparse' && ref.count > maxEntriesFor(ref.bytes)) {
      throw new FormatError(
        'TRUNCATED',
        `artifact: segment of tensor ${ref.tensor} (${tensor.name}), ${intervalLabel(ref.interval)}, declares ${ref.count} entries in ${ref.bytes} bytes, too short for that many (at most ${maxEntriesFor(ref.bytes)}); the file is damaged or forged`,
      );
    }
  }
  if (declared !== data.length) {
    throw new FormatError(
      declared > data.length ? 'TRUNCATED' : 'BAD_VALUE',
      `artifact: the manifest declares ${declared} bytes of segment data for held intervals [${held}], the file holds ${data.length}`,
    );
  }
  const segments: Segment[] = [];
  let at = 0;
  for (const ref of manifest.segments) {
    if (!holdsInterval(held, ref.interval)) continue;
    if (at + ref.bytes > data.length) {
      throw new FormatError('TRUNCATED', `artifact: segment data is ${data.length} bytes, too short for the segments its held intervals [${held}] hold`);
    }
    const segmentBytes = data.subarray(at, at + ref.bytes);
    at += ref.bytes;
    if (!options.checked?.segmentHashes && !bytesEqual(sha256(segmentBytes), ref.sha256)) {
      throw new FormatError(
        'HASH_MISMATCH',
        `artifact: segment of tensor ${ref.tensor} (${manifest.tensors[ref.tensor]!.name}), ${intervalLabel(ref.interval)}, does not match its SHA-256 in the manifest; the file is damaged or tampered with`,
      );
    }
    // The canonical-form proof decodes and re-encodes the segment. With the
    // signature verified it is not needed: the hash binds the segment to
    // bytes the publisher signed (and made with formats' canonical encoder).
    if (!signatureVerified) validateSegment(ref.tensor, manifest.tensors[ref.tensor]!, ref.interval, manifest.intervals, ref.count, segmentBytes);
    segments.push({ tensor: ref.tensor, interval: ref.interval, count: ref.count, data: segmentBytes });
  }
  if (at !== data.length) {
    throw new FormatError('BAD_VALUE', `artifact: ${data.length - at} bytes of segment data beyond what held intervals [${held}] hold`);
  }

  const canonical = options.checked?.canonical
    ? bytes
    : buildArtifactBytes(
        manifestBytes,
        signature,
        held,
        segments.map((s) => s.data),
      );
  if (!bytesEqual(canonical, bytes)) {
    throw new FormatError('BAD_VALUE', 'artifact: bytes are not in canonical form (altered padding, layout or trailing bytes); the file is damaged');
  }

  return { manifest, manifestBytes, signature, heldIntervals: held, segments, bytes, sha256: options.checked?.sha256 ?? sha256Hex(bytes) };
}

export function verifySignature(artifact: Artifact, publicKey: KeyObject | string): boolean {
  if (!artifact.signature) return false;
  return verifyBytes(artifact.manifestBytes, artifact.signature, publicKey);
}

export function splitArtifact(artifact: Artifact): ReleaseParts {
  return {
    manifestBytes: artifact.manifestBytes,
    signature: artifact.signature,
    segments: artifact.segments.map((s) => ({ tensor: s.tensor, interval: s.interval, data: s.data })),
  };
}

export function signArtifact(bytes: Uint8Array, privateKey: KeyObject | string): Uint8Array {
  const artifact = readArtifact(bytes);
  const signature = signBytes(artifact.manifestBytes, privateKey);
  return buildArtifactBytes(
    artifact.manifestBytes,
    signature,
    artifact.heldIntervals,
    artifact.segments.map((s) => s.data),
  );
}

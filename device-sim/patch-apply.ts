// The apply phase of a patch on the device (updater.ts): formats'
// streaming applier reads the running artifact and the downloaded patch in
// place, programs the target artifact into the inactive slot in order
// (flash.openSlotWriter, through the power-cut injector), and takes its
// working memory from the RAM arena. Inference pauses for the few
// milliseconds of the apply, as on a single-threaded MCU, so the apply has
// the whole arena and the device's peak RAM is the larger of the two, not
// their sum:
//
//   arena  0 ─────────────────────────────────────────────── ramBytes
//          │ patch working memory │            free            │
//          └──────────────────────┘
//          released when the apply ends; the running model's interpreter
//          comes back on its next inference (its image is in flash)
//
// Needing more than the arena has left is a RAM BudgetError naming the bytes;
// a flash slot too small is a flash BudgetError before the slot is erased.
// Only the inactive slot is written here, never the state record.
import { createHash } from 'node:crypto';
import { FormatError, streamPatchToArtifact, type Artifact, type ArtifactSink, type PatchFields, type StreamedPatch } from '../formats/index.ts';
import { arenaMemory } from './arena.ts';
import type { DeviceCore } from './device.ts';
import { slotName, type SlotWriter } from './flash.ts';
import { imageSourceEntries } from './exec-image.ts';

export interface PatchedSlot {
  /** The slot's bytes as read back from flash: the target artifact, not yet verified. */
  bytes: Uint8Array;
  /** Peak arena bytes the apply took. */
  workingBytes: number;
  /** SHA-256 (hex) of the slot's bytes, read back: the target the patch names. */
  sha256: string;
  /** The target's manifest as the apply parsed it, and its bytes. */
  manifest: StreamedPatch['manifest'];
  manifestBytes: Uint8Array;
  /** The new manifest's signature, verified during the apply with the device's key (null: none new, or no key). */
  verifiedSignature: StreamedPatch['verifiedSignature'];
}

/** Streams the artifact `patch` makes from the running `source` into `slot`, and reads it back. */
export function applyPatchIntoSlot(core: DeviceCore, source: Artifact, patch: Uint8Array, slot: number, fields?: PatchFields): PatchedSlot {
  const arena = core.arena;
  // The source's image stays in flash while inference pauses: the entry deltas read their source entries from it.
  const image = core.runningImage();
  const sourceEntries = image ? imageSourceEntries(image, source) : undefined;
  core.pauseModel();
  let writer: SlotWriter | null = null;
  const sink: ArtifactSink = {
    begin(totalBytes) {
      writer = core.flash.openSlotWriter(slot, totalBytes);
    },
    append(bytes) {
      writer!.append(bytes);
    },
  };
  let streamed: StreamedPatch;
  try {
    streamed = streamPatchToArtifact(source, patch, sink, arenaMemory(arena, 'applying the patch'), { publicKey: core.publicKey, fields, sourceEntries });
  } finally {
    (writer as SlotWriter | null)?.close();
  }
  const bytes = core.flash.readSlot(slot) ?? new Uint8Array(0);
  const readBack = createHash('sha256').update(bytes).digest('hex');
  if (readBack !== streamed.sha256) {
    throw new FormatError(
      'HASH_MISMATCH',
      `slot ${slotName(slot)} reads back ${bytes.length} bytes hashing to ${readBack.slice(0, 12)}…; ${streamed.bytes} bytes hashing to ${streamed.sha256.slice(0, 12)}… were programmed`,
    );
  }
  return {
    bytes,
    workingBytes: streamed.workingBytes,
    sha256: readBack,
    manifest: streamed.manifest,
    manifestBytes: streamed.manifestBytes,
    verifiedSignature: streamed.verifiedSignature,
  };
}

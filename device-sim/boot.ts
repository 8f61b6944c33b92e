// Boot: pick the newest intact state record, verify the active slot (length
// and SHA-256 against the record, then the formats verifier with the
// publisher's key), finish or undo an interrupted trial, and fall back to
// the other slot when the active one is corrupted. Whatever happened before
// the reboot, the device ends up running a complete verified artifact, or
// none (never a mix).
import { createHash } from 'node:crypto';
import { readArtifact, type Artifact } from '../formats/index.ts';
import { slotName, type Flash } from './flash.ts';
import { EMPTY_SLOT, emptyState, NO_SLOT, type StateRecord } from './state-record.ts';

export type PublicKeyInput = NonNullable<NonNullable<Parameters<typeof readArtifact>[1]>['publicKey']>;

export interface BootResult {
  state: StateRecord;
  artifact: Artifact | null;
  /** What boot found wrong and did about it, for status() and logs. */
  issues: string[];
}

/** The slot's verified artifact, or a reason why it is not usable. */
export function verifySlot(flash: Flash, state: StateRecord, slot: number, publicKey?: PublicKeyInput): Artifact | string {
  const info = state.slots[slot];
  if (!info.sha256) return `slot ${slotName(slot)} is empty`;
  const bytes = flash.readSlot(slot);
  if (!bytes) return `slot ${slotName(slot)} is missing`;
  if (bytes.length !== info.bytes) return `slot ${slotName(slot)} holds ${bytes.length} bytes, the state record says ${info.bytes}`;
  const hash = createHash('sha256').update(bytes).digest('hex');
  if (hash !== info.sha256) return `slot ${slotName(slot)} hashes to ${hash.slice(0, 12)}…, the state record says ${info.sha256.slice(0, 12)}…`;
  try {
    return readArtifact(bytes, { publicKey, requireSignature: publicKey !== undefined, checked: { sha256: hash, segmentHashes: false } });
  } catch (error) {
    return `slot ${slotName(slot)} fails verification: ${(error as Error).message}`;
  }
}

export function bootFlash(flash: Flash, publicKey: PublicKeyInput | undefined, selfTest: (artifact: Artifact) => string | null): BootResult {
  const issues: string[] = [];
  let state = flash.readState() ?? emptyState();
  if (state.active === NO_SLOT) return { state, artifact: null, issues };

  const write = (next: Omit<StateRecord, 'sequence'>): void => {
    state = { ...next, sequence: state.sequence + 1 };
    flash.writeState(state);
  };
  const fallBack = (reason: string): BootResult => {
    issues.push(reason);
    const other = state.previous !== NO_SLOT && state.previous !== state.active ? state.previous : 1 - state.active;
    const slots: StateRecord['slots'] = [...state.slots];
    slots[state.active] = EMPTY_SLOT;
    const candidate = verifySlot(flash, state, other, publicKey);
    if (typeof candidate !== 'string') {
      issues.push(`fell back to slot ${slotName(other)} (version ${candidate.manifest.version})`);
      write({ active: other, confirmed: true, previous: NO_SLOT, slots });
      return { state, artifact: candidate, issues };
    }
    issues.push(`no usable slot: ${candidate}`);
    write({ active: NO_SLOT, confirmed: true, previous: NO_SLOT, slots });
    return { state, artifact: null, issues };
  };

  const active = verifySlot(flash, state, state.active, publicKey);
  if (typeof active === 'string') return fallBack(active);
  if (!state.confirmed) {
    // Power went after the switch but before the confirm: finish the trial now.
    const failure = selfTest(active);
    if (failure) return fallBack(`slot ${slotName(state.active)} on trial failed its self-test: ${failure}`);
    issues.push(`confirmed slot ${slotName(state.active)} after an interrupted trial`);
    write({ ...state, confirmed: true, previous: NO_SLOT });
  }
  return { state, artifact: active, issues };
}

// The update path: check → download (resumable) → verify → apply into the
// inactive slot → switch (trial) → self-test → confirm, or roll back.
//
// Flash write order, and what a power cut at each point leaves behind:
//   download  download.bin grows     state untouched → old slot runs; the next check resumes
//   apply     inactive slot written  state untouched → old slot runs (the torn slot no
//                                    longer matches its hash in the record); a patch is
//                                    streamed into the slot as it is applied (patch-apply.ts)
//   switch    trial record written   torn record fails its CRC → the older copy, old slot;
//                                    intact → boot self-tests the new slot and confirms it
//   confirm   confirmed record       torn → the trial record is in force → as above
// so any cut leaves a complete verified version, old or new.
import { readArtifact, type Artifact, type ReadArtifactOptions } from '../formats/index.ts';
import { isBase, readPatchFields, toHex, type PatchFields } from '../formats/index.ts';
import type { DeviceCore } from './device.ts';
import { DeviceError, DeviceErrorCode, PowerCutError } from './errors.ts';
import type { InstallOutcome } from '../api/device-report.ts';
import { applyPatchIntoSlot } from './patch-apply.ts';
import { EMPTY_SLOT, NO_SLOT, type StateRecord } from './state-record.ts';

export type UpdateKind = 'none' | 'install' | 'license-upgrade' | 'license-downgrade' | 'version';

export interface UpdateOutcome {
  kind: UpdateKind;
  fromVersion: number;
  toVersion: number;
  fromHeldIntervals: number[];
  heldIntervals: number[];
  /** Bytes that came over the network in this check (0 for a local install). */
  bytesSent: number;
  /** Size of the patch used, or null when the full artifact was installed. */
  patchBytes: number | null;
  /** Size of the full target artifact. */
  fullArtifactBytes: number;
  sha256: string | null;
  slot: 'A' | 'B' | null;
  /** Peak RAM (arena bytes; inference pauses meanwhile) the patch took to apply; null when no patch was applied. */
  applyWorkingBytes: number | null;
  /** The arena's high-water mark after the check: inference, image building and patching alike. */
  arenaHighWaterBytes: number;
}

function kindOf(from: Artifact | null, to: Artifact): UpdateKind {
  if (!from) return 'install';
  if (to.manifest.version !== from.manifest.version) return 'version';
  if (to.heldIntervals.length > from.heldIntervals.length) return 'license-upgrade';
  if (to.heldIntervals.length < from.heldIntervals.length) return 'license-downgrade';
  return 'version';
}

function refuseOlder(core: DeviceCore, version: number, what: string): void {
  const running = core.artifact?.manifest.version ?? 0;
  if (version < running) {
    throw new DeviceError(
      DeviceErrorCode.ROLLBACK_REFUSED,
      `${what} is version ${version}, older than the running version ${running}; refused (rollback protection)`,
    );
  }
}

function writeState(core: DeviceCore, next: Omit<StateRecord, 'sequence'>): void {
  const state = { ...next, sequence: core.state.sequence + 1 };
  core.flash.writeState(state);
  core.state = state;
}

/**
 * Verifies `bytes` as a whole artifact (signature required when the device
 * has a key). `checked`: what the device itself already hashed of these
 * bytes (a patch's apply: every segment and the whole), not hashed again.
 */
function verifyArtifact(core: DeviceCore, bytes: Uint8Array, checked?: ReadArtifactOptions['checked']): Artifact {
  return readArtifact(bytes, { publicKey: core.publicKey, requireSignature: core.publicKey !== undefined, checked });
}

/** Refuses an artifact this device must not run: another model, an older version, more than a slot holds. */
function checkInstallable(core: DeviceCore, next: Artifact): void {
  const previous = core.artifact;
  if (previous && next.manifest.model !== previous.manifest.model) {
    throw new DeviceError(DeviceErrorCode.WRONG_MODEL, `artifact is of model "${next.manifest.model}", the device runs "${previous.manifest.model}"; refused`);
  }
  refuseOlder(core, next.manifest.version, 'the artifact');
  core.flash.checkFitsSlot(next.bytes.length, `artifact ${next.manifest.model} v${next.manifest.version}`);
}

function inactiveSlot(core: DeviceCore): number {
  return core.state.active === NO_SLOT ? 0 : 1 - core.state.active;
}

interface InstallReport {
  bytesSent: number;
  patchBytes: number | null;
  applyWorkingBytes: number | null;
}

/** Runs a verified artifact through apply / switch / self-test / confirm. */
function installVerified(core: DeviceCore, next: Artifact, network: { bytesSent: number }): UpdateOutcome {
  checkInstallable(core, next);
  const target = inactiveSlot(core);
  core.injector.enter('apply');
  core.flash.writeSlot(target, next.bytes);
  return switchTo(core, next, target, { ...network, patchBytes: null, applyWorkingBytes: null });
}

/** Switch / self-test / confirm (or roll back) to `next`, already verified in slot `target`. */
function switchTo(core: DeviceCore, next: Artifact, target: number, report: InstallReport): UpdateOutcome {
  const previous = core.artifact;
  const from = core.state;
  core.injector.enter('switch');
  core.flash.clearDownload();
  const slots: StateRecord['slots'] = [...from.slots];
  slots[target] = { version: next.manifest.version, bytes: next.bytes.length, sha256: next.sha256 };
  writeState(core, { active: target, confirmed: false, previous: from.active, slots });

  const failure = core.selfTest(next);
  if (failure) {
    slots[target] = EMPTY_SLOT;
    writeState(core, { active: from.active, confirmed: true, previous: NO_SLOT, slots });
    core.load(previous);
    throw new DeviceError(
      DeviceErrorCode.SELF_TEST_FAILED,
      `v${next.manifest.version} failed its self-test (${failure}); rolled back to ${previous ? `v${previous.manifest.version}` : 'no model'}`,
    );
  }
  writeState(core, { active: target, confirmed: true, previous: NO_SLOT, slots });
  core.load(next);
  return {
    kind: kindOf(previous, next),
    fromVersion: previous?.manifest.version ?? 0,
    toVersion: next.manifest.version,
    fromHeldIntervals: previous ? [...previous.heldIntervals] : [],
    heldIntervals: [...next.heldIntervals],
    bytesSent: report.bytesSent,
    patchBytes: report.patchBytes,
    fullArtifactBytes: next.bytes.length,
    sha256: next.sha256,
    slot: target === 0 ? 'A' : 'B',
    applyWorkingBytes: report.applyWorkingBytes,
    arenaHighWaterBytes: core.arena.highWaterBytes(),
  };
}

/** The running artifact a patch applies to, refusing a patch for another base, model or an older version. */
function patchBase(core: DeviceCore, patch: Uint8Array): { current: Artifact; fields: PatchFields } {
  const current = core.artifact;
  if (!current) throw new DeviceError(DeviceErrorCode.PATCH_WRONG_BASE, 'a patch needs a running artifact; this device has none');
  // The patch names its source by a SHA-256 prefix and its target's version:
  // both checked from its fields alone, before anything is written. The
  // apply then checks every segment it writes and the whole target's hash,
  // and checkInstallable the target's model and version once it is read.
  const fields = readPatchFields(patch);
  if (!isBase(fields, current.sha256)) {
    throw new DeviceError(
      DeviceErrorCode.PATCH_WRONG_BASE,
      `patch starts from ${toHex(fields.base)}… but the device runs ${current.sha256.slice(0, 12)}… (v${current.manifest.version}); refused`,
    );
  }
  refuseOlder(core, fields.toVersion, 'the patch target');
  return { current, fields };
}

/**
 * Applies a patch into the inactive slot as it streams (patch-apply.ts:
 * hashes checked on the way), verifies what the slot then holds like any
 * artifact (the signature when the device has a key), and switches to it.
 */
function installPatch(core: DeviceCore, patch: Uint8Array, network: { bytesSent: number }): UpdateOutcome {
  const { current, fields } = patchBase(core, patch);
  const target = inactiveSlot(core);
  core.injector.enter('apply');
  const applied = applyPatchIntoSlot(core, current, patch, target, fields);
  // Verify once: the apply checked each segment against the new manifest,
  // the slot's hash as read back and (with a key) the new manifest's
  // signature; a manifest the patch left as it was is the running
  // artifact's, whose signature this device checked when it took it.
  const signed =
    applied.verifiedSignature ?? (core.publicKey && current.signature ? { manifestBytes: current.manifestBytes, signature: current.signature } : undefined);
  const next = verifyArtifact(core, applied.bytes, {
    sha256: applied.sha256,
    segmentHashes: true,
    // The slot reads back as exactly what formats' stream writer wrote.
    canonical: true,
    manifest: { bytes: applied.manifestBytes, manifest: applied.manifest },
    signature: signed,
  });
  checkInstallable(core, next);
  return switchTo(core, next, target, { ...network, patchBytes: patch.length, applyWorkingBytes: applied.workingBytes });
}

export function installArtifactBytes(core: DeviceCore, bytes: Uint8Array): UpdateOutcome {
  return installVerified(core, verifyArtifact(core, bytes), { bytesSent: 0 });
}

export function installPatchBytes(core: DeviceCore, patch: Uint8Array): UpdateOutcome {
  return installPatch(core, patch, { bytesSent: 0 });
}

export async function checkForUpdate(core: DeviceCore): Promise<UpdateOutcome> {
  if (!core.client) throw new DeviceError(DeviceErrorCode.BAD_INPUT, 'device has no server/token configured', 2);
  const current = core.artifact;
  const check = await core.client.check({
    version: current?.manifest.version ?? 0,
    heldIntervals: current ? current.heldIntervals : [],
    sha256: current?.sha256,
  });
  core.push = check.push ?? null;
  const none: UpdateOutcome = {
    kind: 'none',
    fromVersion: current?.manifest.version ?? 0,
    toVersion: current?.manifest.version ?? 0,
    fromHeldIntervals: current ? [...current.heldIntervals] : [],
    heldIntervals: current ? [...current.heldIntervals] : [],
    bytesSent: 0,
    patchBytes: null,
    fullArtifactBytes: check.artifact.bytes,
    sha256: current?.sha256 ?? null,
    slot: current && core.state.active !== NO_SLOT ? (core.state.active === 0 ? 'A' : 'B') : null,
    applyWorkingBytes: null,
    arenaHighWaterBytes: core.arena.highWaterBytes(),
  };
  if (check.upToDate || (current && check.artifact.sha256 === current.sha256)) {
    if (core.flash.readDownloadMeta()) core.flash.clearDownload();
    return none;
  }
  try {
    if (current && check.model !== current.manifest.model) {
      throw new DeviceError(DeviceErrorCode.WRONG_MODEL, `server offers model "${check.model}", the device runs "${current.manifest.model}"; refused`);
    }
    refuseOlder(core, check.version, 'the offered version');
  } catch (error) {
    await report(core, check.version, 'refused', (error as Error).message);
    throw error;
  }

  const usePatch = current !== null && check.patch !== null;
  core.injector.enter('download');
  const { bytes, bytesSent } = usePatch
    ? await core.client.download(check.patch!, 'patch', core.flash)
    : await core.client.download(check.artifact, 'artifact', core.flash);
  let outcome: UpdateOutcome;
  try {
    outcome = usePatch ? installPatch(core, bytes, { bytesSent }) : installVerified(core, verifyArtifact(core, bytes), { bytesSent });
  } catch (error) {
    // A cut power reports nothing (the device is off); anything else the
    // device refused or rolled back is reported, then raised as before.
    if (!(error instanceof PowerCutError)) {
      const rolledBack = error instanceof DeviceError && error.code === DeviceErrorCode.SELF_TEST_FAILED;
      await report(core, check.version, rolledBack ? 'rolled-back' : 'refused', (error as Error).message, bytes.byteLength);
    }
    throw error;
  }
  await report(core, check.version, 'installed', null, bytes.byteLength);
  return outcome;
}

/**
 * Tells the server what the device runs now and how the install attempt
 * went. Best effort: a report that does not arrive changes nothing on the
 * device (its next update-check reports the version it runs anyway).
 */
async function report(
  core: DeviceCore,
  attemptedVersion: number,
  outcome: InstallOutcome,
  reason: string | null,
  downloadBytes: number | null = null,
): Promise<void> {
  const running = core.artifact;
  try {
    await core.client?.report({
      version: running?.manifest.version ?? 0,
      heldIntervals: running ? [...running.heldIntervals] : [],
      slot: running && core.state.active !== NO_SLOT ? (core.state.active === 0 ? 'A' : 'B') : null,
      outcome,
      reason: reason === null ? null : reason.slice(0, 500),
      downloadBytes,
      attemptedVersion,
    });
  } catch {
    // unreachable server, an old server without the route: the update itself stands
  }
}

// The update path: check → download (resumable) → verify → apply into the
// inactive slot → switch (trial) → self-test → confirm, or roll back.
//
// Flash write order, and what a power cut at each point leaves behind:
//   download  download.bin grows     state untouched → old slot runs; the next check resumes
//   apply     inactive slot written  state untouched → old slot runs (the torn slot no
//                                    longer matches its hash in the record)
//   switch    trial record written   torn record fails its CRC → the older copy, old slot;
//                                    intact → boot self-tests the new slot and confirms it
//   confirm   confirmed record       torn → the trial record is in force → as above
// so any cut leaves a complete verified version, old or new.
import { applyPatchToArtifact, readArtifact, readPatch, type Artifact } from '../formats/index.ts';
import type { DeviceCore } from './device.ts';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import { EMPTY_SLOT, NO_SLOT, type StateRecord } from './state-record.ts';

export type UpdateKind = 'none' | 'install' | 'license-upgrade' | 'license-downgrade' | 'version';

export interface UpdateOutcome {
  kind: UpdateKind;
  fromVersion: number;
  toVersion: number;
  fromIntervals: number[];
  intervals: number[];
  /** Bytes that came over the network in this check (0 for a local install). */
  bytesSent: number;
  /** Size of the patch used, or null when the full artifact was installed. */
  patchBytes: number | null;
  /** Size of the full target artifact. */
  fullArtifactBytes: number;
  sha256: string | null;
  slot: 'A' | 'B' | null;
}

function kindOf(from: Artifact | null, to: Artifact): UpdateKind {
  if (!from) return 'install';
  if (to.manifest.version !== from.manifest.version) return 'version';
  if (to.license.length > from.license.length) return 'license-upgrade';
  if (to.license.length < from.license.length) return 'license-downgrade';
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

/** Verifies `bytes` as a whole artifact (signature required when the device has a key). */
function verifyArtifact(core: DeviceCore, bytes: Uint8Array): Artifact {
  return readArtifact(bytes, { publicKey: core.publicKey, requireSignature: core.publicKey !== undefined });
}

/** Runs a verified artifact through apply / switch / self-test / confirm. */
function installVerified(core: DeviceCore, next: Artifact, network: { bytesSent: number; patchBytes: number | null }): UpdateOutcome {
  const bytes = next.bytes;
  const previous = core.artifact;
  if (previous && next.manifest.model !== previous.manifest.model) {
    throw new DeviceError(DeviceErrorCode.WRONG_MODEL, `artifact is of model "${next.manifest.model}", the device runs "${previous.manifest.model}"; refused`);
  }
  refuseOlder(core, next.manifest.version, 'the artifact');
  core.flash.checkFitsSlot(bytes.length, `artifact ${next.manifest.model} v${next.manifest.version}`);

  const from = core.state;
  const target = from.active === NO_SLOT ? 0 : 1 - from.active;
  core.injector.enter('apply');
  core.flash.writeSlot(target, bytes);

  core.injector.enter('switch');
  core.flash.clearDownload();
  const slots: StateRecord['slots'] = [...from.slots];
  slots[target] = { version: next.manifest.version, bytes: bytes.length, sha256: next.sha256 };
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
    fromIntervals: previous ? [...previous.license] : [],
    intervals: [...next.license],
    bytesSent: network.bytesSent,
    patchBytes: network.patchBytes,
    fullArtifactBytes: bytes.length,
    sha256: next.sha256,
    slot: target === 0 ? 'A' : 'B',
  };
}

/**
 * Turns a patch into the new artifact, verified (hashes, and the signature
 * when the device has a key), refusing a patch for another base.
 */
function patchedArtifact(core: DeviceCore, patch: Uint8Array): Artifact {
  const current = core.artifact;
  if (!current) throw new DeviceError(DeviceErrorCode.PATCH_WRONG_BASE, 'a patch needs a running artifact; this device has none');
  const info = readPatch(patch);
  if (info.fromSha256 !== current.sha256) {
    throw new DeviceError(
      DeviceErrorCode.PATCH_WRONG_BASE,
      `patch starts from ${info.fromSha256.slice(0, 12)}… (v${info.fromVersion}) but the device runs ${current.sha256.slice(0, 12)}… (v${current.manifest.version}); refused`,
    );
  }
  refuseOlder(core, info.toVersion, 'the patch target');
  // Checks the result against the SHA-256 the patch names, every segment
  // hash, and (with a key) requires and verifies the signature.
  return applyPatchToArtifact(current, patch, { publicKey: core.publicKey });
}

export function installArtifactBytes(core: DeviceCore, bytes: Uint8Array): UpdateOutcome {
  return installVerified(core, verifyArtifact(core, bytes), { bytesSent: 0, patchBytes: null });
}

export function installPatchBytes(core: DeviceCore, patch: Uint8Array): UpdateOutcome {
  return installVerified(core, patchedArtifact(core, patch), { bytesSent: 0, patchBytes: patch.length });
}

export async function checkForUpdate(core: DeviceCore): Promise<UpdateOutcome> {
  if (!core.client) throw new DeviceError(DeviceErrorCode.BAD_INPUT, 'device has no server/token configured', 2);
  const current = core.artifact;
  const check = await core.client.check({
    version: current?.manifest.version ?? 0,
    intervals: current ? current.license : [],
    sha256: current?.sha256,
  });
  const none: UpdateOutcome = {
    kind: 'none',
    fromVersion: current?.manifest.version ?? 0,
    toVersion: current?.manifest.version ?? 0,
    fromIntervals: current ? [...current.license] : [],
    intervals: current ? [...current.license] : [],
    bytesSent: 0,
    patchBytes: null,
    fullArtifactBytes: check.artifact.bytes,
    sha256: current?.sha256 ?? null,
    slot: current && core.state.active !== NO_SLOT ? (core.state.active === 0 ? 'A' : 'B') : null,
  };
  if (check.upToDate || (current && check.artifact.sha256 === current.sha256)) {
    if (core.flash.readDownloadMeta()) core.flash.clearDownload();
    return none;
  }
  if (current && check.model !== current.manifest.model) {
    throw new DeviceError(DeviceErrorCode.WRONG_MODEL, `server offers model "${check.model}", the device runs "${current.manifest.model}"; refused`);
  }
  refuseOlder(core, check.version, 'the offered version');

  const usePatch = current !== null && check.patch !== null;
  core.injector.enter('download');
  if (usePatch) {
    const { bytes, bytesSent } = await core.client.download(check.patch!, 'patch', core.flash);
    return installVerified(core, patchedArtifact(core, bytes), { bytesSent, patchBytes: bytes.length });
  }
  const { bytes, bytesSent } = await core.client.download(check.artifact, 'artifact', core.flash);
  return installVerified(core, verifyArtifact(core, bytes), { bytesSent, patchBytes: null });
}

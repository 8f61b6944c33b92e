// A simulated device: flash slots + state record in a directory, one RAM
// arena, the interpreter, and the update client. This is the public API the
// CLI, the fleet and the demo call:
//
//   const device = await openDevice({ dir, profile, server, token, publicKey });
//   await device.checkForUpdate();          // UpdateOutcome
//   device.infer(samples, count);            // predictions + latency + arena high-water
//   device.status();                        // version, intervals, slot, sha256, ...
//
// A PowerCutError thrown out of an update means the process "lost power":
// drop this object and openDevice() on the same dir again (the reboot).
import { publicKeyObject, type Artifact } from '../formats/index.ts';
import { Arena } from './arena.ts';
import { bootFlash, type PublicKeyInput } from './boot.ts';
import { DeviceError, DeviceErrorCode, PowerCutError } from './errors.ts';
import { openExecImage, prepareExecImage, type ExecImage, type PreviousImage } from './exec-image.ts';
import { Flash, slotName, type FlashStorage } from './flash.ts';
import { createInterpreter, type Interpreter } from './interpreter.ts';
import { PowerCutInjector, type PowerCutPlan } from './power-cut.ts';
import { resolveProfile, type DeviceProfile } from './profiles.ts';
import { NO_SLOT, type StateRecord } from './state-record.ts';
import { summarizeLatency } from './stats.ts';
import { createUpdateClient, type UpdateClient } from './update-client.ts';
import { MAX_INLINE_PATCH_BYTES } from '../api/update-check.ts';
import type { PushChannel } from './push-client.ts';
import { checkForUpdate, installArtifactBytes, installPatchBytes, type UpdateOutcome } from './updater.ts';

export type { UpdateOutcome } from './updater.ts';
export type { PublicKeyInput } from './boot.ts';

export interface OpenDeviceOptions {
  /** Directory holding the device's flash (created when missing); with `flash: 'memory'`, only the device's name. */
  dir: string;
  /**
   * 'files' (default): the flash persists in `dir`, so the device survives a
   * restart. 'memory': it lives in this process only (fleets of simulated
   * devices that never restart; see flash.ts).
   */
  flash?: FlashStorage;
  /** A profile name or a resolved profile; default m4-256k. */
  profile?: string | DeviceProfile;
  server?: string;
  token?: string;
  /** Publisher's Ed25519 public key: when set, unsigned or badly signed artifacts are refused. */
  publicKey?: PublicKeyInput;
  /** Cut the power at this point of the next update (see power-cut.ts). */
  powerCut?: PowerCutPlan | null;
  /** Extra self-test after a switch: return a reason to fail it (tests use this), null to pass. */
  selfTest?: (artifact: Artifact, interpreter: Interpreter) => string | null;
  /** Entries per streamed chunk (arena use vs. call overhead). */
  chunkEntries?: number;
  /**
   * 'image' (default): run from the execution image the device programs into
   * the slot after the artifact (exec-image.ts; falls back to 'coded' when
   * the slot cannot hold both). 'coded': range-decode the artifact's segments
   * on every inference (no extra flash, ~100x slower).
   */
  kernel?: KernelChoice;
  /**
   * The largest patch taken inside the update-check answer (one request
   * fewer); default a quarter of the profile's RAM, at most the server's
   * MAX_INLINE_PATCH_BYTES; 0 downloads every patch.
   */
  inlinePatchBytes?: number;
}

export type KernelChoice = 'image' | 'coded';

export interface DeviceStatus {
  profile: DeviceProfile;
  model: string | null;
  version: number;
  heldIntervals: number[];
  slot: 'A' | 'B' | null;
  sha256: string | null;
  artifactBytes: number;
  slotCapacityBytes: number;
  confirmed: boolean;
  bootIssues: string[];
  /** Which kernels run the model, and why 'coded' when 'image' was asked for. */
  kernel: KernelChoice | null;
  kernelNote: string | null;
  /** Flash the execution image takes after the artifact (0 with the coded kernels). */
  imageBytes: number;
}

export interface InferResult {
  predictions: Uint8Array;
  latencyUs: { median: number; p99: number };
  arenaHighWaterBytes: number;
  arenaBytes: number;
}

export interface Split {
  samples: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface EvaluateResult extends InferResult {
  accuracy: number;
  samples: number;
}

/** What updater.ts needs of a device: its flash, state and how to (re)load a model. */
export interface DeviceCore {
  profile: DeviceProfile;
  flash: Flash;
  injector: PowerCutInjector;
  publicKey?: PublicKeyInput;
  client: UpdateClient | null;
  /** Where the server said this device hears of changes (from its last update check), or null. */
  push: PushChannel | null;
  state: StateRecord;
  artifact: Artifact | null;
  /** The RAM arena, which a patch's apply takes whole (after pauseModel). */
  arena: Arena;
  /**
   * Stops inference for an update's apply: drops the interpreter and frees
   * the arena. The running artifact stays; the next inference or load
   * brings its interpreter back (its execution image is already in flash).
   */
  pauseModel(): void;
  /** Loads the artifact into the arena and runs the self-test; a reason on failure, null when it passes. */
  selfTest(artifact: Artifact): string | null;
  /** Makes `artifact` the running model (after a confirm or a rollback). */
  load(artifact: Artifact | null): void;
  /**
   * The running artifact's execution image when the device has it (in its
   * slot's flash, read in place): a patch's apply takes the source entries
   * it edits from there instead of decoding them again. Null otherwise.
   */
  runningImage(): ExecImage | null;
}

export interface Device {
  readonly profile: DeviceProfile;
  readonly dir: string;
  status(): DeviceStatus;
  /** The running artifact (null when none). */
  artifact(): Artifact | null;
  checkForUpdate(): Promise<UpdateOutcome>;
  /** The push channel the server named in the last update check (broker URL and this device's topic), or null. */
  pushChannel(): PushChannel | null;
  /** Installs a .wgm from local bytes (flashing by cable): same verify/apply/switch/self-test path. */
  installArtifact(bytes: Uint8Array): UpdateOutcome;
  /** Installs a .wgp patch from local bytes against the running artifact. */
  installPatch(bytes: Uint8Array): UpdateOutcome;
  infer(samples: Uint8Array, count: number): InferResult;
  evaluate(split: Split): EvaluateResult;
}

// One mid-grey probe: it exercises every held segment of every layer (the
// cost of a self-test is one inference, which is what a device can afford
// at boot), and a damaged or mis-planned model shows as an error or a
// non-finite output.
const PROBE_PATTERNS = [127];

export async function openDevice(options: OpenDeviceOptions): Promise<Device> {
  const profile = typeof options.profile === 'object' ? options.profile : resolveProfile(options.profile);
  const injector = new PowerCutInjector(options.powerCut ?? null);
  const flash = new Flash(options.dir, profile.flashBytes, injector, options.flash);
  const arena = new Arena(profile.ramBytes);
  const kernelChoice: KernelChoice = options.kernel ?? 'image';
  let interpreter: Interpreter | null = null;
  let running: { kernel: KernelChoice; note: string | null; imageBytes: number } | null = null;
  let lastImage: { slot: number; sha256: string; image: ExecImage } | null = null;
  // The core once built (boot's self-test runs before it exists).
  let coreRef: DeviceCore | null = null;
  // The artifact the interpreter was loaded for (null when none is loaded).
  let loadedFor: string | null = null;

  /** The slot whose state record names this artifact (the active one first), or -1. */
  function slotHolding(artifact: Artifact): number {
    // The state record as the device last wrote it (RAM), else as flash holds it (boot).
    const state = coreRef?.state ?? flash.readState();
    if (!state) return -1;
    if (state.active !== NO_SLOT && state.slots[state.active]?.sha256 === artifact.sha256) return state.active;
    return state.slots.findIndex((slot) => slot.sha256 === artifact.sha256);
  }

  /**
   * The artifact's execution image: read in place from its slot when the one
   * there checks out, else transcoded (working memory from the arena) and
   * programmed into the slot. Null, with a note, when the slot cannot hold it.
   */
  function imageFor(artifact: Artifact): { image: ExecImage | null; note: string | null } {
    const slot = slotHolding(artifact);
    // The image this device just built or checked for the same slot and artifact (a confirm reloads it).
    if (lastImage && lastImage.slot === slot && lastImage.sha256 === artifact.sha256 && flash.imageLength(slot) === lastImage.image.bytes.length) {
      return { image: lastImage.image, note: null };
    }
    // The running model's image: a new one copies the layers that did not change from it.
    const running = coreRef?.artifact;
    const previous = lastImage && running && running.sha256 === lastImage.sha256 ? { artifact: running, image: lastImage.image } : undefined;
    lastImage = null;
    const found = findImage(artifact, slot, previous);
    if (found.image) lastImage = { slot, sha256: artifact.sha256, image: found.image };
    return found;
  }

  function findImage(artifact: Artifact, slot: number, previous?: PreviousImage): { image: ExecImage | null; note: string | null } {
    if (slot >= 0) {
      const stored = flash.readImage(slot);
      const opened = stored ? openExecImage(stored, artifact) : null;
      if (opened && typeof opened !== 'string') return { image: opened, note: null };
    }
    arena.rewind(0);
    const prepared = prepareExecImage(artifact, arena, flash.slotCapacity, previous);
    if (prepared.image && slot >= 0) flash.writeImage(slot, artifact.bytes.length, prepared.image.bytes);
    return prepared;
  }

  function loadInterpreter(artifact: Artifact): Interpreter {
    interpreter = null;
    running = null;
    loadedFor = null;
    const { image, note } = kernelChoice === 'image' ? imageFor(artifact) : { image: null, note: null };
    arena.rewind(0);
    interpreter = createInterpreter(artifact, arena, { chunkEntries: options.chunkEntries, image, arithmetic: profile.arithmetic });
    running = { kernel: image ? 'image' : 'coded', note, imageBytes: image ? image.bytes.length : 0 };
    loadedFor = artifact.sha256;
    return interpreter;
  }

  function selfTest(artifact: Artifact): string | null {
    try {
      const candidate = loadInterpreter(artifact);
      const probe = new Uint8Array(candidate.inputSize);
      for (const pattern of PROBE_PATTERNS) {
        probe.fill(pattern);
        const output = candidate.invoke(probe);
        for (let i = 0; i < output.length; i++) {
          if (!Number.isFinite(output[i])) return `output ${i} is ${output[i]} for a probe input of ${pattern}s`;
        }
      }
      return options.selfTest ? options.selfTest(artifact, candidate) : null;
    } catch (error) {
      if (error instanceof PowerCutError) throw error;
      return (error as Error).message;
    }
  }

  // Parsed once: every verification reuses the key object.
  const publicKey = options.publicKey === undefined ? undefined : publicKeyObject(options.publicKey);
  const boot = bootFlash(flash, publicKey, selfTest);
  const core: DeviceCore = {
    profile,
    flash,
    injector,
    publicKey,
    client:
      options.server && options.token
        ? createUpdateClient({
            server: options.server,
            token: options.token,
            inlinePatchBytes: options.inlinePatchBytes ?? Math.min(MAX_INLINE_PATCH_BYTES, Math.floor(profile.ramBytes / 4)),
          })
        : null,
    push: null,
    state: boot.state,
    artifact: boot.artifact,
    arena,
    selfTest,
    pauseModel() {
      interpreter = null;
      loadedFor = null;
      arena.rewind(0);
    },
    load(artifact) {
      const tested = loadedFor === artifact?.sha256 && interpreter !== null;
      core.artifact = artifact;
      // The self-test just loaded this artifact: its interpreter is the one to run.
      if (tested) return;
      interpreter = null;
      running = null;
      arena.rewind(0);
      if (artifact) loadInterpreter(artifact);
    },
    runningImage() {
      const artifact = core.artifact;
      return artifact && lastImage && lastImage.sha256 === artifact.sha256 && lastImage.slot === slotHolding(artifact) ? lastImage.image : null;
    },
  };
  coreRef = core;
  if (core.artifact) {
    try {
      core.load(core.artifact);
    } catch {
      // Kept as the running artifact so status() shows it; infer() reports why it cannot run.
      interpreter = null;
    }
  }

  function model(): Interpreter {
    if (!core.artifact) throw new DeviceError(DeviceErrorCode.NO_MODEL, `device ${options.dir} holds no verified artifact; install one or check for updates`);
    return interpreter ?? loadInterpreter(core.artifact);
  }

  function infer(samples: Uint8Array, count: number): InferResult {
    const runner = model();
    const size = runner.inputSize;
    if (!Number.isInteger(count) || count < 0 || samples.length < count * size) {
      throw new DeviceError(DeviceErrorCode.BAD_INPUT, `${count} samples need ${count * size} bytes of samples, got ${samples.length}`, 2);
    }
    const predictions = new Uint8Array(count);
    const latency = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const sample = samples.subarray(i * size, (i + 1) * size);
      const start = process.hrtime.bigint();
      predictions[i] = runner.classify(sample);
      latency[i] = Number(process.hrtime.bigint() - start) / 1000;
    }
    return { predictions, latencyUs: summarizeLatency(latency), arenaHighWaterBytes: arena.highWaterBytes(), arenaBytes: arena.sizeBytes };
  }

  return {
    profile,
    dir: options.dir,
    status() {
      const { state, artifact } = core;
      return {
        profile,
        model: artifact?.manifest.model ?? null,
        version: artifact?.manifest.version ?? 0,
        heldIntervals: artifact ? [...artifact.heldIntervals] : [],
        slot: artifact && state.active !== NO_SLOT ? slotName(state.active) : null,
        sha256: artifact?.sha256 ?? null,
        artifactBytes: artifact?.bytes.length ?? 0,
        slotCapacityBytes: flash.slotCapacity,
        confirmed: state.confirmed,
        bootIssues: boot.issues,
        kernel: artifact && running ? running.kernel : null,
        kernelNote: artifact && running ? running.note : null,
        imageBytes: artifact && running ? running.imageBytes : 0,
      };
    },
    artifact: () => core.artifact,
    checkForUpdate: () => checkForUpdate(core),
    pushChannel: () => core.push,
    installArtifact: (bytes) => installArtifactBytes(core, bytes),
    installPatch: (bytes) => installPatchBytes(core, bytes),
    infer,
    evaluate(split) {
      const result = infer(split.samples, split.count);
      let correct = 0;
      for (let i = 0; i < split.count; i++) if (result.predictions[i] === split.labels[i]) correct++;
      return { ...result, accuracy: split.count ? correct / split.count : 0, samples: split.count };
    },
  };
}

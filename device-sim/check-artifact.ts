// What `device infer` does without a flash directory: does this artifact fit
// the profile (one flash slot, the RAM arena), and how does it score on a
// split. The artifact is verified by formats first, like at boot.
import { readArtifact, type Artifact } from '../formats/index.ts';
import { Arena } from './arena.ts';
import type { PublicKeyInput } from './boot.ts';
import { BudgetError } from './errors.ts';
import { slotCapacityOf } from './flash.ts';
import { createInterpreter, type Interpreter } from './interpreter.ts';
import { prepareExecImage } from './exec-image.ts';
import type { KernelChoice } from './device.ts';
import type { DeviceProfile } from './profiles.ts';
import { summarizeLatency } from './stats.ts';

export interface FitReport {
  fits: boolean;
  /** Why it does not fit (the BudgetError message), null when it does. */
  reason: string | null;
  /** Flash one slot needs: the artifact plus its execution image. */
  flashBytes: number;
  artifactBytes: number;
  /** The execution image's bytes (0 with the coded kernels). */
  imageBytes: number;
  /** Which kernels run it, and why 'coded' when the image was asked for. */
  kernel: KernelChoice;
  kernelNote: string | null;
  slotCapacityBytes: number;
  arenaBytes: number;
  /** Arena bytes the model plans (high-water after prepare), or the bytes it asked for when it did not fit. */
  arenaNeededBytes: number;
}

export interface LoadedArtifact {
  artifact: Artifact;
  report: FitReport;
  /** Ready to run when it fits. */
  interpreter: Interpreter | null;
  arena: Arena;
}

export function loadArtifactOnProfile(
  bytes: Uint8Array,
  profile: DeviceProfile,
  options: { publicKey?: PublicKeyInput; chunkEntries?: number; kernel?: KernelChoice } = {},
): LoadedArtifact {
  const artifact = readArtifact(bytes, { publicKey: options.publicKey, requireSignature: options.publicKey !== undefined });
  const slotCapacityBytes = slotCapacityOf(profile.flashBytes);
  const arena = new Arena(profile.ramBytes);
  const report: FitReport = {
    fits: true,
    reason: null,
    flashBytes: bytes.length,
    artifactBytes: bytes.length,
    imageBytes: 0,
    kernel: 'coded',
    kernelNote: null,
    slotCapacityBytes,
    arenaBytes: profile.ramBytes,
    arenaNeededBytes: 0,
  };
  if (bytes.length > slotCapacityBytes) {
    report.fits = false;
    report.reason = new BudgetError('FLASH', bytes.length, slotCapacityBytes, `artifact ${artifact.manifest.model} v${artifact.manifest.version}`).message;
  }
  let interpreter: Interpreter | null = null;
  try {
    let image = null;
    if ((options.kernel ?? 'image') === 'image' && report.fits) {
      // As a device does at install (device.ts), without the flash to program.
      const prepared = prepareExecImage(artifact, arena, slotCapacityBytes);
      image = prepared.image;
      report.kernelNote = prepared.note;
      if (image) {
        report.imageBytes = image.bytes.length;
        report.flashBytes += image.bytes.length;
        report.kernel = 'image';
      }
      arena.rewind(0);
    }
    interpreter = createInterpreter(artifact, arena, { chunkEntries: options.chunkEntries, image, arithmetic: profile.arithmetic });
    report.arenaNeededBytes = arena.highWaterBytes();
  } catch (error) {
    if (!(error instanceof BudgetError)) throw error;
    report.fits = false;
    report.reason ??= error.message;
    report.arenaNeededBytes = error.neededBytes;
  }
  return { artifact, report, interpreter: report.fits ? interpreter : null, arena };
}

export interface SplitScore {
  accuracy: number;
  samples: number;
  predictions: Uint8Array;
  latencyUs: { median: number; p99: number };
  arenaHighWaterBytes: number;
}

/** Classifies `count` samples one at a time (batch 1, as a device does), timing each. */
export function scoreSplit(loaded: LoadedArtifact, split: { samples: Uint8Array; labels: Uint8Array; count: number }): SplitScore {
  const interpreter = loaded.interpreter!;
  const size = interpreter.inputSize;
  const predictions = new Uint8Array(split.count);
  const latency = new Float64Array(split.count);
  let correct = 0;
  for (let i = 0; i < split.count; i++) {
    const start = process.hrtime.bigint();
    predictions[i] = interpreter.classify(split.samples.subarray(i * size, (i + 1) * size));
    latency[i] = Number(process.hrtime.bigint() - start) / 1000;
    if (predictions[i] === split.labels[i]) correct++;
  }
  return {
    accuracy: split.count ? correct / split.count : 0,
    samples: split.count,
    predictions,
    latencyUs: summarizeLatency(latency),
    arenaHighWaterBytes: loaded.arena.highWaterBytes(),
  };
}

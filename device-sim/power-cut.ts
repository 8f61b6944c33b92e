// Power-cut injection. A plan names a phase of the update (download, apply,
// switch) and how many bytes of flash writes in that phase complete before
// the power goes: the write in flight is torn at exactly that byte, then
// PowerCutError is thrown. The caller abandons the in-memory device and
// re-opens it from its directory, which is the reboot.
import { createRandom } from '../formats/index.ts';
import { DeviceError, DeviceErrorCode, PowerCutError } from './errors.ts';

export type UpdatePhase = 'download' | 'apply' | 'switch';

export interface PowerCutPlan {
  phase: UpdatePhase;
  /** Bytes of this phase's flash writes that land before the cut. */
  afterBytes: number;
}

/** Counts flash bytes written per phase and fires the planned cut. */
export class PowerCutInjector {
  private written = 0;
  private phase: UpdatePhase | null = null;

  constructor(readonly plan: PowerCutPlan | null) {}

  enter(phase: UpdatePhase): void {
    this.phase = phase;
    this.written = 0;
  }

  /**
   * How many of `bytes` may be written before the cut; `bytes` when no cut is
   * due. When it returns less, the caller writes that prefix and calls `cut()`.
   */
  allowance(bytes: number): number {
    if (!this.plan || this.phase !== this.plan.phase) return bytes;
    const left = this.plan.afterBytes - this.written;
    return left >= bytes ? bytes : Math.max(0, left);
  }

  record(bytes: number): void {
    this.written += bytes;
  }

  cut(): never {
    throw new PowerCutError(this.phase ?? 'unknown', this.written);
  }
}

/**
 * A random plan from a seed (a mulberry32 stream): a random phase and a cut
 * point up to maxBytes of that phase (switch writes are state records of a
 * few hundred bytes).
 */
export function randomPowerCut(seed: number, maxBytes = 64 * 1024): PowerCutPlan {
  const random = createRandom(seed);
  const phases: UpdatePhase[] = ['download', 'apply', 'switch'];
  const phase = phases[Math.floor(random() * phases.length)];
  const limit = phase === 'switch' ? 600 : maxBytes;
  return { phase, afterBytes: Math.floor(random() * limit) };
}

/** The PRNG under its algorithm's name, for the conformance and firmware fixture scripts that import it from here. */

/**
 * Reads a plan from the command line: "download:BYTES", "apply:BYTES",
 * "switch:BYTES" or "random:SEED".
 */
export function parsePowerCut(spec: string): PowerCutPlan {
  const match = /^(download|apply|switch|random):(\d+)$/.exec(spec.trim());
  if (!match) {
    throw new DeviceError(DeviceErrorCode.BAD_INPUT, `power cut "${spec}" is not PHASE:BYTES (download, apply, switch) or random:SEED`, 2);
  }
  const value = Number(match[2]);
  return match[1] === 'random' ? randomPowerCut(value) : { phase: match[1] as UpdatePhase, afterBytes: value };
}

// Device profiles: how much flash and RAM a simulated microcontroller has.
// Sizes follow common parts: a Cortex-M0+ with 256 KiB flash / 32 KiB SRAM,
// a Cortex-M4 with 1 MiB / 256 KiB, an ESP32-WROOM with 4 MiB flash and the
// ~320 KiB of DRAM an application can use.
import { DeviceError, DeviceErrorCode } from './errors.ts';
import type { Arithmetic } from './firmware-plan.ts';

export interface DeviceProfile {
  name: string;
  flashBytes: number;
  ramBytes: number;
  /**
   * The arithmetic path the firmware is built with (docs/arithmetic.md):
   * 'f32' when absent; 'int' for a part with no FPU.
   */
  arithmetic?: Arithmetic;
}

const KIB = 1024;
const MIB = 1024 * 1024;

export const PROFILES: Readonly<Record<string, DeviceProfile>> = {
  'm0-32k': { name: 'm0-32k', flashBytes: 256 * KIB, ramBytes: 32 * KIB },
  'm4-256k': { name: 'm4-256k', flashBytes: 1 * MIB, ramBytes: 256 * KIB },
  esp32: { name: 'esp32', flashBytes: 4 * MIB, ramBytes: 320 * KIB },
};

export const DEFAULT_PROFILE = 'm4-256k';

/** Parses "32k", "1m", "4096", "256KiB" into bytes. */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)(?:i?[bB])?\s*$/.exec(text);
  if (!match) {
    throw new DeviceError(DeviceErrorCode.BAD_INPUT, `cannot read size "${text}"; write e.g. 4096, 32k or 1m`, 2);
  }
  const unit = match[2].toLowerCase() === 'k' ? KIB : match[2].toLowerCase() === 'm' ? MIB : 1;
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes <= 0 || bytes > 1024 * MIB) {
    throw new DeviceError(DeviceErrorCode.BAD_INPUT, `size "${text}" is outside 1 byte .. 1 GiB`, 2);
  }
  return bytes;
}

/** Parses an --arithmetic value: f32 or int. */
export function parseArithmetic(text: string): Arithmetic {
  if (text !== 'f32' && text !== 'int') throw new DeviceError(DeviceErrorCode.BAD_INPUT, `arithmetic must be f32 or int, got "${text}"`, 2);
  return text;
}

/**
 * A named profile, optionally with its flash or RAM overridden (custom
 * device) and its arithmetic path chosen.
 */
export function resolveProfile(name = DEFAULT_PROFILE, overrides: { flash?: string; ram?: string; arithmetic?: string } = {}): DeviceProfile {
  const profile = resolveSizes(name, overrides);
  return overrides.arithmetic === undefined ? profile : { ...profile, arithmetic: parseArithmetic(overrides.arithmetic) };
}

function resolveSizes(name: string, overrides: { flash?: string; ram?: string }): DeviceProfile {
  const base = PROFILES[name];
  if (!base) {
    throw new DeviceError(
      DeviceErrorCode.BAD_INPUT,
      `unknown profile "${name}"; use one of ${Object.keys(PROFILES).join(', ')} (and --flash/--ram to customise)`,
      2,
    );
  }
  if (overrides.flash === undefined && overrides.ram === undefined) return base;
  return {
    name: 'custom',
    flashBytes: overrides.flash !== undefined ? parseByteSize(overrides.flash) : base.flashBytes,
    ramBytes: overrides.ram !== undefined ? parseByteSize(overrides.ram) : base.ramBytes,
  };
}

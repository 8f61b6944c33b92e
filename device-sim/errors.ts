// The error type of device-sim/: DeviceError, with a stable `code` and an
// `exitCode` the CLI uses (cli/errors.ts): 1 = a budget or check failed,
// 2 = bad input. BudgetError is its one subclass, for the fields a caller
// reads (which budget, the bytes needed and had). PowerCutError is not a
// DeviceError on purpose: it is the simulated loss of power, not a failure
// of the device, and code that handles DeviceErrors (retry, roll back,
// report) must let it through to the caller, which reboots.

export const DeviceErrorCode = {
  /** The update server answered with an error or something off-contract. */
  SERVER_ERROR: 'SERVER_ERROR',
  /** A download ended short after every retry. */
  DOWNLOAD_FAILED: 'DOWNLOAD_FAILED',
  /** Downloaded bytes do not hash to what the update-check promised. */
  DOWNLOAD_HASH_MISMATCH: 'DOWNLOAD_HASH_MISMATCH',
  /** The offered artifact is older than the running one (rollback attack). */
  ROLLBACK_REFUSED: 'ROLLBACK_REFUSED',
  /** A patch made for another base artifact. */
  PATCH_WRONG_BASE: 'PATCH_WRONG_BASE',
  /** The offered artifact belongs to another model. */
  WRONG_MODEL: 'WRONG_MODEL',
  /** The new slot failed its self-test; the device went back to the old slot. */
  SELF_TEST_FAILED: 'SELF_TEST_FAILED',
  /** No verified artifact in any slot. */
  NO_MODEL: 'NO_MODEL',
  /** The artifact's graph is something the kernels cannot run. */
  UNSUPPORTED_MODEL: 'UNSUPPORTED_MODEL',
  /** Bad arguments to a device-sim function (profile name, sizes, input shape). */
  BAD_INPUT: 'BAD_INPUT',
  /** More RAM (arena) than the profile has: a BudgetError. */
  RAM_BUDGET_EXCEEDED: 'RAM_BUDGET_EXCEEDED',
  /** More flash (one slot) than the profile has: a BudgetError. */
  FLASH_BUDGET_EXCEEDED: 'FLASH_BUDGET_EXCEEDED',
} as const;

export type DeviceErrorCode = (typeof DeviceErrorCode)[keyof typeof DeviceErrorCode];

export class DeviceError extends Error {
  readonly exitCode: number;
  constructor(
    readonly code: DeviceErrorCode,
    message: string,
    exitCode = 1,
  ) {
    super(message);
    this.name = 'DeviceError';
    this.exitCode = exitCode;
  }
}

export type BudgetName = 'RAM' | 'FLASH';

/** Needing more RAM (arena) or flash (slot) than the device profile has. */
export class BudgetError extends DeviceError {
  constructor(
    readonly budget: BudgetName,
    readonly neededBytes: number,
    readonly budgetBytes: number,
    what: string,
  ) {
    super(
      budget === 'RAM' ? DeviceErrorCode.RAM_BUDGET_EXCEEDED : DeviceErrorCode.FLASH_BUDGET_EXCEEDED,
      `${what} needs ${neededBytes} bytes of ${budget === 'RAM' ? 'RAM (arena)' : 'flash (one slot)'} ` +
        `but the profile has ${budgetBytes}; pick a larger profile (--profile, --ram, --flash) or a smaller artifact`,
    );
    this.name = 'BudgetError';
  }
}

/**
 * Thrown by the power-cut injector in the middle of a flash write. The caller
 * must drop every in-memory object of the device and re-open it from its
 * directory: that is the reboot.
 */
export class PowerCutError extends Error {
  readonly code = 'POWER_CUT';
  readonly exitCode = 1;
  constructor(
    readonly phase: string,
    readonly atByte: number,
  ) {
    super(`simulated power cut during ${phase} after ${atByte} bytes written; re-open the device to reboot`);
    this.name = 'PowerCutError';
  }
}

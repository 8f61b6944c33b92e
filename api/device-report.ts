// The device's report after each install attempt, POST /v1/device/report:
// the one contract the server validates the body with, that /openapi.json
// documents, and that the device client sends.
import { z } from 'zod';
import { INT4_MAX } from './common.ts';

/** What an install attempt came to. */
export const INSTALL_OUTCOMES = ['installed', 'rolled-back', 'refused'] as const;
export type InstallOutcome = (typeof INSTALL_OUTCOMES)[number];

export const DeviceReport = z.object({
  /** The version the device runs after the attempt (0: none). */
  version: z.number().int().min(0).max(INT4_MAX),
  /** The interval ids it holds after the attempt. */
  heldIntervals: z.array(z.number().int().min(0).max(0xfffe)).max(1024),
  /** The flash slot it runs from, or null when it runs nothing. */
  slot: z.enum(['A', 'B']).nullable(),
  /** installed: the new version runs; rolled-back: it failed its self-test and the old one runs; refused: the device would not take it. */
  outcome: z.enum(INSTALL_OUTCOMES),
  /** Why, for rolled-back and refused (the device's error message). */
  reason: z.string().max(500).nullable().default(null),
  /** The version the attempt tried to install (null when unknown: the server then infers it). */
  attemptedVersion: z.number().int().min(1).max(INT4_MAX).nullable().default(null),
  /** Bytes the device downloaded for the attempt (the patch or the artifact); null when it downloaded nothing. */
  downloadBytes: z.number().int().min(0).max(INT4_MAX).nullable().default(null),
});
export type DeviceReport = z.input<typeof DeviceReport>;

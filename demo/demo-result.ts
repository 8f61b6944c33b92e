// What `weightgate demo` measures, as written to demo.json.

/** One device update: what came over the network against what a full download costs. */
export interface DemoUpdate {
  device: string;
  kind: 'none' | 'install' | 'license-upgrade' | 'license-downgrade' | 'version' | string;
  fromVersion: number;
  toVersion: number;
  /** Intervals the device holds after the update. */
  intervals: number;
  bytesSent: number;
  /** Bytes of this update that an earlier, power-cut attempt had already downloaded (kept in flash, not sent again). */
  bytesBeforePowerCut: number;
  /** null when the full artifact was sent. */
  patchBytes: number | null;
  fullArtifactBytes: number;
}

export interface DemoTier {
  name: string;
  intervals: number;
  /** Test accuracy measured on the simulated device. */
  accuracy: number;
  /** Test accuracy the pipeline measured for the same artifact (TF.js). */
  pipelineAccuracy: number | null;
  artifactBytes: number;
}

export interface DemoResult {
  model: string;
  data: string;
  database: 'pglite' | 'postgres';
  params: number;
  denseFloat32Bytes: number;
  /** The paper's "+ Quantization" size for this parameter count, or null for other models. */
  paperBytes: number | null;
  fullArtifactBytes: number;
  compressionRatio: number;
  accuracy: { dense: number | null; quantized: number };
  tiers: DemoTier[];
  updates: DemoUpdate[];
  /** The license upgrade by push: from the operator's command to the notice at the device, and to it running the new tier (ms). */
  push: { noticeMs: number | null; runningMs: number };
  powerCut: { phase: string; atByte: number; recovered: boolean; versionAfterRestart: number; versionAfterUpdate: number };
  device: {
    profile: string;
    latencyUs: { median: number; p99: number };
    arenaHighWaterBytes: number;
    arenaBytes: number;
    finalVersions: number[];
    finalAccuracy: number[];
  };
  builds: { v1: Record<string, number>; v2: Record<string, number> };
  seconds: number;
}

/**
 * The paper's results table (slides, "The cost of memory storage"): pruning
 * 80 % + quantization gave 2.34 MB for 109,386 parameters and 2.09 MB for
 * 101,770. Their "MB" is taken as 10^6 bytes.
 */
const PAPER_QUANTIZED_BYTES: Record<number, number> = {
  109386: 2_340_000,
  101770: 2_090_000,
};

export function paperBytesFor(params: number): number | null {
  return PAPER_QUANTIZED_BYTES[params] ?? null;
}

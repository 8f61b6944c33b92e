// Cross-check with the pipeline: for each tier artifact of a `weightgate
// build` output directory, the device's accuracy on the test split next to
// the accuracy the build's report.json states for that tier.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadArtifactOnProfile, scoreSplit } from '../../device-sim/check-artifact.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { loadDataset } from '../../pipeline/datasets.ts';

export interface TierAccuracy {
  tier: string;
  intervals: number[];
  artifactBytes: number;
  pipelineAccuracy: number;
  deviceAccuracy: number;
  samples: number;
  arenaHighWaterBytes: number;
}

interface BuildReport {
  data: string;
  seed: number;
  tiers: Array<{ name: string; intervals: number[]; accuracy: number; file: string }>;
}

export async function compareTierAccuracy(buildDir: string): Promise<TierAccuracy[]> {
  const report = JSON.parse(readFileSync(join(buildDir, 'report.json'), 'utf8')) as BuildReport;
  const dataset = await loadDataset(report.data, { seed: report.seed });
  return report.tiers.map((tier) => {
    const bytes = new Uint8Array(readFileSync(join(buildDir, tier.file)));
    const loaded = loadArtifactOnProfile(bytes, resolveProfile('m0-32k'));
    const score = scoreSplit(loaded, dataset.test);
    return {
      tier: tier.name,
      intervals: tier.intervals,
      artifactBytes: bytes.length,
      pipelineAccuracy: tier.accuracy,
      deviceAccuracy: score.accuracy,
      samples: score.samples,
      arenaHighWaterBytes: score.arenaHighWaterBytes,
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await compareTierAccuracy(process.argv[2] ?? 'build'), null, 2));
}

// Device kernels vs TF.js dense float32 at batch 1, same process, same
// samples: median and p99 per-sample latency, and the device's arena
// high-water mark for the paper-109k full tier.
import * as tf from '@tensorflow/tfjs';
import { decodeTensor, readArtifact } from '../../formats/index.ts';
import { loadArtifactOnProfile, scoreSplit } from '../../device-sim/check-artifact.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { quantile } from '../../device-sim/stats.ts';
import { selectBackend } from '../../pipeline/backend.ts';
import { loadDataset } from '../../pipeline/datasets.ts';
import { paperArtifact } from './paper-model.ts';

export interface LatencyResult {
  model: string;
  artifactBytes: number;
  kernelEntries: number;
  samples: number;
  arenaHighWaterBytes: number;
  arenaTargetBytes: number;
  device: { medianUs: number; p99Us: number };
  tfjs: { backend: string; medianUs: number; p99Us: number };
  speedup: number;
}

export async function measureLatency(options: { samples?: number; pruned?: number; log?: (line: string) => void } = {}): Promise<LatencyResult> {
  const log = options.log ?? (() => undefined);
  const bytes = paperArtifact({ pruned: options.pruned });
  const loaded = loadArtifactOnProfile(bytes, resolveProfile('m0-32k'));
  const artifact = readArtifact(bytes);
  const dataset = await loadDataset('mnist');
  const count = Math.min(options.samples ?? 2000, dataset.test.count);
  const split = { images: dataset.test.images, labels: dataset.test.labels, count };

  // Warm up the JIT on both sides before timing.
  scoreSplit(loaded, { ...split, count: Math.min(200, count) });
  log(`device: ${count} samples at batch 1`);
  const device = scoreSplit(loaded, split);

  const backend = await selectBackend();
  log(`tfjs (${backend}): ${count} samples at batch 1`);
  const { layers, preprocess } = artifact.manifest;
  const kernels = layers.map((layer) => tf.tensor2d(decodeTensor(artifact, layer.weight), [layer.inputs, layer.units]));
  const biases = layers.map((layer) => tf.tensor1d(decodeTensor(artifact, layer.bias)));
  const input = new Float32Array(784);
  const predictOne = (offset: number): number => {
    for (let j = 0; j < 784; j++) input[j] = split.images[offset + j] * preprocess.scale + preprocess.offset;
    const out = tf.tidy(() => {
      let x: tf.Tensor2D = tf.tensor2d(input, [1, 784]);
      layers.forEach((layer, i) => {
        const y = x.matMul(kernels[i]).add(biases[i]);
        x = (layer.activation === 'relu' ? y.relu() : y.softmax()) as tf.Tensor2D;
      });
      return x.argMax(1);
    });
    const label = out.dataSync()[0];
    out.dispose();
    return label;
  };
  for (let i = 0; i < Math.min(200, count); i++) predictOne(i * 784);
  const latency = new Float64Array(count);
  let agree = 0;
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    const label = predictOne(i * 784);
    latency[i] = Number(process.hrtime.bigint() - start) / 1000;
    if (label === device.predictions[i]) agree++;
  }
  kernels.forEach((t) => t.dispose());
  biases.forEach((t) => t.dispose());
  if (agree !== count) log(`warning: TF.js and the device disagree on ${count - agree} of ${count} samples`);

  const tfMedian = quantile(latency, 0.5);
  const kernelEntries = artifact.segments.filter((s) => artifact.manifest.tensors[s.tensor].licensed).reduce((a, s) => a + s.count, 0);
  return {
    model: `paper-109k full tier (${artifact.license.length} intervals), ${kernelEntries} kernel weights kept`,
    artifactBytes: bytes.length,
    kernelEntries,
    samples: count,
    arenaHighWaterBytes: device.arenaHighWaterBytes,
    arenaTargetBytes: 4096,
    device: { medianUs: device.latencyUs.median, p99Us: device.latencyUs.p99 },
    tfjs: { backend, medianUs: Math.round(tfMedian * 100) / 100, p99Us: Math.round(quantile(latency, 0.99) * 100) / 100 },
    speedup: Math.round((tfMedian / device.latencyUs.median) * 100) / 100,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureLatency({ log: (line) => console.error(line) }), null, 2));
}

// Device kernels vs TF.js dense float32 at batch 1, same process, same
// samples: median and p99 per-sample latency, and the device's arena
// high-water mark for the paper-109k full tier.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { denseChain, decodeTensor, openSegment, readArtifact, readSegmentEntries, type Artifact } from '../../formats/index.ts';
import { loadArtifactOnProfile, scoreSplit } from '../../device-sim/check-artifact.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { quantile } from '../../device-sim/stats.ts';
import { selectBackend } from '../../pipeline/backend.ts';
import { loadDataset } from '../../pipeline/datasets.ts';
import { paperArtifact } from './paper-model.ts';
import { basename } from 'node:path';

export interface LatencyResult {
  model: string;
  artifactBytes: number;
  kernelEntries: number;
  samples: number;
  arenaHighWaterBytes: number;
  arenaTargetBytes: number;
  /** The default kernels: wasm over the execution image in flash. */
  device: { medianUs: number; p99Us: number };
  /** Flash one slot needs: the artifact and its execution image. */
  flash: { artifactBytes: number; imageBytes: number };
  /** The coded kernels (--kernel coded: range-decoding the artifact on every inference), on fewer samples. */
  codedDevice: { medianUs: number; samples: number; arenaHighWaterBytes: number };
  /** formats' readSegmentEntries alone over every held segment (one sample's worth of decoding). */
  segmentDecode: { medianUs: number };
  tfjs: { backend: string; medianUs: number; p99Us: number };
  /** TF.js median on its pure-JavaScript cpu backend, for scale. */
  tfjsCpu: { medianUs: number };
  /** tfjs median / device median: the target is >= 5. */
  speedup: number;
  targetSpeedup: number;
}

/** Median time of one full decoding pass over the artifact's segments, as the kernels stream them. */
function measureDecode(artifact: Artifact, passes: number): number {
  const positions = new Uint32Array(64);
  const values = new Float32Array(64);
  const times = new Float64Array(passes);
  for (let pass = 0; pass < passes; pass++) {
    const start = process.hrtime.bigint();
    for (let s = 0; s < artifact.segments.length; s++) {
      const cursor = openSegment(artifact, s);
      while (readSegmentEntries(cursor, positions, values) > 0);
    }
    times[pass] = Number(process.hrtime.bigint() - start) / 1000;
  }
  return quantile(times, 0.5);
}

export async function measureLatency(
  options: { samples?: number; pruned?: number; artifactPath?: string; log?: (line: string) => void } = {},
): Promise<LatencyResult> {
  const log = options.log ?? (() => undefined);
  // A pipeline build's artifact when given (e.g. DIR/full.wgm of `weightgate build`), else the synthetic one.
  const bytes = options.artifactPath ? new Uint8Array(readFileSync(options.artifactPath)) : paperArtifact({ pruned: options.pruned });
  const loaded = loadArtifactOnProfile(bytes, resolveProfile('m0-32k'));
  const artifact = readArtifact(bytes);
  const dataset = await loadDataset('mnist');
  const count = Math.min(options.samples ?? 2000, dataset.test.count);
  const split = { samples: dataset.test.samples, labels: dataset.test.labels, count };

  // Warm up the JIT on both sides before timing.
  scoreSplit(loaded, { ...split, count: Math.min(200, count) });
  log(`device: ${count} samples at batch 1`);
  const device = scoreSplit(loaded, split);

  const codedCount = Math.min(300, count);
  log(`device with the coded kernels: ${codedCount} samples`);
  const codedLoaded = loadArtifactOnProfile(bytes, resolveProfile('m0-32k'), { kernel: 'coded' });
  scoreSplit(codedLoaded, { ...split, count: Math.min(30, count) });
  const coded = scoreSplit(codedLoaded, { ...split, count: codedCount });
  for (let i = 0; i < codedCount; i++) {
    if (coded.predictions[i] !== device.predictions[i]) throw new Error(`sample ${i}: the coded and image kernels disagree`);
  }

  log('formats segment decoding alone');
  const decodeUs = measureDecode(artifact, Math.min(300, count));

  const backend = await selectBackend();
  log(`tfjs (${backend}): ${count} samples at batch 1`);
  const { preprocess } = artifact.manifest;
  const layers = denseChain(artifact.manifest.layers)!;
  const kernels = layers.map((layer) => tf.tensor2d(decodeTensor(artifact, layer.kernel), [layer.inputs, layer.units]));
  const biases = layers.map((layer) => tf.tensor1d(decodeTensor(artifact, layer.bias)));
  const input = new Float32Array(784);
  const predictOne = (offset: number): number => {
    for (let j = 0; j < 784; j++) input[j] = split.samples[offset + j] * preprocess.scale + preprocess.offset;
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
  const timeTfjs = (samples: number): { latency: Float64Array; agree: number } => {
    for (let i = 0; i < Math.min(200, samples); i++) predictOne(i * 784);
    const latency = new Float64Array(samples);
    let agree = 0;
    for (let i = 0; i < samples; i++) {
      const start = process.hrtime.bigint();
      const label = predictOne(i * 784);
      latency[i] = Number(process.hrtime.bigint() - start) / 1000;
      if (label === device.predictions[i]) agree++;
    }
    return { latency, agree };
  };
  const { latency, agree } = timeTfjs(count);
  kernels.forEach((t) => t.dispose());
  biases.forEach((t) => t.dispose());

  log('tfjs (cpu) for scale');
  await tf.setBackend('cpu');
  kernels.splice(0, kernels.length, ...layers.map((layer) => tf.tensor2d(decodeTensor(artifact, layer.kernel), [layer.inputs, layer.units])));
  biases.splice(0, biases.length, ...layers.map((layer) => tf.tensor1d(decodeTensor(artifact, layer.bias))));
  const cpu = timeTfjs(Math.min(500, count));
  kernels.forEach((t) => t.dispose());
  biases.forEach((t) => t.dispose());
  if (agree !== count) log(`warning: TF.js and the device disagree on ${count - agree} of ${count} samples`);

  const tfMedian = quantile(latency, 0.5);
  const kernelEntries = artifact.segments.filter((s) => artifact.manifest.tensors[s.tensor].licensed).reduce((a, s) => a + s.count, 0);
  return {
    model: `${options.artifactPath ? basename(options.artifactPath) : 'synthetic paper-109k'}: ${artifact.manifest.model} v${artifact.manifest.version}, ${artifact.heldIntervals.length} intervals, ${kernelEntries} kernel weights kept`,
    artifactBytes: bytes.length,
    kernelEntries,
    samples: count,
    arenaHighWaterBytes: device.arenaHighWaterBytes,
    arenaTargetBytes: 4096,
    device: { medianUs: device.latencyUs.median, p99Us: device.latencyUs.p99 },
    flash: { artifactBytes: loaded.report.artifactBytes, imageBytes: loaded.report.imageBytes },
    codedDevice: { medianUs: coded.latencyUs.median, samples: codedCount, arenaHighWaterBytes: coded.arenaHighWaterBytes },
    segmentDecode: { medianUs: Math.round(decodeUs * 100) / 100 },
    tfjs: { backend, medianUs: Math.round(tfMedian * 100) / 100, p99Us: Math.round(quantile(latency, 0.99) * 100) / 100 },
    tfjsCpu: { medianUs: Math.round(quantile(cpu.latency, 0.5) * 100) / 100 },
    speedup: Math.round((tfMedian / device.latencyUs.median) * 1000) / 1000,
    targetSpeedup: 5,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureLatency({ artifactPath: process.argv[2], log: (line) => console.error(line) }), null, 2));
}

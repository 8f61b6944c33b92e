// Preset architectures for the MNIST digits (input 28x28, 10 classes).
//   paper-109k, paper-101k  the paper's two MLPs (slides, "Results"):
//                           784-128-64-10 (109,386 parameters) and 784-128-10 (101,770)
//   cnn-mnist               a small LeNet-style CNN
//   dscnn-mnist             a depthwise-separable CNN (MobileNet / DS-CNN blocks)
// The CNNs' sizes are chosen so the full tier can be 20x smaller than their
// dense float32 weights within a point of their accuracy: each (weighted
// layer, interval) segment costs about 40 bytes of manifest, so a CNN of a
// few thousand weights cannot get there, and they keep few weighted layers.
import { PipelineError } from './errors.ts';
import { outputLength, type Activation, type Padding } from '../formats/index.ts';
import type { LayerSpec, ModelSpec } from './model.ts';

const mlp = (name: string, sizes: number[]): ModelSpec => {
  const layers: LayerSpec[] = [];
  for (let i = 1; i < sizes.length; i++) {
    const last = i === sizes.length - 1;
    layers.push({ kind: 'dense', name: `dense_${i}`, inputs: sizes[i - 1], units: sizes[i], activation: last ? 'softmax' : 'relu' });
  }
  return { name, inputShape: [28, 28], layers };
};

/** Builds a chain layer by layer, tracking the feature map [h, w, c] by formats' geometry rule. */
class Chain {
  readonly layers: LayerSpec[] = [];
  private counts = new Map<string, number>();
  constructor(private map: [number, number, number]) {}

  private nameOf(prefix: string): string {
    const n = (this.counts.get(prefix) ?? 0) + 1;
    this.counts.set(prefix, n);
    return `${prefix}_${n}`;
  }

  private slide(window: number, stride: number, padding: Padding, units: number): void {
    this.map = [outputLength(this.map[0], window, stride, padding), outputLength(this.map[1], window, stride, padding), units];
  }

  conv(units: number, window: number, options: { stride?: number; padding?: Padding; activation?: Activation } = {}): this {
    const { stride = 1, padding = 'valid', activation = 'relu' } = options;
    const inputs = this.map[2];
    this.layers.push({ kind: 'conv2d', name: this.nameOf('conv2d'), inputs, units, activation, window: [window, window], strides: [stride, stride], padding });
    this.slide(window, stride, padding, units);
    return this;
  }

  depthwise(window: number, options: { stride?: number; padding?: Padding; activation?: Activation } = {}): this {
    const { stride = 1, padding = 'same', activation = 'relu' } = options;
    const channels = this.map[2];
    this.layers.push({
      kind: 'depthwise-conv2d',
      name: this.nameOf('depthwise_conv2d'),
      inputs: channels,
      units: channels,
      activation,
      window: [window, window],
      strides: [stride, stride],
      padding,
    });
    this.slide(window, stride, padding, channels);
    return this;
  }

  maxPool(window: number): this {
    const channels = this.map[2];
    this.layers.push({
      kind: 'max-pool2d',
      name: this.nameOf('max_pool2d'),
      inputs: channels,
      units: channels,
      window: [window, window],
      strides: [window, window],
      padding: 'valid',
    });
    this.slide(window, window, 'valid', channels);
    return this;
  }

  globalAvgPool(): this {
    const channels = this.map[2];
    this.layers.push({ kind: 'global-avg-pool2d', name: this.nameOf('global_avg_pool2d'), inputs: channels, units: channels });
    this.map = [1, 1, channels];
    return this;
  }

  dense(units: number, activation: Activation = 'relu'): this {
    const inputs = this.map[0] * this.map[1] * this.map[2];
    this.layers.push({ kind: 'dense', name: this.nameOf('dense'), inputs, units, activation });
    this.map = [1, 1, units];
    return this;
  }
}

const PRESETS: Record<string, () => ModelSpec> = {
  'paper-109k': () => mlp('paper-109k', [784, 128, 64, 10]),
  'paper-101k': () => mlp('paper-101k', [784, 128, 10]),
  // conv 3x3x8, pool 2, conv 3x3x16, pool 2, dense 128, dense 10: 53,866 parameters, most of them in
  // the first Dense layer, which prunes as well as an MLP's (a dense 64 left the full tier at 20x only just)
  'cnn-mnist': () => ({
    name: 'cnn-mnist',
    inputShape: [28, 28, 1],
    layers: new Chain([28, 28, 1]).conv(8, 3).maxPool(2).conv(16, 3).maxPool(2).dense(128).dense(10, 'softmax').layers,
  }),
  // conv 3x3x32 stride 2, then two blocks of depthwise 3x3 stride 2 + pointwise 1x1 (96, 512 filters),
  // global average pooling, dense 10: 59,562 parameters; 28x28 -> 14x14 -> 7x7 -> 4x4
  'dscnn-mnist': () => ({
    name: 'dscnn-mnist',
    inputShape: [28, 28, 1],
    layers: new Chain([28, 28, 1])
      .conv(32, 3, { stride: 2, padding: 'same' })
      .depthwise(3, { stride: 2 })
      .conv(96, 1)
      .depthwise(3, { stride: 2 })
      .conv(512, 1)
      .globalAvgPool()
      .dense(10, 'softmax').layers,
  }),
};

export const PRESET_NAMES = Object.keys(PRESETS);

/** Training settings a preset needs other than the build's defaults (build-options.ts), which flags still override. */
export interface PresetTraining {
  learningRate?: number;
  pruneLearningRate?: number;
}

const TRAINING: Record<string, PresetTraining> = {
  // With no BatchNormalization, a depthwise-separable chain ending in global
  // average pooling learns slowly at Adam's 0.001 (about 78 % validation
  // after 4 epochs, against 90 % at 0.003).
  'dscnn-mnist': { learningRate: 0.003, pruneLearningRate: 0.005 },
};

export function presetTraining(name: string): PresetTraining {
  return TRAINING[name] ?? {};
}

/** A fresh spec for a preset. */
export function presetSpec(name: string): ModelSpec {
  const make = PRESETS[name];
  if (!make) throw new PipelineError('UNKNOWN_PRESET', `unknown preset "${name}"; choose one of ${PRESET_NAMES.join(', ')}`);
  return make();
}

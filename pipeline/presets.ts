// The paper's two MLPs (slides, "Results"): 784-128-64-10 has 109,386
// parameters and 784-128-10 has 101,770.
import { PipelineError } from './errors.ts';
import type { MlpSpec } from './mlp.ts';

const PRESETS: Record<string, number[]> = {
  'paper-109k': [784, 128, 64, 10],
  'paper-101k': [784, 128, 10],
};

export const PRESET_NAMES = Object.keys(PRESETS);

/** A fresh MLP spec for a preset: relu hidden layers, softmax output, input [28, 28]. */
export function presetSpec(name: string): MlpSpec {
  const sizes = PRESETS[name];
  if (!sizes) throw new PipelineError('UNKNOWN_PRESET', `unknown preset "${name}"; choose one of ${PRESET_NAMES.join(', ')}`);
  const layers = [];
  for (let i = 1; i < sizes.length; i++) {
    const last = i === sizes.length - 1;
    layers.push({ name: `dense_${i}`, inputs: sizes[i - 1], units: sizes[i], activation: last ? ('softmax' as const) : ('relu' as const) });
  }
  return { name, inputShape: [28, 28], layers };
}

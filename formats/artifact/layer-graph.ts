// The one rule for a model's layer chain: which shapes each layer reads and
// writes, and what its kernel and bias tensors must look like. The manifest
// reader (untrusted bytes), the writer's input validation and the device's
// interpreter all call it, so they cannot disagree.
//
// Feature maps are NHWC without the batch: [height, width, channels]. The
// preprocessed input of shape [h, w] is read as [h, w, 1] by a spatial layer;
// a Dense layer reads whatever comes before it flat (Keras' Flatten is a no-op
// on this layout, so the manifest never holds one).
import { isWeighted, type Layer, type Padding, type WindowFields } from '../model.ts';

/** What a layer reads and writes. */
export interface LayerShape {
  input: number[];
  output: number[];
}

/** The tensor facts the check needs: shape by tensor index, or undefined when there is no such tensor. */
export type TensorShapeOf = (index: number) => readonly number[] | undefined;

/** Largest window or stride side; larger is not a microcontroller model (and keeps loops bounded). */
export const MAX_WINDOW = 255;

/** Output size along one axis; 0 when the window does not fit ('valid'). */
export function outputLength(size: number, window: number, stride: number, padding: Padding): number {
  if (padding === 'same') return Math.ceil(size / stride);
  return size >= window ? Math.floor((size - window) / stride) + 1 : 0;
}

/** Zero rows (or columns) before the first input cell: floor(total padding / 2), TensorFlow's rule. */
export function padBefore(size: number, window: number, stride: number, padding: Padding): number {
  if (padding === 'valid') return 0;
  const out = outputLength(size, window, stride, padding);
  return Math.floor(Math.max((out - 1) * stride + window - size, 0) / 2);
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A shape as the feature map a spatial layer reads: [h, w] is [h, w, 1]; null for any other rank. */
export function featureMap(shape: readonly number[]): [number, number, number] | null {
  if (shape.length === 2) return [shape[0]!, shape[1]!, 1];
  return shape.length === 3 ? [shape[0]!, shape[1]!, shape[2]!] : null;
}
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The expected kernel shape of a weighted layer. */
export function kernelShape(layer: Layer): number[] | null {
  switch (layer.kind) {
    case 'dense':
      return [layer.inputs, layer.units];
    case 'conv2d':
      return [layer.window[0], layer.window[1], layer.inputs, layer.units];
    case 'depthwise-conv2d':
      return [layer.window[0], layer.window[1], layer.inputs, layer.units / layer.inputs];
    default:
      return null;
  }
}

/** Whether the manifest needs format version 2 to describe these layers (anything but Dense, or relu6). */
export function needsSpatialVersion(layers: readonly Layer[]): boolean {
  return layers.some((l) => l.kind !== 'dense' || l.activation === 'relu6');
}

function checkWindow(layer: Layer & WindowFields, fail: (detail: string) => never): void {
  const sides = [...layer.window, ...layer.strides];
  if (!sides.every((s) => Number.isInteger(s) && s >= 1 && s <= MAX_WINDOW)) {
    fail(`window [${layer.window}] and strides [${layer.strides}] must be integers in 1..${MAX_WINDOW}`);
  }
  if (layer.padding !== 'valid' && layer.padding !== 'same') fail(`padding "${layer.padding}" is not valid or same`);
}

/**
 * Walks the chain from the preprocessed input shape; returns each layer's
 * shapes, or calls `fail` with what is wrong (the layer's place is the
 * caller's to add: `fail` gets "layer N (name): ...").
 */
export function layerShapes(
  inputShape: readonly number[],
  layers: readonly Layer[],
  tensorShape: TensorShapeOf,
  fail: (detail: string) => never,
): LayerShape[] {
  let shape = [...inputShape];
  const shapes: LayerShape[] = [];
  // A version-1 manifest (Dense only) leaves the chain's links to the device,
  // as it always has: each layer is checked against its own tensors only.
  const linked = needsSpatialVersion(layers);
  layers.forEach((layer, i) => {
    const at = (detail: string): never => fail(`layer ${i} (${layer.name}): ${detail}`);
    if (!Number.isInteger(layer.inputs) || !Number.isInteger(layer.units) || layer.inputs < 1 || layer.units < 1) {
      at(`inputs ${layer.inputs} and units ${layer.units} must be positive integers`);
    }
    let output: number[];
    if (layer.kind === 'dense') {
      if (!linked) shape = [layer.inputs];
      if (count(shape) !== layer.inputs) at(`takes ${layer.inputs} inputs but gets [${shape}] (${count(shape)} values)`);
      output = [layer.units];
    } else {
      const map = featureMap(shape);
      if (!map) at(`needs a feature map [height, width, channels] but gets [${shape}]`);
      const [h, w, c] = map!;
      if (c !== layer.inputs) at(`takes ${layer.inputs} channels but gets [${map}]`);
      if (layer.kind === 'global-avg-pool2d') {
        if (layer.units !== layer.inputs) at(`has ${layer.units} outputs for ${layer.inputs} channels`);
        output = [c];
      } else {
        checkWindow(layer, at);
        const oh = outputLength(h, layer.window[0], layer.strides[0], layer.padding);
        const ow = outputLength(w, layer.window[1], layer.strides[1], layer.padding);
        if (oh < 1 || ow < 1) at(`a ${layer.window[0]}x${layer.window[1]} window does not fit [${map}] without padding`);
        if (layer.kind === 'depthwise-conv2d' && layer.units % layer.inputs !== 0) at(`${layer.units} outputs are not a multiple of ${layer.inputs} channels`);
        if ((layer.kind === 'max-pool2d' || layer.kind === 'avg-pool2d') && layer.units !== layer.inputs)
          at(`pools ${layer.inputs} channels into ${layer.units}`);
        output = [oh, ow, layer.units];
      }
    }
    if (isWeighted(layer)) {
      const expected = kernelShape(layer)!;
      const kernel = Number.isInteger(layer.kernel) ? tensorShape(layer.kernel) : undefined;
      if (!kernel) at(`kernel tensor ${layer.kernel} does not exist`);
      if (!same(kernel!, expected)) at(`kernel shape [${kernel}] is not [${expected}]`);
      if (layer.bias !== -1) {
        const bias = Number.isInteger(layer.bias) ? tensorShape(layer.bias) : undefined;
        if (!bias) at(`bias tensor ${layer.bias} does not exist`);
        if (count(bias!) !== layer.units) at(`bias has ${count(bias!)} values for ${layer.units} outputs`);
      }
    }
    shapes.push({ input: shape, output });
    shape = output;
  });
  return shapes;
}

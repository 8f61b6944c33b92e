// The runtime names of the schema's enums, in schema value order.
import type { Activation, LayerKind, Padding, SegmentCoding, TensorEncoding } from '../model.ts';

/** Index = Activation enum value in manifest.fbs. */
export const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'softmax', 'sigmoid', 'tanh', 'relu6'];
/** Index = LayerKind enum value in manifest.fbs. */
export const LAYER_KINDS: readonly LayerKind[] = ['dense', 'conv2d', 'depthwise-conv2d', 'max-pool2d', 'avg-pool2d', 'global-avg-pool2d'];
/** Index = Padding enum value in manifest.fbs. */
export const PADDINGS: readonly Padding[] = ['valid', 'same'];
/** Index = Encoding enum value in manifest.fbs. */
export const ENCODINGS: readonly TensorEncoding[] = ['dense-f32', 'int8', 'codebook-sparse'];
/** Index = SegmentCoding enum value in manifest.fbs. */
export const CODINGS: readonly SegmentCoding[] = ['range', 'rice'];

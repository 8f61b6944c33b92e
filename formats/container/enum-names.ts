// The runtime names of the schema's enums, in schema value order.
import type { Activation, SegmentCoding, TensorEncoding } from '../model.ts';

/** Index = Activation enum value in manifest.fbs. */
export const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'softmax', 'sigmoid', 'tanh'];
/** Index = Encoding enum value in manifest.fbs. */
export const ENCODINGS: readonly TensorEncoding[] = ['dense-f32', 'int8', 'codebook-sparse'];
/** Index = SegmentCoding enum value in manifest.fbs. */
export const CODINGS: readonly SegmentCoding[] = ['range', 'rice'];

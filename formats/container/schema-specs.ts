// The verifier's view of formats/*.fbs: one TableSpec per table, fields by
// field slot (declaration order in the schema). Keep in step with the .fbs
// files; test/formats/verifier.test.ts builds buffers through the generated
// code and checks each spec accepts them.
import type { TableSpec } from './flatbuffer-verifier.ts';
import { MAX_CODEBOOK, MAX_FILE_BYTES, MAX_INTERVALS, MAX_LAYERS, MAX_RANK, MAX_SEGMENTS, MAX_STRING_BYTES, MAX_TENSORS, MAX_TIERS } from '../caps.ts';

export const preprocessSpec: TableSpec = {
  name: 'Preprocess',
  fields: [
    { slot: 0, name: 'input_shape', kind: 'vector', elementSize: 4, maxLength: MAX_RANK },
    { slot: 1, name: 'scale', kind: 'scalar', size: 4 },
    { slot: 2, name: 'offset', kind: 'scalar', size: 4 },
  ],
};

export const layerSpec: TableSpec = {
  name: 'Layer',
  fields: [
    { slot: 0, name: 'kind', kind: 'scalar', size: 1 },
    { slot: 1, name: 'name', kind: 'string', maxBytes: MAX_STRING_BYTES },
    { slot: 2, name: 'inputs', kind: 'scalar', size: 4 },
    { slot: 3, name: 'units', kind: 'scalar', size: 4 },
    { slot: 4, name: 'activation', kind: 'scalar', size: 1 },
    { slot: 5, name: 'kernel', kind: 'scalar', size: 2 },
    { slot: 6, name: 'bias', kind: 'scalar', size: 2 },
    // Version 2 (docs/format.md 3.1.1): the window, its steps, the padding.
    { slot: 7, name: 'window_h', kind: 'scalar', size: 1 },
    { slot: 8, name: 'window_w', kind: 'scalar', size: 1 },
    { slot: 9, name: 'stride_h', kind: 'scalar', size: 1 },
    { slot: 10, name: 'stride_w', kind: 'scalar', size: 1 },
    { slot: 11, name: 'padding', kind: 'scalar', size: 1 },
  ],
};

export const tensorSpec: TableSpec = {
  name: 'Tensor',
  fields: [
    { slot: 0, name: 'name', kind: 'string', maxBytes: MAX_STRING_BYTES },
    { slot: 1, name: 'shape', kind: 'vector', elementSize: 4, maxLength: MAX_RANK },
    { slot: 2, name: 'encoding', kind: 'scalar', size: 1 },
    { slot: 3, name: 'bits', kind: 'scalar', size: 1 },
    { slot: 4, name: 'codebook', kind: 'vector', elementSize: 4, maxLength: MAX_CODEBOOK },
    // Per-channel scales: bounded by the tensor's last dimension, checked later.
    { slot: 5, name: 'scales', kind: 'vector', elementSize: 4, maxLength: 1 << 20 },
    { slot: 6, name: 'licensed', kind: 'scalar', size: 1 },
    { slot: 7, name: 'coding', kind: 'scalar', size: 1 },
  ],
};

export const tierSpec: TableSpec = {
  name: 'Tier',
  fields: [
    { slot: 0, name: 'name', kind: 'string', maxBytes: MAX_STRING_BYTES },
    { slot: 1, name: 'intervals', kind: 'vector', elementSize: 2, maxLength: MAX_INTERVALS },
    { slot: 2, name: 'accuracy', kind: 'scalar', size: 4 },
  ],
};

export const manifestSpec: TableSpec = {
  name: 'Manifest',
  fields: [
    { slot: 0, name: 'format_version', kind: 'scalar', size: 2 },
    { slot: 1, name: 'model', kind: 'string', maxBytes: MAX_STRING_BYTES },
    { slot: 2, name: 'version', kind: 'scalar', size: 4 },
    { slot: 3, name: 'preprocess', kind: 'table', table: preprocessSpec },
    { slot: 4, name: 'layers', kind: 'tables', table: layerSpec, maxLength: MAX_LAYERS },
    { slot: 5, name: 'tensors', kind: 'tables', table: tensorSpec, maxLength: MAX_TENSORS },
    { slot: 6, name: 'interval_bounds', kind: 'vector', elementSize: 4, maxLength: 2 * MAX_INTERVALS },
    { slot: 7, name: 'tiers', kind: 'tables', table: tierSpec, maxLength: MAX_TIERS },
    { slot: 8, name: 'segment_table', kind: 'vector', elementSize: 1, maxLength: 20 * MAX_SEGMENTS },
    { slot: 9, name: 'hashes', kind: 'vector', elementSize: 1, maxLength: 32 * MAX_SEGMENTS },
    { slot: 10, name: 'interval_ids', kind: 'vector', elementSize: 2, maxLength: MAX_INTERVALS },
    { slot: 11, name: 'interval_edges', kind: 'scalar', size: 1 },
  ],
};

export const artifactSpec: TableSpec = {
  name: 'Artifact',
  fields: [
    { slot: 0, name: 'format_version', kind: 'scalar', size: 2 },
    { slot: 1, name: 'manifest', kind: 'vector', elementSize: 1, maxLength: MAX_FILE_BYTES },
    { slot: 2, name: 'signature', kind: 'vector', elementSize: 1, maxLength: 64 },
    { slot: 3, name: 'held_intervals', kind: 'vector', elementSize: 2, maxLength: MAX_INTERVALS },
    { slot: 4, name: 'segment_data', kind: 'vector', elementSize: 1, maxLength: MAX_FILE_BYTES },
  ],
};

export const patchSpec: TableSpec = {
  name: 'Patch',
  fields: [
    { slot: 0, name: 'format_version', kind: 'scalar', size: 2 },
    { slot: 1, name: 'body', kind: 'vector', elementSize: 1, maxLength: MAX_FILE_BYTES },
    { slot: 2, name: 'manifest', kind: 'vector', elementSize: 1, maxLength: MAX_FILE_BYTES },
  ],
};

/** Just the patch's format_version: checked before the rest, so a patch of another version is UNSUPPORTED_VERSION however its fields are laid out. */
export const patchVersionSpec: TableSpec = { name: 'Patch', fields: [{ slot: 0, name: 'format_version', kind: 'scalar', size: 2 }] };

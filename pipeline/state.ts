// What a build saves in its out dir so a later `build --from DIR` can make
// version N+1: the spec, the biases, every weighted layer's codebook and
// per-weight codes (which fix the pruning masks), the intervals and the tiers.
// Specs saved before layer kinds (Dense chains whose layers have no `kind`)
// read as Dense layers (model.ts' specFromJson).
// state.json holds metadata; state.bin the arrays back to back
// (little-endian float32 / uint8), each located by offset and length.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Interval } from '../formats/index.ts';
import { PipelineError } from './errors.ts';
import { kernelSize, specFromJson, specShapes, weightedLayers, type ModelSpec } from './model.ts';
import type { SharedLayer } from './share.ts';

export const STATE_FORMAT = 'weightgate-build-state/1';

export interface SavedTier {
  name: string;
  target: number | null;
  intervals: number[];
}

export interface BuildState {
  spec: ModelSpec;
  data: string;
  version: number;
  bits: number;
  seed: number;
  intervals: Interval[];
  tiers: SavedTier[];
  biases: Float32Array[];
  shared: SharedLayer[];
}

interface ArrayRef {
  offset: number;
  length: number;
}

interface StateJson {
  format: string;
  spec: ModelSpec;
  data: string;
  version: number;
  bits: number;
  seed: number;
  intervals: Interval[];
  tiers: SavedTier[];
  /** Per weighted layer. */
  layers: Array<{ bias: ArrayRef; codebook: ArrayRef; codes: ArrayRef }>;
}

export async function saveState(dir: string, state: BuildState): Promise<void> {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const put = (bytes: Uint8Array): ArrayRef => {
    // Float32 arrays start on a 4-byte boundary so they can be viewed in place.
    const pad = (4 - (offset % 4)) % 4;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(bytes);
    const ref = { offset, length: bytes.length };
    offset += bytes.length;
    return ref;
  };
  const f32 = (a: Float32Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  const layers = state.shared.map((layer, i) => ({
    bias: put(f32(state.biases[i])),
    codebook: put(f32(layer.codebook)),
    codes: put(layer.codes.slice()),
  }));
  const json: StateJson = {
    format: STATE_FORMAT,
    spec: state.spec,
    data: state.data,
    version: state.version,
    bits: state.bits,
    seed: state.seed,
    intervals: state.intervals,
    tiers: state.tiers,
    layers,
  };
  const bin = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    bin.set(c, at);
    at += c.length;
  }
  await writeFile(join(dir, 'state.bin'), bin);
  await writeFile(join(dir, 'state.json'), JSON.stringify(json, null, 2) + '\n');
}

export async function loadState(dir: string): Promise<BuildState> {
  const jsonFile = join(dir, 'state.json');
  const binFile = join(dir, 'state.bin');
  let json: StateJson;
  let bin: Uint8Array;
  try {
    json = JSON.parse(await readFile(jsonFile, 'utf8')) as StateJson;
    bin = new Uint8Array(await readFile(binFile));
  } catch (error) {
    throw new PipelineError(
      'BAD_STATE',
      `${dir}: cannot read state.json/state.bin (${(error as Error).message}); --from needs the out dir of an earlier codebook build`,
    );
  }
  const spec = json?.format === STATE_FORMAT ? specFromJson(json.spec) : null;
  const layers = spec ? weightedLayers(spec) : [];
  if (!spec || !Array.isArray(json.layers) || json.layers.length !== layers.length) {
    throw new PipelineError('BAD_STATE', `${jsonFile}: not a ${STATE_FORMAT} file`);
  }
  try {
    specShapes(spec, jsonFile);
  } catch (error) {
    throw new PipelineError('BAD_STATE', (error as Error).message);
  }
  const slice = (ref: ArrayRef, what: string, elementBytes: number, expected: number): Uint8Array => {
    const ok =
      ref &&
      Number.isInteger(ref.offset) &&
      Number.isInteger(ref.length) &&
      ref.offset >= 0 &&
      ref.offset + ref.length <= bin.length &&
      ref.length === expected * elementBytes;
    if (!ok) throw new PipelineError('BAD_STATE', `${binFile}: ${what} is out of bounds or the wrong size; the state files do not match`);
    return bin.slice(ref.offset, ref.offset + ref.length);
  };
  const biases: Float32Array[] = [];
  const shared: SharedLayer[] = [];
  layers.forEach((layer, i) => {
    const refs = json.layers[i];
    biases.push(new Float32Array(slice(refs.bias, `layer ${i} bias`, 4, layer.units).buffer));
    const k = refs.codebook?.length / 4;
    if (!Number.isInteger(k) || k < 1 || k > 256) throw new PipelineError('BAD_STATE', `${jsonFile}: layer ${i} codebook size is invalid`);
    const codebook = new Float32Array(slice(refs.codebook, `layer ${i} codebook`, 4, k).buffer);
    const codes = slice(refs.codes, `layer ${i} codes`, 1, kernelSize(layer));
    for (let j = 0; j < codes.length; j++) {
      if (codes[j] !== 255 && codes[j] >= k)
        throw new PipelineError('BAD_STATE', `${binFile}: layer ${i} code ${codes[j]} at ${j} exceeds its ${k}-entry codebook`);
    }
    shared.push({ codebook, codes });
  });
  return {
    spec,
    data: json.data,
    version: json.version,
    bits: json.bits,
    seed: json.seed,
    intervals: json.intervals,
    tiers: json.tiers,
    biases,
    shared,
  };
}

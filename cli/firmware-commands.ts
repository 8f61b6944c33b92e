// `weightgate firmware ...`: the C library's side of a model, computed on the
// host with the same formulas (docs/arithmetic.md).
//   firmware plan FILE            the arena and flash an artifact needs on a part
//   firmware layout --flash SIZE  the update half's A/B flash layout, and what fits it
//   firmware header FILE          a .wgm or .wgp as a C header to link into firmware
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { exportC, readArtifact, readPatch } from '../formats/index.ts';
import { ARITHMETICS, checkFirmwareSupport, firmwarePlan, type Arithmetic } from '../device-sim/firmware-plan.ts';
import { defaultFlashLayout } from '../device-sim/flash-layout.ts';
import { parseByteSize } from '../device-sim/profiles.ts';
import { CheckFailedError, UsageError } from './errors.ts';

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function sizeOption(name: string, text: string): number {
  if (text === '0') return 0;
  try {
    return parseByteSize(text);
  } catch {
    throw new UsageError(`${name} ${text}: give a size in bytes, or with k or m (e.g. 512k, 1m)`);
  }
}

function arithmeticOf(text: string): Arithmetic {
  if (!(ARITHMETICS as readonly string[]).includes(text)) throw new UsageError(`--arithmetic must be f32 or int, got "${text}"`);
  return text as Arithmetic;
}

export function registerFirmwareCommands(program: Command): void {
  const firmware = program.command('firmware').description('the C library (firmware/): what a model needs on a part');

  firmware
    .command('plan <file>')
    .description(
      "The arena (RAM) and flash the firmware library needs to run a .wgm artifact, by docs/arithmetic.md's plan: " +
        "the arena for the coded kernels (decode the artifact on every inference) and for the execution image's, " +
        'and the flash for each (the artifact; the artifact and its execution image).',
    )
    .option('--arithmetic <path>', 'f32 (IEEE binary32, the default) or int (block floating point, for parts with no FPU); both plan the same bytes', 'f32')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  $ weightgate firmware plan paper.wgm      # a 784-128-64-10 model, 80 % pruned, 4-bit codebook\n' +
        '  arena 1000 bytes (coded kernels: layers 48 + activations 768 + decoder 184)\n' +
        '  arena 816 bytes with the image kernels (layers 48 + activations 768)\n' +
        '  flash 24424 bytes with the coded kernels (the artifact)\n' +
        '  flash 70232 bytes with the image kernels (artifact 24424 + execution image 45808)\n',
    )
    .action((file: string, flags: { arithmetic: string; json?: boolean }) => {
      const arithmetic = arithmeticOf(flags.arithmetic);
      const artifact = readArtifact(new Uint8Array(readFileSync(file)));
      const plan = firmwarePlan(artifact, arithmetic);
      const { manifest, heldIntervals } = artifact;
      if (flags.json) {
        process.stdout.write(JSON.stringify({ file, model: manifest.model, version: manifest.version, heldIntervals, arithmetic, ...plan }) + '\n');
        return;
      }
      // whether the library runs this model from its image on this path
      let imageRuns = true;
      try {
        checkFirmwareSupport(artifact, arithmetic, 'image');
      } catch {
        imageRuns = false;
      }
      const image =
        imageRuns && plan.imageBytes > 0
          ? `arena ${plan.arenaImageBytes} bytes with the image kernels (layers ${plan.layerBytes} + activations ${plan.activationBytes})\n` +
            `flash ${plan.flashCodedBytes} bytes with the coded kernels (the artifact)\n` +
            `flash ${plan.flashImageBytes} bytes with the image kernels (artifact ${plan.artifactBytes} + execution image ${plan.imageBytes})\n`
          : `flash ${plan.flashCodedBytes} bytes with the coded kernels (the artifact; the library runs this model with the coded kernels only on the ${arithmetic} path)\n`;
      const kinds = new Set(manifest.layers.map((l) => l.kind));
      process.stdout.write(
        `arena ${plan.arenaCodedBytes} bytes (coded kernels: layers ${plan.layerBytes} + activations ${plan.activationBytes} + decoder ${plan.decoderBytes})\n` +
          image +
          `${manifest.model} v${manifest.version} held intervals [${heldIntervals}], ${plan.layers} layers (${[...kinds].join(', ')}), ${arithmetic} arithmetic\n`,
      );
    });

  firmware
    .command('layout')
    .description(
      "The update half's default flash layout (wg_update_layout_default in firmware/include/weightgate_update.h): two state-record " +
        'sectors, slots A and B as large as fit, then an optional staging region for downloads. With --artifact it checks the ' +
        'artifact (and its execution image) fits a slot; with --patch, that the download fits where it waits. Exit 1 when something does not fit.',
    )
    .requiredOption('--flash <size>', 'flash the update half may use, e.g. 256k')
    .option('--sector <size>', 'erase sector size (a power of two)', '4k')
    .option('--staging <size>', "a staging region for downloads (0: the inactive slot's tail)", '0')
    .option('--artifact <file>', 'a .wgm the slots must hold')
    .option('--patch <file>', 'a .wgp that must fit where downloads wait')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  $ weightgate firmware layout --flash 256k --artifact build/signed/full.wgm\n' +
        '  state records  0x00000000  2 x 4096 bytes\n' +
        '  slot A         0x00002000  126976 bytes\n' +
        '  slot B         0x00021000  126976 bytes\n' +
        "  staging        none: downloads wait in the inactive slot's tail\n" +
        '  artifact build/signed/full.wgm: 9736 bytes in 126976: fits\n' +
        '  artifact build/signed/full.wgm with its execution image: 22860 bytes in 126976: fits\n',
    )
    .action((flags: { flash: string; sector: string; staging: string; artifact?: string; patch?: string; json?: boolean }) => {
      const layout = defaultFlashLayout(sizeOption('--flash', flags.flash), sizeOption('--sector', flags.sector), sizeOption('--staging', flags.staging));
      const checks: { what: string; bytes: number; room: number; fits: boolean }[] = [];
      let artifactBytes = 0;
      if (flags.artifact) {
        const artifact = readArtifact(readBytes(flags.artifact));
        const plan = firmwarePlan(artifact, 'f32');
        artifactBytes = plan.artifactBytes;
        checks.push({ what: `artifact ${flags.artifact}`, bytes: plan.artifactBytes, room: layout.slotBytes, fits: plan.artifactBytes <= layout.slotBytes });
        checks.push({
          what: `artifact ${flags.artifact} with its execution image`,
          bytes: plan.flashImageBytes,
          room: layout.slotBytes,
          fits: plan.flashImageBytes <= layout.slotBytes,
        });
      }
      if (flags.patch) {
        const patch = readBytes(flags.patch);
        readPatch(patch);
        // Without a staging region the download sits in the inactive slot's tail, after the target.
        const room = layout.stagingBytes || layout.slotBytes - artifactBytes;
        checks.push({ what: `patch ${flags.patch}`, bytes: patch.length, room, fits: patch.length <= room });
      }
      if (flags.json) {
        process.stdout.write(JSON.stringify({ ...layout, checks }) + '\n');
      } else {
        const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
        process.stdout.write(
          `state records  ${hex(layout.stateOffsets[0])}  2 x ${layout.sectorBytes} bytes\n` +
            `slot A         ${hex(layout.slotOffsets[0])}  ${layout.slotBytes} bytes\n` +
            `slot B         ${hex(layout.slotOffsets[1])}  ${layout.slotBytes} bytes\n` +
            (layout.stagingBytes
              ? `staging        ${hex(layout.stagingOffset)}  ${layout.stagingBytes} bytes\n`
              : "staging        none: downloads wait in the inactive slot's tail\n") +
            checks.map((c) => `${c.what}: ${c.bytes} bytes in ${c.room}: ${c.fits ? 'fits' : 'DOES NOT FIT'}\n`).join(''),
        );
      }
      const misfit = checks.find((c) => !c.fits);
      if (misfit) throw new CheckFailedError('DOES_NOT_FIT', `${misfit.what} needs ${misfit.bytes} bytes, the layout has ${misfit.room}`);
    });

  firmware
    .command('header <file>')
    .description(
      'A verified .wgm artifact or .wgp patch as a C header to link into firmware (for the example in firmware/examples/update: the model in ' +
        'slot A and the patch that upgrades it): alignas(16) static const unsigned char NAME[] and NAME_len.',
    )
    .requiredOption('--out <header>', 'the .h file to write')
    .option('--name <name>', 'C identifier of the array (default: from the file name)')
    .addHelpText(
      'after',
      '\nExample:\n  $ weightgate firmware header build/upgrade.wgp --out upgrade.h --name g_upgrade\n  wrote upgrade.h (g_upgrade, 1872 bytes, a patch)\n',
    )
    .action((file: string, flags: { out: string; name?: string }) => {
      const bytes = readBytes(file);
      const kind = file.endsWith('.wgp') ? 'a patch' : 'an artifact';
      if (kind === 'a patch') readPatch(bytes);
      else readArtifact(bytes);
      const name =
        flags.name ??
        basename(file)
          .replace(/\.[^.]*$/, '')
          .replace(/[^A-Za-z0-9_]/g, '_')
          .replace(/^([0-9])/, '_$1');
      writeFileSync(flags.out, exportC(bytes, name));
      process.stdout.write(`wrote ${flags.out} (${name}, ${bytes.length} bytes, ${kind})\n`);
    });
}

// `weightgate firmware ...`: the C library's side of a model, computed on the
// host with the same formulas (docs/arithmetic.md).
//   firmware plan FILE   the arena and flash an artifact needs on a part
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { readArtifact } from '../formats/index.ts';
import { ARITHMETICS, firmwarePlan, type Arithmetic } from '../device-sim/firmware-plan.ts';
import { UsageError } from './errors.ts';

function arithmeticOf(text: string): Arithmetic {
  if (!(ARITHMETICS as readonly string[]).includes(text)) throw new UsageError(`--arithmetic must be f32 or int, got "${text}"`);
  return text as Arithmetic;
}

export function registerFirmwareCommands(program: Command): void {
  const firmware = program.command('firmware').description('the C library (firmware/): what a model needs on a part');

  firmware
    .command('plan <file>')
    .description(
      'The arena (RAM) and flash the firmware library needs to run a .wgm artifact, by docs/arithmetic.md\'s plan: ' +
        'the arena for the coded kernels (decode the artifact on every inference) and for the execution image\'s, ' +
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
      const plan = firmwarePlan(artifact);
      const { manifest, license } = artifact;
      if (flags.json) {
        process.stdout.write(JSON.stringify({ file, model: manifest.model, version: manifest.version, intervals: license, arithmetic, ...plan }) + '\n');
        return;
      }
      process.stdout.write(
        `arena ${plan.arenaCodedBytes} bytes (coded kernels: layers ${plan.layerBytes} + activations ${plan.activationBytes} + decoder ${plan.decoderBytes})\n` +
          `arena ${plan.arenaImageBytes} bytes with the image kernels (layers ${plan.layerBytes} + activations ${plan.activationBytes})\n` +
          `flash ${plan.flashCodedBytes} bytes with the coded kernels (the artifact)\n` +
          `flash ${plan.flashImageBytes} bytes with the image kernels (artifact ${plan.artifactBytes} + execution image ${plan.imageBytes})\n` +
          `${manifest.model} v${manifest.version} intervals [${license}], ${plan.layers} Dense layers, ${arithmetic} arithmetic\n`,
      );
    });
}

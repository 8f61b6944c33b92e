// The `weightgate` command line: a thin layer over formats/, pipeline/,
// server/ and device-sim/. Each area registers its commands from its own file.
import { Command, CommanderError } from 'commander';
import { reportError, EXIT_BAD_INPUT } from './errors.ts';
import { registerFormatCommands } from './formats-commands.ts';
import { registerPipelineCommands } from './pipeline-commands.ts';
import { registerServerCommands } from './server-commands.ts';
import { registerDeviceCommands } from './device-commands.ts';
import { registerDemoCommand } from './demo-command.ts';
import { registerFirmwareCommands } from './firmware-commands.ts';

export function createProgram(): Command {
  const program = new Command('weightgate')
    .description(
      'Compact, licensed, patchable neural-network binaries for microcontrollers.\n' +
        'Exit codes: 0 ok, 1 a failed check or budget, 2 bad usage or bad input.',
    )
    .option('--verbose', 'print stack traces with errors')
    .showHelpAfterError()
    .exitOverride();
  registerFormatCommands(program);
  registerPipelineCommands(program);
  registerServerCommands(program);
  registerDeviceCommands(program);
  registerFirmwareCommands(program);
  registerDemoCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed help or the usage message.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
      return;
    }
    process.exitCode = reportError(error, argv.includes('--verbose'));
  }
}

await main(process.argv);

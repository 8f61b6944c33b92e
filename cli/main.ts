// The `weightgate` command line: a thin layer over formats/, pipeline/,
// server/ and device-sim/. Each area registers its commands from its own file,
// one line each below, and imports its heavy modules only inside the actions,
// so declaring every command (all --help needs) stays quick.
//
// Exit codes: 0 ok, 1 a failed check, 2 bad usage or input (one line, and a
// pointer to the command's --help), 70 a bug (one line; --verbose shows the stack).
import type { Command } from 'commander';
import { exitOnStrayErrors, newProgram, runProgram } from './run.ts';
import { registerFormatCommands } from './formats-commands.ts';
import { registerPipelineCommands } from './pipeline-commands.ts';
import { registerServerCommands } from './server-commands.ts';
import { registerDeviceCommands } from './device-commands.ts';
import { registerDemoCommand } from './demo-command.ts';
import { registerFirmwareCommands } from './firmware-commands.ts';

export function createProgram(): Command {
  const program = newProgram(
    'weightgate',
    'Compact, licensed, patchable neural-network binaries for microcontrollers.\n' +
      'Exit codes: 0 ok, 1 a failed check or budget, 2 bad usage or bad input, 70 an internal error (a bug).',
  );
  registerFormatCommands(program);
  registerPipelineCommands(program);
  registerServerCommands(program);
  registerDeviceCommands(program);
  registerFirmwareCommands(program);
  registerDemoCommand(program);
  return program;
}

exitOnStrayErrors(process.argv.includes('--verbose'));
process.exitCode = await runProgram(createProgram(), process.argv);

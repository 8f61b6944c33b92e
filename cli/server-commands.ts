// CLI commands of this area; filled in by the area's issue.
import type { Command } from 'commander';

export function registerServerCommands(_program: Command): void {}

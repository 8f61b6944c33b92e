// CLI commands of this area; filled in by the area's issue.
import type { Command } from 'commander';

export function registerFormatCommands(_program: Command): void {}

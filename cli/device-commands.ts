// CLI commands of this area; filled in by the area's issue.
import type { Command } from 'commander';

export function registerDeviceCommands(_program: Command): void {}

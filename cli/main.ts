// `ringtail <command>`: the one registration point for subcommands.
import { agentCommand } from './commands/agent.js';
import { collectorCommand } from './commands/collector.js';
import { relaunchCommand } from './commands/relaunch.js';
import { tokenCommand } from './commands/token.js';
import { hostsCommand } from './commands/hosts.js';
import { migrateCommand } from './commands/migrate.js';
import { clickhouseCommand } from './commands/clickhouse.js';
import { rrdCommand } from './commands/rrd.js';
import { upCommand } from './commands/up.js';
import { versionCommand } from './commands/version.js';
import type { Command } from './command.js';

export const COMMANDS: readonly Command[] = [upCommand, collectorCommand, agentCommand, tokenCommand, hostsCommand, versionCommand, rrdCommand, relaunchCommand, migrateCommand, clickhouseCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: ringtail <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run ringtail <command> --help for its options.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') return versionCommand.run([]);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`ringtail: RINGTAIL_ERR_USAGE ${name}: unknown command (see ringtail --help)\n`);
    return 2;
  }
  return command.run(rest);
}

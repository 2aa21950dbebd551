import { readFileSync } from 'node:fs';
import type { Command } from '../command.js';

export function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name: string; version: string };
      if (pkg.name === 'ringtail') return pkg.version;
    } catch {
      // try the next layout (source tree or dist/)
    }
  }
  return 'unknown';
}

export const versionCommand: Command = {
  name: 'version',
  summary: 'Print the version.',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write('Usage: ringtail version\n\nPrint the version.\n');
      return 0;
    }
    if (argv.length) {
      process.stderr.write(`ringtail: RINGTAIL_ERR_CONFIG ${argv[0]}: unknown flag (see --help)\n`);
      return 2;
    }
    process.stdout.write(`ringtail ${packageVersion()}\n`);
    return 0;
  },
};

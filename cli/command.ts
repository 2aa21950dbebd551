import type { TObject } from '@sinclair/typebox';
import { ConfigError, RingtailError } from '../shared/errors.js';
import { helpText, loadOptions } from './options.js';

export interface Command {
  name: string;
  summary: string;
  run(argv: string[]): Promise<number>;
}

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}
export const stdio: Io = { out: process.stdout, err: process.stderr };

/**
 * Parses a command's options from its schema, prints help when asked, and turns a ConfigError
 * into one line on stderr and exit status 2, as automation expects.
 */
export async function withOptions<T>(
  usage: string,
  summary: string,
  schema: TObject,
  argv: string[],
  body: (options: T) => Promise<number>,
  io: Io = stdio,
): Promise<number> {
  let parsed;
  try {
    parsed = loadOptions<T>(schema, argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err.write(`ringtail: ${err.code} ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    io.out.write(helpText(usage, summary, schema));
    return 0;
  }
  try {
    return await body(parsed.options);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err.write(`ringtail: ${err.code} ${err.message}\n`);
      return 2;
    }
    if (err instanceof RingtailError) {
      io.err.write(`ringtail: ${err.code} ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

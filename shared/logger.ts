// A tiny JSON-lines logger for the agent and the CLI, in the same shape as the collector's
// pino output ({level, time, msg, ...}), so one parser reads both.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export function createLogger(stream: NodeJS.WritableStream = process.stderr, min: Level = 'info', base: object = {}): Logger {
  const write = (level: Level) => (obj: object, msg: string) => {
    if (LEVELS[level] < LEVELS[min]) return;
    stream.write(JSON.stringify({ level: LEVELS[level], time: Date.now(), ...base, ...obj, msg }) + '\n');
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

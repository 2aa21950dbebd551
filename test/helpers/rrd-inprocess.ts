// `ringtail rrd` run in-process (the same code the binary runs), with its output captured,
// so the rrd tests stay fast without spawning a process per command.
import { runRrd } from '../../cli/commands/rrd.js';

export interface RrdResult {
  code: number;
  out: string;
  err: string;
}

export async function ringtailRrd(argv: string[]): Promise<RrdResult> {
  let out = '';
  let err = '';
  const io = {
    out: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
    err: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
  };
  const code = await runRrd(argv, io);
  return { code, out, err };
}

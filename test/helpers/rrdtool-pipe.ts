// One `rrdtool -` process answering many commands (its pipe mode): each command's output ends
// with a line "OK u:… s:… r:…" or "ERROR: …". Saves a process start per command in tests.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export class RrdtoolPipe {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = '';
  private waiter: (() => void) | undefined;

  constructor() {
    this.child = spawn('rrdtool', ['-']);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      this.buf += d;
      this.waiter?.();
    });
  }

  /** Runs one command (arguments without spaces); returns its output and error like a CLI run. */
  async run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    if (argv.some((a) => /\s/.test(a))) throw new Error('rrdtool pipe mode splits on spaces');
    this.child.stdin.write(argv.join(' ') + '\n');
    for (;;) {
      const m = /(^|\n)(OK u:[^\n]*|ERROR: [^\n]*)\n/.exec(this.buf);
      if (m) {
        const out = this.buf.slice(0, m.index + m[1]!.length);
        this.buf = this.buf.slice(m.index + m[0].length);
        return m[2]!.startsWith('OK') ? { code: 0, out, err: '' } : { code: 1, out, err: m[2]! + '\n' };
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }

  close(): void {
    this.child.stdin.end();
  }
}

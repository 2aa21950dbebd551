// Bounded regular expressions over log text. A user's pattern can backtrack catastrophically
// ((a+)+$ on a line of a's), and JavaScript cannot interrupt a running RegExp, so patterns run
// in a worker thread: the event loop never executes them, and a chunk that takes longer than
// its deadline gets the worker terminated (and replaced) and the request a 400 naming the cause.
// The worker's source is inline so that it runs the same from the TypeScript tree and dist/.
import { Worker } from 'node:worker_threads';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const cache = new Map();
parentPort.on('message', ({ id, pattern, flags, messages }) => {
  let re = cache.get(flags + '/' + pattern);
  if (!re) {
    try { re = new RegExp(pattern, flags); } catch (e) { parentPort.postMessage({ id, error: String(e.message) }); return; }
    if (cache.size > 64) cache.clear();
    cache.set(flags + '/' + pattern, re);
  }
  const hits = [];
  for (let i = 0; i < messages.length; i++) if (re.test(messages[i])) hits.push(i);
  parentPort.postMessage({ id, hits });
});
`;

export const MAX_PATTERN_LENGTH = 256;

export interface CompiledPattern {
  pattern: string;
  flags: string;
}

/** Checks syntax and length on the main thread (compiling is safe; matching is what can hang). */
export function parsePattern(raw: string): CompiledPattern {
  if (raw.length > MAX_PATTERN_LENGTH) {
    throw new RingtailError(ErrorCodes.BAD_QUERY, `re: pattern longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let pattern = raw;
  let flags = '';
  if (pattern.startsWith('(?i)')) {
    pattern = pattern.slice(4);
    flags = 'i';
  }
  try {
    new RegExp(pattern, flags);
  } catch (err) {
    throw new RingtailError(ErrorCodes.BAD_QUERY, `re: invalid regular expression: ${(err as Error).message}`);
  }
  return { pattern, flags };
}

interface Waiting {
  resolve(hits: number[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class RegexRunner {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  /** how many times a runaway pattern cost us the worker */
  killed = 0;

  private spawn(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (msg: { id: number; hits?: number[]; error?: string }) => {
      const wait = this.waiting.get(msg.id);
      if (!wait) return;
      this.waiting.delete(msg.id);
      clearTimeout(wait.timer);
      if (msg.error !== undefined) wait.reject(new RingtailError(ErrorCodes.BAD_QUERY, `re: ${msg.error}`));
      else wait.resolve(msg.hits ?? []);
    });
    w.on('error', (err) => this.fail(w, new RingtailError(ErrorCodes.INTERNAL, `regex worker failed: ${err.message}`, 500)));
    w.on('exit', () => this.fail(w, new RingtailError(ErrorCodes.INTERNAL, 'regex worker exited', 500)));
    return w;
  }

  private fail(w: Worker, err: Error): void {
    if (this.worker !== w) return;
    this.worker = null;
    for (const [id, wait] of this.waiting) {
      clearTimeout(wait.timer);
      wait.reject(err);
      this.waiting.delete(id);
    }
  }

  /** indices of the messages the pattern matches; rejects with a 400 past `timeoutMs` */
  test(p: CompiledPattern, messages: string[], timeoutMs: number): Promise<number[]> {
    if (messages.length === 0) return Promise.resolve([]);
    const w = (this.worker ??= this.spawn());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.killed++;
        const err = new RingtailError(
          ErrorCodes.BAD_QUERY,
          `re: matching took longer than ${timeoutMs} ms on ${messages.length} lines and was stopped; simplify the pattern (nested quantifiers such as (a+)+ backtrack catastrophically)`,
        );
        this.waiting.delete(id);
        reject(err);
        this.fail(w, new RingtailError(ErrorCodes.STORAGE, 're: another pattern overran its deadline and the matcher restarted; retry', 503));
        void w.terminate();
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      w.postMessage({ id, pattern: p.pattern, flags: p.flags, messages });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

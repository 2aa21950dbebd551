// Bounded regular expressions over log text. A user's pattern can backtrack catastrophically
// ((a+)+$ on a line of a's), and JavaScript cannot interrupt a running RegExp, so patterns run
// in worker threads: the event loop never executes them, and a chunk that takes longer than
// its deadline gets its worker terminated (and replaced) and its request a 400 naming the cause.
// The worker's source is inline so that it runs the same from the TypeScript tree and dist/.
import { Worker } from 'node:worker_threads';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const cache = new Map();
parentPort.on('message', ({ pattern, flags, messages }) => {
  let re = cache.get(flags + '/' + pattern);
  if (!re) {
    try { re = new RegExp(pattern, flags); } catch (e) { parentPort.postMessage({ error: String(e.message) }); return; }
    if (cache.size > 64) cache.clear();
    cache.set(flags + '/' + pattern, re);
  }
  const hits = [];
  // (a pattern can exhaust the matcher's stack: that is the pattern's error, not the worker's)
  try { for (let i = 0; i < messages.length; i++) if (re.test(messages[i])) hits.push(i); }
  catch (e) { parentPort.postMessage({ error: String(e.message) }); return; }
  parentPort.postMessage({ hits });
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

interface Job {
  key: string;
  pattern: string;
  flags: string;
  messages: string[];
  timeoutMs: number;
  resolve(hits: number[]): void;
  reject(err: Error): void;
  /** times a worker died under this job for a reason not its own */
  retries: number;
}

interface Slot {
  worker: Worker | null;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

export interface RegexRunnerOptions {
  /** worker threads matching in parallel */
  workers?: number;
}

export const DEFAULT_REGEX_WORKERS = 2;

/**
 * A small pool of matcher threads. Each job runs alone on one worker and its deadline starts
 * when the worker takes it, not when it was queued, so time spent behind someone else's slow
 * pattern never counts against a request. A job that overruns costs only its own worker (which
 * is replaced) and only its own request fails; jobs on other workers, and jobs still queued,
 * are untouched. Waiting jobs are served round-robin by key (the token), so one token's
 * patterns cannot hold the queue while others wait.
 */
export class RegexRunner {
  private readonly slots: Slot[];
  /** waiting jobs per key, keys in round-robin order (a served key moves to the back) */
  private readonly queues = new Map<string, Job[]>();
  private closed = false;
  /** how many times a runaway pattern cost us a worker */
  killed = 0;

  constructor(opts: RegexRunnerOptions = {}) {
    const n = Math.max(1, Math.floor(opts.workers ?? DEFAULT_REGEX_WORKERS));
    this.slots = Array.from({ length: n }, () => ({ worker: null, job: null, timer: null }));
  }

  /** jobs running or waiting */
  get pending(): number {
    let n = 0;
    for (const s of this.slots) if (s.job) n++;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /**
   * Indices of the messages the pattern matches; rejects with a 400 when matching takes longer
   * than `timeoutMs` once started. `key` names who asks (a token id), for fair queueing.
   */
  test(p: CompiledPattern, messages: string[], timeoutMs: number, key = ''): Promise<number[]> {
    if (messages.length === 0) return Promise.resolve([]);
    if (this.closed) return Promise.reject(new RingtailError(ErrorCodes.INTERNAL, 're: the matcher is shut down', 503));
    return new Promise((resolve, reject) => {
      const job: Job = { key, pattern: p.pattern, flags: p.flags, messages, timeoutMs, resolve, reject, retries: 0 };
      this.enqueue(job, false);
      this.dispatch();
    });
  }

  private enqueue(job: Job, front: boolean): void {
    const q = this.queues.get(job.key);
    if (q) {
      if (front) q.unshift(job);
      else q.push(job);
    } else this.queues.set(job.key, [job]);
  }

  private nextJob(): Job | undefined {
    for (const [key, q] of this.queues) {
      const job = q.shift()!;
      this.queues.delete(key);
      if (q.length) this.queues.set(key, q); // to the back of the round
      return job;
    }
    return undefined;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || this.closed) continue;
      const job = this.nextJob();
      if (!job) return;
      const w = (slot.worker ??= this.spawn(slot));
      slot.job = job;
      slot.timer = setTimeout(() => this.overrun(slot, w), job.timeoutMs);
      w.postMessage({ pattern: job.pattern, flags: job.flags, messages: job.messages });
    }
  }

  private spawn(slot: Slot): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (msg: { hits?: number[]; error?: string }) => {
      if (slot.worker !== w) return;
      const job = this.finish(slot);
      if (!job) return;
      if (msg.error !== undefined) job.reject(new RingtailError(ErrorCodes.BAD_QUERY, `re: ${msg.error}`));
      else job.resolve(msg.hits ?? []);
      this.dispatch();
    });
    w.on('error', (err) => this.lost(slot, w, `regex worker failed: ${err.message}`));
    w.on('exit', () => this.lost(slot, w, 'regex worker exited'));
    return w;
  }

  /** the slot's job, its timer cleared and the slot free again */
  private finish(slot: Slot): Job | null {
    const job = slot.job;
    if (slot.timer) clearTimeout(slot.timer);
    slot.job = null;
    slot.timer = null;
    return job;
  }

  /** The running job overran its deadline: it alone fails; its worker is replaced. */
  private overrun(slot: Slot, w: Worker): void {
    if (slot.worker !== w) return;
    const job = this.finish(slot);
    slot.worker = null;
    void w.terminate();
    this.killed++;
    job?.reject(
      new RingtailError(
        ErrorCodes.BAD_QUERY,
        `re: matching took longer than ${job.timeoutMs} ms on ${job.messages.length} lines and was stopped; simplify the pattern (nested quantifiers such as (a+)+ backtrack catastrophically)`,
      ),
    );
    this.dispatch();
  }

  /**
   * The worker died for a reason of its own (not a deadline: that worker is already detached).
   * Its job was not at fault, so it runs once more on a fresh worker before it is failed.
   */
  private lost(slot: Slot, w: Worker, why: string): void {
    if (slot.worker !== w) return;
    slot.worker = null;
    const job = this.finish(slot);
    if (job && !this.closed && job.retries++ < 1) this.enqueue(job, true);
    else job?.reject(new RingtailError(ErrorCodes.INTERNAL, why, 500));
    this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    const err = new RingtailError(ErrorCodes.INTERNAL, 're: the matcher is shut down', 503);
    for (const q of this.queues.values()) for (const job of q) job.reject(err);
    this.queues.clear();
    await Promise.all(
      this.slots.map(async (slot) => {
        const w = slot.worker;
        slot.worker = null;
        this.finish(slot)?.reject(err);
        if (w) await w.terminate();
      }),
    );
  }
}

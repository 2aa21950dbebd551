// A storage thread's end, told apart: asked for by its owner's close() or on its own (an abort, a
// native fault), which is a failure of the collector (collector/health.ts). The log writer's
// committer and the metric store's thread both end this way.
import type { Worker } from 'node:worker_threads';

/**
 * `fail` gets the thread's error (or its exit, when it ended without one), for the owner to refuse
 * what waits on it; `onFailure` gets it once as well, unless `closing()` said the end was asked for.
 * `what` names the thread in the exit's message ("<what> exited (code N)").
 */
export function watchThreadEnd(worker: Worker, what: string, closing: () => boolean, fail: (err: Error) => void, onFailure?: (err: Error) => void): void {
  let ended: Error | null = null;
  worker.on('error', (err) => {
    ended = err;
    fail(err);
    if (!closing()) onFailure?.(err);
  });
  worker.on('exit', (code) => {
    const first = ended === null;
    ended ??= new Error(`${what} exited (code ${code})`);
    fail(ended);
    if (first && !closing()) onFailure?.(ended);
  });
}

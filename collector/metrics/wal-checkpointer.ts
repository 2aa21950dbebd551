// The metric store's WAL checkpointer: a thread with its own connection to the store's
// database that copies the WAL back into it (PASSIVE: as far as readers allow, never waiting
// for the writer) when the store thread asks. Copying tens of MB and the database's fsync took
// 100-200 ms a time on a busy disk; on the store thread every write queued behind it waited as
// long (fleet benchmark: 4 of the store thread's 49 s while 1,000 hosts appeared). SQLite lets
// a checkpoint run beside the one connection that writes: the writer appends after what is
// being copied; the WAL starts again from its beginning once a checkpoint has copied all of it
// (openWalCheckpointer says how it gets there while the writer keeps writing).
import { parentPort, workerData } from 'node:worker_threads';
import { openWalCheckpointer } from '../rrd/sqlite-file.js';

export interface CheckpointerData {
  checkpointer: string;
}
export type CheckpointerReply = { type: 'checkpointed'; ms: number; frames: number; restarted: boolean } | { type: 'checkpoint_failed'; message: string } | { type: 'ready' };

const data = workerData as CheckpointerData | undefined;
if (parentPort && data?.checkpointer) {
  const port = parentPort;
  const db = openWalCheckpointer(data.checkpointer);
  port.on('message', (m: 'checkpoint' | 'close') => {
    if (m === 'close') {
      db.close();
      port.close();
      return;
    }
    const started = performance.now();
    try {
      const r = db.checkpoint();
      port.postMessage({ type: 'checkpointed', ms: performance.now() - started, frames: r.frames, restarted: r.restarted } satisfies CheckpointerReply);
    } catch (err) {
      port.postMessage({ type: 'checkpoint_failed', message: (err as Error).message } satisfies CheckpointerReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies CheckpointerReply);
}

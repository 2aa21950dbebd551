// How the agent's two loops (agent.ts: the reader and the shipper) wait for work: a sleep that
// new work ends early, but never a backoff's.

/**
 * A sleep that `wake()` ends early, unless it is a backoff (`firm`): new work must not cut the
 * wait after a refused request short, or every batch read becomes one more attempt against a
 * failing collector (issue 12: 108 attempts in 30 s, some 205 ms apart). Only `close()` (stop)
 * ends a firm sleep, and every sleep after it.
 */
export class Waiter {
  private wakeFn: (() => void) | null = null;
  private firm = false;
  private woken = false;
  private closed = false;

  sleep(ms: number, firm = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.woken) {
      this.woken = false;
      if (!firm) return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(0, ms));
      const self = this;
      function done(): void {
        clearTimeout(t);
        self.wakeFn = null;
        self.woken = false;
        resolve();
      }
      this.wakeFn = done;
      this.firm = firm;
    });
  }

  /** There is new work: ends a plain sleep (or the next one to start); a backoff runs its course. */
  wake(): void {
    if (!this.wakeFn) this.woken = true;
    else if (!this.firm) this.wakeFn();
  }

  /** Stopping: ends any sleep, now and from now on. */
  close(): void {
    this.closed = true;
    this.wakeFn?.();
  }
}

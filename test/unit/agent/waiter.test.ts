// The agent loops' sleep (agent/waiter.ts): new work ends a plain sleep early (or the next one,
// when it comes between two), never a backoff (issue 12: a failing collector was retried at
// every batch read); stopping ends any sleep, now and after. Fake timers: a sleep's end is the
// clock's doing or wake()'s, and each case says which.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Waiter } from '../../../agent/waiter.js';

/** whether `p` has settled once pending callbacks have run (timers do not advance) */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('agent waiter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('wake() ends a plain sleep at once; without it the sleep lasts its time', async () => {
    const w = new Waiter();
    const woken = w.sleep(60_000);
    expect(await settled(woken)).toBe(false);
    w.wake();
    expect(await settled(woken)).toBe(true);
    const timed = w.sleep(1_000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(timed)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(timed)).toBe(true);
  });

  it('a wake() between sleeps ends the next plain sleep at once, once', async () => {
    const w = new Waiter();
    w.wake();
    expect(await settled(w.sleep(60_000))).toBe(true);
    expect(await settled(w.sleep(60_000))).toBe(false);
  });

  it('a backoff (firm) runs its course whatever wake() says', async () => {
    const w = new Waiter();
    w.wake(); // work that came before the backoff does not cut it either
    const backoff = w.sleep(5_000, true);
    w.wake();
    expect(await settled(backoff)).toBe(false);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await settled(backoff)).toBe(true);
  });

  it('close() ends a backoff now and every sleep after it', async () => {
    const w = new Waiter();
    const backoff = w.sleep(60_000, true);
    w.close();
    expect(await settled(backoff)).toBe(true);
    expect(await settled(w.sleep(60_000, true))).toBe(true);
  });
});

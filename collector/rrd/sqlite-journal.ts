// What one store handle has journaled and not yet applied to the archives, and applying it
// (sqlite-store.ts describes the journal). The handle keeps its pending arguments by series
// (pending.ts) and the journal rows it wrote: a whole checkpoint applies what is pending when
// every journal row is its own, and otherwise (another process journaled, or a slice failed)
// reads the journal table itself; a slice applies the series that have waited longest and
// deletes the rows no pending argument needs any more.
import type { JournalLines } from './journal-text.js';
import { PendingUpdates } from './pending.js';
import type { SeriesArchives } from './sqlite-archives.js';
import type { StoreDb, StoreStatements } from './sqlite-file.js';

export class StoreJournal {
  /** arguments journaled by this handle and not yet in the archives */
  readonly pendingArgs = new PendingUpdates();
  private lastJournalRow = 0;
  /**
   * A slice's commit time per ms of applying, as the last slices measured (moving average): a
   * slice stops applying early enough for its commit to fit in its time too. The commit writes
   * every page the slice touched into the WAL: at month scale 8 ms of applying (~700 updates
   * of ~140 series, a few chunks each) took 22-32 ms of CPU to commit, and up to 146 ms of
   * wall time, while every write waited (`npm run bench -- fleet`, session 9).
   */
  private commitPerApply = 1;
  /** the journal rows this handle wrote that are still in the journal, oldest first */
  private readonly ownRows: number[] = [];
  /** a slice failed since the last whole checkpoint (disownOnFailure) */
  private failed = false;

  constructor(
    private readonly db: StoreDb,
    private readonly st: StoreStatements,
    private readonly archives: SeriesArchives,
    private readonly synchronous: 'FULL' | 'NORMAL',
  ) {}

  /** a slice failed since the last whole checkpoint: the memos' last updates may be ahead of what is pending */
  get disowned(): boolean {
    return this.failed;
  }

  /** A journal row this handle committed, with its lines: pending until applied. */
  recordOwn(row: number, body: string, lines: JournalLines): void {
    const b = this.pendingArgs.addBody(body);
    this.pendingArgs.addLines(row, b, lines.ids, lines.starts, lines.ends, lines.count);
    this.lastJournalRow = row;
    this.ownRows.push(row);
  }

  /** Applies the whole journal to the archives, in one transaction. */
  checkpoint(): void {
    if (this.ownRows.length > 0 && this.st.journalCount.get() === this.ownRows.length) {
      // Every journal row is this handle's: its pending arguments are what the journal holds
      // and not yet applied, already split by series (re-reading and splitting the journal
      // was a tenth of a checkpoint).
      this.disownOnFailure(() =>
        this.db
          .transaction(() => {
            for (const [id, args] of this.pendingArgs.takeOldest(Infinity)) this.archives.applySeries(id, args);
            this.st.journalClear.run(this.lastJournalRow);
          })
          .immediate(),
      );
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } else if (this.st.journalAny.get() !== undefined) {
      this.db
        .transaction(() => {
          const bySeries = new Map<number, string[]>();
          let lastId = -1;
          for (const e of this.st.journalAll.iterate() as IterableIterator<{ id: number; body: string }>) {
            for (const line of e.body.split('\n')) {
              const tab = line.indexOf('\t');
              const id = Number(line.slice(0, tab));
              let list = bySeries.get(id);
              if (!list) bySeries.set(id, (list = []));
              list.push(line.slice(tab + 1));
            }
            lastId = e.id;
          }
          for (const [id, args] of bySeries) this.archives.applySeries(id, args);
          this.st.journalClear.run(lastId);
        })
        .immediate();
      this.db.pragma('wal_checkpoint(PASSIVE)');
    }
    this.pendingArgs.clear();
    this.ownRows.length = 0;
    this.failed = false;
  }

  /**
   * Applies the series that have waited longest, at least `budget` updates of them, in one
   * transaction, and deletes the journal rows no pending argument needs any more.
   */
  checkpointSome(budget: number): void {
    this.applyOldest(budget, Infinity);
    // a slice's pages go back into the database a little at a time, not 64 MB at once
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /**
   * Applies the series that have waited longest until `until` (a performance.now() time) has
   * passed, at least one, in one transaction that does not wait for the disk (the journal it
   * shrinks holds everything it writes: a slice lost to a power cut is applied again from it);
   * returns the updates applied. No WAL checkpoint (walCheckpoint()).
   */
  applyUntil(until: number): number {
    if (this.pendingArgs.size === 0) return 0;
    // Pending updates are filed by series when first asked for: the first slice past the
    // threshold filed all 200,000 at once, 85-93 ms at a month of a fleet with every write
    // waiting. A slice that finds more than a step unfiled files them until its time is up.
    if (this.pendingArgs.unsortedLines > SORT_STEP) {
      this.fileUntil(until);
      return 0;
    }
    const before = this.pendingArgs.size;
    const relax = this.synchronous === 'FULL';
    if (relax) this.db.pragma('synchronous = NORMAL');
    try {
      const start = performance.now();
      const applied = this.applyOldest(Infinity, applyDeadline(start, until, this.commitPerApply));
      this.commitPerApply = nextCommitPerApply(this.commitPerApply, applied - start, performance.now() - applied);
    } finally {
      if (relax) this.db.pragma('synchronous = FULL');
    }
    return before - this.pendingArgs.size;
  }

  /** Files pending arguments under their series in steps of SORT_STEP, at least one, until `until` (a performance.now() time). */
  private fileUntil(until: number): void {
    while (this.pendingArgs.sortSome(SORT_STEP) > 0 && performance.now() < until);
  }

  /** Copies what the WAL holds back into the database, as far as readers allow (PASSIVE). */
  walCheckpoint(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** returns when it stopped applying (performance.now()), before its commit */
  private applyOldest(budget: number, until: number): number {
    let applied = 0;
    this.disownOnFailure(() =>
      this.db
        .transaction(() => {
          for (const [id, args] of this.pendingArgs.takeOldest(budget)) {
            this.archives.applySeries(id, args);
            if (until !== Infinity && performance.now() >= until) break;
          }
          applied = performance.now();
          const released = this.pendingArgs.releasedUpTo(this.lastJournalRow);
          this.st.journalClear.run(released);
          let k = 0;
          while (k < this.ownRows.length && this.ownRows[k]! <= released) k++;
          this.ownRows.splice(0, k);
        })
        .immediate(),
    );
    return applied;
  }

  /**
   * A failed slice has taken pending arguments it did not apply: until the next whole
   * checkpoint, the journal (which still holds them) is the only full account.
   */
  private disownOnFailure(apply: () => void): void {
    try {
      apply();
    } catch (err) {
      this.ownRows.length = 0;
      this.failed = true;
      throw err;
    }
  }

  /** Brings one series' archives up to date with what this handle journaled for it. */
  flushSeries(id: number): void {
    const args = this.pendingArgs.take(id);
    if (args) this.db.transaction(() => this.archives.applySeries(id, args)).immediate();
  }
}

/** arguments filed per step of a slice that finds a long journal unfiled (~1-2 ms) */
export const SORT_STEP = 4_096;

/**
 * When a slice from `start` that must end by `until` stops applying, given its commit's time per
 * ms of applying: at least a tenth of the slice applies (one series always does).
 */
export function applyDeadline(start: number, until: number, commitPerApply: number): number {
  return start + (until - start) / (1 + Math.min(commitPerApply, 9));
}

/** The moving average of a slice's commit time per ms of applying, after one more slice. */
export function nextCommitPerApply(previous: number, applyMs: number, commitMs: number): number {
  // a slice that applied almost nothing (one small series) says little about the ratio
  if (applyMs < 0.25) return previous;
  return 0.7 * previous + 0.3 * Math.min(commitMs / applyMs, 20);
}

// Reading one's own decision back on a cluster. A lease (metrics-lease.ts, alerts-lease.ts) or a
// claim (claims.ts) is decided by an INSERT (its deduplication token: one insert wins, checked in
// Keeper) and then read back to learn who won. On one server the read sees every committed
// insert. On a cluster the tables are ReplicatedMergeTree on every server, and the read may reach
// a replica that has not fetched the winning part yet: it would see no winner (or an older epoch,
// or a lease that its holder has renewed as expired) and decide wrongly or refuse.
//
// ClickHouse's answer (docs: settings insert_quorum, insert_quorum_parallel,
// select_sequential_consistency): a decision is written with insert_quorum = 'auto' (a majority
// of the replicas must have it before the INSERT returns) and insert_quorum_parallel = 0 (quorum
// inserts into the table are linearized, which select_sequential_consistency requires), and read
// with select_sequential_consistency = 1: a replica that lacks any part written with quorum
// refuses the SELECT instead of answering stale. Either failure is an error, hence a 503 and a
// retry (an agent sends its metrics again; the evaluator stays standby for a turn), never a wrong
// answer. Costs: every lease write waits for a majority of the servers; two quorum inserts into
// one table at the same moment make the second fail ("quorum for previous write has not been
// satisfied yet") and be retried; with no majority of servers up, leases and claims are refused.
// insert_quorum_timeout is cut from 10 minutes to QUORUM_TIMEOUT_MS so a refused write is soon
// a 503. On one server (no layout) nothing is added: one MergeTree already reads what it stored.
import type { ClickHouseSettings } from '@clickhouse/client';
import type { Layout } from './layout.js';

export const QUORUM_TIMEOUT_MS = 10_000;

export interface Consistency {
  /** settings of an INSERT that decides or records a lease or claim */
  write: ClickHouseSettings;
  /** settings of a SELECT that reads a lease or claim back */
  read: ClickHouseSettings;
}

export function consistencyOf(layout: Layout): Consistency {
  if (!layout) return { write: {}, read: {} };
  return {
    write: { insert_quorum: 'auto', insert_quorum_parallel: 0, insert_quorum_timeout: QUORUM_TIMEOUT_MS },
    read: { select_sequential_consistency: '1' },
  };
}

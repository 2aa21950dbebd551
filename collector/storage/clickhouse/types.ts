// The ClickHouse log store is the collector's LogStore (collector/storage/types.ts: asynchronous,
// ids ordered by commit but not dense) with a close of its own: the storage that holds it
// closes the client with it.
import type { AsyncRetentionOps, LogStore } from '../types.js';

export type { AsyncRetentionOps };

export interface AsyncLogStore extends LogStore {
  close(): Promise<void>;
}

export interface ClickHouseLogOptions {
  /** http(s)://host:port of ClickHouse's HTTP interface */
  url: string;
  database: string;
  /** lines older than this many days are dropped by the table's TTL (whole days); absent: kept */
  ttlDays?: number;
  /** ms before a request counts as failed (and ingest answers 503) */
  requestTimeoutMs?: number;
  /** migrate the log tables of an older ringtail's schema (else they are refused) */
  upgradeSchema?: boolean;
  /** the cluster the tables are spread over (layout.ts, docs/scale-out.md); absent: one server */
  cluster?: string;
  /** ZooKeeper / Keeper path prefix of the replicated tables, with a cluster (DEFAULT_ZK_PREFIX) */
  zookeeperPath?: string;
  /**
   * how lines are identified (ids.ts): 'block' ids in commit order, or 'key' (identity hashes,
   * the live tail by a received_at window: tail-feed.ts). Default: 'key' on a cluster, else
   * 'block'. Tests choose 'key' on one server to run the cluster's SQL.
   */
  lineIds?: 'block' | 'key';
  /** the live tail's re-read window with 'key' ids (tail-feed.ts DEFAULT_TAIL_LOOKBACK_MS) */
  tailLookbackMs?: number;
  username?: string;
  password?: string;
}

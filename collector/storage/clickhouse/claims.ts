// Decisions made once across collectors without transactions: a claim is a row for a slot
// (kind, key, seq), and the slot belongs to the row committed first.
//
// Why that is safe on one ClickHouse server: a plain MergeTree numbers each committed insert
// (its block) from one counter, under the same lock that makes the part visible, so when an
// insert returns every block with a smaller number is already readable; with
// enable_block_number_column the number stays with the row through merges. Reading the slot back
// after one's own insert therefore shows the final winner: no insert that lands later can have a
// smaller number. Each insert also carries the deduplication token `kind:key:seq`, so the losers'
// rows are usually not even stored (and a retried insert is stored once); correctness does not
// depend on that (a loser's row that outlives the deduplication window still comes after).
//
// A counter with a limit (an enrollment token's uses) is slots 1, 2, 3, …: a collector claims the
// slot after the highest one it sees and, if it lost it, tries the next; a slot above the limit is
// never claimed, so at most `limit` claims win however many collectors race.
//
// On a cluster (ReplicatedMergeTree) block numbers come from Keeper per partition and are not
// handed out at commit; there, the deduplication token alone (checked in Keeper, one winner per
// token) decides, written with a quorum and read back sequentially consistent (consistency.ts),
// so the read-back never misses the winner on a replica that has not fetched it yet. (A loser's
// row stored after the deduplication window has passed could then come first by block number;
// the window is 1,000 inserts, a race lasts one insert.)
import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { consistencyOf, type Consistency } from './consistency.js';
import type { Layout } from './layout.js';
import { urlParts } from './metrics.js';

export type ClaimKind = 'enroll' | 'revoke' | 'host' | 'agent';

export interface Claim {
  seq: number;
  value: string;
  /** the claim's time as its collector wrote it (ms) */
  at: number;
  /** which insert won (random per claim) */
  claimer: string;
  /** commit order among all claims (the winner's block) */
  block: number;
}

interface ClaimRow {
  key: string;
  seq: number;
  value: string;
  at: number;
  claimer: string;
  block: number;
}

const WINNER_COLUMNS = `key, seq, argMin(value, _block_number) AS value, argMin(at, _block_number) AS at,
  argMin(claimer, _block_number) AS claimer, min(_block_number) AS block`;

const toClaim = (r: ClaimRow): Claim => ({ seq: Number(r.seq), value: r.value, at: Number(r.at), claimer: r.claimer, block: Number(r.block) });

export class Claims {
  private readonly consistency: Consistency;

  constructor(
    private readonly client: ClickHouseClient,
    layout?: Layout,
  ) {
    this.consistency = consistencyOf(layout);
  }

  /**
   * Claims the slot for `value`; returns the slot's winner (`won`: this call's row) as it stands
   * for good.
   */
  async claim(kind: ClaimKind, key: string, seq: number, value: string, now: number): Promise<{ won: boolean; winner: Claim }> {
    const claimer = randomBytes(12).toString('hex');
    await this.client.insert({
      table: 'claims',
      values: [{ kind, key, seq, value, claimer, at: now }],
      format: 'JSONEachRow',
      clickhouse_settings: { ...this.consistency.write, insert_deduplication_token: `${kind}:${key}:${seq}` },
    });
    const winner = await this.slot(kind, key, seq);
    // our own insert returned, so the slot has a row: ours or one committed before it
    if (!winner) throw new Error(`claim ${kind}:${key}:${seq} not found after its insert`);
    return { won: winner.claimer === claimer, winner };
  }

  /** the winner of one slot, or null when nobody claimed it */
  async slot(kind: ClaimKind, key: string, seq: number): Promise<Claim | null> {
    const rs = await this.client.query({
      query: `SELECT ${WINNER_COLUMNS} FROM claims WHERE kind = {kind:String} AND key = {key:String} AND seq = {seq:UInt32} GROUP BY key, seq`,
      query_params: { kind, key, seq },
      format: 'JSONEachRow',
      clickhouse_settings: this.consistency.read,
    });
    const rows = (await rs.json()) as ClaimRow[];
    return rows[0] ? toClaim(rows[0]) : null;
  }

  /** each key's highest claimed slot and its winner (keys never claimed are absent) */
  async latest(kind: ClaimKind, keys: readonly string[]): Promise<Map<string, Claim>> {
    const out = new Map<string, Claim>();
    for (const part of urlParts(keys)) {
      const rs = await this.client.query({
        query: `SELECT ${WINNER_COLUMNS} FROM claims WHERE kind = {kind:String} AND key IN {keys:Array(String)}
GROUP BY key, seq ORDER BY key, seq DESC LIMIT 1 BY key`,
        query_params: { kind, keys: part },
        format: 'JSONEachRow',
        clickhouse_settings: this.consistency.read,
      });
      for (const r of (await rs.json()) as ClaimRow[]) out.set(r.key, toClaim(r));
    }
    return out;
  }
}

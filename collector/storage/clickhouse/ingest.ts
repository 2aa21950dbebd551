// Writing lines to ClickHouse exactly once (schema.ts says how the tables keep it).
//
// One ingestMany is one INSERT of all its new lines (ClickHouse wants few large inserts: each
// one is a part on disk), then one INSERT of the streams' committed ends and one of the hosts'
// times. Acks are built as the SQLite store builds them, against the committed ends read at the
// start and raised batch by batch in memory: a line whose offset is below its stream's
// committed end is a duplicate. Only after all three inserts succeed are the acks returned.
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { IngestAck, IngestBatch } from '../../../shared/wire.js';
import type { IngestItem } from '../types.js';
import type { Layout } from './layout.js';

/** A stream's identity in the tables: 64 bits of SHA-256 over (agent_id, stream), as a decimal UInt64. */
export function streamId(agentId: string, stream: string): string {
  const h = createHash('sha256').update(agentId).update('\0').update(stream).digest();
  return h.readBigUInt64BE(0).toString();
}

interface StreamRef {
  id: string;
  agent_id: string;
  stream: string;
}

/**
 * On a cluster (layout.ts) the lines go through the Distributed `logs`, which splits them by
 * stream_id; `distributed_foreground_insert` makes the INSERT return only once every shard has
 * its rows (else the Distributed table would queue them on the receiving server's disk and the
 * batch be acknowledged before it is stored), each shard's part under the insert's token.
 */
export function clickhouseIngest(client: ClickHouseClient, layout?: Layout) {
  const logsSettings = layout ? { distributed_foreground_insert: 1 } : {};
  const ids = new Map<string, string>();
  const idOf = (agentId: string, stream: string): string => {
    const key = `${agentId}\0${stream}`;
    let id = ids.get(key);
    if (id === undefined) {
      if (ids.size > 100_000) ids.clear();
      ids.set(key, (id = streamId(agentId, stream)));
    }
    return id;
  };

  async function committedEnds(streams: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (streams.length === 0) return out;
    const rs = await client.query({
      query: 'SELECT toString(stream_id) AS id, max(committed_end) AS end FROM stream_offsets WHERE stream_id IN {ids:Array(UInt64)} GROUP BY stream_id',
      query_params: { ids: streams.map((s) => BigInt(s)) },
      format: 'JSONEachRow',
    });
    for (const r of (await rs.json()) as Array<{ id: string; end: number }>) out.set(r.id, Number(r.end));
    return out;
  }

  return async function ingestMany(items: IngestItem[]): Promise<IngestAck[]> {
    const refs = new Map<string, StreamRef>();
    for (const it of items) {
      for (const seg of it.batch.segments) refs.set(idOf(it.batch.agent_id, seg.stream), { id: idOf(it.batch.agent_id, seg.stream), agent_id: it.batch.agent_id, stream: seg.stream });
      for (const stream of Object.keys(it.after ?? {})) idOf(it.batch.agent_id, stream);
    }
    const wanted = new Set(refs.keys());
    for (const it of items) for (const stream of Object.keys(it.after ?? {})) wanted.add(idOf(it.batch.agent_id, stream));
    const committed = await committedEnds([...wanted]);

    const rows: Record<string, unknown>[] = [];
    /** (stream, first new offset, end) of every range stored: the insert's deduplication token */
    const ranges: string[] = [];
    const ends = new Map<string, { end: number; at: number }>();
    const hosts = new Map<string, { first: number; last: number }>();
    const ingestOne = (batch: IngestBatch, receivedAt: number): IngestAck => {
      let accepted = 0;
      let duplicates = 0;
      const acked: Record<string, number> = {};
      for (const seg of batch.segments) {
        const sid = idOf(batch.agent_id, seg.stream);
        const prior = committed.get(sid);
        let first: number | undefined;
        for (const line of seg.lines) {
          if (prior !== undefined && line.offset < prior) {
            duplicates++;
            continue;
          }
          first ??= line.offset;
          const fields = line.truncated ? { ...line.fields, truncated: 'true' } : (line.fields ?? {});
          rows.push({
            ts: line.ts,
            host: batch.host,
            stream_id: sid,
            line_offset: line.offset,
            range_end: seg.end,
            received_at: receivedAt,
            source: seg.source,
            program: line.program ?? null,
            pid: line.pid ?? null,
            facility: line.facility ?? null,
            severity: line.severity,
            message: line.message,
            fields,
          });
          accepted++;
        }
        const end = Math.max(prior ?? 0, seg.end);
        if (first !== undefined) ranges.push(`${sid}:${first}-${end}`);
        committed.set(sid, end);
        const e = ends.get(sid);
        ends.set(sid, { end: Math.max(e?.end ?? 0, end), at: Math.max(e?.at ?? receivedAt, receivedAt) });
        acked[seg.stream] = end;
      }
      const h = hosts.get(batch.host);
      hosts.set(batch.host, { first: Math.min(h?.first ?? receivedAt, receivedAt), last: Math.max(h?.last ?? receivedAt, receivedAt) });
      return { accepted, duplicates, committed: acked };
    };

    const acks = items.map((it): IngestAck => {
      if (it.after && Object.entries(it.after).some(([stream, end]) => (committed.get(idOf(it.batch.agent_id, stream)) ?? 0) < end)) {
        return { accepted: 0, duplicates: 0, committed: {}, out_of_order: true };
      }
      return ingestOne(it.batch, it.receivedAt);
    });

    if (rows.length > 0) {
      const token = createHash('sha256').update(ranges.join(',')).digest('hex');
      await client.insert({ table: 'logs', values: rows, format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: token, ...logsSettings } });
    }
    const offsetRows = [...ends].map(([sid, e]) => ({ stream_id: sid, agent_id: refs.get(sid)!.agent_id, stream: refs.get(sid)!.stream, committed_end: e.end, updated_at: e.at }));
    const hostRows = [...hosts].map(([host, t]) => ({ host, first_seen: t.first, last_seen: t.last }));
    await Promise.all([
      offsetRows.length ? client.insert({ table: 'stream_offsets', values: offsetRows, format: 'JSONEachRow' }) : null,
      hostRows.length ? client.insert({ table: 'hosts', values: hostRows, format: 'JSONEachRow' }) : null,
    ]);
    return acks;
  };
}

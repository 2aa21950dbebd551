// An agent with a backlog sends several spooled batches per request (NDJSON, one commit on the
// collector). Against a real collector every line arrives once, also across an agent SIGKILL
// in the middle of the backlog; against a collector that predates multi-batch requests (415)
// the agent falls back to one batch per request and still delivers every line once, in order.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_TEXT_BYTES_PER_REQUEST } from '../../agent/agent.js';
import { INGEST_AFTER_HEADER, INGEST_PATH, type IngestBatch } from '../../shared/wire.js';
import { rigsFor, type Rig } from '../helpers/agent-run.js';
import { waitFor } from '../helpers/proc.js';

const rig = rigsFor('multi');
const LINES = 20_000;
const fileOf = (path: string, tag: string) => {
  const lines = Array.from({ length: LINES }, (_, i) => `${tag} backlog line ${i}`);
  writeFileSync(path, lines.join('\n') + '\n');
  return lines;
};

/** What a stand-in collector answers an ingest request with. */
type Answer = { status: number; body: unknown };

/**
 * A stand-in collector on 127.0.0.1 for `r`: `ingest` gets each ingest request's batches (the
 * body decompressed, one per NDJSON line or the one JSON document), its content type and the
 * committed ends it must follow (INGEST_AFTER_HEADER); host metrics and anything else the agent
 * posts are answered `{}`.
 */
async function standIn(r: Rig, ingest: (batches: IngestBatch[], type: string, after: Record<string, number> | undefined) => Answer | Promise<Answer>): Promise<void> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let answer: Answer = { status: 200, body: {} };
      if (req.url === INGEST_PATH) {
        const raw = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString();
        const type = String(req.headers['content-type']);
        const docs = type.includes('ndjson') ? text.split('\n').filter(Boolean) : [text];
        const after = req.headers[INGEST_AFTER_HEADER];
        answer = await ingest(docs.map((d) => JSON.parse(d) as IngestBatch), type, after ? (JSON.parse(decodeURIComponent(String(after))) as Record<string, number>) : undefined);
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise((res) => server.close(res)));
  const addr = server.address();
  r.token = 'rt_agent_stand_in_0123456789';
  r.port = typeof addr === 'object' && addr ? addr.port : 0;
}

/** The acknowledgement a stand-in that keeps nothing gives one batch: its ranges committed. */
const ackAll = (b: IngestBatch) => ({ accepted: 0, duplicates: 0, committed: Object.fromEntries(b.segments.map((seg) => [seg.stream, seg.end])) });

/**
 * A stand-in's store that orders requests as the collector does: a request that got here before
 * the one it follows (its `after` ends not yet committed) is refused with a 409; what is below a
 * stream's committed end is a redelivery (a request sent again after a failed one ahead of it),
 * dropped; the new lines go to `got` in order.
 */
function orderedStore(got: string[]): (batches: IngestBatch[], type: string, after: Record<string, number> | undefined) => Answer {
  const committed = new Map<string, number>();
  return (batches, type, after) => {
    if (after && Object.entries(after).some(([stream, end]) => (committed.get(stream) ?? 0) < end)) {
      return { status: 409, body: { error: 'RINGTAIL_ERR_OUT_OF_ORDER', message: 'send it again after the one it follows' } };
    }
    const acks = batches.map((b) => {
      for (const seg of b.segments) {
        const prior = committed.get(seg.stream) ?? 0;
        for (const l of seg.lines) if (l.offset >= prior) got.push(l.message);
        committed.set(seg.stream, Math.max(prior, seg.end));
      }
      return { accepted: 0, duplicates: 0, committed: Object.fromEntries(committed) };
    });
    return { status: 200, body: type.includes('ndjson') ? acks : acks[0] };
  };
}

describe('agent sending several batches per request', () => {
  it('delivers a backlog exactly once through a real collector, also across a SIGKILL', async () => {
    const r = rig('real');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    const want = fileOf(file, 'real');
    const args = ['--watch', file, '--batch-max-lines', '500'];
    const first = await r.startAgent(args);
    await waitFor('part of the backlog stored', async () => (await r.stored()).length >= 3000, 30_000, 100);
    await first.kill('SIGKILL');
    await r.startAgent(args);
    await waitFor('the whole backlog stored', async () => (await r.stored()).length >= LINES, 60_000, 200);
    await r.agentIdle(Date.now());
    const stored = await r.stored();
    expect(stored).toHaveLength(LINES);
    expect(new Set(stored).size).toBe(LINES);
    expect([...stored].sort()).toEqual([...want].sort());
  });

  it('falls back to one batch per request when the collector answers 415', async () => {
    const seen: string[] = [];
    const got: string[] = [];
    const committed = new Map<string, number>();
    let requests = 0;
    const r = rig('old');
    // A collector from before multi-batch requests: JSON only, one batch per request. Its first
    // answer is slow, so that the agent has a backlog to combine by the time it sends again.
    await standIn(r, async (batches, type) => {
      seen.push(type);
      if (requests++ === 0) await new Promise((w) => setTimeout(w, 500));
      if (type !== 'application/json') return { status: 415, body: { error: 'RINGTAIL_ERR_BAD_REQUEST', message: `unsupported ${type}` } };
      let accepted = 0;
      for (const seg of batches[0]!.segments) {
        const prior = committed.get(seg.stream) ?? 0;
        for (const l of seg.lines) if (l.offset >= prior) (got.push(l.message), accepted++);
        committed.set(seg.stream, Math.max(prior, seg.end));
      }
      return { status: 200, body: { accepted, duplicates: 0, committed: Object.fromEntries(committed) } };
    });
    const file = join(r.logs, 'app.log');
    const want = fileOf(file, 'old');
    await r.startAgent(['--watch', file, '--batch-max-lines', '500']);
    await waitFor('every line at the stand-in', () => got.length >= LINES, 60_000, 100);
    expect(got).toEqual(want);
    const multi = seen.filter((t) => t === 'application/x-ndjson').length;
    expect(multi).toBe(1);
    expect(seen.indexOf('application/x-ndjson')).toBeLessThan(3);
  });

  it('sends a backlog two requests at a time from its second request on: the first goes as a multi-batch request', async () => {
    // The agent pipelines only once the collector has shown it orders requests (it took a
    // multi-batch one). The first request, one batch when the backlog starts, went as plain JSON, so
    // the second went alone and only the third had company: the collector's writer idled while
    // the second was decoded and answered.
    const r = rig('early');
    const arrivals: Array<{ type: string; inFlight: number }> = [];
    const got: string[] = [];
    const store = orderedStore(got);
    let inFlight = 0;
    let chain = Promise.resolve();
    await standIn(r, (batches, type, after) => {
      arrivals.push({ type, inFlight });
      inFlight++;
      // one request at a time, each answered 300 ms after the one before: slow enough that a
      // request sent behind another arrives while that one is unanswered
      const answered = chain.then(async (): Promise<Answer> => {
        await new Promise((w) => setTimeout(w, 300));
        inFlight--;
        return store(batches, type, after);
      });
      chain = answered.then(() => undefined);
      return answered;
    });
    const file = join(r.logs, 'early.log');
    const want = fileOf(file, 'early');
    await r.startAgent(['--watch', file, '--batch-max-lines', '500']);
    await waitFor('every line at the stand-in', () => got.length >= LINES, 60_000, 100);
    expect(got).toEqual(want);
    expect(arrivals[0]!.type).toBe('application/x-ndjson');
    // the second and third requests were on their way together
    expect(Math.max(...arrivals.slice(1, 3).map((a) => a.inFlight))).toBeGreaterThanOrEqual(1);
  });

  it('answers acknowledgements while it reads a backlog, not only once the file is read', async () => {
    // Reading is synchronous; without a turn of the event loop per spooled batch the agent read
    // the whole file into its spool before it handled the first ack. The spool's size when the
    // second request arrives tells which: a small part of its largest size, or all of it.
    const r = rig('busy');
    const spoolBytes = () => {
      try {
        return readdirSync(join(r.state, 'spool')).reduce((n, f) => n + statSync(join(r.state, 'spool', f)).size, 0);
      } catch {
        return 0;
      }
    };
    const atRequest: number[] = [];
    let lines = 0;
    await standIn(r, (batches, type) => {
      atRequest.push(spoolBytes());
      for (const b of batches) for (const seg of b.segments) lines += seg.lines.length;
      const acks = batches.map(ackAll);
      return { status: 200, body: type.includes('ndjson') ? acks : acks[0] };
    });
    const file = join(r.logs, 'big.log');
    const n = 400_000;
    writeFileSync(file, Array.from({ length: n }, (_, i) => `Nov 23 18:00:00 h app[1]: busy backlog line ${i} with some padding to make it longer`).join('\n') + '\n');
    // no periodic rescan during the test: it used to be the reader's only turn of the event loop
    await r.startAgent(['--watch', file, '--batch-max-lines', '1000', '--scan-interval-ms', '60000']);
    await waitFor('every line at the stand-in', () => lines >= n, 90_000, 100);
    expect(atRequest.length).toBeGreaterThan(2);
    const largest = Math.max(...atRequest);
    expect(largest).toBeGreaterThan(0);
    expect(atRequest[1]!).toBeLessThan(largest / 2);
  });

  it('puts fewer large batches in a request: at most MAX_TEXT_BYTES_PER_REQUEST of text, the first always', async () => {
    // Four batches of the largest `batch.max_bytes` (8 MiB of text, ~12 MB of JSON each) passed
    // the collector's 16 MiB body limit: a 413, then everything again one batch at a time.
    const r = rig('large');
    const perRequest: Array<{ batches: number; text: number }> = [];
    const got: string[] = [];
    const store = orderedStore(got);
    let requests = 0;
    await standIn(r, async (batches, type, after) => {
      // the first answer is slow, so that a backlog is spooled by the time the agent sends again
      if (requests++ === 0) await new Promise((w) => setTimeout(w, 800));
      const answer = store(batches, type, after);
      // requests refused as out of order carried nothing stored
      if (answer.status === 200) perRequest.push({ batches: batches.length, text: batches.reduce((n, b) => n + b.segments.reduce((m, seg) => m + seg.end - seg.start, 0), 0) });
      return answer;
    });
    const file = join(r.logs, 'wide.log');
    const n = 16_000;
    const want = Array.from({ length: n }, (_, i) => `wide line ${i} ${'x'.repeat(1000)}`);
    writeFileSync(file, want.join('\n') + '\n');
    const batchBytes = 1536 * 1024;
    await r.startAgent(['--watch', file, '--batch-max-lines', '50000', '--batch-max-bytes', String(batchBytes)]);
    await waitFor('every line at the stand-in', () => got.length >= n, 60_000, 100);
    expect(got).toEqual(want);
    // a backlog was combined, but never past the text bound (which four of these batches exceed)
    expect(4 * batchBytes).toBeGreaterThan(MAX_TEXT_BYTES_PER_REQUEST);
    expect(Math.max(...perRequest.map((q) => q.batches))).toBeGreaterThanOrEqual(2);
    for (const q of perRequest) if (q.batches > 1) expect(q.text).toBeLessThanOrEqual(MAX_TEXT_BYTES_PER_REQUEST);
  });
});


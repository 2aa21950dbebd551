// A minimal reader of the live tail (GET /api/v1/logs/stream, Server-Sent Events) over fetch's
// body stream: events and comments as they come, until close().
import { expect } from 'vitest';
import { waitFor } from './proc.js';

export interface Sse {
  events: Array<{ event: string; id?: string; data: string }>;
  comments: string[];
  close(): void;
}

/** Subscribes with `token` and resolves once the stream said `connected`. */
export async function subscribeSse(base: string, token: string, query: string, headers: Record<string, string> = {}): Promise<Sse> {
  const ac = new AbortController();
  const res = await fetch(`${base}/api/v1/logs/stream?${query}`, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: ac.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const out: Sse = { events: [], comments: [], close: () => ac.abort() };
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev: { event: string; id?: string; data: string } = { event: 'message', data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) out.comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) ev.event = line.slice(7);
            else if (line.startsWith('id: ')) ev.id = line.slice(4);
            else if (line.startsWith('data: ')) ev.data += line.slice(6);
          }
          if (ev.data) out.events.push(ev);
        }
      }
    } catch {
      // aborted
    }
  })();
  await waitFor('the stream to open', () => out.comments.some((x) => x.startsWith('connected')));
  return out;
}

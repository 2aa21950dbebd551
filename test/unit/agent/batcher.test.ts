// The batcher's request body is exactly the wire document: adjacent ranges merge, empty
// (all-filtered) ranges still travel so checkpoints advance, and the limits decide when it is due.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../../agent/batcher.js';
import type { PulledSegment } from '../../../agent/sources/types.js';

const seg = (stream: string, start: number, end: number, messages: string[]): PulledSegment => ({
  stream,
  source: `/var/log/${stream}.log`,
  start,
  end,
  lines: messages.map((message, i) => ({ offset: start + i, ts: 1000, severity: 6, message })),
  bytes: messages.reduce((n, m) => n + m.length + 1, 0),
});

describe('Batcher', () => {
  it('seals the wire document with merged ranges, quoting and empty segments', async () => {
    const b = new Batcher({ maxLines: 100, maxBytes: 1 << 20, lingerMs: 1000 }, { agentId: 'agt_1', host: 'web "1"' });
    b.add([seg('a', 0, 10, ['x', 'y "quoted" \\ \u0001']), seg('b', 0, 5, [])], 5);
    b.add([seg('a', 10, 20, ['z']), seg('a', 30, 40, ['gap'])], 6);
    expect(b.lines).toBe(4);
    const sealed = await b.seal(7, 1);
    const doc = JSON.parse(gunzipSync(sealed.body).toString('utf8'));
    expect(doc).toEqual({
      version: 1,
      agent_id: 'agt_1',
      host: 'web "1"',
      segments: [
        { stream: 'a', source: '/var/log/a.log', start: 0, end: 20, lines: [
          { offset: 0, ts: 1000, severity: 6, message: 'x' },
          { offset: 1, ts: 1000, severity: 6, message: 'y "quoted" \\ \u0001' },
          { offset: 10, ts: 1000, severity: 6, message: 'z' },
        ] },
        { stream: 'b', source: '/var/log/b.log', start: 0, end: 5, lines: [] },
        { stream: 'a', source: '/var/log/a.log', start: 30, end: 40, lines: [{ offset: 30, ts: 1000, severity: 6, message: 'gap' }] },
      ],
    });
    expect(sealed.meta).toEqual({ lines: 4, sealed_at: 7, encoding: 'gzip', ranges: [['a', 0, 20], ['b', 0, 5], ['a', 30, 40]] });
    expect(b.empty).toBe(true);
  });

  it('is due when full by lines or bytes, or when the first line has lingered', async () => {
    const b = new Batcher({ maxLines: 3, maxBytes: 1 << 20, lingerMs: 100 }, { agentId: 'a', host: 'h' });
    expect(b.due(0)).toBe(false);
    b.add([seg('a', 0, 4, ['1', '2'])], 1000);
    expect(b.due(1050)).toBe(false);
    expect(b.due(1100)).toBe(true);
    b.add([seg('a', 4, 6, ['3'])], 1060);
    expect(b.due(1061)).toBe(true);
    const sealed = await b.seal(1061, 0);
    expect(sealed.meta.encoding).toBe('identity');
    expect(JSON.parse(sealed.body.toString()).segments[0].lines).toHaveLength(3);
  });

  it('seals one segment read in order in place, with any head length, batch after batch', async () => {
    // A head longer than the room kept before the lines (a very long source path) takes the copying path.
    for (const source of ['/var/log/app.log', `/var/log/${'d'.repeat(9000)}.log`]) {
      const b = new Batcher({ maxLines: 1000, maxBytes: 1 << 20, lingerMs: 1000 }, { agentId: 'agt_2', host: 'h\u00e9' });
      for (let batch = 0; batch < 3; batch++) {
        const lines: PulledSegment['lines'] = [];
        for (let pull = 0; pull < 4; pull++) {
          const p = seg('s', batch * 40 + pull * 10, batch * 40 + pull * 10 + 10, [`b${batch} p${pull} "q"`, `\u00fc ${pull}`]);
          p.source = source;
          b.add([p], batch);
          lines.push(...p.lines);
        }
        const want = { version: 1, agent_id: 'agt_2', host: 'h\u00e9', segments: [{ stream: 's', source, start: batch * 40, end: batch * 40 + 40, lines }] };
        const sealed = await b.seal(batch, batch % 2);
        const text = (batch % 2 ? gunzipSync(sealed.body) : sealed.body).toString('utf8');
        expect(text).toBe(JSON.stringify(want));
      }
    }
  });
});

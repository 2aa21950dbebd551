// A collector app on a real SQLite file in a temporary directory, driven with inject().
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../collector/app.js';
import { ROLES, type Role } from '../../collector/storage/types.js';
import { WIRE_VERSION, type IngestBatch, type MetricBatch, type MetricSample, type WireLine } from '../../shared/wire.js';
import { tempDir } from './proc.js';

export interface TestCollector {
  app: FastifyInstance;
  dir: string;
  token(role: Role): string;
  close(): Promise<void>;
}

export async function testCollector(clock?: () => number, extra: Partial<AppOptions> = {}): Promise<TestCollector> {
  const dir = tempDir('ringtail-app-');
  const app = await buildApp({ dataDir: dir.path, clock, bodyLimit: 256 * 1024, ...extra });
  await app.ready();
  // one of each role made up front: the token store is asynchronous, token() is not
  const tokens = new Map<Role, string>();
  for (const role of ROLES) tokens.set(role, (await app.storage.tokens.create(role, `test ${role}`, Date.now())).token);
  return {
    app,
    dir: dir.path,
    token(role) {
      return tokens.get(role)!;
    },
    async close() {
      await app.close();
      dir.cleanup();
    },
  };
}

/** A batch of `messages` as consecutive newline-terminated lines of one stream starting at `start`. */
export function batchOf(
  messages: string[],
  opts: { stream?: string; start?: number; host?: string; agent?: string; ts?: number; severity?: number; program?: string } = {},
): IngestBatch {
  let offset = opts.start ?? 0;
  const start = offset;
  const lines: WireLine[] = messages.map((message) => {
    const line: WireLine = { offset, ts: opts.ts ?? 1_700_000_000_000, severity: opts.severity ?? 6, message };
    if (opts.program !== undefined) line.program = opts.program;
    offset += Buffer.byteLength(message) + 1;
    return line;
  });
  return {
    version: WIRE_VERSION,
    agent_id: opts.agent ?? 'agt_test',
    host: opts.host ?? 'web-1',
    segments: [{ stream: opts.stream ?? 's1', source: '/var/log/app.log', start, end: offset, lines }],
  };
}

/** A metric batch at a 10 s interval; each sample is a GAUGE of `opts.name` unless it says otherwise. */
export function metricBatchOf(
  samples: Array<Partial<MetricSample> & { ts: number; value: number }>,
  opts: { name: string; host: string; agent: string },
  extra: Partial<MetricBatch> = {},
): MetricBatch {
  return {
    version: WIRE_VERSION,
    agent_id: opts.agent,
    host: opts.host,
    interval_ms: 10_000,
    samples: samples.map((s) => ({ name: opts.name, type: 'GAUGE', ...s }) as MetricSample),
    ...extra,
  };
}

// A collector whose store is large starts slowly, not never: Fastify's default plugin timeout
// (10 s) made a collector holding a month of a fleet's metric catalog refuse to start on a
// loaded machine (s6-metricack); its bound is minutes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp, PLUGIN_TIMEOUT_MS } from '../../collector/app.js';

describe('collector start', () => {
  it("allows a plugin minutes to start, not Fastify's 10 s", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rt-app-start-'));
    try {
      const app = await buildApp({ dataDir: dir });
      await app.ready();
      expect(app.initialConfig.pluginTimeout).toBe(PLUGIN_TIMEOUT_MS);
      expect(PLUGIN_TIMEOUT_MS).toBeGreaterThanOrEqual(60_000);
      await app.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Serves the dashboard's static files from dashboard/public. The page itself is public (it is
// the login page); everything it shows comes from authenticated API calls.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

const here = dirname(fileURLToPath(import.meta.url));
// Works from both the source tree (collector/plugins) and the build (dist/collector/plugins).
const root = [join(here, '../../dashboard/public'), join(here, '../../../dashboard/public')].find((p) => {
  try {
    readFileSync(join(p, 'index.html'));
    return true;
  } catch {
    return false;
  }
});

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export const dashboardPlugin: FastifyPluginAsync = async (app) => {
  if (!root) throw new Error('dashboard/public not found next to the collector');
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of ['index.html', 'app.js', 'style.css']) {
    files.set('/' + name, { type: TYPES[name.slice(name.lastIndexOf('.'))]!, body: readFileSync(join(root, name)) });
  }
  const chartJs = createRequire(import.meta.url).resolve('chart.js/auto');
  files.set('/vendor/chart.umd.js', {
    type: TYPES['.js']!,
    body: readFileSync(join(dirname(chartJs), '..', 'dist', 'chart.umd.min.js')),
  });
  files.set('/', files.get('/index.html')!);

  for (const [path, file] of files) {
    app.get(path, { config: { public: true } }, async (_req, reply) =>
      reply
        .type(file.type)
        .header('content-security-policy', "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
        .header('x-content-type-options', 'nosniff')
        .send(file.body),
    );
  }
};

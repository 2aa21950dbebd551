// Serves the dashboard's static files from dashboard/public. They are public (the page is the
// login page; everything it shows comes from authenticated API calls). Safety by construction:
// the file list is read once at start-up and each file becomes one fixed route, so no request
// path ever reaches the file system (no traversal, no symlink surprises, no directory listing);
// only known extensions are served, each with its content type, nosniff and a CSP that allows
// scripts and styles from this origin only (no 'unsafe-inline').
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
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

export const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isDirectory()) walk(full, out);
    else if (st.isFile()) out.push(full);
  }
  return out;
}

function typeOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : STATIC_TYPES[name.slice(dot)];
}

export const dashboardPlugin: FastifyPluginAsync = async (app) => {
  if (!root) throw new Error('dashboard/public not found next to the collector');
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const full of walk(root)) {
    const type = typeOf(full);
    if (!type) continue;
    const url = '/' + relative(root, full).split(sep).join('/');
    if (!/^\/[A-Za-z0-9._\/-]+$/.test(url) || url.includes('..')) continue;
    files.set(url, { type, body: readFileSync(full) });
  }
  const chartJs = createRequire(import.meta.url).resolve('chart.js/auto');
  files.set('/vendor/chart.umd.js', {
    type: STATIC_TYPES['.js']!,
    body: readFileSync(join(dirname(chartJs), '..', 'dist', 'chart.umd.min.js')),
  });
  files.set('/', files.get('/index.html')!);

  for (const [path, file] of files) {
    app.get(path, { config: { public: true } }, async (_req, reply) =>
      reply
        .type(file.type)
        .header('content-security-policy', DASHBOARD_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'same-origin')
        .header('cache-control', 'no-cache')
        .send(file.body),
    );
  }
};

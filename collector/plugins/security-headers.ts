// Security headers on every response: API JSON, errors (401, 404, 400 from a body that failed
// to parse), the health check, the live tail's event stream and the dashboard's files alike.
// Set on the raw response in the first onRequest hook, before authentication can refuse the
// request and before a route can hijack the reply (the live tail writes its own head): Node
// merges them into whatever head goes out, and a value a route sets itself wins (the dashboard's
// page has its own CSP and `Referrer-Policy: same-origin`, `Cache-Control: no-cache`).
import fp from 'fastify-plugin';

/**
 * For a JSON API: never sniffed into HTML or script, never framed, loads nothing, sends no
 * referrer, and is not kept by shared or browser caches (answers carry logs and tokens).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

export const securityHeadersPlugin = fp(
  async (app) => {
    app.addHook('onRequest', (_req, reply, done) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(name, value);
      done();
    });
  },
  { name: 'ringtail-security-headers' },
);

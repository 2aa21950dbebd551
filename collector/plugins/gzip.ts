// Accepts `Content-Encoding: gzip` request bodies. The body limit applies to the decompressed
// bytes, so a small gzip bomb is refused with 413 like any oversized body; a corrupt stream is
// the client's mistake and gets a 400.
import { createGunzip } from 'node:zlib';
import fp from 'fastify-plugin';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';

export const gzipPlugin = fp(
  async (app) => {
    app.addHook('preParsing', async (req, _reply, payload) => {
      const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
      if (encoding === 'identity') return payload;
      if (encoding !== 'gzip') {
        throw new RingtailError(ErrorCodes.BAD_REQUEST, `content-encoding: '${encoding}' is not supported (use gzip or none)`, 415);
      }
      const gunzip = createGunzip();
      gunzip.on('error', (err) => {
        // Fastify reads this as a client error on the body stream.
        (err as { statusCode?: number }).statusCode = 400;
        err.message = `body: invalid gzip data (${err.message})`;
      });
      payload.on('error', (err) => gunzip.destroy(err));
      // The decompressed stream has no known length; Fastify then counts bytes against bodyLimit.
      delete req.headers['content-length'];
      return payload.pipe(gunzip);
    });
  },
  { name: 'ringtail-gzip' },
);

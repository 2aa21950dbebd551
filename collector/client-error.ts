// Errors Node's HTTP parser raises before Fastify sees a request (a request line or headers over
// Node's 16 KiB, a malformed request, a request that took too long to arrive) are answered by the
// server's 'clientError' handler. Fastify's default writes its own body without a RINGTAIL_ERR_*
// code; this one writes the same statuses with ringtail's {error, message} body and the API's
// security headers, then closes the connection as Node and Fastify do (the parser's state is
// lost, so nothing more can be read from it).
import http from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCodes } from '../shared/errors.js';
import { SECURITY_HEADERS } from './plugins/security-headers.js';

const ANSWERS: Record<string, { status: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: ErrorCodes.TOO_LARGE, message: 'request line and headers larger than 16 KiB (a query that long belongs in fewer or shorter parameters)' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: ErrorCodes.BAD_REQUEST, message: 'the request did not arrive in time' },
};
const MALFORMED = { status: 400, code: ErrorCodes.BAD_REQUEST, message: 'malformed HTTP request' };

/** Fastify's `clientErrorHandler` (its `this` is the Fastify instance; not needed here). */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  // a reset connection, or one already gone: nobody to answer
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const a = ANSWERS[err.code ?? ''] ?? MALFORMED;
  const body = JSON.stringify({ error: a.code, message: a.message });
  if (socket.writable) {
    const headers = Object.entries(SECURITY_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`HTTP/1.1 ${a.status} ${http.STATUS_CODES[a.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

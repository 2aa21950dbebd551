// TLS for the collector's ports (config `tls`): one certificate and key, read from PEM files, serve
// the API port and the syslog TLS port alike, and an optional client CA turns on mutual TLS.
// The files are read once at start (a bad one is a config error naming its key) and again on
// SIGHUP: every listening server then gets the new context through tls.Server#setSecureContext,
// which changes what new handshakes see and leaves open connections alone. A reload that fails
// keeps the old context and says why in the log.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { createSecureContext, type PeerCertificate, type Server as TlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import { ConfigError, ErrorCodes } from '../shared/errors.js';
import type { EventSink } from '../shared/events.js';

export interface TlsFiles {
  cert?: string;
  key?: string;
  client_ca?: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  /** the leaf certificate's subject and expiry, for the log */
  subject: string;
  validTo: Date;
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(key, `cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Reads and checks the files: each parses on its own (so the error names the right key) and the
 * key belongs to the certificate. An expired certificate is not refused here (a collector must
 * start to be given a new one by SIGHUP); `validTo` lets the caller warn.
 */
export function readTls(files: TlsFiles): TlsMaterial | null {
  if (files.cert === undefined && files.key === undefined) {
    if (files.client_ca !== undefined) throw new ConfigError('--tls-client-ca', 'needs --tls-cert and --tls-key (mutual TLS is TLS first)');
    return null;
  }
  if (files.cert === undefined) throw new ConfigError('--tls-cert', 'required when --tls-key is set');
  if (files.key === undefined) throw new ConfigError('--tls-key', 'required when --tls-cert is set');
  const cert = readPem(files.cert, '--tls-cert');
  const key = readPem(files.key, '--tls-key');
  const ca = files.client_ca !== undefined ? readPem(files.client_ca, '--tls-client-ca') : undefined;
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new ConfigError('--tls-cert', `'${files.cert}' holds no PEM certificate (${(err as Error).message})`);
  }
  try {
    createSecureContext({ key });
  } catch (err) {
    throw new ConfigError('--tls-key', `'${files.key}' holds no usable PEM private key (${(err as Error).message})`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError('--tls-key', `'${files.key}' does not belong to the certificate in '${files.cert}' (${(err as Error).message})`);
  }
  if (ca) {
    try {
      createSecureContext({ ca });
      new X509Certificate(ca);
    } catch (err) {
      throw new ConfigError('--tls-client-ca', `'${files.client_ca}' holds no PEM CA certificate (${(err as Error).message})`);
    }
  }
  return { cert, key, ca, subject: leaf.subject.replace(/\n/g, ', '), validTo: new Date(leaf.validTo) };
}

/** Options for tls.createServer / https.createServer. Mutual TLS refuses, at the handshake, a client without a certificate the CA signed. */
export function serverOptions(m: TlsMaterial): TlsOptions {
  return {
    cert: m.cert,
    key: m.key,
    ...(m.ca ? { ca: m.ca, requestCert: true, rejectUnauthorized: true } : {}),
  };
}

/**
 * The certificate in force and the servers using it. Receivers register their server when they
 * open it; reload() re-reads the files and hands the new context to every one of them.
 */
export class TlsContexts {
  private readonly servers = new Set<TlsServer>();

  constructor(
    readonly files: TlsFiles,
    private material: TlsMaterial,
  ) {}

  get mutual(): boolean {
    return this.material.ca !== undefined;
  }

  options(): TlsOptions {
    return serverOptions(this.material);
  }

  /** Logs handshakes refused on `server` (a client without or with a wrong certificate, a plain-text sender) and keeps it in reload()'s reach. */
  register(server: TlsServer, events: EventSink, port: string): void {
    this.servers.add(server);
    // A refused TLS socket has lost its handle, and with it the peer's address, when the error
    // comes: keep the address from the TCP connection under it.
    const peers = new WeakMap<object, string>();
    server.on('connection', (raw: Socket) => {
      if (raw.remoteAddress) peers.set(raw, raw.remoteAddress);
    });
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      const parent = (socket as unknown as { _parent?: Socket })._parent;
      const peer = socket.remoteAddress ?? (parent ? peers.get(parent) : undefined);
      // A client certificate that fails verification is dropped by Node after the handshake
      // (err is then a bare ECONNRESET); the verification's own reason is on the socket.
      const reason = socket.authorizationError ? String(socket.authorizationError) : (err.code ?? err.message);
      events.emit('tls.handshake_refused', { port, peer, code: ErrorCodes.TLS, reason }, 'warn');
    });
  }

  unregister(server: TlsServer): void {
    this.servers.delete(server);
  }

  /** Re-reads the files; on any error the old context stays and the error is returned and logged. */
  reload(events: EventSink): { ok: true; validTo: Date } | { ok: false; error: ConfigError } {
    let next: TlsMaterial | null;
    try {
      next = readTls(this.files);
    } catch (err) {
      const error = err instanceof ConfigError ? err : new ConfigError('--tls-cert', (err as Error).message);
      events.emit('tls.reload_failed', { code: error.code, key: error.key, problem: error.problem, kept: 'the previous certificate' }, 'warn');
      return { ok: false, error };
    }
    this.material = next!;
    const opts = this.options();
    for (const s of this.servers) s.setSecureContext(opts);
    events.emit('tls.reloaded', { subject: this.material.subject, valid_to: this.material.validTo.toISOString(), servers: this.servers.size });
    warnIfExpired(this.material, events);
    return { ok: true, validTo: this.material.validTo };
  }

  get validTo(): Date {
    return this.material.validTo;
  }
}

export function warnIfExpired(m: TlsMaterial, events: EventSink, now = Date.now()): void {
  if (m.validTo.getTime() <= now) {
    events.emit('tls.cert_expired', { code: ErrorCodes.TLS, subject: m.subject, valid_to: m.validTo.toISOString() }, 'warn');
  }
}

const PLAINTEXT_ANSWER =
  'this port speaks TLS: use https:// (and, for an agent with a private CA, transport.ca_file)';

/**
 * A TLS handshake starts with byte 0x16 (a handshake record). Anything else on the TLS port is a
 * client speaking plain text, which Node's TLS server would answer with nothing useful (a reset,
 * or silence): such a client gets one HTTP/1.1 400 naming the mistake, and the socket is closed.
 * Costs one 'data' listener per connection, and only on the TLS port.
 */
export function refusePlaintext(server: TlsServer, events: EventSink): void {
  const listeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const handOn = (socket: Socket) => {
    for (const l of listeners) l.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => socket.destroy());
    socket.setTimeout(120_000, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      if (chunk[0] === 0x16) {
        socket.pause();
        socket.unshift(chunk);
        handOn(socket);
        return;
      }
      events.emit('tls.plaintext_refused', { peer: socket.remoteAddress, code: ErrorCodes.TLS }, 'warn');
      const body = JSON.stringify({ error: ErrorCodes.TLS, message: PLAINTEXT_ANSWER }) + '\n';
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
  });
}

/** The names a verified client certificate carries: its CN and DNS/IP subject alternative names. */
export function certificateNames(cert: PeerCertificate): string[] {
  const names = new Set<string>();
  const cn = cert.subject?.CN;
  if (typeof cn === 'string' && cn) names.add(cn);
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = /^\s*(DNS|IP Address):(.+)$/.exec(part);
    if (m) names.add(m[2]!.trim());
  }
  return [...names];
}

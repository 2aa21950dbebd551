// A private CA made at test time with openssl, as the README tells an operator to make one, and
// certificates it signs: a server certificate for 127.0.0.1 (optionally already expired), client
// certificates with a CN. EC P-256 keys: quick to make on a shared two-core machine.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';

export interface Issued {
  cert: string;
  key: string;
}

export interface PrivateCa {
  dir: string;
  /** the CA certificate file (what a client trusts, or a collector's tls.client_ca) */
  ca: string;
  /** a server certificate for 127.0.0.1 and localhost; `days` < 0 makes it expired already */
  server(name: string, days?: number): Issued;
  /** a client certificate whose CN (and DNS name) is `cn` */
  client(name: string, cn: string): Issued;
}

export function makeCa(parent: string, label: string): PrivateCa {
  const dir = join(parent, `ca-${label}`);
  mkdirSync(dir, { recursive: true });
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...newKey, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3', '-subj', `/CN=ringtail test CA ${label}`);
  let serial = 0;
  const issue = (name: string, cn: string, ext: string, days: number): Issued => {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.pem`);
    ssl('req', ...newKey, '-keyout', key, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(1000 + ++serial), '-out', cert, '-days', String(days), '-extfile', `${name}.ext`);
    return { cert, key };
  };
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    server: (name, days = 2) => issue(name, '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n', days),
    client: (name, cn) => issue(name, cn, `subjectAltName=DNS:${cn}\nextendedKeyUsage=clientAuth\n`, 2),
  };
}

export interface TlsAnswer {
  status: number;
  body: string;
  /** the fingerprint of the certificate the server presented */
  serverCert: string;
  /** local port of the connection, to tell a reused keep-alive socket from a new one */
  localPort: number;
}

/** One https request trusting `ca` (with a client certificate when given), through `agent` when given (keep-alive). */
export function tlsRequest(
  url: string,
  path: string,
  o: { ca?: string; client?: Issued; token?: string; method?: string; body?: string; agent?: import('node:https').Agent } = {},
): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, url),
      {
        method: o.method ?? 'GET',
        agent: o.agent ?? false,
        ...(o.agent ? {} : { ca: o.ca ? readFileSync(o.ca) : undefined, ...(o.client ? { cert: readFileSync(o.client.cert), key: readFileSync(o.client.key) } : {}) }),
        headers: {
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          ...(o.body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(o.body) } : {}),
        },
      },
      (res) => {
        const socket = res.socket as import('node:tls').TLSSocket;
        const serverCert = socket.getPeerCertificate().fingerprint256;
        const localPort = socket.localPort ?? 0;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serverCert, localPort }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The SHA-256 fingerprint of a PEM certificate file, as getPeerCertificate() writes it. */
export function fingerprint(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

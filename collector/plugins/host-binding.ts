// `auth.bind_agent_hosts`: an agent token may only send for the host it announced first. Without
// it any agent token can write any host's lines and series (issue 12: one stolen or shared
// token poisons every host). Off by default, because ringtail's fleets are short-lived instances
// relaunched under new host names, and the simplest deployment bakes one agent token into the
// instance image: bound, every instance after the first would be refused. Turn it on when each
// instance gets its own token (`ringtail token create --role agent` per instance); a renamed
// host then needs a new token (revoke the old one). Admin tokens are never bound.
// An agent token issued by enrollment (collector/routes/enroll.ts) is bound to the host it
// enrolled for from the start, whether this option is on or not: it was made for that instance.
// A request authenticated by a client certificate (mutual TLS, plugins/auth.ts) may send only
// for the hosts the certificate names. One check answers all three, for every ingest route.
import fp from 'fastify-plugin';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { TokenRecord } from '../storage/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * throws 403 when the request may not send for `host`: its client certificate names other
     * hosts, or its principal is an agent token bound to another host (rejects: throws in an async route)
     */
    checkHostBinding(req: { principal: TokenRecord | null; certHosts: string[] | null }, host: string): Promise<void>;
  }
}

export const hostBindingPlugin = fp<{ enabled?: boolean }>(
  async (app, opts) => {
    const enabled = opts.enabled === true;
    if (enabled && !app.storage.tokens.bindHost) throw new Error('auth.bind_agent_hosts: this token store cannot bind hosts');
    // bound once, never changed: a cache in front of the table
    const bound = new Map<string, string>();
    app.decorate('checkHostBinding', async ({ principal, certHosts }: { principal: TokenRecord | null; certHosts: string[] | null }, host: string) => {
      if (certHosts && !certHosts.includes(host)) {
        throw new RingtailError(ErrorCodes.FORBIDDEN, `host '${host}' is not named by the client certificate (${certHosts.join(', ')})`, 403);
      }
      if (!principal || principal.role !== 'agent') return;
      const enrolled = principal.enrolled_host;
      if (enrolled !== undefined) {
        if (enrolled === host) return;
        app.events.emit('auth.host_refused', { token: principal.id, name: principal.name, bound: enrolled, host }, 'warn');
        throw new RingtailError(ErrorCodes.FORBIDDEN, `token '${principal.name}' was enrolled for host '${enrolled}' and may not send for '${host}'`, 403);
      }
      if (!enabled) return;
      let h = bound.get(principal.id);
      if (h === undefined) {
        h = await app.storage.tokens.bindHost!(principal.id, host, app.clock());
        bound.set(principal.id, h);
        if (h === host) app.events.emit('auth.host_bound', { token: principal.id, name: principal.name, host });
      }
      if (h !== host) {
        app.events.emit('auth.host_refused', { token: principal.id, name: principal.name, bound: h, host }, 'warn');
        throw new RingtailError(ErrorCodes.FORBIDDEN, `token '${principal.name}' is bound to host '${h}' and may not send for '${host}' (auth.bind_agent_hosts)`, 403);
      }
    });
  },
  { name: 'ringtail-host-binding', dependencies: ['ringtail-storage', 'ringtail-auth'] },
);

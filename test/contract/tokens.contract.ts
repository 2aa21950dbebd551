// The token store's contract (collector/storage/types.ts TokenStore), run on every backend
// (tokens-sqlite.test.ts, tokens-clickhouse.test.ts) through two collectors' views of one store
// (auth-pair.ts): what one collector writes, the other must honour, and every decision that may
// be made once (a revocation, a binding, a use of an enrollment token) is made once when both
// collectors make it at the same moment.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenStore } from '../../collector/storage/types.js';
import type { AuthPair, OpenPair } from './auth-pair.js';

const NOW = Date.UTC(2026, 11, 7, 10, 0, 0);
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export function tokensContract(backend: string, open: OpenPair): void {
  describe(`token store contract: ${backend}`, () => {
    let p: AuthPair;
    let a: TokenStore;
    let b: TokenStore;
    beforeEach(async () => {
      p = await open();
      a = p.a.tokens;
      b = p.b.tokens;
    });
    afterEach(async () => p?.close());

    it('stores a token as its SHA-256, never the secret, and the other collector accepts it', async () => {
      const { token, record } = await a.create('agent', 'web fleet', NOW);
      expect(token).toMatch(/^rt_agent_[A-Za-z0-9_-]{32}$/);
      expect(record).toMatchObject({ role: 'agent', name: 'web fleet', created_at: NOW, revoked_at: null });
      expect(await b.verify(token)).toMatchObject({ id: record.id, role: 'agent', name: 'web fleet' });
      expect(await b.verify(token + 'x')).toBeNull();
      expect(await b.isRevoked(token + 'x')).toBe(false);
      const stored = await p.stored();
      expect(stored).toContain(sha256(token));
      expect(stored).not.toContain(token);
      expect(stored).not.toContain(token.slice('rt_agent_'.length));
    });

    it('lists tokens oldest first without secrets and counts the active ones per role', async () => {
      const x = await a.create('admin', 'first', NOW);
      const y = await b.create('viewer', 'second', NOW + 1);
      const z = await a.create('admin', 'third', NOW + 2);
      const list = await b.list();
      expect(list.map((t) => t.id)).toEqual([x.record.id, y.record.id, z.record.id]);
      expect(JSON.stringify(list)).not.toContain(x.token);
      expect(await b.countActive('admin')).toBe(2);
      expect(await a.revoke(z.record.id, NOW + 3)).toBe(true);
      expect(await b.countActive('admin')).toBe(1);
      expect((await a.list()).find((t) => t.id === z.record.id)?.revoked_at).toBe(NOW + 3);
    });

    it('a token revoked through one collector is refused by the other within its declared delay', async () => {
      const { token, record } = await a.create('agent', 'to revoke', NOW);
      expect(await b.verify(token)).not.toBeNull(); // b has seen it (and may cache it)
      expect(await a.revoke(record.id, NOW + 5)).toBe(true);
      expect(await a.verify(token)).toBeNull(); // at once where it was revoked
      expect(await a.isRevoked(token)).toBe(true);
      expect(await b.isRevoked(token)).toBe(true);
      p.advance(p.revocationDelayMs);
      expect(await b.verify(token)).toBeNull();
      // already revoked: nothing to revoke again, on either collector
      expect(await b.revoke(record.id, NOW + 6)).toBe(false);
      expect(await a.revoke('tok_000000000000', NOW + 6)).toBe(false);
    });

    it('two collectors revoking one token at once: exactly one of them revokes it', async () => {
      const { record } = await a.create('viewer', 'twice', NOW);
      const answers = await Promise.all([a.revoke(record.id, NOW + 1), b.revoke(record.id, NOW + 2)]);
      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it('adopts an operator-chosen secret once, even when both collectors adopt it at once', async () => {
      const secret = 'rt_admin_operator-chosen-secret-0123456789';
      const [x, y] = await Promise.all([a.adopt(secret, 'admin', 'admin (--admin-token)', NOW), b.adopt(secret, 'admin', 'admin (--admin-token)', NOW + 1)]);
      expect(x.id).toBe(y.id);
      expect(await a.adopt(secret, 'admin', 'again', NOW + 2)).toMatchObject({ id: x.id });
      expect((await b.list()).filter((t) => t.role === 'admin')).toHaveLength(1);
      expect(await b.countActive('admin')).toBe(1);
      expect(await b.verify(secret)).toMatchObject({ id: x.id, role: 'admin' });
      expect(await p.stored()).not.toContain(secret);
    });

    it('binds a token to the first host either collector saw, whoever asks', async () => {
      const { record } = await a.create('agent', 'bound', NOW);
      const [x, y] = await Promise.all([a.bindHost!(record.id, 'web-1', NOW), b.bindHost!(record.id, 'web-2', NOW)]);
      expect(x).toBe(y);
      expect(['web-1', 'web-2']).toContain(x);
      expect(await b.bindHost!(record.id, 'web-3', NOW + 1)).toBe(x);
    });

    it('binds an agent_id to one token across collectors; a revoked holder hands it over', async () => {
      const t1 = await a.create('agent', 'one', NOW);
      const t2 = await a.create('agent', 'two', NOW);
      const [x, y] = await Promise.all([a.bindAgent!('agt-1', t1.record.id, NOW), b.bindAgent!('agt-1', t2.record.id, NOW)]);
      expect(x).toBe(y);
      const other = x === t1.record.id ? t2.record : t1.record;
      expect(await b.bindAgent!('agt-1', other.id, NOW + 1)).toBe(x);
      await b.revoke(x, NOW + 2);
      expect(await a.bindAgent!('agt-1', other.id, NOW + 3)).toBe(other.id);
      expect(await b.bindAgent!('agt-1', other.id, NOW + 4)).toBe(other.id);
    });

    describe('enrollment', () => {
      it('trades an enrollment token for an agent token bound to the host, counting the use', async () => {
        const e = await a.create('enroll', 'autoscale', NOW, { uses: 2, expires_at: NOW + 3600_000 });
        expect(e.record).toMatchObject({ role: 'enroll', uses_max: 2, uses: 0, expires_at: NOW + 3600_000 });
        const r = await b.enroll!(e.token, 'i-0abc', 'agt-x', NOW + 1);
        if (!r.ok) throw new Error(`refused: ${r.reason}`);
        expect(r.record).toMatchObject({ role: 'agent', enrolled_host: 'i-0abc', name: 'autoscale/i-0abc' });
        expect(r.enroll).toMatchObject({ id: e.record.id, uses: 1 });
        expect(await a.verify(r.token)).toMatchObject({ id: r.record.id, role: 'agent', enrolled_host: 'i-0abc' });
        expect((await a.list()).find((t) => t.id === e.record.id)).toMatchObject({ uses: 1, uses_max: 2 });
        expect(await p.stored()).not.toContain(r.token);
        const second = await a.enroll!(e.token, 'i-0abd', undefined, NOW + 2);
        expect(second.ok).toBe(true);
        expect(await b.enroll!(e.token, 'i-0abe', undefined, NOW + 3)).toMatchObject({ ok: false, reason: 'used_up' });
      });

      it('refuses unknown, expired and revoked enrollment tokens; revoking one keeps the agents it enrolled', async () => {
        expect(await a.enroll!('rt_enroll_nope', 'h', undefined, NOW)).toMatchObject({ ok: false, reason: 'unknown' });
        const exp = await a.create('enroll', 'short', NOW, { expires_at: NOW + 1000 });
        expect(await b.enroll!(exp.token, 'h', undefined, NOW + 1000)).toMatchObject({ ok: false, reason: 'expired' });
        const e = await a.create('enroll', 'fleet', NOW);
        const r = await b.enroll!(e.token, 'h1', undefined, NOW + 1);
        if (!r.ok) throw new Error(r.reason);
        expect(await a.revoke(e.record.id, NOW + 2)).toBe(true);
        expect(await b.enroll!(e.token, 'h2', undefined, NOW + 3)).toMatchObject({ ok: false, reason: 'revoked' });
        expect(await b.isRevoked(e.token)).toBe(true);
        expect(await b.verify(r.token)).toMatchObject({ id: r.record.id });
      });

      it('an admin enrolls by hand without an enrollment token', async () => {
        const r = await a.enroll!(null, 'by-hand', undefined, NOW);
        if (!r.ok) throw new Error(r.reason);
        expect(await b.verify(r.token)).toMatchObject({ role: 'agent', enrolled_host: 'by-hand' });
      });

      it('with one use left, two collectors enrolling at once cannot both succeed', async () => {
        for (let round = 0; round < 5; round++) {
          const e = await a.create('enroll', `last-use-${round}`, NOW, { uses: 1 });
          const results = await Promise.all([a.enroll!(e.token, `h-a-${round}`, undefined, NOW + 1), b.enroll!(e.token, `h-b-${round}`, undefined, NOW + 1)]);
          expect(results.filter((r) => r.ok), `round ${round}`).toHaveLength(1);
          expect(results.find((r) => !r.ok)).toMatchObject({ reason: 'used_up' });
          const issued = (await b.list()).filter((t) => t.name.startsWith(`last-use-${round}/`));
          expect(issued, `round ${round}: agent tokens issued`).toHaveLength(1);
        }
      });

      it('N uses, many instances through both collectors at once: exactly N agent tokens', async () => {
        const e = await a.create('enroll', 'burst', NOW, { uses: 3 });
        const asks = Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).enroll!(e.token, `burst-${i}`, undefined, NOW + 1));
        const results = await Promise.all(asks);
        const ok = results.filter((r) => r.ok);
        expect(ok).toHaveLength(3);
        expect(new Set(ok.map((r) => (r.ok ? r.record.id : '')))).toHaveProperty('size', 3);
        expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'used_up')).toBe(true);
        expect((await b.list()).filter((t) => t.name.startsWith('burst/'))).toHaveLength(3);
        expect((await a.list()).find((t) => t.id === e.record.id)).toMatchObject({ uses: 3 });
      });
    });
  });
}

// The dashboard session store's contract (collector/storage/types.ts SessionStore), run on every
// backend (sessions-sqlite.test.ts, sessions-clickhouse.test.ts) through two collectors' views of
// one store (auth-pair.ts): a session made through one collector is one session on both.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionLimits, SessionStore, TokenStore } from '../../collector/storage/types.js';
import type { AuthPair, OpenPair } from './auth-pair.js';

const NOW = Date.UTC(2026, 11, 7, 10, 0, 0);
const LIMITS: SessionLimits = { ttlMs: 12 * 3600_000, idleMs: 2 * 3600_000 };
const MIN = 60_000;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export function sessionsContract(backend: string, open: OpenPair): void {
  describe(`session store contract: ${backend}`, () => {
    let p: AuthPair;
    let tokens: TokenStore;
    let a: SessionStore;
    let b: SessionStore;
    beforeEach(async () => {
      p = await open();
      tokens = p.a.tokens;
      a = p.a.openSessions(LIMITS);
      b = p.b.openSessions(LIMITS);
    });
    afterEach(async () => {
      a?.close();
      b?.close();
      await p?.close();
    });

    it('a session made through one collector is the same session on the other; only its hash is stored', async () => {
      const viewer = await tokens.create('viewer', 'alice', NOW);
      const { id, record } = await a.create(viewer.record.id, NOW);
      expect(id.length).toBeGreaterThanOrEqual(40);
      expect(record).toMatchObject({ token_id: viewer.record.id, name: 'alice', role: 'viewer', created_at: NOW, expires_at: NOW + LIMITS.ttlMs });
      expect(record.csrf.length).toBeGreaterThanOrEqual(40);
      expect(await b.get(id, NOW + MIN)).toEqual(record);
      expect(await b.get(id + 'x', NOW + MIN)).toBeNull();
      expect(await b.storedHashes()).toEqual([sha256(id)]);
      expect(await p.stored()).not.toContain(id);
    });

    it('ends a session left idle, keeps one in use, and ends every session at its absolute expiry', async () => {
      const admin = await tokens.create('admin', 'root', NOW);
      const idle = (await a.create(admin.record.id, NOW)).id;
      const used = (await a.create(admin.record.id, NOW)).id;
      // used every 90 minutes, alternately through each collector: never idle for 2 h
      let t = NOW;
      for (let i = 1; i <= 7; i++) {
        t = NOW + i * 90 * MIN;
        expect(await (i % 2 ? b : a).get(used, t), `use ${i} at +${i * 90} min`).not.toBeNull();
      }
      expect(await a.get(idle, t)).toBeNull();
      // past 12 h since sign-in the used one ends too
      expect(await b.get(used, NOW + LIMITS.ttlMs - 1)).not.toBeNull();
      expect(await a.get(used, NOW + LIMITS.ttlMs)).toBeNull();
    });

    it('signing out through one collector ends the session on the other', async () => {
      const viewer = await tokens.create('viewer', 'bob', NOW);
      const { id } = await a.create(viewer.record.id, NOW);
      await b.destroy(id);
      expect(await a.get(id, NOW + 1)).toBeNull();
      expect(await b.get(id, NOW + 1)).toBeNull();
      expect(await a.storedHashes()).toEqual([]);
    });

    it('revoking the token ends its sessions on every collector at once; agent tokens get none', async () => {
      const viewer = await tokens.create('viewer', 'carol', NOW);
      const { id } = await b.create(viewer.record.id, NOW);
      expect(await a.get(id, NOW + 1)).not.toBeNull();
      expect(await p.b.tokens.revoke(viewer.record.id, NOW + 2)).toBe(true);
      expect(await a.get(id, NOW + 3)).toBeNull();
      expect(await b.get(id, NOW + 3)).toBeNull();
      const agent = await tokens.create('agent', 'not a person', NOW);
      await expect(a.create(agent.record.id, NOW)).rejects.toThrow();
    });

    it('sweep removes ended, expired and idle sessions and keeps live ones', async () => {
      const viewer = await tokens.create('viewer', 'dave', NOW);
      const out = (await a.create(viewer.record.id, NOW)).id;
      const idle = (await a.create(viewer.record.id, NOW)).id;
      const live = (await b.create(viewer.record.id, NOW)).id;
      await a.destroy(out);
      expect(await b.get(live, NOW + 100 * MIN)).not.toBeNull();
      // the idle one ran out (a signed-out session is not counted: it ended when it was signed out)
      expect(await b.sweep(NOW + 130 * MIN)).toBe(1);
      expect(await a.storedHashes()).toEqual([sha256(live)]);
      expect(await a.get(live, NOW + 131 * MIN)).not.toBeNull();
      expect(await a.get(idle, NOW + 100 * MIN)).toBeNull();
      expect(await a.sweep(NOW + 131 * MIN)).toBe(0);
    });
  });
}

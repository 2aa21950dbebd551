// The first admin credential. An operator-chosen --admin-token is adopted as is; otherwise a
// collector with no admin yet generates one and keeps it in DATA/admin-token (mode 0600), so
// that `ringtail up` can show it again on the next start without storing it in the database.
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../shared/atomic-file.js';
import type { Storage } from './storage/types.js';

export interface AdminCredential {
  token: string | null;
  /** where the generated token is kept, if any */
  file: string | null;
  generated: boolean;
}

export function adminTokenFile(dataDir: string): string {
  return join(dataDir, 'admin-token');
}

export async function ensureAdmin(storage: Storage, dataDir: string, given: string | undefined, now: number): Promise<AdminCredential> {
  if (given) {
    await storage.tokens.adopt(given, 'admin', 'admin (--admin-token)', now);
    return { token: given, file: null, generated: false };
  }
  const file = adminTokenFile(dataDir);
  const saved = readFileIfExists(file)?.trim();
  if (saved && (await storage.tokens.verify(saved))?.role === 'admin') return { token: saved, file, generated: false };
  if ((await storage.tokens.countActive('admin')) > 0) return { token: null, file: null, generated: false };
  const { token } = await storage.tokens.create('admin', 'admin (generated)', now);
  writeFileAtomic(file, token + '\n', 0o600);
  return { token, file, generated: true };
}

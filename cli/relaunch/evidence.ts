// The alert's evidence (collector/alerts/evidence.ts), handed to a command as files, never as
// arguments: log text may hold `$(rm -rf /)`, backticks or markup, and a file is read as data
// by whatever the command does with it, not parsed by a shell on the way in. The files live in
// a private directory (0700, files 0600) made for one run and removed when the command exits;
// a daemon the command leaves behind must copy what it needs before then.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EvidenceFiles {
  /** RINGTAIL_EVIDENCE_FILE, RINGTAIL_ALERT_LINES_FILE, RINGTAIL_ALERT_DASHBOARD_URL (when known) */
  env: Record<string, string>;
  dir: string;
  /** removes the directory; safe to call twice */
  cleanup(): void;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One line per log line: newlines inside a message are shown as `\n` so no line can pose as another. */
export function linesText(evidence: Record<string, unknown>): string {
  const lines = Array.isArray(evidence.lines) ? evidence.lines : [];
  let out = '';
  for (const l of lines) {
    if (!isObject(l) || typeof l.message !== 'string') continue;
    const ts = typeof l.ts === 'number' && Number.isFinite(l.ts) ? new Date(l.ts).toISOString() : '-';
    const level = typeof l.level === 'string' ? l.level : '-';
    const where = [l.source, l.program].filter((x) => typeof x === 'string' && x !== '').join('/');
    const msg = l.message.replace(/\0/g, '').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
    const cut = l.truncated === true ? ` [truncated${typeof l.bytes === 'number' ? `, ${l.bytes} bytes` : ''}]` : '';
    out += `${ts} ${level} ${where || '-'}: ${msg}${cut}\n`;
  }
  return out;
}

/** The files of one run's evidence, or null when the alert carries none. */
export function writeEvidence(alert: { ringtail?: unknown }): EvidenceFiles | null {
  const evidence = isObject(alert.ringtail) ? alert.ringtail.evidence : undefined;
  if (!isObject(evidence)) return null;
  // mkdtemp makes the directory 0700: other users cannot list or read it
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-evidence-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const file = join(dir, 'evidence.json');
    const lines = join(dir, 'lines.txt');
    writeFileSync(file, JSON.stringify(evidence, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    writeFileSync(lines, linesText(evidence), { mode: 0o600, flag: 'wx' });
    const env: Record<string, string> = { RINGTAIL_EVIDENCE_FILE: file, RINGTAIL_ALERT_LINES_FILE: lines };
    if (typeof evidence.dashboard_url === 'string') env.RINGTAIL_ALERT_DASHBOARD_URL = evidence.dashboard_url.replace(/\0/g, '');
    return { env, dir, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

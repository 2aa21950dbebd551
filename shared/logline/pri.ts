// <PRI> = facility × 8 + severity, 0…191, written with one to three digits (RFC 5424 §6.2.1
// forbids leading zeros except "<0>", but senders write "<013>" and we accept it).
export interface Pri {
  facility: number;
  severity: number;
  /** length of the `<PRI>` text */
  length: number;
}

const PRI_RE = /^<(\d{1,3})>/;

/** The PRI at the start of `text`, or null when there is none or it is out of range. */
export function readPri(text: string): Pri | null {
  const m = PRI_RE.exec(text);
  if (!m) return null;
  const value = Number(m[1]);
  if (value > 191) return null;
  return { facility: value >> 3, severity: value & 7, length: m[0].length };
}

/** RFC 3164 §4.3.3: a relay receiving no (or an unidentifiable) PRI uses 13, user.notice. */
export const DEFAULT_PRI: Readonly<Pri> = { facility: 1, severity: 5, length: 0 };

// <PRI> = facility × 8 + severity, 0…191, written with one to three digits (RFC 5424 §6.2.1
// forbids leading zeros except "<0>", but senders write "<013>" and we accept it).
export interface Pri {
  facility: number;
  severity: number;
  /** length of the `<PRI>` text */
  length: number;
}

/**
 * Every PRI there can be, by value and digits written (`<13>`, `<013>`), made once: read by char
 * codes into one of these, a frame's PRI costs no regular expression match, no strings and no
 * object (it was read on every syslog frame).
 */
const PRIS: ReadonlyArray<ReadonlyArray<Readonly<Pri>>> = Array.from({ length: 4 }, (_, digits) =>
  Array.from({ length: 192 }, (_, value) => Object.freeze({ facility: value >> 3, severity: value & 7, length: digits + 2 })),
);

/** The PRI at the start of `text` (`<` 1–3 ASCII digits `>`), or null when there is none or it is out of range. */
export function readPri(text: string): Readonly<Pri> | null {
  if (text.charCodeAt(0) !== 60 /* < */) return null;
  let value = 0;
  let i = 1;
  for (; i <= 3; i++) {
    const d = text.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) break;
    value = value * 10 + d;
  }
  if (i === 1 || text.charCodeAt(i) !== 62 /* > */ || value > 191) return null;
  return PRIS[i - 1]![value]!;
}

/** RFC 3164 §4.3.3: a relay receiving no (or an unidentifiable) PRI uses 13, user.notice. */
export const DEFAULT_PRI: Readonly<Pri> = { facility: 1, severity: 5, length: 0 };

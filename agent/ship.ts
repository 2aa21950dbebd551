// Delivery of one batch to the collector. A batch counts as delivered only when the collector
// answers 200 with an acknowledgement; anything else is retried by the caller with backoff.
import { INGEST_PATH, type IngestAck, type IngestBatch } from '../shared/wire.js';

export class ShipError extends Error {
  constructor(
    message: string,
    /** a 4xx other than 408/429 means the batch itself is refused: retrying will not help */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export async function shipBatch(collector: string, token: string, batch: IngestBatch, timeoutMs = 30_000): Promise<IngestAck> {
  const url = new URL(INGEST_PATH, collector);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(batch),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ShipError(`collector ${url.origin} unreachable: ${(err as Error).cause ?? (err as Error).message}`, false);
  }
  const text = await res.text();
  if (res.status !== 200) {
    const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429 && res.status !== 401;
    throw new ShipError(`collector answered ${res.status}: ${text.slice(0, 300)}`, permanent);
  }
  return JSON.parse(text) as IngestAck;
}

/** Exponential backoff with full jitter, capped: 0.5 s, 1 s, 2 s … 30 s. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

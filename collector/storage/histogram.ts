// What every backend's histogram starts from: the request checked and [start, end) cut into
// `buckets` equal intervals of empty counts (LogHistogram's contract, collector/storage/types.ts).
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { MAX_BUCKETS, type HistogramFilter, type LogHistogram } from './types.js';

/** The empty histogram of `asked`; a 400 (RINGTAIL_ERR_BAD_QUERY) naming what is wrong. */
export function emptyHistogram(asked: HistogramFilter): LogHistogram {
  const { start, end, buckets } = asked;
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) {
    throw new RingtailError(ErrorCodes.BAD_QUERY, `buckets: expected an integer from 1 to ${MAX_BUCKETS}, got ${buckets}`);
  }
  if (!(start < end)) throw new RingtailError(ErrorCodes.BAD_QUERY, `start: must be before end (start ${start}, end ${end})`);
  const interval = Math.max(1, Math.ceil((end - start) / buckets));
  return { start, end, interval, counts: new Array<number>(buckets).fill(0) };
}

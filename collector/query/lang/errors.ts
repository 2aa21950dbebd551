// A mistake in a search: a 400 with RINGTAIL_ERR_BAD_QUERY whose body also carries `position`
// (0-based character offset into the search as typed), so a search box can point at it.
import { ErrorCodes, RingtailError } from '../../../shared/errors.js';

export class QueryError extends RingtailError {
  constructor(
    /** the reason, which names the position in words ("unbalanced quote at 14") */
    readonly reason: string,
    readonly position: number,
    param = 'q',
  ) {
    super(ErrorCodes.BAD_QUERY, `${param}: ${reason}`, 400, { position });
    this.name = 'QueryError';
  }
}

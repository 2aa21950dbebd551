// rrdtool's own error texts, carried with a ringtail code so the API can map them and the CLI
// can print them the way rrdtool does (`ERROR: …`), which scripts written for rrdtool match on.
import { ErrorCodes, RingtailError, type ErrorCode } from '../../shared/errors.js';

export class RrdError extends RingtailError {
  constructor(message: string, code: ErrorCode = ErrorCodes.BAD_REQUEST, status = 400) {
    super(code, message, status);
    this.name = 'RrdError';
  }
}

export const notFound = (what: string): RrdError => new RrdError(what, ErrorCodes.NOT_FOUND, 404);

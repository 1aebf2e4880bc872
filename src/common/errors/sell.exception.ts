import type { ErrorDetail } from '../../contract/responses';
import { ErrorCode, httpStatusOf } from './error-code';

export type { ErrorDetail } from '../../contract/responses';

/**
 * A domain error with a contract code. Services throw it; the one exception filter turns it into the
 * `{ statusCode, code, message, details }` body. `status` overrides the code's usual status where the
 * contract asks for another (e.g. 404 with `RESERVATION_NOT_FOUND`, 413 for an oversize body).
 */
export class SellException extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];
  readonly statusCode: number;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, details: ErrorDetail[] = [], options: { status?: number; headers?: Record<string, string> } = {}) {
    // An expected refusal, not a bug: it is never logged with a stack, and capturing one for every
    // SOLD_OUT of a stampede was a measurable share of the purchase path's CPU and garbage.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'SellException';
    this.code = code;
    this.details = details;
    this.statusCode = options.status ?? httpStatusOf(code);
    this.headers = options.headers ?? {};
  }

  static validation(details: ErrorDetail[], message = 'Request validation failed'): SellException {
    return new SellException(ErrorCode.ValidationFailed, message, details);
  }

  static unavailable(what: string): SellException {
    return new SellException(ErrorCode.Unavailable, `${what} is unavailable; nothing was changed, please retry`);
  }
}

import { ErrorCode, httpStatusOf } from './error-code';

export interface ErrorDetail {
  field: string;
  message: string;
}

/**
 * A domain error with a contract code. Services throw it; the one exception filter turns it into the
 * `{ statusCode, code, message, details }` body. `status` overrides the code's usual status where the
 * contract asks for another (e.g. 404 with `RESERVATION_NOT_FOUND`, 413 for an oversize body).
 */
export class SellException extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'SellException';
    this.statusCode = options.status ?? httpStatusOf(code);
    this.headers = options.headers ?? {};
  }

  readonly headers: Record<string, string>;

  static validation(details: ErrorDetail[], message = 'Request validation failed'): SellException {
    return new SellException(ErrorCode.ValidationFailed, message, details);
  }

  static unavailable(what: string): SellException {
    return new SellException(ErrorCode.Unavailable, `${what} is unavailable; nothing was changed, please retry`);
  }
}

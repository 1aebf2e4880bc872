import { HttpException } from '@nestjs/common';
import type { ErrorBody } from '../../contract/responses';
import { ErrorCode } from './error-code';
import { OutcomeUnknownError } from './outcome-unknown.error';
import { isInfrastructureError } from './infrastructure-error';
import { SellException } from './sell.exception';

export type { ErrorBody } from '../../contract/responses';

export interface ErrorResponse {
  body: ErrorBody;
  headers: Record<string, string>;
  /** True when the error is a bug (logged with its stack, body says nothing of it). */
  unexpected: boolean;
}

/** Codes for plain HTTP statuses raised by the framework itself (unknown route, bad body, …). */
function codeForStatus(status: number): ErrorCode {
  if (status === 401) return ErrorCode.Unauthenticated;
  if (status === 403) return ErrorCode.Forbidden;
  if (status === 404) return ErrorCode.NotFound;
  if (status === 429) return ErrorCode.RateLimited;
  if (status === 503) return ErrorCode.Unavailable;
  if (status >= 400 && status < 500) return ErrorCode.ValidationFailed;
  return ErrorCode.Internal;
}

/**
 * Turns anything thrown while serving a request into the contract's error body. Used by the Nest
 * exception filter and by Fastify's own error handler (body parsing happens before Nest sees the
 * request), so both paths answer alike.
 */
export function toErrorResponse(error: unknown, requestId?: string): ErrorResponse {
  if (error instanceof SellException) {
    return { body: { statusCode: error.statusCode, code: error.code, message: error.message, details: error.details, requestId }, headers: error.headers, unexpected: false };
  }
  if (error instanceof OutcomeUnknownError) {
    return {
      body: { statusCode: 503, code: ErrorCode.OutcomeUnknown, message: `${error.message}. Retry with the same Idempotency-Key, or read the order, to learn the outcome`, details: [], requestId },
      headers: { 'retry-after': '1' },
      unexpected: false,
    };
  }
  if (isInfrastructureError(error)) {
    return {
      body: { statusCode: 503, code: ErrorCode.Unavailable, message: 'A backing service (Redis or the database) is unavailable; nothing was changed, please retry', details: [], requestId },
      headers: { 'retry-after': '1' },
      unexpected: false,
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? error.message);
    return {
      body: { statusCode: status, code: codeForStatus(status), message: Array.isArray(message) ? message.join('; ') : String(message), details: [], requestId },
      headers: {},
      unexpected: status >= 500,
    };
  }
  // Fastify's own errors (body too large, malformed JSON, unsupported media type) carry a statusCode.
  const fastifyStatus = (error as { statusCode?: unknown })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    const message = error instanceof Error ? error.message : 'Bad request';
    return {
      body: { statusCode: fastifyStatus, code: codeForStatus(fastifyStatus), message, details: [{ field: 'body', message }], requestId },
      headers: {},
      unexpected: false,
    };
  }
  return {
    body: { statusCode: 500, code: ErrorCode.Internal, message: `Internal error; quote request id ${requestId ?? 'unknown'} when reporting it`, details: [], requestId },
    headers: {},
    unexpected: true,
  };
}

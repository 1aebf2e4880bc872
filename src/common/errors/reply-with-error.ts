import { Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from './error-body';

const logger = new Logger('Errors');

/**
 * Answers with the contract's error body for anything thrown while serving a request, and logs the
 * unexpected ones (with the request id the caller sees). Shared by the Nest exception filter, Fastify's
 * own error handler and the routes Fastify serves directly.
 */
export function replyWithError(error: unknown, request: FastifyRequest | undefined, reply: FastifyReply): FastifyReply {
  const { body, headers, unexpected } = toErrorResponse(error, request?.id);
  if (unexpected) logger.error({ err: error, requestId: request?.id, url: request?.url }, 'Unhandled error');
  return reply.status(body.statusCode).headers(headers).send(body);
}

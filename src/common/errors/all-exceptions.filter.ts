import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from './error-body';

/** The one exception filter: every error leaves as the contract's body, never with a stack trace. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { body, headers, unexpected } = toErrorResponse(exception, request?.id);
    if (unexpected) this.logger.error({ err: exception, requestId: request?.id, url: request?.url }, 'Unhandled error');
    void reply.status(body.statusCode).headers(headers).send(body);
  }
}

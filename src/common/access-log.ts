import type { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Routes a flash-sale crowd hammers: their outcomes are in the metrics (`sellout_purchase_outcomes_total`,
 * `sellout_http_requests_total`), so they get no access-log line; their unexpected errors are still logged.
 */
const UNLOGGED_ROUTES = new Map([
  ['/api/sales/:saleId/purchase', 'POST'],
  ['/api/sales/:saleId', 'GET'],
]);

/**
 * One access-log line per finished request (`request completed`, at info; 5xx at error), written from a
 * Fastify hook. It replaces a per-request logger middleware: that one kept an AsyncLocalStorage context
 * per request, and once any request had used it, Node tracked every promise of the process: promise
 * hooks on every request of the purchase path, besides the extra garbage.
 */
export class AccessLog {
  private readonly enabled: boolean;

  constructor(
    private readonly logger: LoggerService,
    level: Level,
  ) {
    this.enabled = level === 'info' || level === 'debug' || level === 'trace';
  }

  record(request: FastifyRequest, reply: FastifyReply, route: string): void {
    // Looked up by route, then compared by method: no string is built for the requests that are skipped.
    if (!this.enabled || UNLOGGED_ROUTES.get(route) === request.method) return;
    const line = {
      requestId: request.id,
      req: { method: request.method, url: request.url, route },
      res: { statusCode: reply.statusCode },
      responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (reply.statusCode >= 500) this.logger.error(line, 'request errored');
    else this.logger.log(line, 'request completed');
  }
}

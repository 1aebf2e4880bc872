import type { OpenAPIObject } from '@nestjs/swagger';
import { ID_DESCRIPTION } from '../contract/ids';

/**
 * Adds `GET /api/sales/:saleId/events` to the OpenAPI document: the route is served by Fastify directly
 * (see `SaleEventsRoute`), so Nest's explorer does not see it.
 */
export function documentSaleEventsRoute(document: OpenAPIObject): void {
  document.paths['/api/sales/{saleId}/events'] = {
    get: {
      operationId: 'SaleEvents_stream',
      tags: ['sales'],
      summary: 'Live updates of one sale (Server-Sent Events)',
      description:
        'A `text/event-stream`: an event `sale` with the sale (the body of GET /api/sales/{saleId}) at once and on every change of stock, ' +
        'pause, settings or phase (at most four a second), and an event `sold_out` (`{"saleId","at"}`) when both pools become empty, on ' +
        'whichever process the change happened. Comment lines keep an idle stream open. Poll GET /api/sales/{saleId} while a stream is down.',
      parameters: [{ name: 'saleId', in: 'path', required: true, description: `The sale (${ID_DESCRIPTION})`, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'The stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '400': { description: 'VALIDATION_FAILED: malformed sale id' },
        '404': { description: 'SALE_NOT_FOUND' },
        '503': { description: 'UNAVAILABLE: this process holds SSE_MAX_CONNECTIONS streams already (Retry-After), or Redis or the database is down' },
      },
    },
  };
}

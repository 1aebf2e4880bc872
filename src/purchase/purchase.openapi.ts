import type { OpenAPIObject } from '@nestjs/swagger';
import { PURCHASE_BODY_SCHEMA } from './purchase-input';
import { ID_DESCRIPTION } from '../contract/ids';

const ERROR_RESPONSES: Record<string, string> = {
  '400': 'VALIDATION_FAILED (body, sale id or Idempotency-Key)',
  '401': 'UNAUTHENTICATED',
  '403':
    'NOT_ELIGIBLE (no reservation and no F-code), FCODE_INVALID (unknown, void, mistyped or bound to another buyer) or NOT_ADMITTED ' +
    '(a waiting-room or lottery sale and no valid Admission-Token for this buyer and sale)',
  '404': 'SALE_NOT_FOUND',
  '409': 'SALE_NOT_STARTED, SALE_ENDED, SALE_PAUSED, SOLD_OUT, LIMIT_REACHED, FCODE_USED, FCODE_EXPIRED',
  '422': 'IDEMPOTENCY_KEY_REUSED',
  '429': 'RATE_LIMITED (too many wrong F-codes), with Retry-After',
  '503': "UNAVAILABLE: Redis unreachable, or the sale's state is being rebuilt after Redis lost it; nothing was sold. Retry with the same Idempotency-Key",
};

/**
 * Adds the purchase route to the OpenAPI document. The route is served by Fastify directly (see
 * `PurchaseRoute`), so Nest's explorer does not see it; its entry is written here, with the body schema
 * the route enforces and the `OrderResponseDto` schema the order routes already contribute.
 */
export function documentPurchaseRoute(document: OpenAPIObject): void {
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas.PurchaseDto = structuredClone(PURCHASE_BODY_SCHEMA) as never;
  document.paths['/api/sales/{saleId}/purchase'] = {
    post: {
      // The id the document has always given this operation, so generated clients keep their method name.
      operationId: 'PurchaseController_purchase',
      tags: ['purchase'],
      security: [{ bearer: [] }],
      summary: 'Buy units of a live sale (the hot path)',
      description:
        'All checks and the stock change are one atomic step. With an Idempotency-Key, a repeat of an ACCEPTED purchase by the same buyer ' +
        'for the same sale with the same body (same quantity and F-code) within 24 h returns the first 201 response again, byte for byte, ' +
        'with the header `Idempotent-Replayed: true`, and sells nothing more; a different body with that key is 422 IDEMPOTENCY_KEY_REUSED. ' +
        'Refused purchases are not remembered: a request refused (sold out, paused, not started, …) may be retried with the same key.',
      parameters: [
        { name: 'saleId', in: 'path', required: true, description: `The sale (${ID_DESCRIPTION})`, schema: { type: 'string' } },
        {
          name: 'Admission-Token',
          in: 'header',
          required: false,
          description: 'Sales with a waiting room or a lottery: the token from GET …/queue/me or GET …/lottery/me, signed for this buyer and sale',
          schema: { type: 'string', maxLength: 512 },
        },
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: '1–128 printable ASCII characters; one key per intended purchase, reused on retries',
          schema: { type: 'string' },
        },
      ],
      requestBody: { required: false, content: { 'application/json': { schema: { $ref: '#/components/schemas/PurchaseDto' } } } },
      responses: {
        '201': {
          description: 'Order accepted, status pending_payment; pay it before payBy',
          headers: {
            Location: { description: 'The order: /api/orders/{orderId}', schema: { type: 'string' } },
            'Idempotent-Replayed': { description: '`true` when this answers a repeat of an accepted Idempotency-Key', schema: { type: 'string' } },
          },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/OrderResponseDto' } } },
        },
        ...Object.fromEntries(Object.entries(ERROR_RESPONSES).map(([status, description]) => [status, { description }])),
      },
    },
  };
}

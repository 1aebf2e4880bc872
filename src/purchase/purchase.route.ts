import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { authenticate } from '../auth/bearer';
import { TokenService } from '../auth/token.service';
import { replyWithError } from '../common/errors/reply-with-error';
import { orderResponseJson } from '../orders/dto/order-response.dto';
import { parsePurchaseInput } from './purchase-input';
import { PurchaseRequest, PurchaseResult, PurchaseService } from './purchase.service';

export const PURCHASE_PATH = '/api/sales/:saleId/purchase';

/**
 * `POST /api/sales/:saleId/purchase`, served by Fastify directly rather than through Nest's router: at
 * the start of a sale this route takes nearly every request, and Nest's per-request machinery (execution
 * context, guard, validation pipe, interceptors) was a large share of its CPU in the purchase benchmark (bench/README.md).
 * The route does the same work by hand, in the same order: authenticate (401), check the input (400),
 * then the purchase; errors leave through the same contract body as everywhere else. Its OpenAPI entry
 * is in `purchase.openapi.ts`.
 */
@Injectable()
export class PurchaseRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly purchases: PurchaseService,
    private readonly tokens: TokenService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    // No HTTP server (e.g. a standalone application context): nothing to serve.
    if (!fastify) return;
    // A callback-style handler: it sends the reply itself and returns nothing, so Fastify does not wait
    // on a returned promise (nor on the reply, which is thenable) before finishing the request. Input
    // errors are answered synchronously; the purchase is one promise chain, with no async frame around it.
    fastify.post<{ Params: { saleId: string } }>(PURCHASE_PATH, (request, reply) => {
      let attempt: PurchaseRequest;
      try {
        const user = authenticate(this.tokens, request.headers.authorization);
        const input = parsePurchaseInput(request.params.saleId, request.body, request.headers['idempotency-key']);
        // Only the F-code brake needs the caller's address; behind a trusted proxy, working it out means
        // parsing X-Forwarded-For, so plain purchases skip it.
        const ip = input.fcode === undefined ? '' : request.ip;
        const admissionToken = request.headers['admission-token'];
        attempt = {
          saleId: input.saleId,
          userId: user.userId,
          ip,
          quantity: input.quantity,
          fcode: input.fcode,
          idempotencyKey: input.idempotencyKey,
          admissionToken: typeof admissionToken === 'string' ? admissionToken : undefined,
        };
      } catch (error) {
        replyWithError(error, request, reply);
        return;
      }
      this.purchases
        .purchase(attempt)
        .then((result) => sendOrder(reply, result))
        .catch((error: unknown) => replyWithError(error, request, reply));
    });
  }
}

/** `201` with the order; a retry answered from its Idempotency-Key says so in `Idempotent-Replayed`. */
function sendOrder(reply: FastifyReply, { order, replayed }: PurchaseResult): void {
  void reply.code(201).header('location', `/api/orders/${order.id}`).header('content-type', 'application/json; charset=utf-8');
  if (replayed) void reply.header('idempotent-replayed', 'true');
  void reply.send(orderResponseJson(order));
}

import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { replyWithError } from '../common/errors/reply-with-error';
import { SellException } from '../common/errors/sell.exception';
import { ID_PATTERN } from '../common/ids';
import { ID_RULE } from '../contract/ids';
import { SaleEventsHub } from './sale-events.hub';

export const SALE_EVENTS_PATH = '/api/sales/:saleId/events';
/**
 * The name under which the application registers what it does for every finished request (metrics,
 * access log). A stream usually ends by its client leaving, and Node emits no `finish` for a response
 * whose connection closed first, so Fastify's `onResponse` hooks would never run for it.
 */
export const RECORD_FINISHED_REQUEST = 'recordFinishedRequest';
export type RecordFinishedRequest = (request: FastifyRequest, reply: FastifyReply) => void;

/** Tells a client that lost the stream to wait this long before it reconnects. */
const RETRY_MS = 2000;

/**
 * `GET /api/sales/:saleId/events`, served by Fastify directly: the reply is hijacked once the head is
 * written, so Nest's interceptors and Fastify's serializers never wait on a response that does not end.
 * Errors before the head (400, 404, 503 when full) are ordinary contract errors.
 */
@Injectable()
export class SaleEventsRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly hub: SaleEventsHub,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    fastify.get<{ Params: { saleId: string } }>(SALE_EVENTS_PATH, (request, reply) => {
      const { saleId } = request.params;
      if (!ID_PATTERN.test(saleId)) {
        replyWithError(SellException.validation([{ field: 'saleId', message: ID_RULE }]), request, reply);
        return;
      }
      this.hub.firstEvents(saleId).then(
        ({ chunk, view }) => {
          if (request.raw.destroyed) {
            this.hub.abandon();
            return;
          }
          reply.hijack();
          const stream = reply.raw;
          // The stream ends only by closing its connection, so it needs no chunked framing: each event is
          // written to the socket as it is, which keeps a broadcast to many streams cheap.
          stream.useChunkedEncodingByDefault = false;
          stream.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache, no-transform',
            // nginx would otherwise buffer the stream (docs/deploy/nginx.conf).
            'x-accel-buffering': 'no',
            'x-request-id': request.id,
          });
          stream.write(`retry: ${RETRY_MS}\n\n${chunk}`);
          this.hub.add(saleId, stream, view);
          stream.once('close', () => finished(fastify, request, reply));
        },
        (error: unknown) => replyWithError(error, request, reply),
      );
    });
  }
}

function finished(fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply): void {
  // A stream the server ended emitted `finish`, and the hooks already ran.
  if (reply.raw.writableFinished || !fastify.hasDecorator(RECORD_FINISHED_REQUEST)) return;
  fastify.getDecorator<RecordFinishedRequest>(RECORD_FINISHED_REQUEST)(request, reply);
}

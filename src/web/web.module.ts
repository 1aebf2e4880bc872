import fastifyStatic from '@fastify/static';
import { Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { WebAssetsService } from './web-assets.service';
import { WebController } from './web.controller';

/**
 * Serves the storefront (`/`, `/sales/:id`, `/orders/:id`) and the ops console (`/ops`, `/ops/...`) built
 * by `npm run build:web`, and their assets under `/assets/`. `/api`, `/docs`, `/health` and `/metrics`
 * stay with their own modules.
 */
@Module({
  controllers: [WebController],
  providers: [WebAssetsService],
  exports: [WebAssetsService],
})
export class WebModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async onModuleInit(): Promise<void> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Only `reply.sendFile` is wanted: the controller decides which files exist and where they live.
    if (!fastify.hasReplyDecorator('sendFile')) await fastify.register(fastifyStatic, { serve: false });
  }
}

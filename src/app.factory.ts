import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule, AppOverrides, requestIdOf } from './app.module';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { replyWithError } from './common/errors/reply-with-error';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { AccessLog } from './common/access-log';
import { fastifyTrustProxy } from './common/trust-proxy';
import { answerClientError, installHttpEdges } from './common/http-edges';
import { TokenService } from './auth/token.service';
import { MetricsService } from './metrics/metrics.service';
import { documentSaleEventsRoute } from './live/sale-events.openapi';
import { RECORD_FINISHED_REQUEST, type RecordFinishedRequest } from './live/sale-events.route';
import { documentPurchaseRoute } from './purchase/purchase.openapi';
import { checkAppendOnly } from './redis/durability';
import { checkRedisTopology } from './redis/redis-client.factory';

/**
 * Builds the HTTP application (not yet listening). `main.ts`, the e2e tests and the benchmark all use
 * it, so they exercise exactly the same pipeline: body limits, validation, the error filter, auth,
 * metrics and the OpenAPI document.
 */
export async function createApp(config: AppConfig, overrides: AppOverrides = {}): Promise<NestFastifyApplication> {
  // Before anything is built: a refused boot leaves no connection open.
  await checkRedisTopology(config);
  if (config.redisDurability.mode === 'aof') await checkAppendOnly(config);
  const adapter = new FastifyAdapter({
    // Every route's limit; the admin routes get BODY_LIMIT_BYTES (installHttpEdges).
    bodyLimit: config.buyerBodyLimitBytes,
    genReqId: (request: IncomingMessage) => requestIdOf(request),
    trustProxy: fastifyTrustProxy(config.trustProxy),
    // A malformed URL or an over-long path parameter is refused by the router itself, before any handler.
    frameworkErrors: replyWithError,
    clientErrorHandler: answerClientError,
    // The application registers no Nest middleware (its edges are Fastify hooks): without this, Nest adds
    // @fastify/middie, whose hook then runs on every request to find no middleware to run.
    skipMiddie: true,
  });
  const fastify = adapter.getInstance();
  // Nest adds its routes in app.init(), once the application (and so the token service) exists.
  const created: { tokens?: TokenService } = {};
  installHttpEdges(fastify, { adminBodyLimitBytes: config.bodyLimitBytes }, () => {
    if (!created.tokens) throw new Error('routes were added before the application was created');
    return created.tokens;
  });
  // Callback-style hooks: an async hook costs a promise per request on every route, the hot ones included.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    done(null, payload);
  });
  // Errors raised by Fastify itself before a request reaches Nest (malformed JSON, a body over the limit)
  // answer with the contract's body too. Set on each route as it is added: a route keeps the error
  // handler in force at that moment, and Nest installs its own on the server only after its routes.
  fastify.addHook('onRoute', (route) => {
    route.errorHandler ??= replyWithError;
  });
  // CSV bodies (reservation import) arrive as text; they are parsed by the route that accepts them.
  fastify.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_request, body, done) => done(null, body));

  // `bodyParser: false`: JSON is parsed by the bounded parser of installHttpEdges, not Nest's.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, overrides), adapter, { bufferLogs: true, bodyParser: false });
  created.tokens = app.get(TokenService);
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());

  const metrics = app.get(MetricsService);
  const accessLog = new AccessLog(app.get(Logger), config.logLevel);
  const recordFinishedRequest: RecordFinishedRequest = (request, reply) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    metrics.httpRequests.inc([route, request.method, String(reply.statusCode)]);
    metrics.httpDuration.observe([route, request.method], reply.elapsedTime / 1000);
    accessLog.record(request, reply, route);
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    recordFinishedRequest(request, reply);
    done();
  });
  fastify.decorate(RECORD_FINISHED_REQUEST, recordFinishedRequest);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Sellout')
      .setDescription('Flash-sale reservation and F-code checkout. Errors share one body: { statusCode, code, message, details }.')
      .setVersion('1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  documentPurchaseRoute(document);
  documentSaleEventsRoute(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  await app.init();
  return app;
}

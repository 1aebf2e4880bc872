import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { authenticate } from '../auth/bearer';
import { OPS_ROLE, type TokenService } from '../auth/token.service';
import { BULK_JSON_LIMITS, JSON_LIMITS, checkJsonShape, controlCharacterProblems } from './bounded-json';
import type { ErrorBody } from './errors/error-body';
import { ErrorCode } from './errors/error-code';
import { replyWithError } from './errors/reply-with-error';
import { SellException } from './errors/sell.exception';

/**
 * The edges of the HTTP layer: what a request may cost before any handler sees it, and the contract's
 * error body on the answers Node and Fastify give by themselves (a malformed request, headers too large,
 * a server that is draining). See the README's "The HTTP API and error codes".
 */

const ADMIN_PREFIX = '/api/admin/';
/**
 * The routes that take large bodies: up to 100,000 user ids a call. Every other route, admin ones
 * included, keeps the small limit.
 */
const LARGE_BODY_ROUTES = new Set(['/api/admin/sales/:saleId/reservations/import', '/api/admin/sales/:saleId/fcodes']);

function isAdminRoute(url: string | undefined): boolean {
  return url !== undefined && url.startsWith(ADMIN_PREFIX);
}

/** The contract's error body as raw JSON, for the answers written outside Fastify's reply. */
function errorJson(statusCode: number, message: string): string {
  const body: ErrorBody = { statusCode, code: statusCode === 503 ? ErrorCode.Unavailable : ErrorCode.ValidationFailed, message, details: [] };
  return JSON.stringify(body);
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the request (a malformed request line, a
 * header over Node's 16 KiB limit, a control character in a header value, a request that took too long
 * to arrive) before Fastify saw it. Answers on the raw socket, as Fastify's default does, with the
 * contract's body instead of Fastify's.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let message = 'The request is not valid HTTP';
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    message = 'The request headers are too large';
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    message = 'The request did not arrive in time';
  } else if (error.code === 'HPE_INVALID_HEADER_TOKEN') {
    message = 'A request header holds a character that is not allowed';
  }
  const body = errorJson(status, message);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

const leaveHandlers = new WeakMap<FastifyInstance, () => void>();

/**
 * The first step of a graceful shutdown, before `app.close()`: requests are still served, each with
 * `Connection: close`, and `/health` answers 503 so that load balancers move on. Requests a client had
 * already sent when the signal came are read and answered meanwhile, instead of meeting a connection
 * that `close()` finds idle and destroys.
 */
export function beginLeaving(fastify: FastifyInstance): void {
  leaveHandlers.get(fastify)?.();
}

/**
 * While the server drains (SIGTERM, `app.close()`), requests that still arrive on open connections are
 * answered 503 with the contract's body. Fastify answers them itself with a fixed body of its own, so
 * the server's request listener is wrapped: one boolean test per request.
 */
function answerWhileDraining(fastify: FastifyInstance): void {
  let draining = false;
  let leaving = false;
  const server = fastify.server;
  const listeners = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  server.removeAllListeners('request');
  const body = errorJson(503, 'The server is shutting down; retry on another connection');
  const healthBody = JSON.stringify({ status: 'draining' });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (draining) {
      response.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close', 'retry-after': '1' });
      response.end(body);
      return;
    }
    if (leaving) {
      // Served as usual, but each connection closes after its answer, and load balancers see /health fail.
      response.setHeader('connection', 'close');
      if (request.url === '/health') {
        response.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(healthBody) });
        response.end(healthBody);
        return;
      }
    }
    for (const listener of listeners) listener(request, response);
  });
  leaveHandlers.set(fastify, () => {
    leaving = true;
  });
  fastify.addHook('preClose', (done) => {
    draining = true;
    done();
  });
}

/**
 * JSON bodies: the nesting and width are checked on the raw text, then Fastify's own parser (which
 * refuses `__proto__` and `constructor` keys) builds the value, then strings holding control characters
 * are refused. All of it before the validation pipe, whose cost grows with the body's shape.
 */
function boundedJsonParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request: FastifyRequest, body: string | Buffer, done: (error: Error | null, value?: unknown) => void) => {
    try {
      checkJsonShape(body as string, LARGE_BODY_ROUTES.has(request.routeOptions.url ?? '') ? BULK_JSON_LIMITS : JSON_LIMITS);
    } catch (error) {
      done(error as Error);
      return;
    }
    parse(request, body as string, (error: Error | null, value?: unknown) => {
      if (error) return done(error);
      const problems = controlCharacterProblems(value);
      if (problems.length > 0) return done(SellException.validation(problems));
      done(null, value);
    });
  });
}

/**
 * The admin routes accept large bodies (up to 100,000 ids a call), so only ops may send them: the token
 * is checked before the body is read, as the global guard would check it after. Everyone else is
 * refused at the door rather than after the body has been received and parsed.
 */
function opsBeforeBody(tokens: TokenService): onRequestHookHandler {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    try {
      const user = authenticate(tokens, request.headers.authorization);
      if (!user.roles.includes(OPS_ROLE)) throw new SellException(ErrorCode.Forbidden, 'This route needs the ops role');
    } catch (error) {
      // Node discards the unread body.
      replyWithError(error, request, reply);
      return;
    }
    done();
  };
}

export interface HttpEdgeLimits {
  /** Bodies of the reservation import and F-code issue (BODY_LIMIT_BYTES). */
  adminBodyLimitBytes: number;
}

/**
 * Installs the edges on the Fastify instance before any route is added. The server-wide body limit
 * (the adapter's `bodyLimit`) is the small one every route gets; the two bulk admin routes get the large one.
 */
export function installHttpEdges(fastify: FastifyInstance, limits: HttpEdgeLimits, tokens: () => TokenService): void {
  boundedJsonParser(fastify);
  answerWhileDraining(fastify);
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (!isAdminRoute(route.url)) return;
    if (LARGE_BODY_ROUTES.has(route.url)) route.bodyLimit ??= limits.adminBodyLimitBytes;
    const gate = opsBeforeBody(tokens());
    route.onRequest = route.onRequest === undefined ? [gate] : [gate, ...(Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest])];
  });
}

import 'reflect-metadata';
import Fastify from 'fastify';
import Redis from 'ioredis';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { newOrderId } from '../src/common/ids';
import { purchaseScriptCall } from '../src/purchase/purchase.gateway';
import { scriptSource } from '../src/redis/lua-scripts';
import { RedisKeys } from '../src/redis/redis-keys';

/**
 * The bare baseline of the benchmark: the least a server can do to sell through the same admission
 * script. One Fastify route verifies the HS256 token with a single HMAC, then runs the very same
 * `purchase.lua` with the same keys and arguments as the service's gateway; no Nest, no validation
 * pipe, no metrics, no logging, no sold-out short-circuit. The service's throughput is reported as a
 * fraction of this one's, which tells how much the framework around the script costs.
 *
 * Environment: REDIS_URL, REDIS_KEY_PREFIX, JWT_SECRET, PORT (started by bench/processes.ts).
 */
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const secret = process.env.JWT_SECRET ?? '';
const port = Number(process.env.PORT ?? 3999);
const redisKeys = new RedisKeys(process.env.REDIS_KEY_PREFIX || undefined);

const redis = new Redis(redisUrl, { enableAutoPipelining: false });
redis.defineCommand('purchase', { lua: scriptSource('purchase') });
const runPurchase = (redis as unknown as { purchase(...args: (string | number)[]): Promise<[string, ...(string | number)[]]> }).purchase.bind(redis);

/** The token's subject when its signature and expiry are good. */
function subjectOf(authorization: string | undefined): string | undefined {
  if (!authorization?.startsWith('Bearer ')) return undefined;
  const token = authorization.slice('Bearer '.length);
  const lastDot = token.lastIndexOf('.');
  const firstDot = token.indexOf('.');
  if (firstDot < 0 || lastDot === firstDot) return undefined;
  const expected = createHmac('sha256', secret).update(token.slice(0, lastDot)).digest();
  const given = Buffer.from(token.slice(lastDot + 1), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(token.slice(firstDot + 1, lastDot), 'base64url').toString('utf8')) as { sub?: string; exp?: number };
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return undefined;
  return claims.sub;
}

const STATUS_OF: Record<string, number> = { SALE_NOT_FOUND: 404, NOT_ELIGIBLE: 403, FCODE_INVALID: 403, IDEMPOTENCY_KEY_REUSED: 422 };

const app = Fastify({ logger: false });

app.get('/health', async () => ({ status: 'ok' }));

app.post<{ Params: { saleId: string }; Body: { quantity?: number } | undefined }>('/api/sales/:saleId/purchase', async (request, reply) => {
  const userId = subjectOf(request.headers.authorization);
  if (!userId) return reply.code(401).send({ statusCode: 401, code: 'UNAUTHENTICATED', message: 'Bad token', details: [] });
  const { saleId } = request.params;
  const quantity = request.body?.quantity ?? 1;
  const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
  const now = Date.now();
  const orderId = newOrderId(saleId, now);
  const [, keys, args] = purchaseScriptCall(redisKeys, { saleId, userId, orderId, now, quantity, idempotencyKey });
  const [outcome, first] = await runPurchase(keys.length, ...keys, ...args);
  if (outcome === 'CREATED' || outcome === 'REPLAYED') return reply.code(201).type('application/json').send(String(first));
  const status = STATUS_OF[outcome] ?? 409;
  return reply.code(status).send({ statusCode: status, code: outcome, message: outcome, details: [] });
});

app.listen({ port, host: '127.0.0.1' }).catch((error: unknown) => {
  process.stderr.write(`baseline server failed to start: ${String(error)}\n`);
  process.exit(1);
});

process.on('SIGTERM', () => {
  void app.close().then(() => redis.quit()).finally(() => process.exit(0));
});

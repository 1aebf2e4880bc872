import type Redis from 'ioredis';
import { formatFcode, generateFcode, hashFcode } from '../src/fcodes/fcode-codec';
import { SoldOutCache } from '../src/purchase/sold-out-cache';
import { RedisKeys } from '../src/redis/redis-keys';
import { REDIS_SUBSCRIBER } from '../src/redis/redis.constants';
import { buyerIds, createSale, openSale, privateIp, purchase, reserveBuyers, reserveBuyersInRedis, seedSaleInRedis } from './support/sales';
import { eventually } from './support/eventually';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

/** Counts the commands an app's Redis client sends that touch one sale (any key with its hash tag). */
function countSaleCommands(redis: Redis, saleId: string): { count: () => number; restore: () => void } {
  const tag = new RedisKeys().forSale(saleId).tag;
  const send = redis.sendCommand.bind(redis);
  let count = 0;
  const spy = jest.spyOn(redis, 'sendCommand').mockImplementation((...args: Parameters<Redis['sendCommand']>) => {
    if ((args[0] as unknown as { args: unknown[] }).args.some((arg) => String(arg).includes(tag))) count += 1;
    return send(...args);
  });
  return { count: () => count, restore: () => spy.mockRestore() };
}

/** Until `condition` holds (bounded): announcements reach the other instances' caches asynchronously. */
const soon = (condition: () => boolean) => eventually(condition, { timeoutMs: 5_000, intervalMs: 10 });

/** What the sales feature does when units are added: totals, remaining, a new stockVersion, an announcement. */
async function addStock(app: TestApp, saleId: string, units: number, announce: boolean): Promise<void> {
  const { redis } = app;
  const keys = app.keys.forSale(saleId);
  await redis.hincrby(keys.sale, 'general', units);
  await redis.hincrby(keys.sale, 'generalRemaining', units);
  const version = await redis.hincrby(keys.sale, 'stockVersion', 1);
  if (announce) await redis.publish(app.keys.soldOutChannel, `${saleId}:${version}`);
}

describe('POST /api/sales/:saleId/purchase once the sale is sold out', () => {
  // No background loops, so every Redis command counted below is a purchase's; and a high F-code brake,
  // because wrong-code counters of other test files in this worker's Redis database would trip it.
  const quiet = { ORDER_WRITER_ENABLED: 'false', SWEEPER_ENABLED: 'false', FCODE_MAX_FAILURES: '1000000', FCODE_MAX_FAILURES_PER_IP: '1000000' };
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    // Two instances in one process, as two servers behind a load balancer; only pub/sub clears their flags.
    first = await createTestApp({ env: { ...quiet, SOLD_OUT_FLAG_TTL_MS: '600000' } });
    second = await createTestApp({ env: { ...quiet, SOLD_OUT_FLAG_TTL_MS: '600000' }, clock: first.clock, sqliteFile: first.sqliteFile });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  it('answers SOLD_OUT from memory without touching Redis, then sells again on every instance after stock is added', async () => {
    const buyers = buyerIds(6);
    const sale = await createSale(first, { stock: 1 });
    await reserveBuyers(first, sale.id, buyers);
    openSale(first, sale);
    expect((await purchase(first, sale.id, buyers[0])).status).toBe(201);
    // Each instance learns of the sell-out from one script answer.
    expect((await purchase(first, sale.id, buyers[1])).body.code).toBe('SOLD_OUT');
    expect((await purchase(second, sale.id, buyers[1])).body.code).toBe('SOLD_OUT');

    const onFirst = countSaleCommands(first.redis, sale.id);
    const onSecond = countSaleCommands(second.redis, sale.id);
    try {
      const stampede = await Promise.all([...buyers.slice(1), ...buyers.slice(1)].flatMap((buyer) => [purchase(first, sale.id, buyer), purchase(second, sale.id, buyer)]));
      expect(stampede.map((response) => response.body.code)).toEqual(stampede.map(() => 'SOLD_OUT'));
      expect(stampede[0].body).toEqual({ statusCode: 409, code: 'SOLD_OUT', message: `Sale ${sale.id} is sold out`, details: [], requestId: expect.any(String) });
      expect(onFirst.count()).toBe(0);
      expect(onSecond.count()).toBe(0);
      // The counter does see this sale's commands.
      await first.redis.hget(first.keys.forSale(sale.id).sale, 'generalRemaining');
      expect(onFirst.count()).toBe(1);
    } finally {
      onFirst.restore();
      onSecond.restore();
    }

    // Ops add units through one instance; the other hears of it on the sold-out channel.
    const added = await first.request('POST', `/api/admin/sales/${sale.id}/stock`, { token: first.opsToken(), body: { add: 2, pool: 'general' } });
    expect(added.status).toBe(200);
    await soon(() => !second.app.get(SoldOutCache).isSoldOut(sale.id, false) && !first.app.get(SoldOutCache).isSoldOut(sale.id, false));
    expect((await purchase(second, sale.id, buyers[2])).status).toBe(201);
    expect((await purchase(first, sale.id, buyers[3])).status).toBe(201);
    expect((await purchase(first, sale.id, buyers[4])).body.code).toBe('SOLD_OUT');
  });

  it('hears the stock channel through one listener per instance, the one the live updates use', () => {
    for (const instance of [first, second]) expect(instance.app.get<Redis>(REDIS_SUBSCRIBER).listenerCount('message')).toBe(1);
  });

  it('re-opens on a bare announcement of a newer stock version', async () => {
    const buyers = buyerIds(3);
    const sale = await seedSaleInRedis(first, { stock: 1 });
    await reserveBuyersInRedis(first, sale.id, buyers);
    openSale(first, sale);
    await purchase(first, sale.id, buyers[0]);
    expect((await purchase(second, sale.id, buyers[1])).body.code).toBe('SOLD_OUT');
    await addStock(first, sale.id, 1, true);
    await soon(() => !second.app.get(SoldOutCache).isSoldOut(sale.id, false));
    expect((await purchase(second, sale.id, buyers[1])).status).toBe(201);
  });

  it('ignores an announcement of a stock version it has already seen', async () => {
    const buyers = buyerIds(2);
    const sale = await seedSaleInRedis(first, { stock: 1 });
    await reserveBuyersInRedis(first, sale.id, buyers);
    openSale(first, sale);
    await purchase(first, sale.id, buyers[0]);
    await first.redis.hset(first.keys.forSale(sale.id).sale, 'stockVersion', 5);
    expect((await purchase(first, sale.id, buyers[1])).body.code).toBe('SOLD_OUT');
    const cache = first.app.get(SoldOutCache);
    cache.onSaleSignal({ saleId: sale.id, kind: 'stock', stockVersion: 5 });
    expect(cache.isSoldOut(sale.id, false)).toBe(true);
    cache.onSaleSignal({ saleId: sale.id, kind: 'stock', stockVersion: 6 });
    expect(cache.isSoldOut(sale.id, false)).toBe(false);
  });

  it('still sends an F-code holder to Redis while the F-code pool has units', async () => {
    const buyers = buyerIds(2);
    const sale = await seedSaleInRedis(first, { stock: 1, fcodeStock: 1 });
    await reserveBuyersInRedis(first, sale.id, buyers);
    openSale(first, sale);
    await purchase(first, sale.id, buyers[0]);
    expect((await purchase(first, sale.id, buyers[1])).body.code).toBe('SOLD_OUT');
    const code = generateFcode();
    await first.redis.hset(first.keys.forSale(sale.id).fcode(hashFcode(first.config.fcodeSecret, code)), { userId: '', expiresAt: 0, status: 'issued', orderId: '' });
    const holder = await purchase(first, sale.id, uniqueId('holder'), { fcode: formatFcode(code), clientIp: privateIp() });
    expect(holder.status).toBe(201);
    expect(holder.body.pool).toBe('fcode');
  });

  it('replays an accepted purchase to a retry with its Idempotency-Key after the sell-out', async () => {
    const buyers = buyerIds(2);
    const sale = await seedSaleInRedis(first, { stock: 1 });
    await reserveBuyersInRedis(first, sale.id, buyers);
    openSale(first, sale);
    const accepted = await purchase(first, sale.id, buyers[0], { idempotencyKey: 'lost-response' });
    expect((await purchase(first, sale.id, buyers[1], { idempotencyKey: 'other' })).body.code).toBe('SOLD_OUT');
    expect(first.app.get(SoldOutCache).isSoldOut(sale.id, false)).toBe(true);
    const retry = await purchase(first, sale.id, buyers[0], { idempotencyKey: 'lost-response' });
    expect(retry.status).toBe(201);
    expect(retry.text).toBe(accepted.text);
  });

  describe('when an announcement is missed', () => {
    let forgetful: TestApp;
    beforeAll(async () => {
      forgetful = await createTestApp({ env: { ...quiet, SOLD_OUT_FLAG_TTL_MS: '1000' } });
    });
    afterAll(async () => {
      await forgetful.close();
    });

    it('stops trusting its flag after SOLD_OUT_FLAG_TTL_MS', async () => {
      const buyers = buyerIds(2);
      const sale = await seedSaleInRedis(forgetful, { stock: 1 });
      await reserveBuyersInRedis(forgetful, sale.id, buyers);
      openSale(forgetful, sale);
      await purchase(forgetful, sale.id, buyers[0]);
      expect((await purchase(forgetful, sale.id, buyers[1])).body.code).toBe('SOLD_OUT');
      const flaggedAt = Date.now();
      await addStock(forgetful, sale.id, 1, false);
      // Redis has a unit again, but without the announcement this instance still answers from memory…
      expect((await purchase(forgetful, sale.id, buyers[1])).body.code).toBe('SOLD_OUT');
      // …until the flag's time is up.
      await soon(() => !forgetful.app.get(SoldOutCache).isSoldOut(sale.id, false));
      expect(Date.now() - flaggedAt).toBeGreaterThanOrEqual(900);
      expect((await purchase(forgetful, sale.id, buyers[1])).status).toBe(201);
    });
  });
});

import { ManualClock } from '../src/common/clock';
import { OrderEntity } from '../src/orders/order.entity';
import { SaleRestoreService } from '../src/rebuild/sale-restore.service';
import { SaleEntity } from '../src/sales/sale.entity';
import { issueFcodes } from './fcodes.fixtures';
import { assertInvariants, waitForOrderWriter } from './support/invariants';
import { buyerIds, purchase, reserveBuyers } from './support/sales';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

const HOUR = 3600_000;
const iso = (epochMs: number) => new Date(epochMs).toISOString();

/**
 * Deletes every key of one sale, as if Redis had lost them. Other test files share this Redis, so only
 * this sale's keys go (found by their common hash-tag prefix), never FLUSHALL.
 */
async function loseRedisState(app: TestApp, saleId: string): Promise<number> {
  const keys = app.keys.forSale(saleId);
  const pattern = `${keys.sale.slice(0, -'sale'.length)}*`;
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, batch] = await app.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (batch.length > 0) deleted += await app.redis.del(...batch);
    cursor = next;
  } while (cursor !== '0');
  await app.redis.srem(app.keys.salesIndex, saleId);
  return deleted;
}

describe('Boot-time restore of a sale\'s Redis state', () => {
  const clock = new ManualClock(Date.now());
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({ clock });
  });
  afterAll(async () => {
    await app.close();
  });

  async function restart(): Promise<void> {
    await app.close();
    app = await createTestApp({ clock, sqliteFile: app.sqliteFile });
  }

  async function createSale(overrides: Record<string, unknown> = {}) {
    const now = clock.now();
    const body = { sku: uniqueId('sku-'), name: 'Mi 3', priceCents: 199900, stock: 10, fcodeStock: 3, perUserLimit: 2, startsAt: iso(now + HOUR), ...overrides };
    const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body });
    expect(response.status).toBe(201);
    return response.body;
  }

  const stats = async (saleId: string) => (await app.request('GET', `/api/admin/sales/${saleId}/stats`, { token: app.opsToken() })).body;

  describe('when Redis lost a running sale', () => {
    it('rebuilds stock as pool total minus live orders, the counters, buyers, reservations, orders and F-codes', async () => {
      const start = clock.now();
      const sale = await createSale();
      const buyers = buyerIds(6);
      const [twoUnits, paying, cancelling, withCode, lateBuyer, stranger] = buyers;
      await reserveBuyers(app, sale.id, buyers.slice(0, 5));
      const { codes } = await issueFcodes(app, sale.id, { count: 2 });

      clock.set(Date.parse(sale.startsAt));
      expect((await purchase(app, sale.id, twoUnits, { quantity: 2 })).status).toBe(201);
      const paidOrder = (await purchase(app, sale.id, paying)).body.id;
      expect((await app.request('POST', `/api/orders/${paidOrder}/pay`, { token: app.token(paying), body: { method: 'test-card' } })).status).toBe(200);
      const cancelledOrder = (await purchase(app, sale.id, cancelling)).body.id;
      expect((await app.request('POST', `/api/orders/${cancelledOrder}/cancel`, { token: app.token(cancelling) })).status).toBe(200);
      const codeOrder = await purchase(app, sale.id, withCode, { fcode: codes[0] });
      expect(codeOrder.status).toBe(201);
      expect(codeOrder.body.pool).toBe('fcode');
      await waitForOrderWriter(app, sale.id);
      const before = await stats(sale.id);
      expect(before).toMatchObject({ unitsSold: 4, stock: { generalRemaining: 7, fcodeRemaining: 2 }, orders: { pending_payment: 2, paid: 1, cancelled: 1, persisted: 4 }, fcodes: { redeemed: 1 }, reservations: 5 });
      const keys = app.keys.forSale(sale.id);
      const buyersBefore = await app.redis.hgetall(keys.buyers);
      const reservationsBefore = await app.redis.hgetall(keys.reservations);
      const pendingOrderBefore = await app.redis.hgetall(keys.order(codeOrder.body.id));

      expect(await loseRedisState(app, sale.id)).toBeGreaterThan(5);
      await restart();

      const after = await stats(sale.id);
      expect(after).toEqual({ ...before, orderWriter: { lag: 0, parked: 0 } });
      expect(after.stock.generalRemaining).toBe(10 - 3);
      expect(after.stock.fcodeRemaining).toBe(3 - 1);
      expect(await app.redis.hgetall(keys.buyers)).toEqual(buyersBefore);
      expect(await app.redis.hgetall(keys.reservations)).toEqual(reservationsBefore);
      expect(await app.redis.hgetall(keys.order(codeOrder.body.id))).toEqual(pendingOrderBefore);
      expect(await app.redis.sismember(keys.userOrders(withCode), codeOrder.body.id)).toBe(1);
      expect(Number(await app.redis.zscore(keys.deadlines, codeOrder.body.id))).toBe(Date.parse(codeOrder.body.payBy));
      expect(await app.redis.zscore(keys.deadlines, paidOrder)).toBeNull();
      expect(await app.redis.hget(keys.order(paidOrder), 'status')).toBe('paid');
      expect(await app.redis.sismember(app.keys.salesIndex, sale.id)).toBe(1);
      await assertInvariants(app, sale.id);

      // The rebuilt state governs purchases exactly as the lost one did.
      expect((await purchase(app, sale.id, twoUnits)).body.code).toBe('LIMIT_REACHED');
      expect((await purchase(app, sale.id, lateBuyer, { fcode: codes[0] })).body.code).toBe('FCODE_USED');
      expect((await purchase(app, sale.id, stranger)).body.code).toBe('NOT_ELIGIBLE');
      expect((await purchase(app, sale.id, lateBuyer, { fcode: codes[1] })).status).toBe(201);
      expect((await app.request('POST', `/api/orders/${codeOrder.body.id}/pay`, { token: app.token(withCode), body: { method: 'test-card' } })).status).toBe(200);
      await assertInvariants(app, sale.id);
      clock.set(start);
    });

    it('never sells more than the pools hold after the restore', async () => {
      const start = clock.now();
      const sale = await createSale({ stock: 5, fcodeStock: 0, perUserLimit: 1, reservationRequired: false });
      clock.set(Date.parse(sale.startsAt));
      for (const buyer of buyerIds(3)) expect((await purchase(app, sale.id, buyer)).status).toBe(201);
      await waitForOrderWriter(app, sale.id);
      await loseRedisState(app, sale.id);
      await restart();

      const responses = await Promise.all(buyerIds(20).map((buyer) => purchase(app, sale.id, buyer)));

      expect(responses.filter((response) => response.status === 201)).toHaveLength(2);
      expect(responses.filter((response) => response.body?.code === 'SOLD_OUT')).toHaveLength(18);
      expect((await stats(sale.id)).unitsSold).toBe(5);
      await assertInvariants(app, sale.id);
      clock.set(start);
    });

    it('restores a sale whose orders are only in the database', async () => {
      const sale = await createSale({ stock: 10, fcodeStock: 0, perUserLimit: 3 });
      const startsAt = Date.parse(sale.startsAt);
      const order = (id: string, userId: string, quantity: number, status: OrderEntity['status']) =>
        Object.assign(new OrderEntity(), { id: `o_${id}.${sale.id}`, saleId: sale.id, userId, quantity, unitPriceCents: 199900, amountCents: 199900 * quantity, currency: 'CNY', status, pool: 'general', fcodeHash: null, createdAt: startsAt, payBy: startsAt + 900_000, paidAt: status === 'paid' ? startsAt + 1 : null, updatedAt: startsAt });
      await app.database.transaction((manager) =>
        manager.insert(OrderEntity, [order('a', 'alice', 3, 'paid'), order('b', 'bob', 2, 'pending_payment'), order('c', 'carol', 1, 'expired'), order('d', 'bob', 1, 'cancelled')]),
      );
      await loseRedisState(app, sale.id);
      await restart();

      expect(await stats(sale.id)).toMatchObject({
        stock: { general: 10, generalRemaining: 5 },
        unitsSold: 5,
        accepted: 4,
        orders: { pending_payment: 1, paid: 1, expired: 1, cancelled: 1, persisted: 4 },
        stockEquationHolds: true,
      });
      expect(await app.redis.hgetall(app.keys.forSale(sale.id).buyers)).toEqual({ alice: '3', bob: '2' });
    });
  });

  describe('when the sale hash still exists', () => {
    it('leaves it untouched: stock is never re-seeded', async () => {
      const sale = await createSale({ stock: 10 });
      const keys = app.keys.forSale(sale.id);
      // Redis knows better than the row (e.g. units sold a moment ago): the restore must not "fix" it.
      await app.redis.hset(keys.sale, 'generalRemaining', 4, 'unitsSold', 6, 'stockVersion', 3);
      const hashBefore = await app.redis.hgetall(keys.sale);

      await restart();

      expect(await app.redis.hgetall(keys.sale)).toEqual(hashBefore);
    });
  });

  describe('for a sale that has ended', () => {
    it('rebuilds nothing once its payment window has been closed for over an hour', async () => {
      const now = clock.now();
      // A 15-minute payment window, closed an hour and three quarters ago.
      const sale = await createSale({ startsAt: iso(now - 4 * HOUR), reservationOpensAt: iso(now - 5 * HOUR), endsAt: iso(now - 2 * HOUR), paymentWindowSeconds: 900 });
      await loseRedisState(app, sale.id);
      await restart();
      expect(await app.redis.exists(app.keys.forSale(sale.id).sale)).toBe(0);
    });

    it('rebuilds one still in its payment window, and lists it again: its buyers still pay, and the writer stores it', async () => {
      const now = clock.now();
      const sale = await createSale({ reservationRequired: false, startsAt: iso(now + 60_000), endsAt: iso(now + 120_000), paymentWindowSeconds: 900 });
      clock.set(Date.parse(sale.startsAt));
      const [buyer] = buyerIds(1);
      const bought = await purchase(app, sale.id, buyer);
      expect(bought.status).toBe(201);
      await waitForOrderWriter(app, sale.id);
      clock.set(Date.parse(sale.endsAt) + 1_000);
      await loseRedisState(app, sale.id);
      await restart();
      expect(await app.redis.exists(app.keys.forSale(sale.id).sale)).toBe(1);
      expect(await app.redis.smembers(app.keys.salesIndex)).toContain(sale.id);
      expect((await app.request('POST', `/api/orders/${bought.body.id}/pay`, { token: app.token(buyer), body: { method: 'test-card' } })).status).toBe(200);
      await waitForOrderWriter(app, sale.id);
      expect(await app.database.manager.findOneBy(OrderEntity, { id: bought.body.id })).toMatchObject({ status: 'paid' });
      await assertInvariants(app, sale.id);
    });
  });

  describe('when two instances restore the same sale at once', () => {
    it('lets exactly one create the sale hash, with the right stock', async () => {
      const sale = await createSale({ stock: 8, fcodeStock: 0, reservationRequired: false });
      clock.set(Date.parse(sale.startsAt));
      for (const buyer of buyerIds(3)) expect((await purchase(app, sale.id, buyer)).status).toBe(201);
      await waitForOrderWriter(app, sale.id);
      await loseRedisState(app, sale.id);
      clock.set(Date.parse(sale.startsAt) - HOUR);

      const restorer = app.app.get(SaleRestoreService);
      const row = await app.database.manager.findOneByOrFail(SaleEntity, { id: sale.id });
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => restorer.restoreSale(row)));

      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await app.redis.hmget(app.keys.forSale(sale.id).sale, 'general', 'generalRemaining', 'unitsSold', 'accepted')).toEqual(['8', '5', '3', '3']);
    });
  });
});

import { OrderEntity } from '../src/orders/order.entity';
import { waitForOrderWriter } from './support/invariants';
import { buyerIds, createSale, openSale, purchase, reserveBuyers, TestSale } from './support/sales';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

describe('Reading orders', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  async function liveSale(buyers: string[], options: { perUserLimit?: number } = {}): Promise<TestSale> {
    const sale = await createSale(app, { stock: 20, perUserLimit: options.perUserLimit ?? 1 });
    await reserveBuyers(app, sale.id, buyers);
    openSale(app, sale);
    return sale;
  }

  describe('GET /api/orders/:orderId', () => {
    it('shows the order to its buyer and to ops, and refuses anyone else with 403 FORBIDDEN', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale([buyer]);
      const created = await purchase(app, sale.id, buyer);
      const own = await app.request('GET', `/api/orders/${created.body.id}`, { token: app.token(buyer) });
      expect(own.status).toBe(200);
      expect(own.text).toBe(created.text);
      const ops = await app.request('GET', `/api/orders/${created.body.id}`, { token: app.opsToken() });
      expect(ops.status).toBe(200);
      const other = await app.request('GET', `/api/orders/${created.body.id}`, { token: app.token(uniqueId('nosy')) });
      expect(other.status).toBe(403);
      expect(other.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN', details: [] });
      expect((await app.request('GET', `/api/orders/${created.body.id}`)).status).toBe(401);
    });

    it.each([
      ['an unknown order id', () => `o_01jd8x3v7q9m2k4p6r8t0w2y4z.s_${uniqueId('nosale')}`],
      ['an id without a sale', () => 'o_01jd8x3v7q9m2k4p6r8t0w2y4z'],
      ['a malformed id', () => encodeURIComponent('o_bad id!')],
    ])('answers 404 ORDER_NOT_FOUND for %s', async (_case, orderId) => {
      const response = await app.request('GET', `/api/orders/${orderId()}`, { token: app.token(uniqueId('u')) });
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ statusCode: 404, code: 'ORDER_NOT_FOUND', details: [] });
    });

    it('refuses an id longer than the router accepts with 414 and the contract body', async () => {
      const response = await app.request('GET', `/api/orders/${'o'.repeat(101)}`, { token: app.token(uniqueId('u')) });
      expect(response.status).toBe(414);
      expect(response.body).toMatchObject({ statusCode: 414, code: 'VALIDATION_FAILED', message: expect.any(String), details: expect.any(Array) });
    });

    it('serves the live state from Redis: a payment in flight is still pending, a paid order is paid', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale([buyer]);
      const created = await purchase(app, sale.id, buyer);
      const orderKey = app.keys.forSale(sale.id).order(created.body.id);
      await app.redis.hset(orderKey, 'status', 'paying');
      expect((await app.request('GET', `/api/orders/${created.body.id}`, { token: app.token(buyer) })).body.status).toBe('pending_payment');
      await app.redis.hset(orderKey, 'status', 'pending_payment');
      const paid = await app.request('POST', `/api/orders/${created.body.id}/pay`, { token: app.token(buyer), body: { method: 'test-card' } });
      expect(paid.status).toBe(200);
      const read = await app.request('GET', `/api/orders/${created.body.id}`, { token: app.token(buyer) });
      expect(read.body).toMatchObject({ status: 'paid', paidAt: new Date(app.clock.now()).toISOString() });
    });

    it('falls back to the database once Redis no longer holds the order', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale([buyer]);
      const created = await purchase(app, sale.id, buyer);
      await waitForOrderWriter(app, sale.id);
      await app.redis.del(app.keys.forSale(sale.id).order(created.body.id));
      const read = await app.request('GET', `/api/orders/${created.body.id}`, { token: app.token(buyer) });
      expect(read.status).toBe(200);
      expect(read.text).toBe(created.text);
    });
  });

  describe('GET /api/me/orders', () => {
    it("lists the caller's orders newest first, live ones included before the writer stores them, each once", async () => {
      const [buyer, neighbour] = buyerIds(2);
      const earlier = await liveSale([buyer, neighbour], { perUserLimit: 2 });
      const first = await purchase(app, earlier.id, buyer);
      await purchase(app, earlier.id, neighbour);
      await waitForOrderWriter(app, earlier.id);

      // An order of an ended sale that only the database still holds.
      const archived: OrderEntity = {
        id: `o_${uniqueId('archived')}.s_old`,
        saleId: 's_old',
        userId: buyer,
        quantity: 1,
        unitPriceCents: 100,
        amountCents: 100,
        currency: 'CNY',
        status: 'paid',
        pool: 'general',
        fcodeHash: null,
        createdAt: app.clock.now() - 86_400_000 * 30,
        payBy: app.clock.now() - 86_400_000 * 30 + 900_000,
        paidAt: app.clock.now() - 86_400_000 * 30 + 60_000,
        updatedAt: app.clock.now() - 86_400_000 * 30 + 60_000,
      };
      await app.database.transaction((manager) => manager.insert(OrderEntity, archived));

      app.clock.advance(1_000);
      const second = await purchase(app, earlier.id, buyer);
      // Not yet in the database: stop the writer before it gets there is not needed; the Redis copy must show.
      const later = await liveSale([buyer]);
      const third = await purchase(app, later.id, buyer);

      const list = await app.request('GET', '/api/me/orders', { token: app.token(buyer) });
      expect(list.status).toBe(200);
      expect(list.body.items.map((order: { id: string }) => order.id)).toEqual([third.body.id, second.body.id, first.body.id, archived.id]);
      expect(list.body.items[0]).toEqual(third.body);
      expect(list.body.items[3]).toMatchObject({ status: 'paid', paidAt: new Date(archived.paidAt as number).toISOString() });
    });

    it('shows a live order that is not in the database yet', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale([buyer]);
      await app.app.get((await import('../src/order-writer/order-writer.service')).OrderWriterService).stop();
      try {
        const created = await purchase(app, sale.id, buyer);
        expect(await app.database.manager.count(OrderEntity, { where: { id: created.body.id } })).toBe(0);
        const list = await app.request('GET', '/api/me/orders', { token: app.token(buyer) });
        expect(list.body.items).toEqual([created.body]);
      } finally {
        await app.app.get((await import('../src/order-writer/order-writer.service')).OrderWriterService).start();
      }
    });

    it("never answers a list without one sale's live orders: a read of them that fails fails the answer", async () => {
      const [buyer] = buyerIds(1);
      const [one, other] = [await liveSale([buyer]), await liveSale([buyer])];
      const writer = app.app.get((await import('../src/order-writer/order-writer.service')).OrderWriterService);
      await writer.stop();
      try {
        const kept = await purchase(app, one.id, buyer);
        app.clock.advance(1_000);
        const damaged = await purchase(app, other.id, buyer);
        // The set of the buyer's orders in one sale is damaged (another type): Redis refuses its read.
        const setKey = app.keys.forSale(other.id).userOrders(buyer);
        await app.redis.del(setKey);
        await app.redis.set(setKey, damaged.body.id);
        const list = await app.request('GET', '/api/me/orders', { token: app.token(buyer) });
        // Neither 200 with the one order left (it would read as all of them) nor a framework's body.
        expect(list.status).toBe(500);
        expect(list.body).toMatchObject({ statusCode: 500, code: 'INTERNAL', message: expect.any(String), details: [] });
        await app.redis.del(setKey);
        await app.redis.sadd(setKey, damaged.body.id);
        const repaired = await app.request('GET', '/api/me/orders', { token: app.token(buyer) });
        expect(repaired.body.items.map((order: { id: string }) => order.id)).toEqual([damaged.body.id, kept.body.id]);
      } finally {
        await writer.start();
      }
    });

    it('answers an empty list to a buyer without orders', async () => {
      const list = await app.request('GET', '/api/me/orders', { token: app.token(uniqueId('newcomer')) });
      expect(list.status).toBe(200);
      expect(list.body).toEqual({ items: [] });
    });
  });
});

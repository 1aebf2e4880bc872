import { setTimeout as sleep } from 'node:timers/promises';
import { DeploymentGateway } from '../src/deployment/deployment.gateway';
import { SaleRestoreService } from '../src/rebuild/sale-restore.service';
import { SalesRepository } from '../src/sales/sales.repository';
import { issueFcodes } from './fcodes.fixtures';
import { eventually } from './support/eventually';
import { assertInvariants, waitForOrderWriter } from './support/invariants';
import { buyerIds, createSale, openSale, purchase, TestSale } from './support/sales';
import { createTestDatabase, TestDatabase } from './support/server-process';
import { createTestApp, TestApp, TestResponse, testKeyPrefix } from './support/test-app';
import { RedisServerHandle, startRedisServer } from './support/test-services';

/** The contract promises the rebuild within this long of the loss. */
const REBUILD_BUDGET_MS = 5_000;

interface SoldSale {
  sale: TestSale;
  pendingOrder: string;
  pendingBuyer: string;
  fcodeOrder: string;
}

/** A live sale with a pending order, a paid one and an F-code order, all persisted. */
async function sellSome(app: TestApp): Promise<SoldSale> {
  const sale = await createSale(app, { stock: 20, fcodeStock: 2, perUserLimit: 1, reservationRequired: false });
  const { codes } = await issueFcodes(app, sale.id, { count: 2 });
  openSale(app, sale);
  const [pendingBuyer, payingBuyer, codeBuyer] = buyerIds(3);
  const pending = await purchase(app, sale.id, pendingBuyer);
  const paying = await purchase(app, sale.id, payingBuyer);
  const withCode = await purchase(app, sale.id, codeBuyer, { fcode: codes[0] });
  expect([pending.status, paying.status, withCode.status]).toEqual([201, 201, 201]);
  expect(withCode.body.pool).toBe('fcode');
  expect((await app.request('POST', `/api/orders/${paying.body.id}/pay`, { token: app.token(payingBuyer), body: { method: 'test-card' } })).status).toBe(200);
  await waitForOrderWriter(app, sale.id);
  return { sale, pendingOrder: pending.body.id, pendingBuyer, fcodeOrder: withCode.body.id };
}

function expectUnavailable(response: TestResponse): void {
  expect(response.status).toBe(503);
  expect(response.body).toMatchObject({ statusCode: 503, code: 'UNAVAILABLE', message: expect.any(String), details: [] });
}

/**
 * Buys (fresh buyers) until a purchase is accepted; every answer before it must be 503 UNAVAILABLE, never
 * 404. Resolves to the milliseconds from `since` to the first accepted purchase.
 */
async function buyUntilAccepted(apps: TestApp[], saleId: string, since: number): Promise<number> {
  const buyers = buyerIds(10_000);
  for (let attempt = 0; ; attempt += 1) {
    const response = await purchase(apps[attempt % apps.length], saleId, buyers[attempt]);
    if (response.status === 201) return Date.now() - since;
    expectUnavailable(response);
    if (Date.now() - since > REBUILD_BUDGET_MS * 2) throw new Error(`sale ${saleId} was not rebuilt within ${REBUILD_BUDGET_MS * 2} ms`);
    await sleep(20);
  }
}

/** The rebuilt sale has the counters it had before the loss, plus the purchases made since. */
async function expectRebuilt(app: TestApp, sold: SoldSale, boughtSince: number): Promise<void> {
  const stats = await app.request('GET', `/api/admin/sales/${sold.sale.id}/stats`, { token: app.opsToken() });
  expect(stats.status).toBe(200);
  expect(stats.body).toMatchObject({
    unitsSold: 3 + boughtSince,
    stock: { general: 20, fcode: 2, generalRemaining: 18 - boughtSince, fcodeRemaining: 1 },
    orders: { pending_payment: 2 + boughtSince, paid: 1 },
    fcodes: { redeemed: 1 },
    stockEquationHolds: true,
  });
}

describe('Live rebuild when Redis loses its memory under a running service', () => {
  describe('when Redis is flushed under one running app', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp();
    });
    afterAll(async () => {
      await app.close();
    });

    it('answers 503 UNAVAILABLE (never 404) meanwhile, rebuilds the sale from the database within 5 s, and sells on without overselling', async () => {
      const sold = await sellSome(app);
      const [nextBuyer] = buyerIds(1);

      const flushedAt = Date.now();
      await app.redis.flushdb();

      expectUnavailable(await purchase(app, sold.sale.id, nextBuyer));
      expectUnavailable(await app.request('POST', `/api/orders/${sold.pendingOrder}/pay`, { token: app.token(sold.pendingBuyer), body: { method: 'test-card' } }));
      expectUnavailable(await app.request('GET', `/api/admin/sales/${sold.sale.id}/stats`, { token: app.opsToken() }));
      // A sale the database does not hold is still unknown.
      expect((await purchase(app, 's_unknown', nextBuyer)).body.code).toBe('SALE_NOT_FOUND');

      const rebuiltInMs = await buyUntilAccepted([app], sold.sale.id, flushedAt);
      expect(rebuiltInMs).toBeLessThan(REBUILD_BUDGET_MS);
      await expectRebuilt(app, sold, 1);

      // The F-code order is back with its code; the pending order is payable again.
      expect((await app.request('GET', `/api/orders/${sold.pendingOrder}`, { token: app.token(sold.pendingBuyer) })).body.status).toBe('pending_payment');
      expect((await app.request('POST', `/api/orders/${sold.pendingOrder}/pay`, { token: app.token(sold.pendingBuyer), body: { method: 'test-card' } })).status).toBe(200);
      const rest = await Promise.all(buyerIds(30).map((buyer) => purchase(app, sold.sale.id, buyer)));
      expect(rest.filter((response) => response.status === 201)).toHaveLength(17);
      expect(rest.filter((response) => response.status !== 201).map((response) => response.body.code)).toEqual(['SOLD_OUT', ...Array(12).fill('SOLD_OUT')]);
      const report = await assertInvariants(app, sold.sale.id);
      expect(report.unitsSold).toBe(21);
    });
  });

  describe('when Redis loses an order the order writer has not stored (REDIS_DURABILITY=none)', () => {
    // A database and Redis keys of its own: the test waits for the rebuild of every open sale, and on a
    // database shared with earlier test files those are theirs too (one holds 100,000 F-codes).
    let database: TestDatabase;
    let app: TestApp;
    beforeAll(async () => {
      database = await createTestDatabase();
      // No writer: the order is in Redis only, as it is between its 201 and the writer's commit.
      app = await createTestApp({ env: { DATABASE_URL: database.url, REDIS_KEY_PREFIX: testKeyPrefix(database.url), ORDER_WRITER_ENABLED: 'false' } });
    });
    afterAll(async () => {
      await app?.close();
      await database?.drop();
    });

    it('answers 503 UNAVAILABLE for it (never 404), and for the buyer\'s list, until the sale is rebuilt, and 404 ORDER_NOT_FOUND once it is known to be gone', async () => {
      const sale = await createSale(app, { stock: 5, reservationRequired: false });
      openSale(app, sale);
      const [buyer] = buyerIds(1);
      const bought = await purchase(app, sale.id, buyer);
      expect(bought.status).toBe(201);
      const orderId = bought.body.id as string;
      const read = () => app.request('GET', `/api/orders/${orderId}`, { token: app.token(buyer) });
      const pay = () => app.request('POST', `/api/orders/${orderId}/pay`, { token: app.token(buyer), body: { method: 'test-card' } });
      const cancel = () => app.request('POST', `/api/orders/${orderId}/cancel`, { token: app.token(buyer) });
      const list = () => app.request('GET', '/api/me/orders', { token: app.token(buyer) });
      expect((await list()).body.items).toEqual([bought.body]);

      // Until the sale is rebuilt, the order may still be in a batch a writer read before the loss: the
      // service cannot tell that it does not exist, whether or not it has noticed the loss yet.
      await app.redis.flushdb();
      expectUnavailable(await read());
      expectUnavailable(await pay());
      expectUnavailable(await cancel());
      // Nor is the buyer's list answered without it.
      expectUnavailable(await list());

      const flushedAt = Date.now();
      while (!(await app.redis.exists(app.keys.forSale(sale.id).sale)) || (await app.redis.exists(app.keys.deployment)) === 0) {
        if (Date.now() - flushedAt > REBUILD_BUDGET_MS * 2) throw new Error(`sale ${sale.id} was not rebuilt within ${REBUILD_BUDGET_MS * 2} ms`);
        await sleep(20);
      }
      // Rebuilt from the database, which never had it: the order is gone.
      for (const response of [await read(), await pay(), await cancel()]) expect([response.status, response.body.code]).toEqual([404, 'ORDER_NOT_FOUND']);
      expect(await list()).toMatchObject({ status: 200, body: { items: [] } });
    });
  });

  describe('when one sale alone lost its state (the deployment key is still there)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp();
    });
    afterAll(async () => {
      await app.close();
    });

    it('rebuilds that sale on the first purchase that misses it, answering 503 meanwhile', async () => {
      const sold = await sellSome(app);
      const lostAt = Date.now();
      const keys = await app.redis.keys(`${app.keys.prefix}:{sale:${sold.sale.id}}:*`);
      await app.redis.del(...keys);
      await app.redis.srem(app.keys.salesIndex, sold.sale.id);

      expectUnavailable(await purchase(app, sold.sale.id, buyerIds(1)[0]));
      expect(await buyUntilAccepted([app], sold.sale.id, lostAt)).toBeLessThan(REBUILD_BUDGET_MS);
      await expectRebuilt(app, sold, 1);
      await assertInvariants(app, sold.sale.id);
    });

    it('rebuilds an ended sale in its payment window when a payment misses it, and the order is paid', async () => {
      const startsAt = app.clock.now() + 60_000;
      const sale = await createSale(app, { stock: 5, reservationRequired: false, startsAt, endsAt: startsAt + 60_000, paymentWindowSeconds: 900 });
      openSale(app, sale);
      const [buyer] = buyerIds(1);
      const bought = await purchase(app, sale.id, buyer);
      expect(bought.status).toBe(201);
      await waitForOrderWriter(app, sale.id);
      // Ended, the order still payable; then the sale's state alone goes (the deployment key stays), and
      // no purchase comes to find it missing.
      app.clock.set(sale.endsAt + 1_000);
      await app.redis.del(...(await app.redis.keys(`${app.keys.prefix}:{sale:${sale.id}}:*`)));
      await app.redis.srem(app.keys.salesIndex, sale.id);

      const pay = () => app.request('POST', `/api/orders/${bought.body.id}/pay`, { token: app.token(buyer), body: { method: 'test-card' } });
      expectUnavailable(await pay());
      const since = Date.now();
      let paid = await pay();
      while (paid.status !== 200 && Date.now() - since < REBUILD_BUDGET_MS) {
        expectUnavailable(paid);
        await sleep(20);
        paid = await pay();
      }
      expect([paid.status, paid.body.status]).toEqual([200, 'paid']);
      await assertInvariants(app, sale.id);
    });
  });

  describe('when the admission script does not find a sale', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp();
    });
    afterAll(async () => {
      await app.close();
    });

    it('answers 404 for an id the database does not hold either, asking the database once a second at most', async () => {
      const lookups = jest.spyOn(app.app.get(SalesRepository), 'findById');
      const buyer = buyerIds(1)[0];
      const responses = await Promise.all(Array.from({ length: 50 }, () => purchase(app, 's_01jd8x3v7q9m2k4p6r8t0w2y4z', buyer)));
      expect(new Set(responses.map((response) => `${response.status} ${response.body.code}`))).toEqual(new Set(['404 SALE_NOT_FOUND']));
      expect(lookups.mock.calls.length).toBeLessThanOrEqual(2);
    });

    it('reads the sale again after an ops edit of its end: a sale whose end was moved later is rebuilt, never answered SALE_ENDED', async () => {
      const sale = await createSale(app, { stock: 5, reservationRequired: false });
      const saleKey = app.keys.forSale(sale.id).sale;
      // Redis loses the sale before it opens; a buyer's early click finds it missing (its times are read).
      await app.redis.del(saleKey);
      expectUnavailable(await purchase(app, sale.id, buyerIds(1)[0]));
      await eventually(async () => (await app.redis.exists(saleKey)) === 1, { timeoutMs: 10_000, intervalMs: 20, what: 'the sale rebuilt' });
      // Before it opens, ops move its end an hour later.
      const endsAt = sale.endsAt + 3_600_000;
      const patched = await app.request('PATCH', `/api/admin/sales/${sale.id}`, { token: app.opsToken(), body: { endsAt: new Date(endsAt).toISOString() } });
      expect(patched.status).toBe(200);
      // Past the old end, before the new one, Redis loses the sale again.
      app.clock.set(sale.endsAt + 60_000);
      await app.redis.del(saleKey);
      expectUnavailable(await purchase(app, sale.id, buyerIds(1)[0]));
      expect(await buyUntilAccepted([app], sale.id, Date.now())).toBeLessThan(REBUILD_BUDGET_MS);
    });

    it('answers SALE_ENDED for an ended sale whose state is gone (ended sales are not rebuilt)', async () => {
      const sale = await createSale(app, { stock: 5, reservationRequired: false });
      await app.redis.del(app.keys.forSale(sale.id).sale);
      app.clock.set(sale.endsAt + 1);
      const response = await purchase(app, sale.id, buyerIds(1)[0]);
      expect([response.status, response.body.code]).toEqual([409, 'SALE_ENDED']);
    });
  });

  describe('when Redis is flushed under two apps of one deployment (one Redis, one database)', () => {
    let first: TestApp;
    let second: TestApp;
    beforeAll(async () => {
      first = await createTestApp();
      second = await createTestApp({ clock: first.clock, sqliteFile: first.sqliteFile });
    });
    afterAll(async () => {
      await second.close();
      await first.close();
    });

    it('both notice, exactly one rebuilds, and both sell on', async () => {
      const sold = await sellSome(first);
      const lockAttempts = [first, second].map((app) => jest.spyOn(app.app.get(DeploymentGateway), 'tryLockRebuild'));
      const rebuilds = [first, second].map((app) => jest.spyOn(app.app.get(SaleRestoreService), 'restoreMissing'));

      const flushedAt = Date.now();
      await first.redis.flushdb();
      expectUnavailable(await purchase(second, sold.sale.id, buyerIds(1)[0]));
      const rebuiltInMs = await buyUntilAccepted([first, second], sold.sale.id, flushedAt);
      expect(rebuiltInMs).toBeLessThan(REBUILD_BUDGET_MS);

      // Both noticed within a check interval or two.
      for (const attempts of lockAttempts) {
        const deadline = Date.now() + 3_000;
        while (attempts.mock.calls.length === 0 && Date.now() < deadline) await sleep(20);
        expect(attempts.mock.calls.length).toBeGreaterThan(0);
      }
      expect(rebuilds[0].mock.calls.length + rebuilds[1].mock.calls.length).toBe(1);
      await expectRebuilt(second, sold, 1);
      expect((await purchase(second, sold.sale.id, buyerIds(1)[0])).status).toBe(201);
      expect((await purchase(first, sold.sale.id, buyerIds(1)[0])).status).toBe(201);
      await assertInvariants(first, sold.sale.id);
    });
  });

  describe('when the rebuild of every open sale runs (SaleRestoreService.restoreMissing)', () => {
    // A database of its own: the rebuild reads every open sale of the database.
    let database: TestDatabase;
    let app: TestApp;
    beforeAll(async () => {
      database = await createTestDatabase();
      app = await createTestApp({ env: { DATABASE_URL: database.url, REDIS_KEY_PREFIX: testKeyPrefix(database.url) } });
    });
    afterAll(async () => {
      await app?.close();
      await database?.drop();
    });

    it('lists every sale whose state is still in Redis in the index again before it rebuilds any missing one', async () => {
      // On a Redis Cluster the index of sales may lose its memory with one master while the sales of the
      // other masters keep theirs: the order writer and the sweeper find those through the index, and
      // must not wait for the rebuild of every missing sale (each a full read of its orders and codes).
      const startsAt = app.clock.now() + 60_000;
      const missing = await createSale(app, { stock: 5, reservationRequired: false, startsAt });
      const present = await createSale(app, { stock: 5, reservationRequired: false, startsAt: startsAt + 1_000 });
      await app.redis.del(app.keys.forSale(missing.id).sale);
      await app.redis.srem(app.keys.salesIndex, missing.id, present.id);

      const indexedWhenRebuilt: string[][] = [];
      const report = await app.app.get(SaleRestoreService).restoreMissing(async (sale) => {
        indexedWhenRebuilt.push([sale.id, ...(await app.redis.smembers(app.keys.salesIndex)).filter((id) => id === present.id)]);
        return false;
      });
      // The missing sale (the earlier start, read first) was rebuilt only once the present one was listed.
      expect(indexedWhenRebuilt).toEqual([[missing.id, present.id]]);
      expect(report).toEqual({ restored: [], present: 2 });

      expect(await app.app.get(SaleRestoreService).restoreMissing()).toEqual({ restored: [missing.id], present: 1 });
      expect((await app.redis.smembers(app.keys.salesIndex)).sort()).toEqual([missing.id, present.id].sort());
    });
  });

  describe('when Redis is killed and restarted empty on the same port', () => {
    let redis: RedisServerHandle;
    let app: TestApp;
    beforeAll(async () => {
      redis = await startRedisServer();
      app = await createTestApp({ env: { REDIS_URL: redis.url } });
    });
    afterAll(async () => {
      await app.close();
      await redis.stop();
    });

    it('answers 503 while it is down and while the sale is rebuilt, then sells on with the right counters', async () => {
      const sold = await sellSome(app);

      await redis.stop();
      const downSince = Date.now();
      // Once the service has noticed, a purchase is refused before anything is sent.
      while (app.redis.status === 'ready') await new Promise((resolve) => setTimeout(resolve, 10));
      expectUnavailable(await purchase(app, sold.sale.id, buyerIds(1)[0]));
      redis = await startRedisServer({ port: redis.port });
      const restartedAt = Date.now();

      const rebuiltInMs = await buyUntilAccepted([app], sold.sale.id, restartedAt);
      expect(rebuiltInMs).toBeLessThan(REBUILD_BUDGET_MS);
      expect(Date.now() - downSince).toBeGreaterThan(rebuiltInMs);
      await expectRebuilt(app, sold, 1);
      await assertInvariants(app, sold.sale.id);
    });
  });
});

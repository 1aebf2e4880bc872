import { randomInt } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ManualClock } from '../src/common/clock';
import { assertInvariants } from './support/invariants';
import { createTestDatabase, TestDatabase } from './support/server-process';
import { createTestApp, TestApp, TestResponse, testKeyPrefix, uniqueId } from './support/test-app';
import {
  buy,
  buyOrFail,
  createLiveSale,
  deadlineOf,
  fcodeHashOf,
  issueFcode,
  pay,
  paymentProvider,
  redisOrderStatus,
  SaleCounters,
  saleCounters,
  stockEquationHolds,
  sweeper,
  userIds,
  waitUntil,
} from './order-lifecycle.fixtures';

/** How long after payBy an unpaid order may still be pending (the HTTP contract (README): "within a few seconds"). */
const EXPIRY_GRACE_MS = 3_000;

async function expiredMetric(app: TestApp): Promise<number> {
  const text = (await app.request('GET', '/metrics')).text;
  const line = text.split('\n').find((candidate) => candidate.startsWith('sellout_order_transitions_total{event="expired"}'));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** Buys one unit for each buyer, all at once, and returns the order ids (every purchase must succeed). */
async function buyForAll(app: TestApp, saleId: string, buyers: string[]): Promise<string[]> {
  const responses = await Promise.all(buyers.map((buyer) => buy(app, saleId, buyer)));
  const refused = responses.filter((response) => response.status !== 201);
  if (refused.length > 0) throw new Error(`${refused.length} purchases refused, first: ${refused[0].text}`);
  return responses.map((response) => response.body.id as string);
}

/** Samples the sale's counters until stopped, recording every sample that breaks the stock equation. */
function watchStockEquation(app: TestApp, saleId: string): { stop: () => Promise<SaleCounters[]> } {
  const broken: SaleCounters[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const counters = await saleCounters(app, saleId);
      if (!stockEquationHolds(counters)) broken.push(counters);
      await nextTurn();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return broken;
    },
  };
}

describe('Expiry of unpaid orders', () => {
  // A database and Redis keys of this file's own: the tests below count every expiry a sweeper makes (its
  // passes, the metric), and on a database shared with earlier test files a booting app restores their
  // sales, whose unpaid orders would fall due on this clock too.
  let database: TestDatabase;
  let env: Record<string, string>;
  let app: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.url, REDIS_KEY_PREFIX: testKeyPrefix(database.url) };
    app = await createTestApp({ env });
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  describe('when an order is not paid by payBy', () => {
    it('is expired by the running sweeper within a few seconds, with its unit, allowance and deadline given back', async () => {
      const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 1, paymentWindowSeconds: 30 });
      const buyer = uniqueId('buyer');
      const orderId = await buyOrFail(app, saleId, buyer);
      const expiredBefore = await expiredMetric(app);
      app.clock.advance(paymentWindowMs - 1);
      await sweeper(app).sweepSale(saleId);
      expect(await redisOrderStatus(app, saleId, orderId)).toBe('pending_payment');

      app.clock.advance(1);
      const waitedMs = await waitUntil('the order is expired', async () => (await redisOrderStatus(app, saleId, orderId)) === 'expired');

      expect(waitedMs).toBeLessThan(EXPIRY_GRACE_MS);
      expect(await saleCounters(app, saleId)).toMatchObject({ generalRemaining: 1, unitsSold: 0, pending_payment: 0, expired: 1 });
      expect(await app.redis.hget(app.keys.forSale(saleId).buyers, buyer)).toBeNull();
      expect(await deadlineOf(app, saleId, orderId)).toBeNull();
      expect((await app.request('GET', `/api/orders/${orderId}`, { token: app.token(buyer) })).body).toMatchObject({ status: 'expired' });
      expect(await expiredMetric(app)).toBe(expiredBefore + 1);
      expect((await buy(app, saleId, buyer)).status).toBe(201);
      await assertInvariants(app, saleId);
    });
  });

  describe('when the expired order used an F-code', () => {
    it('makes the code usable again while it has not expired', async () => {
      const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 1, fcodeStock: 1, paymentWindowSeconds: 30 });
      const buyer = uniqueId('buyer');
      const code = await issueFcode(app, saleId, { userId: buyer, expiresAt: app.clock.now() + 10 * paymentWindowMs });
      const orderId = await buyOrFail(app, saleId, buyer, { fcode: code });
      expect((await buy(app, saleId, uniqueId('other'), { fcode: code })).body.code).toBe('FCODE_INVALID');
      expect((await buy(app, saleId, buyer, { fcode: code })).body.code).toBe('FCODE_USED');

      app.clock.advance(paymentWindowMs);
      await waitUntil('the order is expired', async () => (await redisOrderStatus(app, saleId, orderId)) === 'expired');

      expect(await saleCounters(app, saleId)).toMatchObject({ fcodeRemaining: 1, generalRemaining: 1, fcodesRedeemed: 0 });
      const again = await buy(app, saleId, buyer, { fcode: code });
      expect(again.status).toBe(201);
      expect(again.body.pool).toBe('fcode');
      await assertInvariants(app, saleId);
    });

    it('frees the code but leaves it refused once the code itself has expired', async () => {
      const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 1, fcodeStock: 1, paymentWindowSeconds: 30 });
      const buyer = uniqueId('buyer');
      const code = await issueFcode(app, saleId, { expiresAt: app.clock.now() + paymentWindowMs / 2 });
      const orderId = await buyOrFail(app, saleId, buyer, { fcode: code });

      app.clock.advance(paymentWindowMs);
      await waitUntil('the order is expired', async () => (await redisOrderStatus(app, saleId, orderId)) === 'expired');

      expect(await app.redis.hget(app.keys.forSale(saleId).fcode(fcodeHashOf(app, code)), 'orderId')).toBe('');
      expect((await buy(app, saleId, buyer, { fcode: code })).body.code).toBe('FCODE_EXPIRED');
      expect((await buy(app, saleId, buyer)).status).toBe(201);
    });
  });

  describe('when a sold-out sale has 100 orders expire', () => {
    it('sells exactly those 100 units again, to new buyers only as many as came back, and the stock equation holds throughout', async () => {
      const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 300, paymentWindowSeconds: 60 });
      const payers = userIds(uniqueId('payer'), 200);
      const paidIds = await buyForAll(app, saleId, payers);
      const unpaidIds = await buyForAll(app, saleId, userIds(uniqueId('unpaid'), 100));
      const payments = await Promise.all(paidIds.map((orderId, index) => pay(app, orderId, payers[index])));
      expect(payments.filter((response) => response.status === 200)).toHaveLength(200);
      const tooLate = await Promise.all(userIds(uniqueId('late'), 20).map((buyer) => buy(app, saleId, buyer)));
      expect(tooLate.map((response) => response.body.code)).toEqual(Array(20).fill('SOLD_OUT'));
      const watcher = watchStockEquation(app, saleId);

      app.clock.advance(paymentWindowMs);
      // Buyers keep trying while the units come back; the sweeper and purchases interleave.
      const newBuyers = userIds(uniqueId('new'), 150);
      const attempts = await Promise.all(
        newBuyers.map(async (buyer) => {
          for (let attempt = 0; attempt < 200; attempt += 1) {
            const response = await buy(app, saleId, buyer);
            if (response.status === 201 || response.body.code !== 'SOLD_OUT') return response;
            const counters = await saleCounters(app, saleId);
            if (counters.expired === 100 && counters.generalRemaining === 0) return response;
            await nextTurn();
          }
          throw new Error(`buyer ${buyer} neither bought nor saw the sale sold out again`);
        }),
      );
      const broken = await watcher.stop();

      expect(broken).toEqual([]);
      expect(attempts.filter((response) => response.status === 201)).toHaveLength(100);
      expect(attempts.filter((response) => response.body.code === 'SOLD_OUT')).toHaveLength(50);
      expect(await saleCounters(app, saleId)).toMatchObject({ generalRemaining: 0, unitsSold: 300, paid: 200, expired: 100, pending_payment: 100 });
      expect((await buy(app, saleId, uniqueId('after'))).body.code).toBe('SOLD_OUT');
      const stats = await app.request('GET', `/api/admin/sales/${saleId}/stats`, { token: app.opsToken() });
      expect(stats.body).toMatchObject({ unitsSold: 300, stock: { general: 300, generalRemaining: 0 }, orders: { pending_payment: 100, paid: 200, expired: 100, cancelled: 0 } });
      expect(await Promise.all(unpaidIds.map((orderId) => redisOrderStatus(app, saleId, orderId)))).toEqual(Array(100).fill('expired'));
      await assertInvariants(app, saleId);
    });
  });

  describe('when payment and expiry race on 500 orders at their deadline', () => {
    it('ends each order paid XOR expired, charges only the paid ones, and returns stock exactly for the expired ones', async () => {
      const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 500, paymentWindowSeconds: 60 });
      const buyers = userIds(uniqueId('racer'), 500);
      const orderIds: string[] = [];
      // Staggered so that the deadlines of the orders are spread over 50 ms, around which the race runs.
      for (let slice = 0; slice < 50; slice += 1) {
        orderIds.push(...(await buyForAll(app, saleId, buyers.slice(slice * 10, slice * 10 + 10))));
        app.clock.advance(1);
      }
      const firstPayBy = (await deadlineOf(app, saleId, orderIds[0])) as number;
      app.clock.set(firstPayBy - 50);
      const provider = paymentProvider(app);
      const realCharge = provider.charge.bind(provider);
      const slowCharge = jest.spyOn(provider, 'charge').mockImplementation(async (request) => {
        for (let turn = randomInt(5); turn > 0; turn -= 1) await nextTurn();
        return realCharge(request);
      });
      let racing = true;
      // The clock moves one millisecond per event-loop turn, so deadlines pass in the middle of the race.
      const ticking = (async () => {
        while (racing) {
          app.clock.advance(1);
          await nextTurn();
        }
      })();
      const sweeping = (async () => {
        let expired = 0;
        while (racing) {
          expired += (await sweeper(app).sweepSale(saleId)).expired;
          await nextTurn();
        }
        return expired;
      })();

      let responses: TestResponse[];
      try {
        responses = await Promise.all(
          orderIds.map(async (orderId, index) => {
            for (let turn = randomInt(100); turn > 0; turn -= 1) await nextTurn();
            return pay(app, orderId, buyers[index], { method: 'test-card', outcome: index % 7 === 0 ? 'decline' : 'succeed' });
          }),
        );
      } finally {
        racing = false;
        slowCharge.mockRestore();
      }
      await ticking;
      const expiredDuringRace = await sweeping;
      // Declined orders are still pending: let their deadline pass too.
      app.clock.set(firstPayBy + paymentWindowMs);
      await waitUntil('no order is pending', async () => (await saleCounters(app, saleId)).pending_payment === 0);

      const statuses = await Promise.all(orderIds.map((orderId) => redisOrderStatus(app, saleId, orderId)));
      const paid = orderIds.filter((_orderId, index) => statuses[index] === 'paid');
      const expired = orderIds.filter((_orderId, index) => statuses[index] === 'expired');
      expect(paid.length + expired.length).toBe(500);
      orderIds.forEach((orderId, index) => {
        const response = responses[index];
        const outcome = { orderId, status: statuses[index], response: response.status, code: response.body.code, netCharges: provider.netChargesOf(orderId) };
        if (statuses[index] === 'paid') expect(outcome).toEqual({ ...outcome, response: 200, netCharges: 1 });
        else expect(outcome).toEqual({ ...outcome, code: expect.stringMatching(/^(ORDER_EXPIRED|PAYMENT_DECLINED)$/), netCharges: 0 });
      });
      // Both sides won some: the race really happened.
      expect(paid.length).toBeGreaterThan(0);
      expect(responses.filter((response) => response.body.code === 'ORDER_EXPIRED').length).toBeGreaterThan(0);
      expect(expiredDuringRace).toBeGreaterThan(0);
      expect(await saleCounters(app, saleId)).toMatchObject({ paid: paid.length, expired: expired.length, unitsSold: paid.length, generalRemaining: expired.length, pending_payment: 0 });
      const report = await assertInvariants(app, saleId);
      const stored = new Map(report.databaseOrders.map((order) => [order.id, order.status]));
      expect(orderIds.filter((orderId, index) => stored.get(orderId) !== statuses[index])).toEqual([]);
    });
  });

  describe('when two sweepers run at once on the same sale', () => {
    it('never releases one order twice', async () => {
      const second = await createTestApp({ env: { ...env, ORDER_WRITER_ENABLED: 'false' }, clock: app.clock });
      try {
        const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 400, paymentWindowSeconds: 30 });
        const orderIds = await buyForAll(app, saleId, userIds(uniqueId('both'), 400));
        const metricsBefore = (await expiredMetric(app)) + (await expiredMetric(second));

        // Both background sweepers see the deadline pass, and two more passes per app run alongside them.
        app.clock.advance(paymentWindowMs);
        const passes = await Promise.all([sweeper(app).sweepSale(saleId), sweeper(second).sweepSale(saleId), sweeper(app).sweep(), sweeper(second).sweep()]);
        await waitUntil('every order is expired', async () => (await saleCounters(app, saleId)).expired >= 400);

        expect(passes.reduce((sum, pass) => sum + pass.expired, 0)).toBeLessThanOrEqual(400);
        expect(await saleCounters(app, saleId)).toMatchObject({ expired: 400, generalRemaining: 400, unitsSold: 0, pending_payment: 0 });
        expect(await app.redis.hlen(app.keys.forSale(saleId).buyers)).toBe(0);
        expect(await Promise.all(orderIds.map((orderId) => redisOrderStatus(app, saleId, orderId)))).toEqual(Array(400).fill('expired'));
        await waitUntil('both apps counted every expiry once', async () => (await expiredMetric(app)) + (await expiredMetric(second)) - metricsBefore === 400);
        await assertInvariants(app, saleId);
      } finally {
        await second.close();
      }
    });
  });

  describe('when the deadlines hold an entry for an order that is gone or final', () => {
    it('drops the entry and changes nothing else', async () => {
      const { saleId } = await createLiveSale(app, { stock: 1 });
      const keys = app.keys.forSale(saleId);
      const ghost = `o_01jd8x3v7q9m2k4p6r8t0w2y4z.${saleId}`;
      const buyer = uniqueId('buyer');
      const paidId = await buyOrFail(app, saleId, buyer);
      expect((await pay(app, paidId, buyer)).status).toBe(200);
      await app.redis.zadd(keys.deadlines, app.clock.now() - 1, ghost, app.clock.now() - 1, paidId);
      const before = await saleCounters(app, saleId);

      const pass = await sweeper(app).sweepSale(saleId);

      expect(pass).toEqual({ expired: 0, skipped: 2 });
      expect(await app.redis.zcard(keys.deadlines)).toBe(0);
      expect(await saleCounters(app, saleId)).toEqual(before);
    });
  });
});

// Its own apps and clock, with no other sweeper around: only the restarted service may finish the wave.
describe('Expiry across a restart', () => {
  describe('when the service restarts in the middle of an expiry wave', () => {
    it('leaves no order pending past its deadline by more than a few seconds, and releases none twice', async () => {
      const env = { SWEEPER_BATCH_SIZE: '10' };
      // Ten days back: no order left in this Redis by the tests above falls due on this clock.
      const before = await createTestApp({ env, clock: new ManualClock(Date.now() - 10 * 24 * 3_600_000) });
      const { saleId, paymentWindowMs } = await createLiveSale(before, { stock: 1_500, paymentWindowSeconds: 30 });
      const orderIds = await buyForAll(before, saleId, userIds(uniqueId('wave'), 1_500));
      const deadlinePassedAt = Date.now();
      before.clock.advance(paymentWindowMs);
      await waitUntil('the wave has started', async () => (await saleCounters(before, saleId)).expired > 0);
      // A graceful stop lets the tick in progress finish; the rest of the wave is left to the next service.
      await sweeper(before).stop();
      const expiredAtStop = (await saleCounters(before, saleId)).expired;
      const expiredByBefore = await expiredMetric(before);
      await before.close();

      const after = await createTestApp({ env, sqliteFile: before.sqliteFile, clock: before.clock });
      try {
        await waitUntil('every order is expired', async () => (await saleCounters(after, saleId)).expired === 1_500, EXPIRY_GRACE_MS * 2);
        const tookMs = Date.now() - deadlinePassedAt;

        expect(expiredAtStop).toBeLessThan(1_500);
        expect(tookMs).toBeLessThan(EXPIRY_GRACE_MS * 2);
        expect(await saleCounters(after, saleId)).toMatchObject({ expired: 1_500, generalRemaining: 1_500, unitsSold: 0, pending_payment: 0 });
        expect(await after.redis.zcard(after.keys.forSale(saleId).deadlines)).toBe(0);
        expect(await Promise.all(orderIds.map((orderId) => redisOrderStatus(after, saleId, orderId)))).toEqual(Array(1_500).fill('expired'));
        // Each release is counted once by the service that made it: a second release would show here.
        expect(expiredByBefore + (await expiredMetric(after))).toBe(1_500);
        await assertInvariants(after, saleId);
      } finally {
        await after.close();
      }
    });
  });
});

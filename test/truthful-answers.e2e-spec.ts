import Redis from 'ioredis';
import { PAYMENT_PROVIDER } from '../src/lifecycle/payments/payment-provider';
import { TestPaymentProvider } from '../src/lifecycle/payments/test-payment.provider';
import { buyOrFail, createLiveSale } from './order-lifecycle.fixtures';
import { assertInvariants, databaseOrdersOf, redisOrdersOf, waitForOrderWriter } from './support/invariants';
import { buyerIds, purchase } from './support/sales';
import { eventually } from './support/eventually';
import { createTestApp, TestApp, TestResponse, uniqueId } from './support/test-app';
import { RedisServerHandle, startRedisServer } from './support/test-services';

/**
 * What an answer means while Redis stalls or drops connections: `201`/`200` — done; any other answer but
 * `503 OUTCOME_UNKNOWN` — nothing changed. Each test stalls or cuts Redis under concurrent requests and
 * then holds every answer against what Redis and the database say happened.
 */

const COMMAND_TIMEOUT_MS = 1_000;
const PAUSE_MS = 3_000;
/** A buyer's client retries a 503 a few times, as a storefront would. */
const ATTEMPTS = 4;

interface Answer {
  status: number;
  code?: string;
}

function answerOf(response: TestResponse): Answer {
  return { status: response.status, code: response.body?.code };
}

const isUnknown = (answer: Answer) => answer.status === 503 && answer.code === 'OUTCOME_UNKNOWN';
const changedOrUnknown = (answers: Answer[], okStatus: number) => answers.some((answer) => answer.status === okStatus || isUnknown(answer));

/** Sends `request` until it gets an answer other than 503, at most ATTEMPTS times; every answer is kept. */
async function withRetries(request: () => Promise<TestResponse>): Promise<{ answers: Answer[]; last: TestResponse }> {
  const answers: Answer[] = [];
  let last: TestResponse;
  do {
    last = await request();
    answers.push(answerOf(last));
  } while (last.status === 503 && answers.length < ATTEMPTS);
  return { answers, last };
}

/** Until the service's own Redis connection answers again (bounded). */
function untilRedisAnswers(app: TestApp): Promise<void> {
  const answers = () => app.redis.ping().then(
    () => true,
    () => false,
  );
  return eventually(answers, { timeoutMs: 10_000, what: "the service's Redis connection answering" });
}

describe('Answers under Redis faults', () => {
  // A Redis of its own: the stalls below would otherwise stall every test file running beside this one.
  let redis: RedisServerHandle;
  let app: TestApp;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await createTestApp({ env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) } });
    admin = new Redis(app.config.redisUrl);
  });
  // A fault test leaves the service's connection reconnecting; the next step waits until it answers.
  beforeEach(() => untilRedisAnswers(app));

  afterAll(async () => {
    await admin.client('UNPAUSE').catch(() => undefined);
    await admin.quit();
    await app?.close();
    await redis?.stop();
  });

  /** Every buyer holds an order iff one of their answers was 201 or OUTCOME_UNKNOWN, and the 201's order. */
  async function expectPurchaseAnswersTrue(saleId: string, answersByBuyer: Map<string, { answers: Answer[]; orderIds: string[] }>): Promise<void> {
    await assertInvariants(app, saleId);
    const stored = await databaseOrdersOf(app, saleId);
    const ordersByBuyer = new Map<string, string[]>();
    for (const order of stored) ordersByBuyer.set(order.userId, [...(ordersByBuyer.get(order.userId) ?? []), order.id]);
    const untrue: string[] = [];
    for (const [userId, { answers, orderIds }] of answersByBuyer) {
      const held = ordersByBuyer.get(userId) ?? [];
      const summary = `${userId}: answers ${answers.map((answer) => `${answer.status}${answer.code ? ` ${answer.code}` : ''}`).join(' → ')}, holds ${held.length}`;
      if (held.length > 0 && !changedOrUnknown(answers, 201)) untrue.push(summary);
      if (held.length > 1) untrue.push(`${summary} (one request, more than one order)`);
      for (const orderId of orderIds) if (!held.includes(orderId)) untrue.push(`${summary}; answered 201 with ${orderId}, which is not stored`);
    }
    expect(untrue).toEqual([]);
  }

  async function purchaseRush(saleId: string, buyers: string[], fault: () => Promise<void>): Promise<Map<string, { answers: Answer[]; orderIds: string[] }>> {
    const results = new Map<string, { answers: Answer[]; orderIds: string[] }>();
    for (const userId of buyers) results.set(userId, { answers: [], orderIds: [] });
    const rush = buyers.map(async (userId, index) => {
      // Half the buyers send an Idempotency-Key (and retry with it), half send none.
      const idempotencyKey = index % 2 === 0 ? uniqueId('k') : undefined;
      const { answers } = await withRetries(async () => {
        const response = await purchase(app, saleId, userId, { idempotencyKey });
        if (response.status === 201) results.get(userId)?.orderIds.push(response.body.id);
        return response;
      });
      results.get(userId)!.answers = answers;
    });
    await Promise.all([...rush, fault()]);
    return results;
  }

  describe('when Redis stalls for longer than the command timeout', () => {
    it('answers every purchase truthfully: no buyer holds an order they were told nothing changed for', async () => {
      const { saleId } = await createLiveSale(app, { stock: 150, perUserLimit: 2 });
      const buyers = buyerIds(200);
      await admin.client('PAUSE', PAUSE_MS, 'ALL');
      const results = await purchaseRush(saleId, buyers, async () => undefined);
      const answers = [...results.values()].flatMap((result) => result.answers);
      // The stall was real: some requests outlived the command timeout.
      expect(answers.some((answer) => answer.status === 503 || answer.status === 201)).toBe(true);
      await expectPurchaseAnswersTrue(saleId, results);
    });
  });

  describe('when Redis drops every connection while purchases are in flight', () => {
    it('never carries a purchase out twice, and every answer is true', async () => {
      const { saleId } = await createLiveSale(app, { stock: 400, perUserLimit: 2 });
      const buyers = buyerIds(300);
      const results = await purchaseRush(saleId, buyers, async () => {
        for (let round = 0; round < 8; round += 1) {
          await new Promise((resolve) => setImmediate(resolve));
          await admin.client('KILL', 'TYPE', 'normal');
          await new Promise((resolve) => setTimeout(resolve, 15));
        }
      });
      await untilRedisAnswers(app);
      await expectPurchaseAnswersTrue(saleId, results);
    });
  });

  describe('pay and cancel while Redis stalls', () => {
    it('pays an order iff an answer said so, charges it once, and refunds only a charge that did not pay it', async () => {
      const { saleId } = await createLiveSale(app, { stock: 60 });
      const buyers = buyerIds(60);
      const orderIds = await Promise.all(buyers.map((userId) => buyOrFail(app, saleId, userId)));
      const provider = app.app.get<TestPaymentProvider>(PAYMENT_PROVIDER);

      // Redis stalls right after the provider took the money, so the settle is what goes unanswered.
      let stalled: Promise<unknown> | undefined;
      const charge = provider.charge.bind(provider);
      jest.spyOn(provider, 'charge').mockImplementation(async (request) => {
        stalled ??= admin.client('PAUSE', PAUSE_MS, 'WRITE');
        await stalled;
        return charge(request);
      });
      const payAnswers = await Promise.all(
        buyers.map((userId, index) => withRetries(() => app.request('POST', `/api/orders/${orderIds[index]}/pay`, { token: app.token(userId), body: { method: 'test-card' } }))),
      );

      const untrue: string[] = [];
      const keys = app.keys.forSale(saleId);
      for (const [index, orderId] of orderIds.entries()) {
        const status = await app.redis.hget(keys.order(orderId), 'status');
        const answers = payAnswers[index].answers;
        const summary = `${orderId}: answers ${answers.map((answer) => `${answer.status} ${answer.code ?? ''}`).join(' → ')}, now ${status}, net charges ${provider.netChargesOf(orderId)}`;
        const paid = status === 'paid';
        if (paid !== changedOrUnknown(answers, 200) && !answers.some(isUnknown)) untrue.push(summary);
        if (provider.netChargesOf(orderId) !== (paid ? 1 : 0)) untrue.push(`${summary} (charged for an order that is not paid, or refunded one that is)`);
      }
      expect(untrue).toEqual([]);
      await assertInvariants(app, saleId);
    });

    it('cancels an order iff an answer said so', async () => {
      const { saleId } = await createLiveSale(app, { stock: 60 });
      const buyers = buyerIds(60);
      const orderIds = await Promise.all(buyers.map((userId) => buyOrFail(app, saleId, userId)));

      // Reads go on; every script waits, so the cancel itself is what goes unanswered.
      await admin.client('PAUSE', PAUSE_MS, 'WRITE');
      const cancelAnswers = await Promise.all(buyers.map((userId, index) => withRetries(() => app.request('POST', `/api/orders/${orderIds[index]}/cancel`, { token: app.token(userId) }))));

      const untrue: string[] = [];
      for (const [index, orderId] of orderIds.entries()) {
        const status = await app.redis.hget(app.keys.forSale(saleId).order(orderId), 'status');
        const answers = cancelAnswers[index].answers;
        if ((status === 'cancelled') !== changedOrUnknown(answers, 200) && !answers.some(isUnknown)) {
          untrue.push(`${orderId}: answers ${answers.map((answer) => `${answer.status} ${answer.code ?? ''}`).join(' → ')}, now ${status}`);
        }
      }
      expect(untrue).toEqual([]);
      const redisOrders = await redisOrdersOf(app, saleId);
      expect(redisOrders).toHaveLength(60);
      await assertInvariants(app, saleId);
    });
  });

  describe('while a sale is being rebuilt (its orders are back, its sale hash not yet)', () => {
    it('answers cancel and pay with 503 UNAVAILABLE, changes nothing, and never writes the sale hash half', async () => {
      const { saleId } = await createLiveSale(app, { stock: 5 });
      const [payer, canceller] = buyerIds(2);
      const paidOrderId = await buyOrFail(app, saleId, payer);
      const cancelledOrderId = await buyOrFail(app, saleId, canceller);
      const keys = app.keys.forSale(saleId);
      const provider = app.app.get<TestPaymentProvider>(PAYMENT_PROVIDER);
      // The rebuild writes a sale's orders (from the database) first and its `sale` hash last; this is the
      // moment in between.
      await waitForOrderWriter(app, saleId);
      const saleHash = await app.redis.hgetall(keys.sale);
      await app.redis.del(keys.sale);
      try {
        const cancel = await app.request('POST', `/api/orders/${cancelledOrderId}/cancel`, { token: app.token(canceller) });
        const pay = await app.request('POST', `/api/orders/${paidOrderId}/pay`, { token: app.token(payer), body: { method: 'test-card' } });

        expect([cancel.status, cancel.body.code]).toEqual([503, 'UNAVAILABLE']);
        expect([pay.status, pay.body.code]).toEqual([503, 'UNAVAILABLE']);
        expect(provider.netChargesOf(paidOrderId)).toBe(0);
        expect(await app.redis.hget(keys.order(cancelledOrderId), 'status')).toBe('pending_payment');
        // Either still missing, or whole (a rebuild may have run meanwhile): never counters alone.
        const after = await app.redis.hgetall(keys.sale);
        expect(Object.keys(after).length === 0 || after.startsAt !== undefined).toBe(true);
      } finally {
        if ((await app.redis.exists(keys.sale)) === 0) await app.redis.hset(keys.sale, saleHash);
      }
      await assertInvariants(app, saleId);
    });
  });
});

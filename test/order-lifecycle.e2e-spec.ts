import { OrderEntity } from '../src/orders/order.entity';
import { PAYMENT_LEASE_MS } from '../src/lifecycle/order-lifecycle.gateway';
import { assertInvariants, waitForOrderWriter } from './support/invariants';
import { createTestApp, TestApp, uniqueId } from './support/test-app';
import {
  buy,
  buyOrFail,
  cancel,
  createLiveSale,
  deadlineOf,
  fcodeHashOf,
  issueFcode,
  pay,
  paymentProvider,
  redisOrderStatus,
  saleCounters,
  statusEventsByOrder,
  sweeper,
  waitUntil,
} from './order-lifecycle.fixtures';

describe('Order lifecycle (pay and cancel)', () => {
  let app: TestApp;

  beforeAll(async () => {
    // The sweeper is driven by hand here, so that each test decides when expiry happens.
    app = await createTestApp({ env: { SWEEPER_ENABLED: 'false', SOLD_OUT_FLAG_TTL_MS: '600000' } });
  });

  afterAll(async () => {
    await app.close();
  });

  const chargesOf = (orderId: string) => paymentProvider(app).charges.filter((charge) => charge.orderId === orderId);

  describe('POST /api/orders/:orderId/pay', () => {
    describe('when the owner pays a pending order with the test card', () => {
      it('answers 200 with the order paid, and moves the counters, the deadline and the database', async () => {
        const { saleId } = await createLiveSale(app, { stock: 5, priceCents: 12_345 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        app.clock.advance(5_000);

        const response = await pay(app, orderId, buyer);

        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ id: orderId, saleId, userId: buyer, status: 'paid', amountCents: 12_345, paidAt: new Date(app.clock.now()).toISOString() });
        expect(Object.keys(response.body).sort()).toEqual(['amountCents', 'createdAt', 'currency', 'id', 'paidAt', 'payBy', 'pool', 'quantity', 'saleId', 'status', 'unitPriceCents', 'userId']);
        expect(chargesOf(orderId)).toEqual([expect.objectContaining({ amountCents: 12_345, currency: 'CNY', method: 'test-card', outcome: 'succeed', result: expect.objectContaining({ ok: true }) })]);
        const counters = await saleCounters(app, saleId);
        expect(counters).toMatchObject({ pending_payment: 0, paid: 1, unitsSold: 1, generalRemaining: 4 });
        expect(await deadlineOf(app, saleId, orderId)).toBeNull();
        expect((await app.request('GET', `/api/orders/${orderId}`, { token: app.token(buyer) })).body).toMatchObject({ status: 'paid' });
        await assertInvariants(app, saleId);
        const stored = await app.database.manager.findOneByOrFail(OrderEntity, { id: orderId });
        expect(stored).toMatchObject({ status: 'paid', paidAt: app.clock.now() });
      });
    });

    describe('when the test card declines', () => {
      it('refuses with 402 PAYMENT_DECLINED and leaves the order pending and payable', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        const payBy = await deadlineOf(app, saleId, orderId);

        const declined = await pay(app, orderId, buyer, { method: 'test-card', outcome: 'decline' });

        expect(declined.status).toBe(402);
        expect(declined.body).toMatchObject({ statusCode: 402, code: 'PAYMENT_DECLINED' });
        expect(await redisOrderStatus(app, saleId, orderId)).toBe('pending_payment');
        expect(await deadlineOf(app, saleId, orderId)).toBe(payBy);
        expect(await saleCounters(app, saleId)).toMatchObject({ pending_payment: 1, paid: 0, unitsSold: 1 });
        expect((await app.request('GET', `/api/orders/${orderId}`, { token: app.token(buyer) })).body).toMatchObject({ status: 'pending_payment', paidAt: null });

        const retried = await pay(app, orderId, buyer);
        expect(retried.status).toBe(200);
        expect(retried.body.status).toBe('paid');
        expect(chargesOf(orderId).map((charge) => charge.result.ok)).toEqual([false, true]);
        await assertInvariants(app, saleId);
      });
    });

    describe('when the order is already paid', () => {
      it('refuses with 409 ORDER_NOT_PENDING and charges nothing more', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        expect((await pay(app, orderId, buyer)).status).toBe(200);

        const second = await pay(app, orderId, buyer);

        expect(second.status).toBe(409);
        expect(second.body.code).toBe('ORDER_NOT_PENDING');
        expect(chargesOf(orderId)).toHaveLength(1);
        expect(await saleCounters(app, saleId)).toMatchObject({ paid: 1, pending_payment: 0 });
      });
    });

    describe('when many payments of one order arrive at once', () => {
      it('charges exactly once and answers the others 409 ORDER_NOT_PENDING', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);

        const responses = await Promise.all(Array.from({ length: 25 }, () => pay(app, orderId, buyer)));

        expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
        expect(responses.filter((response) => response.status === 409 && response.body.code === 'ORDER_NOT_PENDING')).toHaveLength(24);
        expect(chargesOf(orderId)).toHaveLength(1);
        expect(await saleCounters(app, saleId)).toMatchObject({ paid: 1, pending_payment: 0 });
        await assertInvariants(app, saleId);
      });
    });

    describe('when payBy has passed', () => {
      it('refuses with 409 ORDER_EXPIRED and charges nothing, before and after the sweeper expired it', async () => {
        const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 1, paymentWindowSeconds: 60 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        app.clock.advance(paymentWindowMs);

        const atDeadline = await pay(app, orderId, buyer);
        await sweeper(app).sweepSale(saleId);
        const afterExpiry = await pay(app, orderId, buyer);

        expect(atDeadline.status).toBe(409);
        expect(atDeadline.body.code).toBe('ORDER_EXPIRED');
        expect(afterExpiry.status).toBe(409);
        expect(afterExpiry.body.code).toBe('ORDER_EXPIRED');
        expect(chargesOf(orderId)).toHaveLength(0);
        expect(await redisOrderStatus(app, saleId, orderId)).toBe('expired');
      });

      it('still pays one millisecond before payBy', async () => {
        const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 1, paymentWindowSeconds: 60 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        app.clock.advance(paymentWindowMs - 1);

        expect((await pay(app, orderId, buyer)).status).toBe(200);
      });
    });

    describe('when the charge outlives its lease and the order expires meanwhile', () => {
      it('refunds the charge, answers 409 ORDER_EXPIRED and leaves the order expired with its units back', async () => {
        const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 1, paymentWindowSeconds: 60 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        app.clock.advance(paymentWindowMs - 1_000);
        const provider = paymentProvider(app);
        const realCharge = provider.charge.bind(provider);
        const slowCharge = jest.spyOn(provider, 'charge').mockImplementation(async (request) => {
          // While the provider hangs, the lease runs out and a sweeper passes.
          app.clock.advance(PAYMENT_LEASE_MS + 1);
          await sweeper(app).sweepSale(saleId);
          return realCharge(request);
        });

        try {
          const response = await pay(app, orderId, buyer);
          expect(response.status).toBe(409);
          expect(response.body.code).toBe('ORDER_EXPIRED');
        } finally {
          slowCharge.mockRestore();
        }
        expect(provider.netChargesOf(orderId)).toBe(0);
        expect(provider.refunds).toEqual(expect.arrayContaining([expect.objectContaining({ orderId })]));
        expect(await redisOrderStatus(app, saleId, orderId)).toBe('expired');
        expect(await saleCounters(app, saleId)).toMatchObject({ paid: 0, expired: 1, generalRemaining: 1, unitsSold: 0 });
        await assertInvariants(app, saleId);
      });
    });

    describe('when a payment is in flight', () => {
      it('keeps the sweeper away until the lease runs out, even past payBy', async () => {
        const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 1, paymentWindowSeconds: 60 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        app.clock.advance(paymentWindowMs - 1);
        const provider = paymentProvider(app);
        const realCharge = provider.charge.bind(provider);
        let sweptDuringCharge = -1;
        const slowCharge = jest.spyOn(provider, 'charge').mockImplementation(async (request) => {
          app.clock.advance(10_000);
          sweptDuringCharge = (await sweeper(app).sweepSale(saleId)).expired;
          return realCharge(request);
        });

        try {
          const response = await pay(app, orderId, buyer);
          expect(response.status).toBe(200);
        } finally {
          slowCharge.mockRestore();
        }
        expect(sweptDuringCharge).toBe(0);
        expect(await saleCounters(app, saleId)).toMatchObject({ paid: 1, expired: 0 });
        expect(await deadlineOf(app, saleId, orderId)).toBeNull();
      });

      it('answers a second payment and a cancel with 409 ORDER_NOT_PENDING', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        const provider = paymentProvider(app);
        const realCharge = provider.charge.bind(provider);
        const during: { pay?: number; payCode?: string; cancel?: number; cancelCode?: string } = {};
        const slowCharge = jest.spyOn(provider, 'charge').mockImplementation(async (request) => {
          const [second, cancelled] = await Promise.all([pay(app, orderId, buyer), cancel(app, orderId, buyer)]);
          Object.assign(during, { pay: second.status, payCode: second.body.code, cancel: cancelled.status, cancelCode: cancelled.body.code });
          return realCharge(request);
        });

        try {
          expect((await pay(app, orderId, buyer)).status).toBe(200);
        } finally {
          slowCharge.mockRestore();
        }
        expect(during).toEqual({ pay: 409, payCode: 'ORDER_NOT_PENDING', cancel: 409, cancelCode: 'ORDER_NOT_PENDING' });
        expect(chargesOf(orderId)).toHaveLength(1);
      });
    });

    describe('when the order belongs to someone else', () => {
      it('refuses with 403 FORBIDDEN and changes and charges nothing', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const owner = uniqueId('owner');
        const orderId = await buyOrFail(app, saleId, owner);

        const response = await pay(app, orderId, uniqueId('stranger'));

        expect(response.status).toBe(403);
        expect(response.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
        expect(chargesOf(orderId)).toHaveLength(0);
        expect(await redisOrderStatus(app, saleId, orderId)).toBe('pending_payment');
      });
    });

    describe('when the order does not exist', () => {
      it('answers 404 ORDER_NOT_FOUND for an unknown order of a live sale, of an unknown sale, and an id without a sale', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        for (const orderId of [`o_01jd8x3v7q9m2k4p6r8t0w2y4z.${saleId}`, 'o_01jd8x3v7q9m2k4p6r8t0w2y4z.s_unknown', 'no-sale-in-this-id']) {
          const response = await pay(app, orderId, buyer);
          expect({ orderId, status: response.status, code: response.body.code }).toEqual({ orderId, status: 404, code: 'ORDER_NOT_FOUND' });
        }
      });
    });

    describe('when the order is final and only the database still knows it', () => {
      it('answers from the database: 409 for its owner, 403 for anyone else', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        expect((await cancel(app, orderId, buyer)).status).toBe(200);
        await waitForOrderWriter(app, saleId);
        await app.redis.del(app.keys.forSale(saleId).order(orderId));

        const byOwner = await pay(app, orderId, buyer);
        const byStranger = await cancel(app, orderId, uniqueId('stranger'));

        expect([byOwner.status, byOwner.body.code]).toEqual([409, 'ORDER_NOT_PENDING']);
        expect([byStranger.status, byStranger.body.code]).toEqual([403, 'FORBIDDEN']);
      });
    });

    describe('when the request is malformed', () => {
      it.each([
        ['no body', undefined],
        ['no method', {}],
        ['an unknown method', { method: 'cash' }],
        ['an unknown outcome', { method: 'test-card', outcome: 'maybe' }],
        ['an outcome of the wrong type', { method: 'test-card', outcome: 1 }],
        ['an unknown field', { method: 'test-card', amountCents: 1 }],
      ])('refuses %s with 400 VALIDATION_FAILED and charges nothing', async (_case, body) => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);

        const response = await app.request('POST', `/api/orders/${orderId}/pay`, { token: app.token(buyer), body });

        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
        expect(response.body.details.length).toBeGreaterThan(0);
        expect(chargesOf(orderId)).toHaveLength(0);
      });

      it('refuses a malformed order id and Idempotency-Key with 400 VALIDATION_FAILED', async () => {
        const buyer = uniqueId('buyer');
        const badId = await app.request('POST', '/api/orders/o_1%20.s_1/pay', { token: app.token(buyer), body: { method: 'test-card' } });
        const badKey = await pay(app, 'o_1.s_1', buyer, { method: 'test-card' }, { 'idempotency-key': 'é'.repeat(3) });

        expect([badId.status, badId.body.code, badId.body.details[0].field]).toEqual([400, 'VALIDATION_FAILED', 'orderId']);
        expect([badKey.status, badKey.body.code, badKey.body.details[0].field]).toEqual([400, 'VALIDATION_FAILED', 'Idempotency-Key']);
      });

      it('refuses a request without a token with 401 UNAUTHENTICATED', async () => {
        const response = await app.request('POST', '/api/orders/o_1.s_1/pay', { body: { method: 'test-card' } });
        expect([response.status, response.body.code]).toEqual([401, 'UNAUTHENTICATED']);
      });
    });

    describe('with an Idempotency-Key', () => {
      it('answers a retry of a payment that went through with the same response and charges once', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        const headers = { 'idempotency-key': uniqueId('pay-key') };

        const first = await pay(app, orderId, buyer, { method: 'test-card' }, headers);
        app.clock.advance(1_000);
        const retry = await pay(app, orderId, buyer, { method: 'test-card' }, headers);

        expect(first.status).toBe(200);
        expect(retry.status).toBe(200);
        expect(retry.text).toBe(first.text);
        expect(retry.headers['idempotent-replayed']).toBe('true');
        expect(chargesOf(orderId)).toHaveLength(1);
      });

      it('refuses the same key with a different body with 422 IDEMPOTENCY_KEY_REUSED', async () => {
        const { saleId } = await createLiveSale(app, { stock: 2, perUserLimit: 2 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        const otherOrderId = await buyOrFail(app, saleId, buyer);
        const headers = { 'idempotency-key': uniqueId('pay-key') };
        expect((await pay(app, orderId, buyer, { method: 'test-card' }, headers)).status).toBe(200);

        const otherOrder = await pay(app, otherOrderId, buyer, { method: 'test-card' }, headers);
        const otherOutcome = await pay(app, orderId, buyer, { method: 'test-card', outcome: 'decline' }, headers);

        expect([otherOrder.status, otherOrder.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
        expect([otherOutcome.status, otherOutcome.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
        expect(chargesOf(otherOrderId)).toHaveLength(0);
        expect(await redisOrderStatus(app, saleId, otherOrderId)).toBe('pending_payment');
      });

      it('does not remember a decline: the same key pays once the card works', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        const headers = { 'idempotency-key': uniqueId('pay-key') };

        const declined = await pay(app, orderId, buyer, { method: 'test-card', outcome: 'decline' }, headers);
        const declinedAgain = await pay(app, orderId, buyer, { method: 'test-card', outcome: 'decline' }, headers);
        const paid = await pay(app, orderId, buyer, { method: 'test-card', outcome: 'succeed' }, headers);

        expect([declined.status, declinedAgain.status, paid.status]).toEqual([402, 402, 200]);
      });

      it('treats an omitted outcome as succeed', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        const headers = { 'idempotency-key': uniqueId('pay-key') };

        const first = await pay(app, orderId, buyer, { method: 'test-card' }, headers);
        const retry = await pay(app, orderId, buyer, { method: 'test-card', outcome: 'succeed' }, headers);

        expect([first.status, retry.status]).toEqual([200, 200]);
        expect(retry.headers['idempotent-replayed']).toBe('true');
      });
    });
  });

  describe('POST /api/orders/:orderId/cancel', () => {
    describe('when the owner cancels a pending order', () => {
      it('answers 200 cancelled, returns the unit, restores the allowance and announces the stock', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        const soldOut = await buy(app, saleId, uniqueId('late'));
        expect([soldOut.status, soldOut.body.code]).toEqual([409, 'SOLD_OUT']);
        expect((await app.request('GET', `/api/sales/${saleId}`)).body).toMatchObject({ phase: 'sold_out', remaining: 0 });
        const before = await saleCounters(app, saleId);

        const response = await cancel(app, orderId, buyer);

        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ id: orderId, status: 'cancelled', paidAt: null });
        const after = await saleCounters(app, saleId);
        expect(after).toMatchObject({ generalRemaining: 1, unitsSold: 0, pending_payment: 0, cancelled: 1, stockVersion: before.stockVersion + 1 });
        expect(await app.redis.hget(app.keys.forSale(saleId).buyers, buyer)).toBeNull();
        expect(await deadlineOf(app, saleId, orderId)).toBeNull();
        expect((await app.request('GET', `/api/sales/${saleId}`)).body).toMatchObject({ phase: 'live', remaining: 1 });
        const stats = await app.request('GET', `/api/admin/sales/${saleId}/stats`, { token: app.opsToken() });
        expect(stats.body).toMatchObject({ unitsSold: 0, orders: { pending_payment: 0, paid: 0, expired: 0, cancelled: 1 } });
        // The announcement clears this process's sold-out flag, so the unit is sold again at once.
        await waitUntil('a new buyer gets the returned unit', async () => (await buy(app, saleId, uniqueId('next'))).status === 201);
        await assertInvariants(app, saleId);
        expect((await app.database.manager.findOneByOrFail(OrderEntity, { id: orderId })).status).toBe('cancelled');
      });

      it('lets the buyer buy again within their limit', async () => {
        const { saleId } = await createLiveSale(app, { stock: 5, perUserLimit: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        expect((await buy(app, saleId, buyer)).body.code).toBe('LIMIT_REACHED');

        expect((await cancel(app, orderId, buyer)).status).toBe(200);

        expect((await buy(app, saleId, buyer)).status).toBe(201);
      });

      it('frees its F-code and returns the unit to the F-code pool', async () => {
        const { saleId } = await createLiveSale(app, { stock: 0, fcodeStock: 1 });
        const buyer = uniqueId('buyer');
        const code = await issueFcode(app, saleId, { userId: buyer });
        const orderId = await buyOrFail(app, saleId, buyer, { fcode: code });
        expect(await saleCounters(app, saleId)).toMatchObject({ fcodeRemaining: 0, fcodesRedeemed: 1 });

        expect((await cancel(app, orderId, buyer)).status).toBe(200);

        expect(await saleCounters(app, saleId)).toMatchObject({ fcodeRemaining: 1, generalRemaining: 0, fcodesRedeemed: 0 });
        expect(await app.redis.hget(app.keys.forSale(saleId).fcode(fcodeHashOf(app, code)), 'orderId')).toBe('');
        const again = await buy(app, saleId, buyer, { fcode: code });
        expect(again.status).toBe(201);
        expect(again.body.pool).toBe('fcode');
        await assertInvariants(app, saleId);
      });
    });

    describe('when the order is no longer pending', () => {
      it('refuses a second cancel and a cancel of a paid order with 409 ORDER_NOT_PENDING', async () => {
        const { saleId } = await createLiveSale(app, { stock: 2 });
        const cancelling = uniqueId('buyer');
        const paying = uniqueId('buyer');
        const cancelledId = await buyOrFail(app, saleId, cancelling);
        const paidId = await buyOrFail(app, saleId, paying);
        expect((await cancel(app, cancelledId, cancelling)).status).toBe(200);
        expect((await pay(app, paidId, paying)).status).toBe(200);

        const again = await cancel(app, cancelledId, cancelling);
        const ofPaid = await cancel(app, paidId, paying);
        const payCancelled = await pay(app, cancelledId, cancelling);

        expect([again.status, again.body.code]).toEqual([409, 'ORDER_NOT_PENDING']);
        expect([ofPaid.status, ofPaid.body.code]).toEqual([409, 'ORDER_NOT_PENDING']);
        expect([payCancelled.status, payCancelled.body.code]).toEqual([409, 'ORDER_NOT_PENDING']);
        expect(await saleCounters(app, saleId)).toMatchObject({ cancelled: 1, paid: 1, generalRemaining: 1, unitsSold: 1 });
        expect(chargesOf(cancelledId)).toHaveLength(0);
      });

      it('refuses a cancel of an expired order with 409 ORDER_EXPIRED', async () => {
        const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 1, paymentWindowSeconds: 60 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        app.clock.advance(paymentWindowMs);
        await sweeper(app).sweepSale(saleId);

        const response = await cancel(app, orderId, buyer);

        expect([response.status, response.body.code]).toEqual([409, 'ORDER_EXPIRED']);
        expect(await saleCounters(app, saleId)).toMatchObject({ expired: 1, cancelled: 0, generalRemaining: 1 });
      });
    });

    describe('when payBy has passed but no sweeper has expired the order yet', () => {
      it('expires it as the sweeper would and refuses with 409 ORDER_EXPIRED', async () => {
        const { saleId, paymentWindowMs } = await createLiveSale(app, { stock: 1, paymentWindowSeconds: 60 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        app.clock.advance(paymentWindowMs);

        const response = await cancel(app, orderId, buyer);

        expect([response.status, response.body.code]).toEqual([409, 'ORDER_EXPIRED']);
        expect(await redisOrderStatus(app, saleId, orderId)).toBe('expired');
        expect(await saleCounters(app, saleId)).toMatchObject({ expired: 1, cancelled: 0, generalRemaining: 1, unitsSold: 0 });
        await assertInvariants(app, saleId);
        expect((await app.database.manager.findOneByOrFail(OrderEntity, { id: orderId })).status).toBe('expired');
      });
    });

    describe('when the order belongs to someone else', () => {
      it('refuses with 403 FORBIDDEN and changes nothing', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const owner = uniqueId('owner');
        const orderId = await buyOrFail(app, saleId, owner);

        const response = await cancel(app, orderId, uniqueId('stranger'));

        expect([response.status, response.body.code]).toEqual([403, 'FORBIDDEN']);
        expect(await redisOrderStatus(app, saleId, orderId)).toBe('pending_payment');
        expect(await saleCounters(app, saleId)).toMatchObject({ generalRemaining: 0, cancelled: 0 });
      });
    });

    describe('when the order does not exist', () => {
      it('answers 404 ORDER_NOT_FOUND', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const response = await cancel(app, `o_01jd8x3v7q9m2k4p6r8t0w2y4z.${saleId}`, uniqueId('buyer'));
        expect([response.status, response.body.code]).toEqual([404, 'ORDER_NOT_FOUND']);
      });
    });

    describe('when many cancels of one order arrive at once', () => {
      it('releases it once', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);

        const responses = await Promise.all(Array.from({ length: 20 }, () => cancel(app, orderId, buyer)));

        expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
        expect(responses.filter((response) => response.body.code === 'ORDER_NOT_PENDING')).toHaveLength(19);
        expect(await saleCounters(app, saleId)).toMatchObject({ cancelled: 1, generalRemaining: 1, unitsSold: 0 });
        await assertInvariants(app, saleId);
      });
    });
  });

  describe('order transition metrics', () => {
    it('counts paid, declined and cancelled orders', async () => {
      const metricValue = async (event: string) => {
        const text = (await app.request('GET', '/metrics')).text;
        const line = text.split('\n').find((candidate) => candidate.startsWith(`sellout_order_transitions_total{event="${event}"}`));
        return line === undefined ? 0 : Number(line.split(' ').pop());
      };
      const before = { paid: await metricValue('paid'), declined: await metricValue('declined'), cancelled: await metricValue('cancelled') };
      const { saleId } = await createLiveSale(app, { stock: 2 });
      const payer = uniqueId('buyer');
      const canceller = uniqueId('buyer');
      const paidId = await buyOrFail(app, saleId, payer);
      const cancelledId = await buyOrFail(app, saleId, canceller);

      await pay(app, paidId, payer, { method: 'test-card', outcome: 'decline' });
      await pay(app, paidId, payer);
      await cancel(app, cancelledId, canceller);

      expect({ paid: await metricValue('paid'), declined: await metricValue('declined'), cancelled: await metricValue('cancelled') }).toEqual({
        paid: before.paid + 1,
        declined: before.declined + 1,
        cancelled: before.cancelled + 1,
      });
    });
  });
});

describe('Order lifecycle without the order writer', () => {
  it('pays and cancels orders that are only in the stream, and the database ends right once a writer runs', async () => {
    const withoutWriter = await createTestApp({ env: { ORDER_WRITER_ENABLED: 'false', SWEEPER_ENABLED: 'false' } });
    let saleId: string;
    let paidId: string;
    let cancelledId: string;
    try {
      ({ saleId } = await createLiveSale(withoutWriter, { stock: 3 }));
      const payer = uniqueId('buyer');
      const canceller = uniqueId('buyer');
      paidId = await buyOrFail(withoutWriter, saleId, payer);
      cancelledId = await buyOrFail(withoutWriter, saleId, canceller);
      expect(await withoutWriter.database.manager.countBy(OrderEntity, { saleId })).toBe(0);

      expect((await pay(withoutWriter, paidId, payer)).status).toBe(200);
      expect((await cancel(withoutWriter, cancelledId, canceller)).status).toBe(200);
      expect(await withoutWriter.database.manager.countBy(OrderEntity, { saleId })).toBe(0);
      // Nothing trims the stream without a writer: each order has exactly its one status event waiting.
      expect(await statusEventsByOrder(withoutWriter, saleId)).toEqual(
        new Map([
          [paidId, ['paid']],
          [cancelledId, ['cancelled']],
        ]),
      );
    } finally {
      await withoutWriter.close();
    }

    const withWriter = await createTestApp({ sqliteFile: withoutWriter.sqliteFile, env: { SWEEPER_ENABLED: 'false' } });
    try {
      await assertInvariants(withWriter, saleId);
      const stored = await withWriter.database.manager.findBy(OrderEntity, { saleId });
      expect(new Map(stored.map((order) => [order.id, order.status]))).toEqual(
        new Map([
          [paidId, 'paid'],
          [cancelledId, 'cancelled'],
        ]),
      );
      expect(stored.find((order) => order.id === paidId)?.paidAt).not.toBeNull();
    } finally {
      await withWriter.close();
    }
  });
});

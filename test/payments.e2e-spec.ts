import { createTestApp, TestApp, uniqueId } from './support/test-app';
import { buyOrFail, createLiveSale, pay, paymentProvider, redisOrderStatus, saleCounters } from './order-lifecycle.fixtures';

describe('Payments through the provider interface', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({ env: { SWEEPER_ENABLED: 'false' } });
  });

  afterAll(async () => {
    await app.close();
  });

  describe('POST /api/orders/:orderId/pay', () => {
    describe('when the payment provider cannot be reached', () => {
      it('answers 503 UNAVAILABLE and leaves the order payable at once, without waiting for the lease', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);
        const unreachable = jest.spyOn(paymentProvider(app), 'charge').mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));

        let failed;
        try {
          failed = await pay(app, orderId, buyer);
        } finally {
          unreachable.mockRestore();
        }

        expect([failed.status, failed.body.code]).toEqual([503, 'UNAVAILABLE']);
        expect(await redisOrderStatus(app, saleId, orderId)).toBe('pending_payment');
        expect(await saleCounters(app, saleId)).toMatchObject({ pending_payment: 1, paid: 0 });
        const retried = await pay(app, orderId, buyer);
        expect([retried.status, retried.body.status]).toEqual([200, 'paid']);
      });
    });

    describe('when the provider declines with a reason', () => {
      it('passes the reason on in the details of 402 PAYMENT_DECLINED', async () => {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        const buyer = uniqueId('buyer');
        const orderId = await buyOrFail(app, saleId, buyer);

        const declined = await pay(app, orderId, buyer, { method: 'test-card', outcome: 'decline' });

        expect(declined.status).toBe(402);
        expect(declined.body).toEqual({
          statusCode: 402,
          code: 'PAYMENT_DECLINED',
          message: expect.stringContaining(orderId),
          details: [{ field: 'payment', message: 'The test card was declined as requested' }],
          requestId: expect.any(String),
        });
      });
    });

    describe('when charged', () => {
      it('asks the provider for the order amount in its currency, by the order id', async () => {
        const { saleId } = await createLiveSale(app, { stock: 3, perUserLimit: 3, priceCents: 1_999 });
        const buyer = uniqueId('buyer');
        const response = await app.request('POST', `/api/sales/${saleId}/purchase`, { token: app.token(buyer), body: { quantity: 3 } });
        expect(response.status).toBe(201);

        expect((await pay(app, response.body.id, buyer)).status).toBe(200);

        expect(paymentProvider(app).charges.filter((charge) => charge.orderId === response.body.id)).toEqual([
          { orderId: response.body.id, amountCents: 5_997, currency: 'CNY', method: 'test-card', outcome: 'succeed', result: { ok: true, reference: expect.any(String) } },
        ]);
      });
    });
  });

  describe('GET /docs-json', () => {
    it('documents pay and cancel with their bearer auth, body and error statuses', async () => {
      const document = (await app.request('GET', '/docs-json')).body;
      const payRoute = document.paths['/api/orders/{orderId}/pay'].post;
      const cancelRoute = document.paths['/api/orders/{orderId}/cancel'].post;

      expect(payRoute.security).toEqual([{ bearer: [] }]);
      expect(cancelRoute.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(payRoute.responses).sort()).toEqual(['200', '400', '401', '402', '403', '404', '409', '422', '503']);
      expect(Object.keys(cancelRoute.responses).sort()).toEqual(['200', '400', '401', '403', '404', '409', '503']);
      expect(document.components.schemas.PaymentRequestDto.properties.method.enum).toEqual(['test-card']);
      expect(document.components.schemas.PaymentRequestDto.properties.outcome.enum).toEqual(['succeed', 'decline']);
    });
  });
});

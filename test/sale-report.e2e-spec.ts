import { OrderWriterService } from '../src/order-writer/order-writer.service';
import { OrderEntity } from '../src/orders/order.entity';
import { PaymentLedger } from '../src/lifecycle/payments/payment-ledger.repository';
import { buyOrFail, cancel, createLiveSale, pay } from './order-lifecycle.fixtures';
import { issueFcodes } from './fcodes.fixtures';
import { waitForOrderWriter } from './support/invariants';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

describe('GET /api/admin/sales/:saleId/report', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const report = (saleId: string, token = app.opsToken()) => app.request('GET', `/api/admin/sales/${saleId}/report`, { token });
  const checksOf = (body: { differences: { check: string }[] }) => body.differences.map((difference) => difference.check);

  describe('when a sale has paid, declined, cancelled, pending and F-code orders', () => {
    let saleId: string;
    const buyers = { anna: uniqueId('anna'), ben: uniqueId('ben'), cleo: uniqueId('cleo'), dev: uniqueId('dev') };
    const orders: Record<string, string> = {};

    beforeAll(async () => {
      ({ saleId } = await createLiveSale(app, { stock: 5, fcodeStock: 1, priceCents: 1000 }));
      const { codes } = await issueFcodes(app, saleId, { count: 2 });
      orders.anna = await buyOrFail(app, saleId, buyers.anna);
      orders.ben = await buyOrFail(app, saleId, buyers.ben);
      orders.cleo = await buyOrFail(app, saleId, buyers.cleo);
      orders.dev = await buyOrFail(app, saleId, buyers.dev, { fcode: codes[0] });
      await waitForOrderWriter(app, saleId);
      expect((await pay(app, orders.anna, buyers.anna)).status).toBe(200);
      expect((await pay(app, orders.ben, buyers.ben, { method: 'test-card', outcome: 'decline' })).status).toBe(402);
      expect((await cancel(app, orders.ben, buyers.ben)).status).toBe(200);
      expect((await pay(app, orders.dev, buyers.dev)).status).toBe(200);
      // Payments and cancellations reach the database through the same order pipeline.
      await waitForOrderWriter(app, saleId);
    });

    it('reconciles Redis, the database and the payments ledger, and finds them consistent', async () => {
      const response = await report(saleId);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        saleId,
        phase: 'live',
        units: { loaded: { general: 5, fcode: 1 }, loadedTotal: 6, remaining: { general: 3, fcode: 0 }, sold: 3, pending: 1, paid: 2, expired: 0, cancelled: 1, returned: 1 },
        orders: {
          redis: { pending_payment: 1, paid: 2, expired: 0, cancelled: 1, total: 4 },
          database: { pending_payment: 1, paid: 2, expired: 0, cancelled: 1, total: 4 },
        },
        payments: { charges: 2, chargedCents: 2000, declined: 1, refunds: 0, refundedCents: 0, netCents: 2000, paidOrdersCents: 2000, currency: 'CNY' },
        fcodes: { issued: 2, redeemed: 1, void: 0, expired: 0 },
        reservations: { redis: 0, database: 0 },
        buyers: { withOrders: 4, withLiveOrders: 3, withPaidOrders: 2 },
        soldOutAt: null,
        orderPipeline: { lag: 0, parked: 0 },
        consistent: true,
        differences: [],
        notes: [],
      });
    });

    it('names a refund of a paid order, which kept its money nowhere', async () => {
      await app.app.get(PaymentLedger).record({ orderId: orders.anna, kind: 'refund', outcome: 'succeeded', amountCents: 1000, currency: 'CNY', reference: 'manual-refund' });
      const body = (await report(saleId)).body;
      expect(body.consistent).toBe(false);
      expect(body.payments).toMatchObject({ refunds: 1, refundedCents: 1000, netCents: 1000, paidOrdersCents: 2000 });
      expect(checksOf(body).sort()).toEqual(['payments.amount', 'payments.order', 'payments.paidOrders']);
      expect(body.differences.find((difference: { check: string }) => difference.check === 'payments.order')).toMatchObject({
        orderId: orders.anna,
        expected: 1,
        actual: 0,
        message: expect.stringContaining(`Order ${orders.anna} is paid but has no charge net of refunds`),
      });
    });

    it('names an order row missing from the database', async () => {
      await app.database.manager.delete(OrderEntity, { id: orders.cleo });
      const body = (await report(saleId)).body;
      expect(body.consistent).toBe(false);
      expect(body.orders.database).toMatchObject({ pending_payment: 0, total: 3 });
      expect(checksOf(body)).toEqual(expect.arrayContaining(['orders.pending_payment', 'orders.total', 'units.sold', 'units.general']));
      expect(body.differences.find((difference: { check: string }) => difference.check === 'orders.pending_payment')).toMatchObject({
        expected: 1,
        actual: 0,
        message: 'Redis counts 1 order(s) pending_payment, the database 0',
      });
    });
  });

  it('tells when a sale sold out: the moment its last live unit was taken', async () => {
    const { saleId } = await createLiveSale(app, { stock: 2 });
    await buyOrFail(app, saleId, uniqueId('first'));
    app.clock.advance(1500);
    const last = await buyOrFail(app, saleId, uniqueId('last'));
    await waitForOrderWriter(app, saleId);
    const body = (await report(saleId)).body;
    const order = await app.database.manager.findOneByOrFail(OrderEntity, { id: last });
    expect(body).toMatchObject({ phase: 'sold_out', soldOutAt: new Date(order.createdAt).toISOString(), consistent: true });
  });

  it('says so while accepted orders have not reached the database yet', async () => {
    const writer = app.app.get(OrderWriterService);
    const { saleId } = await createLiveSale(app, { stock: 2 });
    await writer.stop();
    try {
      await buyOrFail(app, saleId, uniqueId('early'));
      const body = (await report(saleId)).body;
      expect(body.consistent).toBe(false);
      expect(body.orderPipeline).toEqual({ lag: 1, parked: 0 });
      expect(body.differences[0]).toMatchObject({ check: 'orderPipeline', expected: 0, actual: 1 });
      expect(checksOf(body)).toContain('orders.pending_payment');
    } finally {
      await writer.start();
    }
    await waitForOrderWriter(app, saleId);
    expect((await report(saleId)).body).toMatchObject({ consistent: true, orderPipeline: { lag: 0, parked: 0 } });
  });

  it('answers 404 SALE_NOT_FOUND, 400 for a malformed id, and 403 to buyers', async () => {
    expect((await report(uniqueId('s_missing'))).body.code).toBe('SALE_NOT_FOUND');
    const malformed = await report('bad%20id');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('VALIDATION_FAILED');
    const { saleId } = await createLiveSale(app, { stock: 1 });
    expect((await report(saleId, app.token('buyer-1'))).status).toBe(403);
  });
});

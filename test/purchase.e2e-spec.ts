import { MetricsService } from '../src/metrics/metrics.service';
import { assertInvariants } from './support/invariants';
import { buyerIds, createSale, openSale, purchase, reserveBuyers } from './support/sales';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

/** The purchase hot path under contention, on sales created through the admin API. */
describe('POST /api/sales/:saleId/purchase under contention', () => {
  let app: TestApp;

  beforeAll(async () => {
    // Thousands of requests injected in one tick queue their Redis replies behind each other's request
    // handling on this one event loop (and the machine is shared): a longer command timeout keeps that
    // test artefact from turning into 503s. Correctness, not latency, is under test here.
    app = await createTestApp({ env: { REDIS_COMMAND_TIMEOUT_MS: '30000' } });
  });
  afterAll(async () => {
    await app.close();
  });

  async function outcomeCounts(): Promise<Map<string, number>> {
    const { values } = await app.app.get(MetricsService).purchaseOutcomes.get();
    return new Map(values.map((sample) => [String(sample.labels.code), sample.value]));
  }

  describe('when 5,000 reserved buyers rush 1,000 units at once', () => {
    it('sells exactly 1,000, refuses the rest with SOLD_OUT, and persists every order once', async () => {
      const buyers = buyerIds(5000);
      const sale = await createSale(app, { stock: 1000, perUserLimit: 1 });
      await reserveBuyers(app, sale.id, buyers);
      openSale(app, sale);

      const outcomesBefore = await outcomeCounts();
      const responses = await Promise.all(buyers.map((buyer) => purchase(app, sale.id, buyer)));

      const accepted = responses.filter((response) => response.status === 201);
      const refused = responses.filter((response) => response.status !== 201);
      expect(accepted).toHaveLength(1000);
      expect(new Set(refused.map((response) => `${response.status} ${response.body.code}`))).toEqual(new Set(['409 SOLD_OUT']));
      expect(new Set(accepted.map((response) => response.body.userId)).size).toBe(1000);
      expect(await app.redis.hmget(app.keys.forSale(sale.id).sale, 'generalRemaining', 'unitsSold', 'accepted')).toEqual(['0', '1000', '1000']);

      const report = await assertInvariants(app, sale.id);
      expect(report.databaseOrders.map((order) => order.id).sort()).toEqual(accepted.map((response) => response.body.id).sort());

      const outcomesAfter = await outcomeCounts();
      expect((outcomesAfter.get('CREATED') ?? 0) - (outcomesBefore.get('CREATED') ?? 0)).toBe(1000);
      expect((outcomesAfter.get('SOLD_OUT') ?? 0) - (outcomesBefore.get('SOLD_OUT') ?? 0)).toBe(4000);
      const scrape = await app.request('GET', '/metrics');
      expect(scrape.text).toContain(`sellout_stock_remaining{sale="${sale.id}",pool="general"} 0`);
      expect(scrape.text).toMatch(/sellout_purchase_duration_seconds_count \d+/);

      const view = await app.request('GET', `/api/sales/${sale.id}`);
      expect(view.body).toMatchObject({ remaining: 0, fcodeRemaining: 0, phase: 'sold_out' });
    });
  });

  describe('when buyers without a reservation try alongside reserved ones', () => {
    it('sells only to the reserved ones', async () => {
      const reserved = buyerIds(100);
      const strangers = buyerIds(100, uniqueId('stranger'));
      const sale = await createSale(app, { stock: 150 });
      await reserveBuyers(app, sale.id, reserved);
      openSale(app, sale);
      const responses = await Promise.all([...reserved, ...strangers].map((buyer) => purchase(app, sale.id, buyer)));
      expect(responses.slice(0, 100).every((response) => response.status === 201)).toBe(true);
      expect(responses.slice(100).map((response) => response.body.code)).toEqual(strangers.map(() => 'NOT_ELIGIBLE'));
      const report = await assertInvariants(app, sale.id);
      expect(report.unitsSold).toBe(100);
    });
  });
});

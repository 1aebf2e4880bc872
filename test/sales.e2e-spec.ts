import { RedisKeys } from '../src/redis/redis-keys';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

const HOUR = 3600_000;
const iso = (epochMs: number) => new Date(epochMs).toISOString();

describe('Sales', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  function minimalSale(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { sku: uniqueId('sku-'), name: 'Redmi 1S', priceCents: 69900, stock: 100, startsAt: iso(app.clock.now() + HOUR), ...overrides };
  }

  async function createSale(overrides: Record<string, unknown> = {}) {
    const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: minimalSale(overrides) });
    expect(response.status).toBe(201);
    return response.body;
  }

  describe('POST /api/admin/sales', () => {
    describe('with only the required fields', () => {
      it('creates the sale with every default of the contract', async () => {
        const now = app.clock.now();
        const startsAt = now + HOUR;
        const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: minimalSale({ startsAt: iso(startsAt), sku: 'redmi-1s-grey' }) });

        expect(response.status).toBe(201);
        expect(response.body).toEqual({
          id: expect.stringMatching(/^s_[0-9a-z]{26}$/),
          sku: 'redmi-1s-grey',
          name: 'Redmi 1S',
          description: '',
          priceCents: 69900,
          currency: 'CNY',
          stock: 100,
          fcodeStock: 0,
          perUserLimit: 1,
          reservationRequired: true,
          reservationOpensAt: iso(now),
          reservationClosesAt: iso(startsAt),
          fcodeOpensAt: iso(startsAt),
          startsAt: iso(startsAt),
          endsAt: iso(startsAt + 24 * HOUR),
          paymentWindowSeconds: 900,
          paused: false,
          phase: 'reservation',
          remaining: 100,
          fcodeRemaining: 0,
          reservations: 0,
          serverTime: iso(now),
        });
      });

      it('lays out the Redis state as src/redis/redis-keys.ts describes', async () => {
        const sale = await createSale({ stock: 100, fcodeStock: 7, perUserLimit: 2, paymentWindowSeconds: 60, currency: 'EUR', reservationRequired: false });
        const hash = await app.redis.hgetall(RedisKeys.forSale(sale.id).sale);

        expect(hash).toEqual({
          startsAt: String(Date.parse(sale.startsAt)),
          endsAt: String(Date.parse(sale.endsAt)),
          fcodeOpensAt: String(Date.parse(sale.fcodeOpensAt)),
          reservationOpensAt: String(Date.parse(sale.reservationOpensAt)),
          reservationClosesAt: String(Date.parse(sale.reservationClosesAt)),
          paused: '0',
          reservationRequired: '0',
          perUserLimit: '2',
          priceCents: '69900',
          currency: 'EUR',
          paymentWindowMs: '60000',
          general: '100',
          fcode: '7',
          generalRemaining: '100',
          fcodeRemaining: '7',
          unitsSold: '0',
          accepted: '0',
          pending_payment: '0',
          paid: '0',
          expired: '0',
          cancelled: '0',
          fcodesRedeemed: '0',
          stockVersion: '0',
        });
        expect(await app.redis.sismember(RedisKeys.salesIndex, sale.id)).toBe(1);
      });
    });
  });

  describe('GET /api/admin/sales/:saleId', () => {
    it('returns the sale', async () => {
      const sale = await createSale();
      const response = await app.request('GET', `/api/admin/sales/${sale.id}`, { token: app.opsToken() });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(sale);
    });

    it('refuses an unknown sale with 404 SALE_NOT_FOUND', async () => {
      const response = await app.request('GET', '/api/admin/sales/s_unknown', { token: app.opsToken() });
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ statusCode: 404, code: 'SALE_NOT_FOUND' });
    });
  });

  describe('GET /api/sales/:saleId', () => {
    it('returns the sale without a token', async () => {
      const sale = await createSale();
      const response = await app.request('GET', `/api/sales/${sale.id}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(sale);
    });

    it('refuses an unknown sale with 404 SALE_NOT_FOUND', async () => {
      const response = await app.request('GET', '/api/sales/s_unknown');
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ statusCode: 404, code: 'SALE_NOT_FOUND' });
    });
  });
});

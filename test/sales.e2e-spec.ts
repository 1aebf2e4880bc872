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
          admission: 'open',
          queueOpensAt: iso(startsAt),
          admissionRatePerSecond: 1000,
          admissionTtlSeconds: 120,
          lotteryClosesAt: iso(startsAt),
          purchaseWindowSeconds: 3600,
          phase: 'reservation',
          remaining: 100,
          fcodeRemaining: 0,
          reservations: 0,
          serverTime: iso(now),
        });
      });

      it('lays out the Redis state as src/redis/redis-keys.ts describes', async () => {
        const sale = await createSale({ stock: 100, fcodeStock: 7, perUserLimit: 2, paymentWindowSeconds: 60, currency: 'EUR', reservationRequired: false });
        const hash = await app.redis.hgetall(app.keys.forSale(sale.id).sale);

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
          admission: 'open',
          admissionRatePerSecond: '1000',
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
        expect(await app.redis.sismember(app.keys.salesIndex, sale.id)).toBe(1);
      });
    });
  });

  describe('POST /api/admin/sales validation', () => {
    async function refusal(body: Record<string, unknown>) {
      const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', message: expect.any(String) });
      return (response.body.details as { field: string; message: string }[]).map((detail) => detail.field);
    }
    const startsAt = () => app.clock.now() + HOUR;

    it.each(['sku', 'name', 'priceCents', 'stock', 'startsAt'])('requires %s', async (field) => {
      const body = minimalSale();
      delete body[field];
      expect(await refusal(body)).toContain(field);
    });

    it.each([
      ['priceCents', -1],
      ['stock', -1],
      ['fcodeStock', -1],
      ['priceCents', 1.5],
      ['stock', 2.5],
      ['priceCents', '69900'],
      ['stock', '100'],
    ])('refuses %s = %j (integers ≥ 0)', async (field, value) => {
      expect(await refusal(minimalSale({ [field]: value }))).toContain(field);
    });

    it('accepts zero for priceCents, stock and fcodeStock when the pools add up to at least 1', async () => {
      await createSale({ priceCents: 0, stock: 0, fcodeStock: 1 });
      await createSale({ stock: 1, fcodeStock: 0 });
    });

    it('refuses stock + fcodeStock = 0', async () => {
      expect(await refusal(minimalSale({ stock: 0, fcodeStock: 0 }))).toEqual(['stock']);
    });

    it.each([0, 101, -1, 1.5])('refuses perUserLimit %j (1–100)', async (perUserLimit) => {
      expect(await refusal(minimalSale({ perUserLimit }))).toContain('perUserLimit');
    });

    it('accepts perUserLimit 1 and 100', async () => {
      expect((await createSale({ perUserLimit: 1 })).perUserLimit).toBe(1);
      expect((await createSale({ perUserLimit: 100 })).perUserLimit).toBe(100);
    });

    it.each([4, 86_401, 0, 900.5])('refuses paymentWindowSeconds %j (5–86,400)', async (paymentWindowSeconds) => {
      expect(await refusal(minimalSale({ paymentWindowSeconds }))).toContain('paymentWindowSeconds');
    });

    it('accepts paymentWindowSeconds 5 and 86,400', async () => {
      expect((await createSale({ paymentWindowSeconds: 5 })).paymentWindowSeconds).toBe(5);
      expect((await createSale({ paymentWindowSeconds: 86_400 })).paymentWindowSeconds).toBe(86_400);
    });

    it('refuses reservationOpensAt after reservationClosesAt', async () => {
      const start = startsAt();
      expect(await refusal(minimalSale({ startsAt: iso(start), reservationOpensAt: iso(start - 10), reservationClosesAt: iso(start - 20) }))).toEqual(['reservationOpensAt']);
    });

    it('refuses reservationClosesAt after startsAt', async () => {
      const start = startsAt();
      expect(await refusal(minimalSale({ startsAt: iso(start), reservationClosesAt: iso(start + 1) }))).toEqual(['reservationClosesAt']);
    });

    it('refuses fcodeOpensAt after startsAt', async () => {
      const start = startsAt();
      expect(await refusal(minimalSale({ startsAt: iso(start), fcodeOpensAt: iso(start + 1) }))).toEqual(['fcodeOpensAt']);
    });

    it('refuses endsAt equal to startsAt (startsAt < endsAt)', async () => {
      const start = startsAt();
      expect(await refusal(minimalSale({ startsAt: iso(start), endsAt: iso(start) }))).toEqual(['endsAt']);
    });

    it('accepts every time on its boundary (opens = closes = fcodeOpensAt = startsAt, endsAt 1 ms later)', async () => {
      const start = startsAt();
      const sale = await createSale({ startsAt: iso(start), reservationOpensAt: iso(start), reservationClosesAt: iso(start), fcodeOpensAt: iso(start), endsAt: iso(start + 1) });
      expect(sale.endsAt).toBe(iso(start + 1));
    });

    it('lists every broken rule at once', async () => {
      const start = startsAt();
      const fields = await refusal(minimalSale({ startsAt: iso(start), stock: 0, perUserLimit: 0, reservationClosesAt: iso(start + 1), endsAt: iso(start - 1), name: 'x'.repeat(201) }));
      expect(fields).toEqual(expect.arrayContaining(['perUserLimit', 'name']));
    });

    it.each([
      ['sku', 'x'.repeat(201)],
      ['name', 'x'.repeat(201)],
      ['description', 'x'.repeat(5001)],
      ['sku', ''],
      ['name', ''],
    ])('refuses %s of the wrong length', async (field, value) => {
      expect(await refusal(minimalSale({ [field]: value }))).toContain(field);
    });

    it('accepts strings at their maximum length', async () => {
      const sale = await createSale({ sku: 's'.repeat(200), name: 'n'.repeat(200), description: 'd'.repeat(5000) });
      expect(sale.description).toHaveLength(5000);
    });

    it.each(['cny', 'CN', 'CNYY', 'C1Y', 12])('refuses currency %j (three upper-case letters)', async (currency) => {
      expect(await refusal(minimalSale({ currency }))).toContain('currency');
    });

    it.each(['tomorrow', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01', '2026-01-01T10:00:00', 1767225600000])('refuses startsAt %j (ISO-8601 date-time with zone)', async (value) => {
      expect(await refusal(minimalSale({ startsAt: value }))).toContain('startsAt');
    });

    it('accepts a date-time with an offset and stores it in UTC', async () => {
      const sale = await createSale({ startsAt: '2099-06-01T12:00:00+02:00' });
      expect(sale.startsAt).toBe('2099-06-01T10:00:00.000Z');
    });

    it('refuses unknown fields', async () => {
      expect(await refusal(minimalSale({ color: 'grey' }))).toContain('color');
    });

    it('refuses null for an optional field instead of defaulting it', async () => {
      expect(await refusal(minimalSale({ fcodeStock: null }))).toContain('fcodeStock');
    });

    it('refuses reservationRequired that is not a boolean', async () => {
      expect(await refusal(minimalSale({ reservationRequired: 'yes' }))).toContain('reservationRequired');
    });
  });

  describe('phase', () => {
    it('follows the clock through every window boundary', async () => {
      const now = app.clock.now();
      const times = { reservationOpensAt: now + 1000, reservationClosesAt: now + 2000, fcodeOpensAt: now + 3000, startsAt: now + 4000, endsAt: now + 5000 };
      const sale = await createSale({ stock: 1, ...Object.fromEntries(Object.entries(times).map(([field, value]) => [field, iso(value)])) });
      const phaseAt = async (epochMs: number) => {
        app.clock.set(epochMs);
        const response = await app.request('GET', `/api/sales/${sale.id}`);
        expect(response.body.serverTime).toBe(iso(epochMs));
        return response.body.phase;
      };
      try {
        expect(await phaseAt(times.reservationOpensAt - 1)).toBe('upcoming');
        expect(await phaseAt(times.reservationOpensAt)).toBe('reservation');
        expect(await phaseAt(times.reservationClosesAt - 1)).toBe('reservation');
        expect(await phaseAt(times.reservationClosesAt)).toBe('waiting');
        expect(await phaseAt(times.fcodeOpensAt)).toBe('priority');
        expect(await phaseAt(times.startsAt - 1)).toBe('priority');
        expect(await phaseAt(times.startsAt)).toBe('live');
        expect(await phaseAt(times.endsAt - 1)).toBe('live');
        expect(await phaseAt(times.endsAt)).toBe('ended');
      } finally {
        app.clock.set(now);
      }
    });

    it('is sold_out while live once both pools are empty', async () => {
      const sale = await createSale({ stock: 1, fcodeStock: 0, reservationRequired: false });
      const now = app.clock.now();
      app.clock.set(Date.parse(sale.startsAt));
      try {
        const bought = await app.request('POST', `/api/sales/${sale.id}/purchase`, { token: app.token(uniqueId('buyer')), body: {} });
        expect(bought.status).toBe(201);
        expect((await app.request('GET', `/api/sales/${sale.id}`)).body).toMatchObject({ phase: 'sold_out', remaining: 0, fcodeRemaining: 0 });
      } finally {
        app.clock.set(now);
      }
    });
  });

  describe('GET /api/sales', () => {
    it('lists the sales not ended, soonest start first', async () => {
      const now = app.clock.now();
      // Far in the future so that other tests' sales (which start within hours) come first.
      const later = await createSale({ startsAt: iso(now + 900 * 24 * HOUR) });
      const sooner = await createSale({ startsAt: iso(now + 800 * 24 * HOUR) });
      const ended = await createSale({ startsAt: iso(now - 2 * HOUR), reservationOpensAt: iso(now - 3 * HOUR), endsAt: iso(now - HOUR) });

      const response = await app.request('GET', '/api/sales');

      expect(response.status).toBe(200);
      const ids = (response.body.items as { id: string }[]).map((sale) => sale.id);
      expect(ids).not.toContain(ended.id);
      expect(ids.indexOf(sooner.id)).toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(sooner.id)).toBeLessThan(ids.indexOf(later.id));
      const starts = (response.body.items as { startsAt: string }[]).map((sale) => Date.parse(sale.startsAt));
      expect(starts).toEqual([...starts].sort((left, right) => left - right));
      expect(response.body.items.find((sale: { id: string }) => sale.id === sooner.id)).toEqual({ ...sooner, serverTime: expect.any(String) });
    });

    it('drops a sale at its endsAt', async () => {
      const now = app.clock.now();
      const sale = await createSale({ startsAt: iso(now + HOUR), endsAt: iso(now + 2 * HOUR) });
      try {
        app.clock.set(now + 2 * HOUR - 1);
        expect((await app.request('GET', '/api/sales')).body.items.map((item: { id: string }) => item.id)).toContain(sale.id);
        app.clock.set(now + 2 * HOUR);
        expect((await app.request('GET', '/api/sales')).body.items.map((item: { id: string }) => item.id)).not.toContain(sale.id);
      } finally {
        app.clock.set(now);
      }
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

  describe('GET /docs-json', () => {
    it('documents every sales and reservations route, with bearer auth where a token is needed', async () => {
      const { paths } = (await app.request('GET', '/docs-json')).body;
      const documented: [string, string, boolean][] = [
        ['post', '/api/admin/sales', true],
        ['get', '/api/admin/sales/{saleId}', true],
        ['patch', '/api/admin/sales/{saleId}', true],
        ['post', '/api/admin/sales/{saleId}/stock', true],
        ['post', '/api/admin/sales/{saleId}/pause', true],
        ['post', '/api/admin/sales/{saleId}/resume', true],
        ['get', '/api/admin/sales/{saleId}/stats', true],
        ['post', '/api/admin/sales/{saleId}/reservations/import', true],
        ['post', '/api/sales/{saleId}/reservations', true],
        ['get', '/api/sales/{saleId}/reservations/me', true],
        ['get', '/api/sales', false],
        ['get', '/api/sales/{saleId}', false],
      ];
      for (const [method, path, needsToken] of documented) {
        const operation = paths[path]?.[method];
        expect({ method, path, summary: operation?.summary, tagged: operation?.tags?.length > 0, bearer: Boolean(operation?.security) }).toEqual({ method, path, summary: expect.any(String), tagged: true, bearer: needsToken });
      }
      const createSchema = paths['/api/admin/sales'].post.requestBody.content['application/json'].schema.$ref;
      expect(createSchema).toMatch(/CreateSaleDto$/);
    });
  });
});

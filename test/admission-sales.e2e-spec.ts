import { SalesService } from '../src/sales/sales.service';
import { createSale } from './support/sales';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

/** The admission settings of a sale: defaults, validation, PATCH before fcodeOpensAt, and the sale view. */
describe('Sale admission settings', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const iso = (epochMs: number) => new Date(epochMs).toISOString();
  const create = (fields: Record<string, unknown>) =>
    app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: { sku: uniqueId('sku-'), name: 'Phone', priceCents: 100, stock: 10, startsAt: iso(app.clock.now() + 3600_000), ...fields } });

  it('defaults to an open sale, with the waiting room and lottery times following the sale', async () => {
    const startsAt = app.clock.now() + 3600_000;
    const response = await create({ startsAt: iso(startsAt), reservationClosesAt: iso(startsAt - 600_000) });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      admission: 'open',
      queueOpensAt: iso(startsAt - 600_000),
      admissionRatePerSecond: 1000,
      admissionTtlSeconds: 120,
      lotteryClosesAt: iso(startsAt),
      purchaseWindowSeconds: 3600,
    });
    expect(response.body).not.toHaveProperty('lottery');
  });

  it('keeps the settings it is given, and shows a lottery sale its (not yet committed) seed hash', async () => {
    const startsAt = app.clock.now() + 3600_000;
    const response = await create({ startsAt: iso(startsAt), admission: 'lottery', lotteryClosesAt: iso(startsAt - 60_000), purchaseWindowSeconds: 600, admissionTtlSeconds: 30, admissionRatePerSecond: 50 });
    expect(response.body).toMatchObject({ admission: 'lottery', lotteryClosesAt: iso(startsAt - 60_000), purchaseWindowSeconds: 600, admissionTtlSeconds: 30, admissionRatePerSecond: 50, lottery: { seedHash: null, drawn: false } });
    const view = await app.request('GET', `/api/sales/${response.body.id}`);
    expect(view.body).toMatchObject({ admission: 'lottery', lottery: { seedHash: null } });
  });

  it.each([
    ['an unknown mode', { admission: 'fifo' }, 'admission'],
    ['a rate of 0', { admissionRatePerSecond: 0 }, 'admissionRatePerSecond'],
    ['a TTL of 5 s', { admissionTtlSeconds: 5 }, 'admissionTtlSeconds'],
    ['a purchase window of 10 s', { purchaseWindowSeconds: 10 }, 'purchaseWindowSeconds'],
    ['a waiting room opening after the start', { queueOpensAt: iso(Date.now() + 7200_000) }, 'queueOpensAt'],
    ['entries closing after the start', { lotteryClosesAt: iso(Date.now() + 7200_000) }, 'lotteryClosesAt'],
    ['a null mode', { admission: null }, 'admission'],
  ])('refuses %s with 400 VALIDATION_FAILED naming the field', async (_case, fields, field) => {
    const response = await create(fields);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect(response.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('changes the mode by PATCH before fcodeOpensAt and refuses with SALE_LOCKED after', async () => {
    const sale = await createSale(app);
    const patch = (body: unknown) => app.request('PATCH', `/api/admin/sales/${sale.id}`, { token: app.opsToken(), body });
    const changed = await patch({ admission: 'queue', admissionRatePerSecond: 20 });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ admission: 'queue', admissionRatePerSecond: 20 });
    expect(await app.redis.hmget(app.keys.forSale(sale.id).sale, 'admission', 'admissionRatePerSecond')).toEqual(['queue', '20']);
    expect((await app.request('GET', `/api/admin/sales/${sale.id}`, { token: app.opsToken() })).body.admission).toBe('queue');
    app.clock.set(sale.fcodeOpensAt);
    const locked = await patch({ admission: 'open' });
    expect(locked.status).toBe(409);
    expect(locked.body.code).toBe('SALE_LOCKED');
  });

  /**
   * Two PATCHes that each keep the sale valid but together would not: one moves the start earlier
   * while the other, landing between its read and its write, moves the waiting room's opening (or the
   * lottery's close) past that new start. The first must notice the change and re-validate.
   */
  it.each([
    ['queueOpensAt', 'queue'],
    ['lotteryClosesAt', 'lottery'],
  ] as const)('re-validates a PATCH when another PATCH changed %s since it read the sale', async (field, admission) => {
    const startsAt = app.clock.now() + 3600_000;
    const sale = (await create({ startsAt: iso(startsAt), reservationClosesAt: iso(startsAt - 1800_000), fcodeOpensAt: iso(startsAt - 1800_000), admission })).body;
    const patch = (body: unknown) => app.request('PATCH', `/api/admin/sales/${sale.id}`, { token: app.opsToken(), body });
    const sales = app.app.get(SalesService);
    const getSale = sales.getSale.bind(sales);
    const spy = jest.spyOn(sales, 'getSale').mockImplementationOnce(async (saleId) => {
      const read = await getSale(saleId);
      // The other PATCH commits after this one has read the row.
      expect((await patch({ [field]: iso(startsAt - 600_000) })).status).toBe(200);
      return read;
    });
    try {
      const earlier = await patch({ startsAt: iso(startsAt - 1200_000) });
      expect(earlier.status).toBe(400);
      expect(earlier.body.details).toEqual([expect.objectContaining({ field })]);
    } finally {
      spy.mockRestore();
    }
    const view = (await app.request('GET', `/api/admin/sales/${sale.id}`, { token: app.opsToken() })).body;
    expect(view).toMatchObject({ startsAt: iso(startsAt), [field]: iso(startsAt - 600_000) });
  });
});

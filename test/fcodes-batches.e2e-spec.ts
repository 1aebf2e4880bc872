import { buy, issueFcodes, parseCsv } from './fcodes.fixtures';
import { createSale, openSale } from './support/sales';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

const MINUTE = 60_000;

describe('GET /api/admin/sales/:saleId/fcodes/batches', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const batches = (saleId: string, token = app.opsToken()) => app.request('GET', `/api/admin/sales/${saleId}/fcodes/batches`, { token });
  const voidCode = (code: string) => app.request('POST', `/api/admin/fcodes/${encodeURIComponent(code)}/void`, { token: app.opsToken() });

  describe('when a sale has batches whose codes are used, voided and expired', () => {
    it('lists them newest first with their redeemed, void and expired counts, each code counted once', async () => {
      const sale = await createSale(app, { stock: 10, fcodeStock: 10 });
      const unbound = await issueFcodes(app, sale.id, { count: 3, expiresAt: sale.startsAt + 10 * MINUTE });
      app.clock.advance(1000);
      const [anna, ben] = [uniqueId('anna'), uniqueId('ben')];
      const bound = await issueFcodes(app, sale.id, { userIds: [anna, ben] });
      const empty = await batches(sale.id);
      expect(empty.status).toBe(200);
      expect(empty.body.items).toEqual([
        { batchId: bound.batchId, count: 2, bound: 2, expiresAt: null, createdAt: expect.any(String), redeemed: 0, void: 0, expired: 0 },
        { batchId: unbound.batchId, count: 3, bound: 0, expiresAt: new Date(sale.startsAt + 10 * MINUTE).toISOString(), createdAt: expect.any(String), redeemed: 0, void: 0, expired: 0 },
      ]);

      openSale(app, sale);
      expect((await buy(app, sale.id, uniqueId('carl'), { fcode: unbound.codes[0] })).status).toBe(201);
      expect((await voidCode(unbound.codes[1])).status).toBe(200);
      expect((await buy(app, sale.id, anna, { fcode: bound.codes[0] })).status).toBe(201);
      expect((await voidCode(bound.codes[1])).status).toBe(200);
      // Past the unbound batch's expiry: its unused code has expired; the redeemed one still backs its order.
      app.clock.set(sale.startsAt + 11 * MINUTE);

      const response = await batches(sale.id);
      expect(response.body.items.map((batch: Record<string, unknown>) => [batch.batchId, batch.redeemed, batch.void, batch.expired])).toEqual([
        [bound.batchId, 1, 1, 0],
        [unbound.batchId, 1, 1, 1],
      ]);

      // The counts agree with the statuses of the CSV export, of all codes and of one batch.
      const all = parseCsv((await app.request('GET', `/api/admin/sales/${sale.id}/fcodes.csv`, { token: app.opsToken() })).text).rows;
      expect(all.map((row) => row.status).sort()).toEqual(['expired', 'redeemed', 'redeemed', 'void', 'void']);
      const one = parseCsv((await app.request('GET', `/api/admin/sales/${sale.id}/fcodes.csv?batchId=${bound.batchId}`, { token: app.opsToken() })).text).rows;
      expect(one.map((row) => row.userId).sort()).toEqual([anna, ben].sort());
    });
  });

  it('answers an empty list for a sale without codes', async () => {
    const sale = await createSale(app);
    expect((await batches(sale.id)).body).toEqual({ items: [] });
  });

  it('answers 404 SALE_NOT_FOUND, 400 for a malformed id, and 403 to buyers', async () => {
    expect((await batches(uniqueId('s_missing'))).body.code).toBe('SALE_NOT_FOUND');
    const malformed = await batches('bad%20id');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('VALIDATION_FAILED');
    const sale = await createSale(app);
    expect((await batches(sale.id, app.token('buyer-1'))).status).toBe(403);
  });
});

import { ReservationEntity } from '../src/reservations/reservation.entity';
import { SaleEntity } from '../src/sales/sale.entity';
import { assertInvariants } from './support/invariants';
import { buyerIds, purchase } from './support/sales';
import { createTestApp, TestApp, TestResponse, uniqueId } from './support/test-app';

const HOUR = 3600_000;
const iso = (epochMs: number) => new Date(epochMs).toISOString();

/**
 * The embedded database has one connection; overlapping transactions on it fail with "cannot start a
 * transaction within a transaction" unless writes are serialised. This drives many kinds of concurrent
 * writes through the API at once (it runs against PostgreSQL too, where it must hold just the same).
 */
describe('The database under concurrent API writes', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  async function createSale(overrides: Record<string, unknown> = {}) {
    const now = app.clock.now();
    const body = { sku: uniqueId('sku-'), name: 'Concurrent', priceCents: 100, stock: 100, reservationOpensAt: iso(now), startsAt: iso(now + HOUR), ...overrides };
    const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body });
    expect(response.status).toBe(201);
    return response.body;
  }

  function expectNoServerErrors(responses: TestResponse[]): void {
    const failures = responses.filter((response) => response.status >= 500).map((response) => `${response.status} ${response.text.slice(0, 200)}`);
    expect(failures).toEqual([]);
  }

  it('keeps every row of 200 reservations, 10 imports, 20 stock changes, pauses, PATCHes and new sales sent at once', async () => {
    const sale = await createSale();
    const reservers = buyerIds(200, uniqueId('r'));
    const imported = Array.from({ length: 10 }, (_, index) => buyerIds(100, uniqueId(`i${index}-`)));
    // Half of the first import are also reserving buyers: each must end up reserved exactly once.
    imported[0] = [...reservers.slice(0, 50), ...imported[0].slice(0, 50)];
    const stockChanges = [5, -3, 10, -20, 7, 1, -1, 2, -2, 30, -4, 6, -6, 8, -8, 9, -9, 3, -30, 12];

    const responses = await Promise.all([
      ...reservers.map((userId) => app.request('POST', `/api/sales/${sale.id}/reservations`, { token: app.token(userId) })),
      ...imported.map((userIds) => app.request('POST', `/api/admin/sales/${sale.id}/reservations/import`, { token: app.opsToken(), body: { userIds } })),
      ...stockChanges.map((add) => app.request('POST', `/api/admin/sales/${sale.id}/stock`, { token: app.opsToken(), body: { add, pool: 'general' } })),
      ...['pause', 'resume', 'pause', 'resume'].map((action) => app.request('POST', `/api/admin/sales/${sale.id}/${action}`, { token: app.opsToken() })),
      ...[1, 2, 3, 4, 5].map((perUserLimit) => app.request('PATCH', `/api/admin/sales/${sale.id}`, { token: app.opsToken(), body: { perUserLimit } })),
      ...[1, 2, 3, 4, 5].map(() => app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: { sku: uniqueId('sku-'), name: 'Side', priceCents: 1, stock: 1, startsAt: iso(app.clock.now() + HOUR) } })),
      ...reservers.slice(0, 20).map((userId) => app.request('GET', `/api/sales/${sale.id}/reservations/me`, { token: app.token(userId) })),
    ]);

    expectNoServerErrors(responses);
    expect(responses.filter((response) => response.status >= 400).map((response) => response.text)).toEqual(
      // Reading one's own reservation may come before it is made; nothing else may fail.
      responses.filter((response) => response.status === 404 && response.body.code === 'RESERVATION_NOT_FOUND').map((response) => response.text),
    );
    const expectedReserved = new Set([...reservers, ...imported.flat()]);
    expect(await app.database.manager.count(ReservationEntity, { where: { saleId: sale.id } })).toBe(expectedReserved.size);
    expect(await app.redis.hlen(app.keys.forSale(sale.id).reservations)).toBe(expectedReserved.size);
    const importTotals = responses.slice(reservers.length, reservers.length + imported.length).map((response) => response.body);
    expect(importTotals.reduce((sum, totals) => sum + totals.imported + totals.duplicates, 0)).toBe(1000);

    const stored = await app.database.manager.findOneByOrFail(SaleEntity, { id: sale.id });
    const [general, remaining, paused] = await app.redis.hmget(app.keys.forSale(sale.id).sale, 'general', 'generalRemaining', 'paused');
    expect(stored.stock).toBe(Number(general));
    expect(Number(remaining)).toBe(Number(general));
    expect(stored.stock).toBeGreaterThanOrEqual(0);
    expect(paused).toBe(stored.paused ? '1' : '0');
  });

  it('keeps every order while purchases, stock changes and reservation imports overlap', async () => {
    const sale = await createSale({ stock: 60, reservationRequired: false, perUserLimit: 1 });
    const now = app.clock.now();
    app.clock.set(Date.parse(sale.startsAt));
    try {
      const buyers = buyerIds(150);
      const responses = await Promise.all([
        ...buyers.map((buyer) => purchase(app, sale.id, buyer)),
        ...[10, -5, 10, -5].map((add) => app.request('POST', `/api/admin/sales/${sale.id}/stock`, { token: app.opsToken(), body: { add, pool: 'general' } })),
        ...[0, 1, 2].map((index) => app.request('POST', `/api/admin/sales/${sale.id}/reservations/import`, { token: app.opsToken(), body: { userIds: buyerIds(200, `late${index}`) } })),
      ]);
      expectNoServerErrors(responses);
      const report = await assertInvariants(app, sale.id);
      expect(report.databaseOrders).toHaveLength(responses.filter((response) => response.status === 201).length);
    } finally {
      app.clock.set(now);
    }
  });

  it('still holds every row after a restart on the same database', async () => {
    const sale = await createSale();
    const ids = buyerIds(300);
    await Promise.all([0, 100, 200].map((start) => app.request('POST', `/api/admin/sales/${sale.id}/reservations/import`, { token: app.opsToken(), body: { userIds: ids.slice(start, start + 100) } })));
    await app.close();
    app = await createTestApp({ clock: app.clock, sqliteFile: app.sqliteFile });

    expect(await app.database.manager.count(ReservationEntity, { where: { saleId: sale.id } })).toBe(300);
    expect((await app.request('GET', `/api/sales/${sale.id}`)).body.reservations).toBe(300);
  });
});

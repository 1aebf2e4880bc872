import { TimelineRecorder } from '../src/live/timeline-recorder';
import { TimelineRepository } from '../src/live/timeline.repository';
import { buyerIds, createSale, openSale, purchase, reserveBuyers } from './support/sales';
import { createTestApp, TestApp } from './support/test-app';
import { holdWriteLock } from './support/write-lock';

/** Sums each outcome over every point of a timeline. */
function totals(points: { attempts: Record<string, number> }[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const point of points) for (const [outcome, count] of Object.entries(point.attempts)) sums[outcome] = (sums[outcome] ?? 0) + count;
  return sums;
}

describe('Sale timeline: GET /api/admin/sales/:saleId/timeline', () => {
  const apps: TestApp[] = [];
  const start = async (options: Parameters<typeof createTestApp>[0] = {}) => {
    const app = await createTestApp(options);
    apps.push(app);
    return app;
  };
  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
  });

  const timeline = (app: TestApp, saleId: string, query = '') => app.request('GET', `/api/admin/sales/${saleId}/timeline${query}`, { token: app.opsToken() });

  it('counts every purchase attempt by second and outcome, with the units sold, and keeps them after the sale ends', async () => {
    const app = await start();
    const [first, second, third, stranger] = buyerIds(4);
    const sale = await createSale(app, { stock: 2 });
    await reserveBuyers(app, sale.id, [first, second, third]);
    openSale(app, sale);
    expect((await purchase(app, sale.id, first)).status).toBe(201);
    expect((await purchase(app, sale.id, stranger)).status).toBe(403);
    app.clock.advance(1000);
    expect((await purchase(app, sale.id, second)).status).toBe(201);
    expect((await purchase(app, sale.id, third)).status).toBe(409);
    expect((await purchase(app, sale.id, third)).status).toBe(409);
    await app.app.get(TimelineRecorder).flush();

    app.clock.set(sale.endsAt + 60_000);
    const response = await timeline(app, sale.id);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ saleId: sale.id, stepSeconds: 1 });
    const startSecond = Math.floor(sale.startsAt / 1000) * 1000;
    expect(response.body.points).toEqual([
      { at: new Date(startSecond).toISOString(), unitsSold: 2, attempts: { CREATED: 1, NOT_ELIGIBLE: 1 } },
      { at: new Date(startSecond + 1000).toISOString(), unitsSold: 2, attempts: { CREATED: 1, SOLD_OUT: 2 } },
    ]);

    const wide = await timeline(app, sale.id, '?stepSeconds=3600');
    expect(wide.status).toBe(200);
    expect(wide.body.points).toHaveLength(1);
    expect(wide.body.points[0].attempts).toEqual({ CREATED: 2, NOT_ELIGIBLE: 1, SOLD_OUT: 2 });
  });

  it('adds up the counts of several processes for the same seconds', async () => {
    const one = await start();
    const other = await start({ sqliteFile: one.sqliteFile });
    const buyers = buyerIds(6);
    const sale = await createSale(one, { stock: 10, reservationRequired: false });
    openSale(one, sale);
    other.clock.set(sale.startsAt);
    for (const [index, buyer] of buyers.entries()) expect((await purchase(index % 2 === 0 ? one : other, sale.id, buyer)).status).toBe(201);
    await Promise.all([one.app.get(TimelineRecorder).flush(), other.app.get(TimelineRecorder).flush()]);
    // A second flush of nothing new adds nothing.
    await one.app.get(TimelineRecorder).flush();
    const response = await timeline(other, sale.id);
    expect(response.status).toBe(200);
    expect(totals(response.body.points)).toEqual({ CREATED: 6 });
    expect(response.body.points.at(-1).unitsSold).toBe(6);
  });

  it('flushes the last counts when the process closes', async () => {
    const one = await start();
    const sale = await createSale(one, { stock: 5, reservationRequired: false });
    openSale(one, sale);
    expect((await purchase(one, sale.id, buyerIds(1)[0])).status).toBe(201);
    await one.close();
    apps.splice(apps.indexOf(one), 1);
    const reader = await start({ sqliteFile: one.sqliteFile });
    const response = await timeline(reader, sale.id);
    expect(totals(response.body.points)).toEqual({ CREATED: 1 });
  });

  it('is empty for a sale nobody tried to buy yet', async () => {
    const app = await start();
    const sale = await createSale(app);
    expect((await timeline(app, sale.id)).body).toEqual({ saleId: sale.id, stepSeconds: 1, points: [] });
  });

  describe('when the request is wrong', () => {
    it.each(['0', '-1', '1.5', 'abc', '86401', '', '01'])('answers 400 VALIDATION_FAILED for stepSeconds=%s', async (stepSeconds) => {
      const app = await start();
      const sale = await createSale(app);
      const response = await timeline(app, sale.id, `?stepSeconds=${stepSeconds}`);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'stepSeconds' })] });
    });

    it('answers 404 SALE_NOT_FOUND for an unknown sale, 400 for a malformed id, and 403 to a buyer', async () => {
      const app = await start();
      expect((await timeline(app, 's_unknown')).body).toMatchObject({ statusCode: 404, code: 'SALE_NOT_FOUND' });
      expect((await timeline(app, 'bad%20id')).body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      const sale = await createSale(app);
      expect((await app.request('GET', `/api/admin/sales/${sale.id}/timeline`, { token: app.token('buyer-1') })).body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
    });
  });
});

(process.env.DATABASE_URL ? describe.skip : describe)('Sale timeline on the embedded database', () => {
  it('keeps counts flushed while another caller holds a transaction open that then rolls back', async () => {
    const app = await createTestApp();
    try {
      const sale = await createSale(app, { stock: 1, reservationRequired: false });
      const held = await holdWriteLock(app);
      // The one connection is inside that transaction now: a write outside transaction() would join it.
      const adding = app.app.get(TimelineRepository).add([{ saleId: sale.id, atSecond: Math.floor(sale.startsAt / 1000), outcome: 'CREATED', attempts: 3, unitsSold: 1 }]);
      await new Promise((resolve) => setImmediate(resolve));
      await held.rollBack();
      await adding;

      const steps = await app.app.get(TimelineRepository).steps(sale.id, 1);
      expect(steps.map((step) => [step.outcome, Number(step.attempts)])).toEqual([['CREATED', 3]]);
    } finally {
      await app.close();
    }
  });
});

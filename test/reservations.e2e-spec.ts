import { ReservationEntity } from '../src/reservations/reservation.entity';
import { buyerIds, purchase } from './support/sales';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

const HOUR = 3600_000;
const iso = (epochMs: number) => new Date(epochMs).toISOString();

describe('Reservations', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  /** A sale whose reservations open in one hour and close in two; it starts in three. */
  async function createSale(overrides: Record<string, unknown> = {}) {
    const now = app.clock.now();
    const body = {
      sku: uniqueId('sku-'),
      name: 'Redmi Note',
      priceCents: 99900,
      stock: 10,
      reservationOpensAt: iso(now + HOUR),
      reservationClosesAt: iso(now + 2 * HOUR),
      startsAt: iso(now + 3 * HOUR),
      ...overrides,
    };
    const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body });
    expect(response.status).toBe(201);
    return response.body;
  }

  const reserve = (saleId: string, userId: string) => app.request('POST', `/api/sales/${saleId}/reservations`, { token: app.token(userId) });
  const importIds = (saleId: string, body: unknown) => app.request('POST', `/api/admin/sales/${saleId}/reservations/import`, { token: app.opsToken(), body });
  const importCsv = (saleId: string, csv: string) => app.request('POST', `/api/admin/sales/${saleId}/reservations/import`, { token: app.opsToken(), rawBody: csv, contentType: 'text/csv' });
  const redisCount = (saleId: string) => app.redis.hlen(app.keys.forSale(saleId).reservations);
  const databaseCount = (saleId: string) => app.database.manager.count(ReservationEntity, { where: { saleId } });

  async function at<T>(epochMs: number, work: () => Promise<T>): Promise<T> {
    const now = app.clock.now();
    app.clock.set(epochMs);
    try {
      return await work();
    } finally {
      app.clock.set(now);
    }
  }

  describe('POST /api/sales/:saleId/reservations', () => {
    describe('outside the window', () => {
      it('refuses one ms before reservationOpensAt with 409 RESERVATION_NOT_OPEN', async () => {
        const sale = await createSale();
        const response = await at(Date.parse(sale.reservationOpensAt) - 1, () => reserve(sale.id, uniqueId('u')));
        expect(response.status).toBe(409);
        expect(response.body).toMatchObject({ statusCode: 409, code: 'RESERVATION_NOT_OPEN', details: [] });
      });

      it('refuses at reservationClosesAt with 409 RESERVATION_CLOSED', async () => {
        const sale = await createSale();
        const response = await at(Date.parse(sale.reservationClosesAt), () => reserve(sale.id, uniqueId('u')));
        expect(response.status).toBe(409);
        expect(response.body.code).toBe('RESERVATION_CLOSED');
      });

      it('refuses a repeat after the close too, and keeps the first reservation', async () => {
        const sale = await createSale();
        const userId = uniqueId('u');
        expect((await at(Date.parse(sale.reservationOpensAt), () => reserve(sale.id, userId))).status).toBe(201);
        expect((await at(Date.parse(sale.reservationClosesAt), () => reserve(sale.id, userId))).status).toBe(409);
        expect(await databaseCount(sale.id)).toBe(1);
      });
    });

    describe('inside the window', () => {
      it('reserves at reservationOpensAt and one ms before reservationClosesAt', async () => {
        const sale = await createSale();
        expect((await at(Date.parse(sale.reservationOpensAt), () => reserve(sale.id, uniqueId('u')))).status).toBe(201);
        expect((await at(Date.parse(sale.reservationClosesAt) - 1, () => reserve(sale.id, uniqueId('u')))).status).toBe(201);
      });

      it('answers 201 the first time and 200 with the first reservedAt on a repeat', async () => {
        const sale = await createSale();
        const userId = uniqueId('u');
        const opensAt = Date.parse(sale.reservationOpensAt);
        const first = await at(opensAt + 1000, () => reserve(sale.id, userId));
        const repeat = await at(opensAt + 5000, () => reserve(sale.id, userId));

        expect(first.status).toBe(201);
        expect(first.body).toEqual({ saleId: sale.id, userId, reservedAt: iso(opensAt + 1000) });
        expect(repeat.status).toBe(200);
        expect(repeat.body).toEqual(first.body);
        expect(await app.redis.hget(app.keys.forSale(sale.id).reservations, userId)).toBe(String(opensAt + 1000));
      });

      it('counts 1,000 concurrent reservations of distinct buyers exactly once each', async () => {
        const sale = await createSale();
        const buyers = buyerIds(1000);
        const responses = await at(Date.parse(sale.reservationOpensAt), () => Promise.all(buyers.map((buyer) => reserve(sale.id, buyer))));

        expect(responses.map((response) => response.status)).toEqual(buyers.map(() => 201));
        expect(await redisCount(sale.id)).toBe(1000);
        expect(await databaseCount(sale.id)).toBe(1000);
        expect((await app.request('GET', `/api/sales/${sale.id}`)).body.reservations).toBe(1000);
      });

      it('counts 100 concurrent reservations of one buyer once', async () => {
        const sale = await createSale();
        const userId = uniqueId('u');
        const responses = await at(Date.parse(sale.reservationOpensAt), () => Promise.all(Array.from({ length: 100 }, () => reserve(sale.id, userId))));

        expect(responses.filter((response) => response.status === 201)).toHaveLength(1);
        expect(responses.filter((response) => response.status === 200)).toHaveLength(99);
        expect(new Set(responses.map((response) => response.body.reservedAt)).size).toBe(1);
        expect(await redisCount(sale.id)).toBe(1);
        expect(await databaseCount(sale.id)).toBe(1);
      });

      it('converges when the Redis copy was lost: a repeat writes the database reservedAt back', async () => {
        const sale = await createSale();
        const userId = uniqueId('u');
        const opensAt = Date.parse(sale.reservationOpensAt);
        await at(opensAt, () => reserve(sale.id, userId));
        await app.redis.hdel(app.keys.forSale(sale.id).reservations, userId);

        const repeat = await at(opensAt + 60_000, () => reserve(sale.id, userId));

        expect(repeat.status).toBe(200);
        expect(await app.redis.hget(app.keys.forSale(sale.id).reservations, userId)).toBe(String(opensAt));
      });
    });

    it('answers 404 SALE_NOT_FOUND for an unknown sale', async () => {
      const response = await reserve('s_unknown', uniqueId('u'));
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SALE_NOT_FOUND');
    });

    it('lets a reserved buyer buy and refuses one without a reservation', async () => {
      const sale = await createSale();
      const [reserved, stranger] = buyerIds(2);
      await at(Date.parse(sale.reservationOpensAt), () => reserve(sale.id, reserved));
      await at(Date.parse(sale.startsAt), async () => {
        expect((await purchase(app, sale.id, reserved)).status).toBe(201);
        const refused = await purchase(app, sale.id, stranger);
        expect(refused.status).toBe(403);
        expect(refused.body.code).toBe('NOT_ELIGIBLE');
      });
    });
  });

  describe('GET /api/sales/:saleId/reservations/me', () => {
    it('answers 404 RESERVATION_NOT_FOUND before reserving, and the reservation after', async () => {
      const sale = await createSale();
      const userId = uniqueId('u');
      const before = await app.request('GET', `/api/sales/${sale.id}/reservations/me`, { token: app.token(userId) });
      expect(before.status).toBe(404);
      expect(before.body).toMatchObject({ statusCode: 404, code: 'RESERVATION_NOT_FOUND' });

      await at(Date.parse(sale.reservationOpensAt), () => reserve(sale.id, userId));
      const after = await app.request('GET', `/api/sales/${sale.id}/reservations/me`, { token: app.token(userId) });
      expect(after.status).toBe(200);
      expect(after.body).toEqual({ saleId: sale.id, userId, reservedAt: sale.reservationOpensAt });
    });

    it('answers 404 SALE_NOT_FOUND for an unknown sale', async () => {
      const response = await app.request('GET', '/api/sales/s_unknown/reservations/me', { token: app.token('u1') });
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SALE_NOT_FOUND');
    });
  });

  describe('POST /api/admin/sales/:saleId/reservations/import', () => {
    describe('with JSON', () => {
      it('imports new ids and counts repeats and ids already reserved as duplicates', async () => {
        const sale = await createSale();
        const [early, ...rest] = buyerIds(6);
        const opensAt = Date.parse(sale.reservationOpensAt);
        await at(opensAt, () => reserve(sale.id, early));

        const response = await at(opensAt + 1000, () => importIds(sale.id, { userIds: [early, ...rest, rest[0], rest[1]] }));

        expect(response.status).toBe(200);
        expect(response.body).toEqual({ imported: 5, duplicates: 3 });
        expect(await redisCount(sale.id)).toBe(6);
        expect(await databaseCount(sale.id)).toBe(6);
        expect(await app.redis.hget(app.keys.forSale(sale.id).reservations, early)).toBe(String(opensAt));
        expect(await app.redis.hget(app.keys.forSale(sale.id).reservations, rest[0])).toBe(String(opensAt + 1000));
        const row = await app.database.manager.findOneByOrFail(ReservationEntity, { saleId: sale.id, userId: rest[0] });
        expect(row.source).toBe('import');
      });

      it('is idempotent: importing the same ids again imports nothing', async () => {
        const sale = await createSale();
        const ids = buyerIds(50);
        expect((await importIds(sale.id, { userIds: ids })).body).toEqual({ imported: 50, duplicates: 0 });
        expect((await importIds(sale.id, { userIds: ids })).body).toEqual({ imported: 0, duplicates: 50 });
        expect(await redisCount(sale.id)).toBe(50);
      });

      it('completes the Redis copy when an import is repeated after a lost write', async () => {
        const sale = await createSale();
        const ids = buyerIds(20);
        await importIds(sale.id, { userIds: ids });
        const stored = await app.redis.hget(app.keys.forSale(sale.id).reservations, ids[3]);
        await app.redis.hdel(app.keys.forSale(sale.id).reservations, ...ids.slice(0, 10));

        await at(app.clock.now() + 5000, () => importIds(sale.id, { userIds: ids }));

        expect(await redisCount(sale.id)).toBe(20);
        expect(await app.redis.hget(app.keys.forSale(sale.id).reservations, ids[3])).toBe(stored);
      });

      it('imports 100,000 ids in one call', async () => {
        const sale = await createSale();
        const response = await importIds(sale.id, { userIds: buyerIds(100_000) });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ imported: 100_000, duplicates: 0 });
        expect(await redisCount(sale.id)).toBe(100_000);
        expect(await databaseCount(sale.id)).toBe(100_000);
        expect((await app.request('GET', `/api/sales/${sale.id}`)).body.reservations).toBe(100_000);
      });

      it('refuses 100,001 ids with VALIDATION_FAILED and imports nothing', async () => {
        const sale = await createSale();
        const response = await importIds(sale.id, { userIds: buyerIds(100_001, 'x') });
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'userIds', message: expect.any(String) }] });
        expect(await databaseCount(sale.id)).toBe(0);
      });

      it.each([
        [{ userIds: [] }],
        [{ userIds: [''] }],
        [{ userIds: ['has space'] }],
        [{ userIds: ['x'.repeat(65)] }],
        [{ userIds: [12] }],
        [{ userIds: 'u1' }],
        [{ userIds: ['u1'], extra: true }],
        [{}],
        [['u1']],
      ])('refuses %j with VALIDATION_FAILED', async (body) => {
        const sale = await createSale();
        const response = await importIds(sale.id, body);
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('VALIDATION_FAILED');
        expect(response.body.details.length).toBeGreaterThan(0);
      });
    });

    describe('with text/csv', () => {
      it('imports one id a line, skipping blank lines and a userId header', async () => {
        const sale = await createSale();
        const [first, second, third] = buyerIds(3);
        const response = await importCsv(sale.id, `userId\r\n${first}\r\n\r\n  ${second}  \n"${third}"\n${first}\n\n`);
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ imported: 3, duplicates: 1 });
        expect(await redisCount(sale.id)).toBe(3);
        expect(await databaseCount(sale.id)).toBe(3);
      });

      it('lists the bad lines by number', async () => {
        const sale = await createSale();
        const response = await importCsv(sale.id, `userId\nu1\nbad id\n${'x'.repeat(65)}\n`);
        expect(response.status).toBe(400);
        expect(response.body.details).toEqual([
          { field: 'line 3', message: expect.any(String) },
          { field: 'line 4', message: expect.any(String) },
        ]);
        expect(await databaseCount(sale.id)).toBe(0);
      });

      it('refuses a CSV with no id', async () => {
        const sale = await createSale();
        const response = await importCsv(sale.id, 'userId\n\n');
        expect(response.status).toBe(400);
      });

      it('refuses 100,001 ids', async () => {
        const sale = await createSale();
        const response = await importCsv(sale.id, buyerIds(100_001, 'c').join('\n'));
        expect(response.status).toBe(400);
        expect(await databaseCount(sale.id)).toBe(0);
      });
    });

    describe('by phase', () => {
      it('imports while the sale is live', async () => {
        const sale = await createSale();
        const response = await at(Date.parse(sale.startsAt), () => importIds(sale.id, { userIds: buyerIds(3) }));
        expect(response.body).toEqual({ imported: 3, duplicates: 0 });
      });

      it('refuses from endsAt on with 409 SALE_ENDED', async () => {
        const sale = await createSale();
        const response = await at(Date.parse(sale.endsAt), () => importIds(sale.id, { userIds: buyerIds(3) }));
        expect(response.status).toBe(409);
        expect(response.body.code).toBe('SALE_ENDED');
      });
    });

    it('answers 404 SALE_NOT_FOUND for an unknown sale', async () => {
      const response = await importIds('s_unknown', { userIds: ['u1'] });
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SALE_NOT_FOUND');
    });

    it('refuses a buyer token with 403 FORBIDDEN', async () => {
      const sale = await createSale();
      const response = await app.request('POST', `/api/admin/sales/${sale.id}/reservations/import`, { token: app.token('u1'), body: { userIds: ['u1'] } });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('FORBIDDEN');
    });
  });
});

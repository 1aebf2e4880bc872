import { createHash } from 'node:crypto';
import { WaitingRoomTicker } from '../src/admission/waiting-room/waiting-room-ticker';
import { eventually } from './support/eventually';
import { assertInvariants, waitForOrderWriter } from './support/invariants';
import { buyerIds, createSale, openSale, purchase, reserveBuyers, SaleOptions, TestSale } from './support/sales';
import { createTestDatabase, TestDatabase } from './support/server-process';
import { createTestApp, TestApp, testKeyPrefix, TestResponse } from './support/test-app';
import { RedisServerHandle, startRedisServer } from './support/test-services';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The waiting room and the lottery when Redis loses its memory under a running service (FLUSHDB, as a
 * restart without persistence leaves it): what the database keeps comes back as it was, and nobody is
 * admitted, drawn or ranked differently.
 */
describe('Fair admission after Redis lost its memory', () => {
  let database: TestDatabase;
  let redis: RedisServerHandle;
  let app: TestApp;

  beforeAll(async () => {
    // A database and a Redis of its own. After a flush the rebuild restores every open sale of the
    // database, and the run's shared PostgreSQL database holds the sales of every file before this one
    // (F-code batches of 100,000 among them); and a flush of the shared Redis would send every later
    // file's apps rebuilding all of those.
    database = await createTestDatabase();
    redis = await startRedisServer();
    app = await createTestApp({ env: { SOLD_OUT_FLAG_TTL_MS: '0', DATABASE_URL: database.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: testKeyPrefix(database.url) } });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    await database?.drop();
  });

  /**
   * Flushes Redis (then runs `meanwhile`, before the rebuild can notice), then waits until `read` answers
   * other than 503 UNAVAILABLE (the rebuild is done).
   */
  async function loseRedis(read: () => Promise<TestResponse>, meanwhile: () => void = () => undefined): Promise<TestResponse> {
    await app.redis.flushdb();
    meanwhile();
    let answer: TestResponse | undefined;
    await eventually(
      async () => {
        answer = await read();
        if (answer.status === 503) expect(answer.body.code).toBe('UNAVAILABLE');
        return answer.status !== 503;
      },
      { what: 'the rebuild of the sale' },
    );
    return answer as TestResponse;
  }

  describe('a lottery', () => {
    async function lotterySale(options: SaleOptions, buyers: string[]): Promise<TestSale> {
      const startsAt = app.clock.now() + 3600_000;
      const sale = await createSale(app, { admission: 'lottery', startsAt, lotteryClosesAt: startsAt - 600_000, ...options });
      await reserveBuyers(app, sale.id, buyers);
      return sale;
    }
    const enter = (saleId: string, userId: string) => app.request('POST', `/api/sales/${saleId}/lottery/entries`, { token: app.token(userId), body: {} });
    const mine = (saleId: string, userId: string) => app.request('GET', `/api/sales/${saleId}/lottery/me`, { token: app.token(userId) });
    const result = (saleId: string) => app.request('GET', `/api/sales/${saleId}/lottery/result`);
    const commit = (saleId: string) => app.request('POST', `/api/admin/sales/${saleId}/lottery/commit`, { token: app.opsToken() });
    const draw = (saleId: string) => app.request('POST', `/api/admin/sales/${saleId}/lottery/draw`, { token: app.opsToken() });

    it('keeps the entries made before the loss: each buyer is still entered once, and the draw ranks them all', async () => {
      const buyers = buyerIds(5);
      const sale = await lotterySale({ stock: 2 }, buyers);
      const entered = [];
      for (const buyer of buyers) entered.push((await enter(sale.id, buyer)).body);
      await commit(sale.id);

      expect((await loseRedis(() => mine(sale.id, buyers[0]))).body).toEqual({ entered: true, drawn: false, won: false, rank: null });
      for (const buyer of buyers) expect((await mine(sale.id, buyer)).body.entered).toBe(true);
      // Entering again is a repeat: the first entry, unchanged.
      app.clock.advance(1000);
      const again = await enter(sale.id, buyers[3]);
      expect([again.status, again.body]).toEqual([200, entered[3]]);

      app.clock.set(sale.lotteryClosesAt as number);
      const drawn = await draw(sale.id);
      expect(drawn.status).toBe(200);
      expect(drawn.body.entries).toEqual(buyers.map(sha256).sort());
    });

    it('comes back drawn as it was: the same result, the same ranks and rounds, the same tokens, and winners buy with them', async () => {
      const buyers = buyerIds(12);
      const sale = await lotterySale({ stock: 3, perUserLimit: 1, purchaseWindowSeconds: 600 }, buyers);
      for (const buyer of buyers) await enter(sale.id, buyer);
      await commit(sale.id);
      app.clock.set(sale.lotteryClosesAt as number);
      const { seed } = (await draw(sale.id)).body;
      const ranked = [...buyers].sort((left, right) => sha256(`${seed}:${left}`).localeCompare(sha256(`${seed}:${right}`)));

      // The first winner buys; after the window the two units left go to ranks 4 and 5 (round 2).
      openSale(app, sale);
      const first = (await mine(sale.id, ranked[0])).body;
      expect((await purchase(app, sale.id, ranked[0], { admissionToken: first.admissionToken })).status).toBe(201);
      app.clock.set(sale.startsAt + 600_000);
      const before = await Promise.all(buyers.map(async (buyer) => (await mine(sale.id, buyer)).body));
      const beforeResult = await result(sale.id);
      expect(beforeResult.body.rounds.map((round: { winners: number }) => round.winners)).toEqual([3, 5]);
      await waitForOrderWriter(app, sale.id);

      const afterResult = await loseRedis(() => result(sale.id));
      expect(afterResult.status).toBe(200);
      expect(afterResult.text).toBe(beforeResult.text);
      expect(await Promise.all(buyers.map(async (buyer) => (await mine(sale.id, buyer)).body))).toEqual(before);
      const fourth = before[buyers.indexOf(ranked[3])];
      expect(fourth).toMatchObject({ won: true, rank: 4, admissionToken: expect.any(String) });
      expect((await purchase(app, sale.id, ranked[3], { admissionToken: fourth.admissionToken })).status).toBe(201);
      expect((await purchase(app, sale.id, ranked[3], { admissionToken: fourth.admissionToken })).body.code).toBe('LIMIT_REACHED');
      // Ranked sixth: still not admitted.
      expect((await mine(sale.id, ranked[5])).body).toEqual({ entered: true, drawn: true, won: false, rank: 6 });
      expect((await purchase(app, sale.id, ranked[5])).body.code).toBe('NOT_ADMITTED');
      await assertInvariants(app, sale.id);
    });

    it('puts back a recorded draw that Redis lacks, on the first read after (the rest of the sale kept)', async () => {
      const buyers = buyerIds(8);
      const sale = await lotterySale({ stock: 3 }, buyers);
      for (const buyer of buyers) await enter(sale.id, buyer);
      await commit(sale.id);
      app.clock.set(sale.lotteryClosesAt as number);
      const drawn = await draw(sale.id);
      const before = await Promise.all(buyers.map(async (buyer) => (await mine(sale.id, buyer)).body));
      const keys = app.keys.forSale(sale.id);
      await app.redis.del(keys.lotteryRanks, keys.lotteryState);

      // Once the service sees the sale drawn (its row is cached for a second), the draw is put back.
      await eventually(async () => (await mine(sale.id, buyers[0])).body.drawn === true, { what: 'the draw put back' });
      expect(await Promise.all(buyers.map(async (buyer) => (await mine(sale.id, buyer)).body))).toEqual(before);
      expect((await result(sale.id)).text).toBe(drawn.text);
      expect((await draw(sale.id)).text).toBe(drawn.text);
    });
  });

  describe('a waiting room', () => {
    async function queueSale(options: SaleOptions, buyers: string[]): Promise<TestSale> {
      const sale = await createSale(app, { admission: 'queue', queueOpensAt: app.clock.now(), ...options });
      await reserveBuyers(app, sale.id, buyers);
      return sale;
    }
    const join = (saleId: string, userId: string) => app.request('POST', `/api/sales/${saleId}/queue`, { token: app.token(userId), body: {} });
    const mine = (saleId: string, userId: string) => app.request('GET', `/api/sales/${saleId}/queue/me`, { token: app.token(userId) });
    const places = async (saleId: string, buyers: string[]) => Promise.all(buyers.map(async (buyer) => (await mine(saleId, buyer)).body));
    /** One tick of the ticker: moves the rooms on and records what buyers were shown (otherwise four times a second). */
    const tick = () => app.app.get(WaitingRoomTicker).tick();

    it('keeps the places of everyone who joined before the start: the same random order, and a repeat join changes nothing', async () => {
      const buyers = buyerIds(8);
      const sale = await queueSale({ admissionRatePerSecond: 2 }, buyers);
      for (const buyer of buyers) expect((await join(sale.id, buyer)).status).toBe(201);
      const before = await places(sale.id, buyers);

      await loseRedis(() => mine(sale.id, buyers[0]));
      expect(await places(sale.id, buyers)).toEqual(before);
      const again = await join(sale.id, buyers[5]);
      expect([again.status, again.body]).toEqual([200, before[5]]);
    });

    it('comes back empty when nobody had joined: buyers who join after the loss are admitted at the rate', async () => {
      const buyers = buyerIds(3);
      const sale = await queueSale({ admissionRatePerSecond: 1, stock: 5 }, buyers);
      await loseRedis(() => mine(sale.id, buyers[0]));
      for (const buyer of buyers) expect((await join(sale.id, buyer)).status).toBe(201);

      openSale(app, sale);
      app.clock.advance(1000);
      await tick();
      expect((await places(sale.id, buyers)).filter((status) => status.admitted)).toHaveLength(1);
      app.clock.advance(2000);
      await tick();
      expect((await places(sale.id, buyers)).every((status) => status.admitted)).toBe(true);
    });

    it('comes back as far as it had got: admitted buyers keep the window they were shown, nobody else is let in meanwhile, and the rest follow at the rate', async () => {
      const buyers = buyerIds(10);
      const sale = await queueSale({ admissionRatePerSecond: 2, admissionTtlSeconds: 120, stock: 10 }, buyers);
      for (const buyer of buyers) await join(sale.id, buyer);
      const order = (await places(sale.id, buyers)).map((status, index) => ({ buyer: buyers[index], position: status.position as number })).sort((left, right) => left.position - right.position).map((entry) => entry.buyer);

      // Two seconds in: four admitted; the first two see their admission (and token), the next two not yet.
      openSale(app, sale);
      app.clock.advance(2000);
      const seen = [(await mine(sale.id, order[0])).body, (await mine(sale.id, order[1])).body];
      expect(seen.map((status) => status.admitted)).toEqual([true, true]);
      expect((await mine(sale.id, order[4])).body).toMatchObject({ admitted: false, position: 1 });
      await tick();
      expect((await purchase(app, sale.id, order[0], { admissionToken: seen[0].admissionToken })).status).toBe(201);
      await waitForOrderWriter(app, sale.id);

      // Redis is lost; the service is without it for a minute (at 2 a second that would be 120 more admissions).
      await loseRedis(
        () => mine(sale.id, order[4]),
        () => app.clock.advance(60_000),
      );
      const back = await places(sale.id, order);
      expect(back[0]).toMatchObject({ admitted: true, admissionExpiresAt: seen[0].admissionExpiresAt, admissionToken: seen[0].admissionToken });
      expect(back[1]).toMatchObject({ admitted: true, admissionExpiresAt: seen[1].admissionExpiresAt, admissionToken: seen[1].admissionToken });
      // Admitted before the loss but never shown it: shown now, with a window from now.
      expect(back[2]).toMatchObject({ admitted: true, admissionExpiresAt: new Date(app.clock.now() + 120_000).toISOString() });
      expect(back[3].admitted).toBe(true);
      expect(back.slice(4).map((status) => [status.admitted, status.position])).toEqual([4, 5, 6, 7, 8, 9].map((_, index) => [false, index + 1]));
      expect((await purchase(app, sale.id, order[4])).body.code).toBe('NOT_ADMITTED');
      expect((await purchase(app, sale.id, order[0], { admissionToken: back[0].admissionToken })).body.code).toBe('LIMIT_REACHED');

      app.clock.advance(1000);
      await tick();
      expect((await places(sale.id, order.slice(4, 7))).map((status) => status.admitted)).toEqual([true, true, false]);
      await assertInvariants(app, sale.id);
    });
  });
});

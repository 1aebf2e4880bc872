import { createHash } from 'node:crypto';
import { LotteryRepository } from '../src/admission/lottery/lottery.repository';
import { assertInvariants } from './support/invariants';
import { buyerIds, createSale, openSale, purchase, reserveBuyers, SaleOptions, TestSale } from './support/sales';
import { createTestApp, TestApp } from './support/test-app';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The lottery (admission `lottery`) through HTTP: entries, commit, draw, verification, winners buying, rounds. */
describe('Lottery', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({ env: { SOLD_OUT_FLAG_TTL_MS: '0' } });
  });
  afterAll(async () => {
    await app.close();
  });

  async function lotterySale(options: SaleOptions, buyers: string[]): Promise<TestSale> {
    const startsAt = app.clock.now() + 3600_000;
    const sale = await createSale(app, { admission: 'lottery', startsAt, lotteryClosesAt: startsAt - 600_000, ...options });
    if (buyers.length > 0) await reserveBuyers(app, sale.id, buyers);
    return sale;
  }
  const enter = (saleId: string, userId: string, body: unknown = {}) => app.request('POST', `/api/sales/${saleId}/lottery/entries`, { token: app.token(userId), body });
  const mine = (saleId: string, userId: string) => app.request('GET', `/api/sales/${saleId}/lottery/me`, { token: app.token(userId) });
  const commit = (saleId: string, token = app.opsToken()) => app.request('POST', `/api/admin/sales/${saleId}/lottery/commit`, { token });
  const draw = (saleId: string) => app.request('POST', `/api/admin/sales/${saleId}/lottery/draw`, { token: app.opsToken() });
  const closeEntries = (sale: TestSale) => app.clock.set(sale.lotteryClosesAt as number);

  describe('entries', () => {
    it('enters an eligible buyer once (201, then 200 with the first entry), and refuses one without a reservation', async () => {
      const [buyer, stranger] = buyerIds(2);
      const sale = await lotterySale({}, [buyer]);
      const first = await enter(sale.id, buyer);
      expect(first.status).toBe(201);
      expect(first.body).toEqual({ saleId: sale.id, userId: buyer, enteredAt: new Date(app.clock.now()).toISOString() });
      app.clock.advance(1000);
      const again = await enter(sale.id, buyer);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect((await enter(sale.id, stranger)).body).toMatchObject({ statusCode: 403, code: 'NOT_ELIGIBLE' });
      expect((await mine(sale.id, buyer)).body).toEqual({ entered: true, drawn: false, won: false, rank: null });
    });

    it('refuses entries from lotteryClosesAt on, and on a sale without a lottery', async () => {
      const [buyer] = buyerIds(1);
      const sale = await lotterySale({ reservationRequired: false }, []);
      closeEntries(sale);
      expect((await enter(sale.id, buyer)).body).toMatchObject({ statusCode: 409, code: 'RESERVATION_CLOSED' });
      const open = await createSale(app, { reservationRequired: false });
      expect((await enter(open.id, buyer)).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
      expect((await mine(open.id, buyer)).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    });
  });

  describe('commit and draw', () => {
    it('commits once before entries close, shows the hash on the sale view, and refuses buyers and late commits', async () => {
      const sale = await lotterySale({ reservationRequired: false }, []);
      expect((await commit(sale.id, app.token('buyer'))).body.code).toBe('FORBIDDEN');
      const committed = await commit(sale.id);
      expect(committed.status).toBe(200);
      expect(committed.body.seedHash).toMatch(/^[0-9a-f]{64}$/);
      expect((await commit(sale.id)).body).toEqual(committed.body);
      const view = await app.request('GET', `/api/admin/sales/${sale.id}`, { token: app.opsToken() });
      expect(view.body.lottery).toEqual({ seedHash: committed.body.seedHash, drawn: false });

      const late = await lotterySale({ reservationRequired: false }, []);
      closeEntries(late);
      expect((await commit(late.id)).body).toMatchObject({ statusCode: 409, code: 'SALE_LOCKED' });
      expect((await draw(late.id)).body).toMatchObject({ statusCode: 409, code: 'SALE_LOCKED' });
    });

    it('draws after entries close, and anyone can recompute the winners from the result and their own ids', async () => {
      const buyers = buyerIds(40);
      const sale = await lotterySale({ stock: 10, perUserLimit: 2 }, buyers);
      for (const buyer of buyers) await enter(sale.id, buyer);
      const { seedHash } = (await commit(sale.id)).body;
      expect((await draw(sale.id)).body).toMatchObject({ statusCode: 409, code: 'SALE_NOT_STARTED' });
      expect((await app.request('GET', `/api/sales/${sale.id}/lottery/result`)).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
      closeEntries(sale);
      const drawn = await draw(sale.id);
      expect(drawn.status).toBe(200);

      const result = (await app.request('GET', `/api/sales/${sale.id}/lottery/result`)).body;
      expect(result).toEqual(drawn.body);
      expect(result.seedHash).toBe(seedHash);
      expect(sha256(result.seed)).toBe(seedHash);
      expect(result.entries).toEqual(buyers.map(sha256).sort());
      // 10 units at 2 each: 5 winners, the entries ranked first by SHA-256(seed:userId).
      const ranked = [...buyers].sort((left, right) => sha256(`${result.seed}:${left}`).localeCompare(sha256(`${result.seed}:${right}`)));
      expect(result.winners).toEqual(ranked.slice(0, 5).map(sha256));
      expect(result.rounds).toEqual([{ winners: 5, buyBy: new Date(sale.startsAt + 3600_000).toISOString() }]);
      // Drawing again changes nothing.
      expect((await draw(sale.id)).body).toEqual(result);
    });
  });

  describe('the record of the entries', () => {
    it('draws the entries the database holds, and refuses an entry that arrives once the draw has started', async () => {
      const [early, late] = buyerIds(2);
      const sale = await lotterySale({ reservationRequired: false }, []);
      const repository = app.app.get(LotteryRepository);
      expect((await enter(sale.id, early)).status).toBe(201);
      expect(await repository.countEntries(sale.id)).toBe(1);
      await commit(sale.id);
      // A draw has just marked the sale (it reads the entries next), while this entry is on its way.
      await app.database.transaction((manager) => repository.closeEntries(manager, sale.id, app.clock.now()));
      expect((await enter(sale.id, late)).body).toMatchObject({ statusCode: 409, code: 'RESERVATION_CLOSED' });
      expect(await repository.countEntries(sale.id)).toBe(1);
      // Redis's copy does not keep it either.
      expect((await mine(sale.id, late)).body).toEqual({ entered: false, drawn: false, won: false, rank: null });
      closeEntries(sale);
      const drawn = await draw(sale.id);
      expect(drawn.status).toBe(200);
      expect(drawn.body.entries).toEqual([sha256(early)]);
      expect((await mine(sale.id, late)).body).toEqual({ entered: false, drawn: true, won: false, rank: null });
      expect((await mine(sale.id, early)).body).toMatchObject({ entered: true, drawn: true, won: true, rank: 1 });
    });

    it('answers the result as JSON written in pieces, the same on every read', async () => {
      const buyers = buyerIds(30);
      const sale = await lotterySale({ stock: 7 }, buyers);
      for (const buyer of buyers) await enter(sale.id, buyer);
      await commit(sale.id);
      closeEntries(sale);
      const drawn = await draw(sale.id);
      const result = await app.request('GET', `/api/sales/${sale.id}/lottery/result`);
      expect(result.headers['content-type']).toMatch(/^application\/json/);
      expect(result.text).toBe(drawn.text);
      expect(Object.keys(result.body)).toEqual(['seed', 'seedHash', 'entries', 'winners', 'rounds']);
      expect(result.body.entries).toHaveLength(30);
      expect(result.body.winners).toHaveLength(7);
    });
  });

  describe('buying', () => {
    it('lets winners buy with their token within the window, refuses the others, and passes units left to the next ranked', async () => {
      const buyers = buyerIds(6);
      const sale = await lotterySale({ stock: 3, perUserLimit: 1, purchaseWindowSeconds: 600 }, buyers);
      for (const buyer of buyers) await enter(sale.id, buyer);
      await commit(sale.id);
      closeEntries(sale);
      const { seed } = (await draw(sale.id)).body;
      const ranked = [...buyers].sort((left, right) => sha256(`${seed}:${left}`).localeCompare(sha256(`${seed}:${right}`)));

      const winner = (await mine(sale.id, ranked[0])).body;
      expect(winner).toEqual({ entered: true, drawn: true, won: true, rank: 1, admissionToken: expect.any(String), buyBy: new Date(sale.startsAt + 600_000).toISOString() });
      const loser = (await mine(sale.id, ranked[3])).body;
      expect(loser).toEqual({ entered: true, drawn: true, won: false, rank: 4 });

      openSale(app, sale);
      expect((await purchase(app, sale.id, ranked[0], { admissionToken: winner.admissionToken })).status).toBe(201);
      expect((await purchase(app, sale.id, ranked[3])).body.code).toBe('NOT_ADMITTED');
      expect((await purchase(app, sale.id, ranked[3], { admissionToken: winner.admissionToken })).body.code).toBe('NOT_ADMITTED');

      // Winners 2 and 3 never buy: after the window their 2 units go to the next two ranked entries.
      app.clock.set(sale.startsAt + 600_000);
      const next = (await mine(sale.id, ranked[3])).body;
      expect(next).toMatchObject({ won: true, rank: 4, admissionToken: expect.any(String), buyBy: new Date(app.clock.now() + 600_000).toISOString() });
      expect((await mine(sale.id, ranked[1])).body).toEqual({ entered: true, drawn: true, won: true, rank: 2, buyBy: new Date(sale.startsAt + 600_000).toISOString() });
      expect((await mine(sale.id, ranked[5])).body.won).toBe(false);
      expect((await purchase(app, sale.id, ranked[3], { admissionToken: next.admissionToken })).status).toBe(201);
      const result = (await app.request('GET', `/api/sales/${sale.id}/lottery/result`)).body;
      expect(result.winners).toEqual(ranked.slice(0, 5).map(sha256));
      expect(result.rounds.map((round: { winners: number }) => round.winners)).toEqual([3, 5]);
      await assertInvariants(app, sale.id);
    });
  });
});

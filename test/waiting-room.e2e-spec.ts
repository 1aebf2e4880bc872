import { WaitingRoomGateway } from '../src/admission/waiting-room/waiting-room.gateway';
import { formatFcode, generateFcode, hashFcode } from '../src/fcodes/fcode-codec';
import { withTypo } from './fcodes.fixtures';
import { assertInvariants } from './support/invariants';
import { buyerIds, createSale, openSale, purchase, reserveBuyers, SaleOptions, TestSale } from './support/sales';
import { createTestApp, TestApp, TestResponse } from './support/test-app';

/**
 * The waiting room (admission `queue`) through HTTP against the real script: joining, the random order of
 * everyone who joined before the start, admission at the sale's rate, pauses, sell-out and returned units.
 */
describe('Waiting room', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({ env: { SOLD_OUT_FLAG_TTL_MS: '0' } });
  });
  afterAll(async () => {
    await app.close();
  });

  async function queueSale(options: SaleOptions, buyers: string[]): Promise<TestSale> {
    // The waiting room opens now unless the test says otherwise (by default it opens when reservations close).
    const sale = await createSale(app, { admission: 'queue', queueOpensAt: app.clock.now(), ...options });
    if (buyers.length > 0) await reserveBuyers(app, sale.id, buyers);
    return sale;
  }
  const join = (saleId: string, userId: string, body: unknown = {}) => app.request('POST', `/api/sales/${saleId}/queue`, { token: app.token(userId), body });
  const mine = (saleId: string, userId: string) => app.request('GET', `/api/sales/${saleId}/queue/me`, { token: app.token(userId) });
  const ops = (path: string) => app.request('POST', `/api/admin/sales/${path}`, { token: app.opsToken() });
  async function admittedOf(saleId: string, buyers: string[]): Promise<string[]> {
    const statuses = await Promise.all(buyers.map((buyer) => mine(saleId, buyer)));
    return buyers.filter((_buyer, index) => statuses[index].body.admitted);
  }

  describe('joining', () => {
    it('puts an eligible buyer in line (201), and a repeat answers 200 with the same place', async () => {
      const buyers = buyerIds(3);
      const sale = await queueSale({ admissionRatePerSecond: 2 }, buyers);
      for (const buyer of buyers) expect((await join(sale.id, buyer)).status).toBe(201);
      const first = await join(sale.id, buyers[0]);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ position: expect.any(Number), ahead: expect.any(Number), etaSeconds: expect.any(Number), admitted: false, soldOut: false });
      expect(first.body.ahead).toBe(first.body.position - 1);
      // Three in line at 2 a second: the last one's turn comes 1.5 s after the start.
      const last = (await Promise.all(buyers.map((buyer) => mine(sale.id, buyer)))).find((status) => status.body.position === 3) as TestResponse;
      expect(last.body.etaSeconds).toBe(Math.ceil((sale.startsAt - app.clock.now()) / 1000 + 1.5));
      expect((await mine(sale.id, buyers[0])).body.position).toBe(first.body.position);
    });

    it('refuses a buyer without a reservation (NOT_ELIGIBLE), and admits one with an F-code', async () => {
      const [buyer, holder] = buyerIds(2);
      const sale = await queueSale({ fcodeStock: 1 }, []);
      expect((await join(sale.id, buyer)).body).toMatchObject({ statusCode: 403, code: 'NOT_ELIGIBLE' });
      const code = generateFcode();
      await app.redis.hset(app.keys.forSale(sale.id).fcode(hashFcode(app.config.fcodeSecret, code)), { userId: '', expiresAt: 0, status: 'issued', orderId: '' });
      expect((await join(sale.id, holder, { fcode: formatFcode(code) })).status).toBe(201);
      const wrong = await join(sale.id, buyer, { fcode: formatFcode(generateFcode()) });
      expect(wrong.body).toMatchObject({ statusCode: 403, code: 'FCODE_INVALID' });
      // A typo is told as the purchase route tells it: both go through one F-code check.
      const typo = await join(sale.id, buyer, { fcode: withTypo(formatFcode(code)) });
      expect(typo.body).toMatchObject({ code: 'FCODE_INVALID', message: expect.stringContaining('mistyped'), details: [{ field: 'fcode', message: 'check character does not match' }] });
    });

    it('refuses before queueOpensAt, after the end, on a sale without a waiting room, and a malformed body', async () => {
      const [buyer] = buyerIds(1);
      const startsAt = app.clock.now() + 120_000;
      const sale = await queueSale({ startsAt, queueOpensAt: startsAt - 60_000, reservationRequired: false }, []);
      expect((await join(sale.id, buyer)).body).toMatchObject({ statusCode: 409, code: 'SALE_NOT_STARTED' });
      const open = await createSale(app, { reservationRequired: false });
      expect((await join(open.id, buyer)).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
      expect((await mine(open.id, buyer)).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
      expect((await join(sale.id, buyer, { fcode: 7 })).body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect((await join(sale.id, buyer, { place: 1 })).body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect((await mine(sale.id, buyer)).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
      app.clock.set(sale.endsAt);
      expect((await join(sale.id, buyer)).body).toMatchObject({ statusCode: 409, code: 'SALE_ENDED' });
    });
  });

  describe('admission', () => {
    it('admits from the front at the rate from startsAt; the admitted buy with their token, the others are NOT_ADMITTED', async () => {
      const buyers = buyerIds(6);
      const sale = await queueSale({ admissionRatePerSecond: 2, stock: 10 }, buyers);
      for (const buyer of buyers) await join(sale.id, buyer);
      openSale(app, sale);
      expect(await admittedOf(sale.id, buyers)).toEqual([]);
      app.clock.advance(1000);
      const admitted = await admittedOf(sale.id, buyers);
      expect(admitted).toHaveLength(2);
      const status = (await mine(sale.id, admitted[0])).body;
      expect(status).toMatchObject({ position: 0, ahead: 0, etaSeconds: 0, admitted: true, admissionToken: expect.any(String), soldOut: false });
      expect(status.admissionExpiresAt).toBe(new Date(app.clock.now() + 120_000).toISOString());
      expect((await purchase(app, sale.id, admitted[0], { admissionToken: status.admissionToken })).status).toBe(201);
      const waiting = buyers.find((buyer) => !admitted.includes(buyer)) as string;
      const waitingStatus = (await mine(sale.id, waiting)).body;
      expect(waitingStatus).toMatchObject({ admitted: false, position: expect.any(Number) });
      expect(waitingStatus).not.toHaveProperty('admissionToken');
      // The waiting buyer cannot use someone else's token either.
      expect((await purchase(app, sale.id, waiting, { admissionToken: status.admissionToken })).body.code).toBe('NOT_ADMITTED');
      app.clock.advance(2000);
      expect(await admittedOf(sale.id, buyers)).toHaveLength(6);
      await assertInvariants(app, sale.id);
    });

    it('admits by the time elapsed, however many times it is asked', async () => {
      const buyers = buyerIds(20);
      const sale = await queueSale({ admissionRatePerSecond: 3 }, buyers);
      for (const buyer of buyers) await join(sale.id, buyer);
      openSale(app, sale);
      const gateway = app.app.get(WaitingRoomGateway);
      let admittedBefore = 0;
      for (let step = 0; step < 10; step += 1) {
        app.clock.advance(100);
        // Many callers at the same instant (as many processes would be) admit nothing more.
        const rooms = await Promise.all(Array.from({ length: 20 }, () => gateway.advance(sale.id, app.clock.now())));
        const admitted = rooms.map((room) => room?.admitted);
        expect(admitted).toEqual(Array(20).fill(admitted[0]));
        expect(admitted[0]).toBeGreaterThanOrEqual(admittedBefore);
        admittedBefore = admitted[0] as number;
      }
      expect((await gateway.advance(sale.id, app.clock.now()))?.admitted).toBe(3);
    });

    it('puts buyers who join after the start behind everyone who joined before, in order of arrival', async () => {
      const early = buyerIds(5);
      const late = buyerIds(3);
      const sale = await queueSale({ admissionRatePerSecond: 1 }, [...early, ...late]);
      for (const buyer of early) await join(sale.id, buyer);
      openSale(app, sale);
      for (const buyer of late) {
        app.clock.advance(10);
        await join(sale.id, buyer);
      }
      const positions = await Promise.all(late.map(async (buyer) => (await mine(sale.id, buyer)).body.position));
      expect(positions).toEqual([6, 7, 8]);
    });

    it('stops admitting while the sale is paused and goes on at the same rate after', async () => {
      const buyers = buyerIds(10);
      const sale = await queueSale({ admissionRatePerSecond: 2 }, buyers);
      for (const buyer of buyers) await join(sale.id, buyer);
      openSale(app, sale);
      app.clock.advance(1000);
      expect(await admittedOf(sale.id, buyers)).toHaveLength(2);
      expect((await ops(`${sale.id}/pause`)).status).toBe(200);
      app.clock.advance(3000);
      expect(await admittedOf(sale.id, buyers)).toHaveLength(2);
      expect((await ops(`${sale.id}/resume`)).status).toBe(200);
      app.clock.advance(1000);
      expect(await admittedOf(sale.id, buyers)).toHaveLength(4);
    });

    it('tells everyone waiting at once when the sale sells out, and admits the next in line when units come back', async () => {
      const buyers = buyerIds(5);
      const sale = await queueSale({ admissionRatePerSecond: 1, stock: 1 }, buyers);
      for (const buyer of buyers) await join(sale.id, buyer);
      openSale(app, sale);
      app.clock.advance(1000);
      const [first] = await admittedOf(sale.id, buyers);
      const order = await purchase(app, sale.id, first, { admissionToken: (await mine(sale.id, first)).body.admissionToken });
      expect(order.status).toBe(201);
      const statuses = await Promise.all(buyers.map((buyer) => mine(sale.id, buyer)));
      expect(statuses.map((status) => status.body.soldOut)).toEqual(buyers.map(() => true));
      app.clock.advance(5000);
      expect(await admittedOf(sale.id, buyers)).toEqual([first]);
      const cancelled = await app.request('POST', `/api/orders/${order.body.id}/cancel`, { token: app.token(first) });
      expect(cancelled.status).toBe(200);
      app.clock.advance(1000);
      const admitted = await admittedOf(sale.id, buyers);
      expect(admitted).toHaveLength(2);
      const next = admitted.find((buyer) => buyer !== first) as string;
      expect((await mine(sale.id, next)).body.soldOut).toBe(false);
      expect((await purchase(app, sale.id, next, { admissionToken: (await mine(sale.id, next)).body.admissionToken })).status).toBe(201);
      await assertInvariants(app, sale.id);
    });

    it('lets an admission expire after admissionTtlSeconds', async () => {
      const [buyer] = buyerIds(1);
      const sale = await queueSale({ admissionRatePerSecond: 1, admissionTtlSeconds: 10 }, [buyer]);
      await join(sale.id, buyer);
      openSale(app, sale);
      app.clock.advance(1000);
      const admitted = (await mine(sale.id, buyer)).body;
      expect(admitted.admissionToken).toEqual(expect.any(String));
      app.clock.advance(10_000);
      const expired = (await mine(sale.id, buyer)).body;
      expect(expired).toMatchObject({ admitted: true, admissionExpiresAt: admitted.admissionExpiresAt });
      expect(expired).not.toHaveProperty('admissionToken');
      expect((await purchase(app, sale.id, buyer, { admissionToken: admitted.admissionToken })).body.code).toBe('NOT_ADMITTED');
    });
  });

  describe('fairness of the order of those who joined before the start', () => {
    const JOINERS = 10_000;

    it('is a fair shuffle: the join time says nothing about the place, and joining again changes nothing', async () => {
      const sale = await queueSale({ reservationRequired: false, startsAt: app.clock.now() + 3600_000 }, []);
      const gateway = app.app.get(WaitingRoomGateway);
      const buyers = buyerIds(JOINERS);
      // Joined one millisecond apart, in batches sent together (as a crowd would).
      const joinedAt = app.clock.now();
      for (let start = 0; start < JOINERS; start += 500) {
        await Promise.all(buyers.slice(start, start + 500).map((buyer, offset) => gateway.join(sale.id, buyer, joinedAt + start + offset, undefined)));
      }
      const ranked = await app.redis.zrange(app.keys.forSale(sale.id).queue, 0, -1);
      expect(ranked).toHaveLength(JOINERS);
      const placeOf = new Map(ranked.map((buyer, rank) => [buyer, rank]));
      const places = buyers.map((buyer) => placeOf.get(buyer) as number);

      // Pearson correlation of join order and place: about N(0, 1/sqrt(N)) = ±0.01 for a fair shuffle.
      expect(Math.abs(correlation(places.map((_place, index) => index), places))).toBeLessThan(0.04);
      // Chi-square of join decile × place decile (81 degrees of freedom): 126 is its 0.1% critical value.
      const table = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
      places.forEach((place, index) => (table[Math.floor((index * 10) / JOINERS)][Math.floor((place * 10) / JOINERS)] += 1));
      const expected = JOINERS / 100;
      const chiSquare = table.flat().reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
      expect(chiSquare).toBeLessThan(126);

      // The earliest hundred join again, many times: nobody moves.
      const before = await app.redis.zrange(app.keys.forSale(sale.id).queue, 0, -1);
      for (let round = 0; round < 10; round += 1) {
        await Promise.all(buyers.slice(0, 100).map((buyer) => gateway.join(sale.id, buyer, app.clock.now(), undefined)));
      }
      expect(await app.redis.zrange(app.keys.forSale(sale.id).queue, 0, -1)).toEqual(before);
    });
  });
});

function correlation(xs: number[], ys: number[]): number {
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const [meanX, meanY] = [mean(xs), mean(ys)];
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  xs.forEach((x, index) => {
    covariance += (x - meanX) * (ys[index] - meanY);
    varianceX += (x - meanX) ** 2;
    varianceY += (ys[index] - meanY) ** 2;
  });
  return covariance / Math.sqrt(varianceX * varianceY);
}

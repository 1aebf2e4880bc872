import { AdmissionTokens } from '../src/admission/admission-token';
import { formatFcode, generateFcode, hashFcode } from '../src/fcodes/fcode-codec';
import { assertInvariants } from './support/invariants';
import { buyerIds, createSale, openSale, purchase, reserveBuyersInRedis, seedSaleInRedis, SaleOptions, TestSale } from './support/sales';
import { createTestApp, TestApp } from './support/test-app';

/**
 * The admission gate of the purchase route: a sale with a waiting room or a lottery sells only to buyers
 * who carry a valid admission token for themselves and that sale, checked before the script runs and
 * enforced by the script itself; an open sale is unchanged.
 */
describe('POST /api/sales/:saleId/purchase with admission', () => {
  let app: TestApp;
  let tokens: AdmissionTokens;

  beforeAll(async () => {
    app = await createTestApp({ env: { SOLD_OUT_FLAG_TTL_MS: '0' } });
    tokens = app.app.get(AdmissionTokens);
  });
  afterAll(async () => {
    await app.close();
  });

  async function liveSale(options: SaleOptions, buyers: string[]): Promise<TestSale> {
    const sale = await seedSaleInRedis(app, options);
    await reserveBuyersInRedis(app, sale.id, buyers);
    openSale(app, sale);
    return sale;
  }

  const tokenFor = (saleId: string, userId: string, expiresAt = app.clock.now() + 60_000) => tokens.sign({ saleId, userId, expiresAt });

  async function saleState(saleId: string): Promise<unknown> {
    const keys = app.keys.forSale(saleId);
    const [sale, buyers, events] = await Promise.all([app.redis.hgetall(keys.sale), app.redis.hgetall(keys.buyers), app.redis.xlen(keys.events)]);
    return { sale, buyers, events };
  }

  describe.each(['queue', 'lottery'] as const)('when the sale admits through its %s', (admission) => {
    it('sells to a buyer with a valid token for themselves and this sale', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ admission }, [buyer]);
      const response = await purchase(app, sale.id, buyer, { admissionToken: tokenFor(sale.id, buyer) });
      expect(response.status).toBe(201);
      await assertInvariants(app, sale.id);
    });

    it.each([
      ['no token', () => undefined],
      ['a forged token', (saleId: string, buyer: string) => `${tokenFor(saleId, buyer).slice(0, -4)}AAAA`],
      ['an expired token', (saleId: string, buyer: string) => tokenFor(saleId, buyer, app.clock.now())],
      ["another buyer's token", (saleId: string) => tokenFor(saleId, 'someone-else')],
      ["another sale's token", (_saleId: string, buyer: string) => tokenFor('s_another', buyer)],
      ['a token that is not one at all', () => 'not-a-token'],
    ])('refuses %s with 403 NOT_ADMITTED and changes nothing', async (_case, token) => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ admission }, [buyer]);
      const before = await saleState(sale.id);
      const response = await purchase(app, sale.id, buyer, { admissionToken: token(sale.id, buyer) });
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({
        statusCode: 403,
        code: 'NOT_ADMITTED',
        message: expect.stringContaining(sale.id),
        details: [{ field: 'Admission-Token', message: expect.any(String) }],
      });
      expect(await saleState(sale.id)).toEqual(before);
    });

    it('still checks eligibility: an admitted buyer without a reservation is NOT_ELIGIBLE', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ admission }, []);
      const response = await purchase(app, sale.id, buyer, { admissionToken: tokenFor(sale.id, buyer) });
      expect(response.body.code).toBe('NOT_ELIGIBLE');
    });

    it('keeps the per-user limit for admitted buyers', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ admission, perUserLimit: 1 }, [buyer]);
      const admissionToken = tokenFor(sale.id, buyer);
      expect((await purchase(app, sale.id, buyer, { admissionToken })).status).toBe(201);
      expect((await purchase(app, sale.id, buyer, { admissionToken })).body.code).toBe('LIMIT_REACHED');
    });

    it('replays an accepted purchase by its Idempotency-Key even once the token has expired', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ admission }, [buyer]);
      const first = await purchase(app, sale.id, buyer, { admissionToken: tokenFor(sale.id, buyer, app.clock.now() + 1000), idempotencyKey: 'k1' });
      app.clock.advance(2000);
      const again = await purchase(app, sale.id, buyer, { idempotencyKey: 'k1' });
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
    });

    it('lets an F-code holder buy without a token in the priority window, and not after startsAt', async () => {
      const buyers = buyerIds(2);
      const start = app.clock.now() + 60_000;
      const sale = await seedSaleInRedis(app, { admission, fcodeStock: 5, startsAt: start, fcodeOpensAt: start - 30_000 });
      const codes = await Promise.all(buyers.map(() => seedFcode(sale.id)));
      app.clock.set(sale.fcodeOpensAt);
      expect((await purchase(app, sale.id, buyers[0], { fcode: codes[0] })).status).toBe(201);
      openSale(app, sale);
      expect((await purchase(app, sale.id, buyers[1], { fcode: codes[1] })).body.code).toBe('NOT_ADMITTED');
      expect((await purchase(app, sale.id, buyers[1], { fcode: codes[1], admissionToken: tokenFor(sale.id, buyers[1]) })).status).toBe(201);
      await assertInvariants(app, sale.id);
    });
  });

  describe('when the sale is open', () => {
    it('sells without a token and ignores one that is sent', async () => {
      const buyers = buyerIds(2);
      const sale = await liveSale({}, buyers);
      expect((await purchase(app, sale.id, buyers[0])).status).toBe(201);
      expect((await purchase(app, sale.id, buyers[1], { admissionToken: 'garbage' })).status).toBe(201);
    });
  });

  describe('a sale created through the admin route', () => {
    it('carries its admission mode to the hot path', async () => {
      const [buyer] = buyerIds(1);
      const sale = await createSale(app, { admission: 'queue', reservationRequired: false });
      openSale(app, sale);
      expect((await purchase(app, sale.id, buyer)).body.code).toBe('NOT_ADMITTED');
      expect((await purchase(app, sale.id, buyer, { admissionToken: tokenFor(sale.id, buyer) })).status).toBe(201);
    });
  });

  async function seedFcode(saleId: string): Promise<string> {
    const code = generateFcode();
    await app.redis.hset(app.keys.forSale(saleId).fcode(hashFcode(app.config.fcodeSecret, code)), { userId: '', expiresAt: 0, status: 'issued', orderId: '' });
    return formatFcode(code);
  }
});

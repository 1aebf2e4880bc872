import { generateFcode, formatFcode, hashFcode } from '../src/fcodes/fcode-codec';
import { assertInvariants } from './support/invariants';
import { buyerIds, openSale, privateIp, purchase, reserveBuyersInRedis, seedSaleInRedis, SaleOptions, TestSale } from './support/sales';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

/**
 * The rules of purchase.lua, one at a time, through HTTP against the real script. The sale's Redis state
 * is seeded as the sales feature lays it out, so each rule is tested in isolation from sale creation.
 */
describe('POST /api/sales/:saleId/purchase', () => {
  let app: TestApp;
  const clientIp = privateIp();

  beforeAll(async () => {
    // Wrong-code attempts from this test must not trip the per-address brake shared by the test run.
    app = await createTestApp({ env: { FCODE_MAX_FAILURES: '1000000', FCODE_MAX_FAILURES_PER_IP: '1000000', SOLD_OUT_FLAG_TTL_MS: '0' } });
  });
  afterAll(async () => {
    await app.close();
  });

  /** A seeded sale, already open, with `buyers` reserved. */
  async function liveSale(options: SaleOptions = {}, buyers: string[] = []): Promise<TestSale> {
    const sale = await seedSaleInRedis(app, options);
    await reserveBuyersInRedis(app, sale.id, buyers);
    openSale(app, sale);
    return sale;
  }

  /** Everything a refused purchase must leave untouched. */
  async function saleState(saleId: string): Promise<unknown> {
    const keys = app.keys.forSale(saleId);
    const [sale, buyers, events, deadlines] = await Promise.all([app.redis.hgetall(keys.sale), app.redis.hgetall(keys.buyers), app.redis.xlen(keys.events), app.redis.zcard(keys.deadlines)]);
    return { sale, buyers, events, deadlines };
  }

  async function seedFcode(saleId: string, fields: { userId?: string; expiresAt?: number; status?: string; orderId?: string } = {}): Promise<string> {
    const code = generateFcode();
    await app.redis.hset(app.keys.forSale(saleId).fcode(hashFcode(app.config.fcodeSecret, code)), {
      userId: fields.userId ?? '',
      expiresAt: fields.expiresAt ?? 0,
      status: fields.status ?? 'issued',
      orderId: fields.orderId ?? '',
    });
    return formatFcode(code);
  }

  it('is documented in the OpenAPI document, bearer token, Idempotency-Key and errors included', async () => {
    const document = (await app.request('GET', '/docs-json')).body;
    const operation = document.paths['/api/sales/{saleId}/purchase'].post;
    expect(operation.tags).toEqual(['purchase']);
    expect(operation.security).toEqual([{ bearer: [] }]);
    expect(operation.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]));
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['201', '400', '403', '404', '409', '422', '429', '503']));
    expect(document.components.schemas.PurchaseDto.properties.quantity).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    // The route is served by Fastify directly and documented by hand: its references must resolve.
    expect(operation.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/PurchaseDto' });
    expect(operation.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/OrderResponseDto' });
    expect(document.components.schemas.OrderResponseDto.properties).toHaveProperty('payBy');
    for (const path of ['/api/orders/{orderId}', '/api/me/orders']) expect(document.paths[path].get.tags).toEqual(['orders']);
  });

  describe('when a reserved buyer buys in the window', () => {
    it('answers 201 with the pending order, readable at once', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ stock: 5, priceCents: 12345, perUserLimit: 2, paymentWindowSeconds: 600 }, [buyer]);
      const response = await purchase(app, sale.id, buyer, { quantity: 2 });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(new RegExp(`^o_[0-9a-z]{26}\\.${sale.id}$`)),
        saleId: sale.id,
        userId: buyer,
        quantity: 2,
        unitPriceCents: 12345,
        amountCents: 24690,
        currency: 'CNY',
        status: 'pending_payment',
        pool: 'general',
        createdAt: new Date(sale.startsAt).toISOString(),
        payBy: new Date(sale.startsAt + 600_000).toISOString(),
        paidAt: null,
      });
      expect(response.headers.location).toBe(`/api/orders/${response.body.id}`);
      const read = await app.request('GET', `/api/orders/${response.body.id}`, { token: app.token(buyer) });
      expect(read.body).toEqual(response.body);
      const state = await app.redis.hgetall(app.keys.forSale(sale.id).sale);
      expect(state).toMatchObject({ generalRemaining: '3', unitsSold: '2', accepted: '1', pending_payment: '1' });
      expect(await app.redis.zscore(app.keys.forSale(sale.id).deadlines, response.body.id)).toBe(String(sale.startsAt + 600_000));
      await assertInvariants(app, sale.id);
    });

    it('defaults the quantity to 1 when the body is omitted', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({}, [buyer]);
      const response = await app.request('POST', `/api/sales/${sale.id}/purchase`, { token: app.token(buyer) });
      expect(response.status).toBe(201);
      expect(response.body.quantity).toBe(1);
    });

    it('sells the very last units, and not one more', async () => {
      const buyers = buyerIds(3);
      const sale = await liveSale({ stock: 3, perUserLimit: 2 }, buyers);
      expect((await purchase(app, sale.id, buyers[0], { quantity: 2 })).status).toBe(201);
      const tooMany = await purchase(app, sale.id, buyers[1], { quantity: 2 });
      expect(tooMany.status).toBe(409);
      expect(tooMany.body.code).toBe('SOLD_OUT');
      expect(tooMany.body.details).toEqual([{ field: 'quantity', message: 'fewer units left than requested' }]);
      expect((await purchase(app, sale.id, buyers[1], { quantity: 1 })).status).toBe(201);
      const none = await purchase(app, sale.id, buyers[2]);
      expect(none.body).toMatchObject({ statusCode: 409, code: 'SOLD_OUT', message: `Sale ${sale.id} is sold out`, details: [] });
      await assertInvariants(app, sale.id);
    });
  });

  describe('when the request is not a valid purchase', () => {
    it.each([
      ['quantity 0', { quantity: 0 }],
      ['quantity 101', { quantity: 101 }],
      ['a fractional quantity', { quantity: 1.5 }],
      ['a quantity as a string', { quantity: '1' }],
      ['an unknown field', { quantity: 1, price: 1 }],
      ['an F-code that is not a string', { fcode: 12 }],
      ['an empty F-code', { fcode: '' }],
      ['an array body', [1, 2]],
    ])('refuses %s with 400 VALIDATION_FAILED and sells nothing', async (_case, body) => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({}, [buyer]);
      const before = await saleState(sale.id);
      const response = await app.request('POST', `/api/sales/${sale.id}/purchase`, { token: app.token(buyer), body });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', message: expect.any(String), details: expect.any(Array) });
      expect(await saleState(sale.id)).toEqual(before);
    });

    it('refuses malformed JSON with 400', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({}, [buyer]);
      const response = await app.request('POST', `/api/sales/${sale.id}/purchase`, { token: app.token(buyer), rawBody: '{"quantity":' });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    });

    it.each([
      ['longer than 128 characters', 'k'.repeat(129)],
      ['with a non-ASCII character', 'clé-1'],
      ['empty', ''],
    ])('refuses an Idempotency-Key %s with 400', async (_case, idempotencyKey) => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({}, [buyer]);
      const response = await purchase(app, sale.id, buyer, { idempotencyKey });
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([{ field: 'Idempotency-Key', message: 'must be 1-128 printable ASCII characters' }]);
    });

    it('refuses a malformed sale id with 400', async () => {
      const response = await purchase(app, 'not a sale id!', uniqueId('u'));
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([{ field: 'saleId', message: expect.any(String) }]);
    });

    it('refuses without a token with 401', async () => {
      const sale = await liveSale();
      const response = await app.request('POST', `/api/sales/${sale.id}/purchase`, { body: {} });
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('UNAUTHENTICATED');
    });

    it('answers 404 SALE_NOT_FOUND for an unknown sale', async () => {
      const response = await purchase(app, `s_${uniqueId('missing')}`, uniqueId('u'));
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SALE_NOT_FOUND');
    });
  });

  describe('when the sale is not selling', () => {
    it('refuses 1 ms before startsAt with SALE_NOT_STARTED and sells at startsAt', async () => {
      const [buyer] = buyerIds(1);
      const sale = await seedSaleInRedis(app);
      await reserveBuyersInRedis(app, sale.id, [buyer]);
      app.clock.set(sale.startsAt - 1);
      const before = await saleState(sale.id);
      const early = await purchase(app, sale.id, buyer);
      expect(early.status).toBe(409);
      expect(early.body.code).toBe('SALE_NOT_STARTED');
      expect(early.body.message).toContain(new Date(sale.startsAt).toISOString());
      expect(await saleState(sale.id)).toEqual(before);
      app.clock.set(sale.startsAt);
      expect((await purchase(app, sale.id, buyer)).status).toBe(201);
    });

    it('sells 1 ms before endsAt and refuses at endsAt with SALE_ENDED', async () => {
      const buyers = buyerIds(2);
      const sale = await liveSale({ stock: 5 }, buyers);
      app.clock.set(sale.endsAt - 1);
      expect((await purchase(app, sale.id, buyers[0])).status).toBe(201);
      app.clock.set(sale.endsAt);
      const before = await saleState(sale.id);
      const late = await purchase(app, sale.id, buyers[1]);
      expect(late.status).toBe(409);
      expect(late.body.code).toBe('SALE_ENDED');
      expect(await saleState(sale.id)).toEqual(before);
    });

    it('refuses while paused with SALE_PAUSED and changes nothing', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({}, [buyer]);
      await app.redis.hset(app.keys.forSale(sale.id).sale, 'paused', 1);
      const before = await saleState(sale.id);
      const response = await purchase(app, sale.id, buyer);
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('SALE_PAUSED');
      expect(await saleState(sale.id)).toEqual(before);
    });

    it('tells an ended sale before a paused one, and a paused one before the start', async () => {
      const [buyer] = buyerIds(1);
      const sale = await seedSaleInRedis(app);
      await app.redis.hset(app.keys.forSale(sale.id).sale, 'paused', 1);
      app.clock.set(sale.startsAt - 1);
      expect((await purchase(app, sale.id, buyer)).body.code).toBe('SALE_PAUSED');
      app.clock.set(sale.endsAt);
      expect((await purchase(app, sale.id, buyer)).body.code).toBe('SALE_ENDED');
    });
  });

  describe('when the buyer is not eligible', () => {
    it('refuses a buyer without a reservation with 403 NOT_ELIGIBLE and leaves the stock untouched', async () => {
      const sale = await liveSale({ stock: 5 }, buyerIds(3));
      const before = await saleState(sale.id);
      const response = await purchase(app, sale.id, uniqueId('stranger'));
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('NOT_ELIGIBLE');
      expect(await saleState(sale.id)).toEqual(before);
    });

    it('lets anyone buy when the sale does not require a reservation', async () => {
      const sale = await liveSale({ reservationRequired: false });
      expect((await purchase(app, sale.id, uniqueId('walk-in'))).status).toBe(201);
    });
  });

  describe('when the buyer reaches perUserLimit', () => {
    it('refuses the unit over the limit with LIMIT_REACHED', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ stock: 10, perUserLimit: 3 }, [buyer]);
      expect((await purchase(app, sale.id, buyer, { quantity: 2 })).status).toBe(201);
      const before = await saleState(sale.id);
      const over = await purchase(app, sale.id, buyer, { quantity: 2 });
      expect(over.status).toBe(409);
      expect(over.body.code).toBe('LIMIT_REACHED');
      expect(over.body.details).toEqual([{ field: 'quantity', message: 'at most 1 more unit(s) allowed' }]);
      expect(await saleState(sale.id)).toEqual(before);
      expect((await purchase(app, sale.id, buyer, { quantity: 1 })).status).toBe(201);
      expect((await purchase(app, sale.id, buyer, { quantity: 1 })).body.code).toBe('LIMIT_REACHED');
    });

    it('gives a buyer firing 200 purchases at once exactly perUserLimit units', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ stock: 100, perUserLimit: 2 }, [buyer]);
      const responses = await Promise.all(Array.from({ length: 200 }, () => purchase(app, sale.id, buyer)));
      expect(responses.filter((response) => response.status === 201)).toHaveLength(2);
      expect(responses.filter((response) => response.body.code === 'LIMIT_REACHED')).toHaveLength(198);
      expect(await app.redis.hget(app.keys.forSale(sale.id).buyers, buyer)).toBe('2');
      const report = await assertInvariants(app, sale.id);
      expect(report.unitsSold).toBe(2);
    });
  });

  describe('with an Idempotency-Key', () => {
    it('answers a repeat with the first response, byte for byte, and sells once', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ stock: 5 }, [buyer]);
      const first = await purchase(app, sale.id, buyer, { idempotencyKey: 'checkout-1' });
      app.clock.advance(5_000);
      const again = await purchase(app, sale.id, buyer, { idempotencyKey: 'checkout-1' });
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.text).toBe(first.text);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(await app.redis.hget(app.keys.forSale(sale.id).sale, 'accepted')).toBe('1');
    });

    it('answers 100 concurrent retries with one order and 100 identical responses', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ stock: 50, perUserLimit: 5 }, [buyer]);
      const responses = await Promise.all(Array.from({ length: 100 }, () => purchase(app, sale.id, buyer, { idempotencyKey: 'double-click' })));
      expect(new Set(responses.map((response) => `${response.status} ${response.text}`)).size).toBe(1);
      expect(responses[0].status).toBe(201);
      const report = await assertInvariants(app, sale.id);
      expect(report.accepted).toBe(1);
      expect(report.unitsSold).toBe(1);
    });

    it('refuses the same key with a different body with 422 IDEMPOTENCY_KEY_REUSED', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({ stock: 5, perUserLimit: 5 }, [buyer]);
      await purchase(app, sale.id, buyer, { idempotencyKey: 'k' });
      const before = await saleState(sale.id);
      const reused = await purchase(app, sale.id, buyer, { idempotencyKey: 'k', quantity: 2 });
      expect(reused.status).toBe(422);
      expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await saleState(sale.id)).toEqual(before);
    });

    it('still replays after the sale has ended', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({}, [buyer]);
      const first = await purchase(app, sale.id, buyer, { idempotencyKey: 'late-retry' });
      app.clock.set(sale.endsAt + 1);
      const again = await purchase(app, sale.id, buyer, { idempotencyKey: 'late-retry' });
      expect(again.status).toBe(201);
      expect(again.text).toBe(first.text);
    });

    it('keeps keys apart per buyer', async () => {
      const buyers = buyerIds(2);
      const sale = await liveSale({}, buyers);
      const first = await purchase(app, sale.id, buyers[0], { idempotencyKey: 'shared' });
      const second = await purchase(app, sale.id, buyers[1], { idempotencyKey: 'shared' });
      expect(second.status).toBe(201);
      expect(second.body.id).not.toBe(first.body.id);
    });

    it('does not remember a refusal: the same key succeeds once the sale resumes', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({}, [buyer]);
      await app.redis.hset(app.keys.forSale(sale.id).sale, 'paused', 1);
      expect((await purchase(app, sale.id, buyer, { idempotencyKey: 'retry-me' })).body.code).toBe('SALE_PAUSED');
      await app.redis.hset(app.keys.forSale(sale.id).sale, 'paused', 0);
      expect((await purchase(app, sale.id, buyer, { idempotencyKey: 'retry-me' })).status).toBe(201);
    });

    it('expires the remembered response after 24 hours', async () => {
      const [buyer] = buyerIds(1);
      const sale = await liveSale({}, [buyer]);
      const first = await purchase(app, sale.id, buyer, { idempotencyKey: 'ttl' });
      const key = app.keys.forSale(sale.id).idempotency('purchase', buyer, 'ttl');
      const ttl = await app.redis.pttl(key);
      expect(ttl).toBeGreaterThan(24 * 3600_000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(24 * 3600_000);
      expect(first.status).toBe(201);
    });
  });

  describe('with an F-code', () => {
    it('lets the holder buy from fcodeOpensAt on, without a reservation, from the F-code pool', async () => {
      const sale = await seedSaleInRedis(app, { stock: 5, fcodeStock: 2 });
      app.clock.set(sale.startsAt - 10_000);
      await app.redis.hset(app.keys.forSale(sale.id).sale, 'fcodeOpensAt', sale.startsAt - 10_000);
      const code = await seedFcode(sale.id);
      const holder = uniqueId('holder');
      app.clock.set(sale.startsAt - 10_001);
      expect((await purchase(app, sale.id, holder, { fcode: code, clientIp })).body.code).toBe('SALE_NOT_STARTED');
      app.clock.set(sale.startsAt - 10_000);
      const response = await purchase(app, sale.id, holder, { fcode: code.toLowerCase().replace(/-/g, ' '), clientIp });
      expect(response.status).toBe(201);
      expect(response.body.pool).toBe('fcode');
      const keys = app.keys.forSale(sale.id);
      expect(await app.redis.hget(keys.fcode(hashFcode(app.config.fcodeSecret, code.replace(/-/g, ''))), 'orderId')).toBe(response.body.id);
      expect(await app.redis.hmget(keys.sale, 'fcodeRemaining', 'generalRemaining', 'fcodesRedeemed')).toEqual(['1', '5', '1']);
      // A reserved buyer without a code still waits for startsAt.
      const [reserved] = buyerIds(1);
      await reserveBuyersInRedis(app, sale.id, [reserved]);
      expect((await purchase(app, sale.id, reserved)).body.code).toBe('SALE_NOT_STARTED');
      await assertInvariants(app, sale.id);
    });

    it('draws from the general pool when the F-code pool is empty', async () => {
      const sale = await liveSale({ stock: 1, fcodeStock: 0 });
      const response = await purchase(app, sale.id, uniqueId('holder'), { fcode: await seedFcode(sale.id), clientIp });
      expect(response.status).toBe(201);
      expect(response.body.pool).toBe('general');
    });

    it('refuses a code that backs a live order with FCODE_USED', async () => {
      const sale = await liveSale({ stock: 5, fcodeStock: 5 });
      const code = await seedFcode(sale.id);
      expect((await purchase(app, sale.id, uniqueId('first'), { fcode: code, clientIp })).status).toBe(201);
      const second = await purchase(app, sale.id, uniqueId('second'), { fcode: code, clientIp });
      expect(second.status).toBe(409);
      expect(second.body.code).toBe('FCODE_USED');
    });

    it.each([
      ['bound to another buyer', { userId: 'someone-else' }, 403, 'FCODE_INVALID'],
      ['void', { status: 'void' }, 403, 'FCODE_INVALID'],
      ['expired', { expiresAt: 1 }, 409, 'FCODE_EXPIRED'],
    ])('refuses a code %s and leaves the stock untouched', async (_case, fields, status, code) => {
      const sale = await liveSale({ stock: 5, fcodeStock: 5 });
      const fcode = await seedFcode(sale.id, fields);
      const before = await saleState(sale.id);
      const response = await purchase(app, sale.id, uniqueId('holder'), { fcode, clientIp });
      expect(response.status).toBe(status);
      expect(response.body.code).toBe(code);
      expect(await saleState(sale.id)).toEqual(before);
    });

    it('accepts a code bound to the buyer', async () => {
      const sale = await liveSale({ stock: 5, fcodeStock: 5 });
      const holder = uniqueId('holder');
      expect((await purchase(app, sale.id, holder, { fcode: await seedFcode(sale.id, { userId: holder }), clientIp })).status).toBe(201);
    });

    it('refuses an unknown code, a malformed one and a mistyped one with FCODE_INVALID, telling the typo apart', async () => {
      const sale = await liveSale({ stock: 5, fcodeStock: 5 });
      const before = await saleState(sale.id);
      const unknown = await purchase(app, sale.id, uniqueId('guesser'), { fcode: generateFcode(), clientIp });
      expect(unknown.body).toMatchObject({ statusCode: 403, code: 'FCODE_INVALID' });
      const malformed = await purchase(app, sale.id, uniqueId('guesser'), { fcode: 'hello', clientIp });
      expect(malformed.body).toMatchObject({ statusCode: 403, code: 'FCODE_INVALID', message: 'This is not a valid F-code' });
      const real = (await seedFcode(sale.id)).replace(/-/g, '');
      const typo = real.slice(0, 3) + (real[3] === 'A' ? 'B' : 'A') + real.slice(4);
      const mistyped = await purchase(app, sale.id, uniqueId('holder'), { fcode: typo, clientIp });
      expect(mistyped.body).toMatchObject({ statusCode: 403, code: 'FCODE_INVALID' });
      expect(mistyped.body.message).toMatch(/mistyped/);
      expect(await saleState(sale.id)).toEqual(before);
    });
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { buy, clientIp, fcodeKey, issueFcodes, saleSnapshot, withTypo } from './fcodes.fixtures';
import { assertInvariants } from './support/invariants';
import { buyerIds, createSale, openSale, reserveBuyersInRedis, SaleOptions, TestSale } from './support/sales';
import { createTestApp, TestApp, TestResponse, uniqueId } from './support/test-app';

/** Redeeming F-codes on the hot path (purchase.lua's F-code branch), through HTTP, real Redis and database. */
describe('POST /api/sales/:saleId/purchase with an F-code', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({ env: { SOLD_OUT_FLAG_TTL_MS: '0' } });
  });
  afterAll(async () => {
    await app.close();
  });
  afterEach(() => {
    app.clock.set(Date.now());
  });

  /** A sale that starts a minute from now, with the clock moved to its start. */
  async function liveSale(options: SaleOptions = {}): Promise<TestSale> {
    const sale = await createSale(app, { stock: 10, fcodeStock: 10, ...options });
    openSale(app, sale);
    return sale;
  }

  function statuses(responses: TestResponse[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const response of responses) {
      const key = response.status === 201 ? 'CREATED' : response.body.code;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  describe('when 50 buyers race with the same code', () => {
    it('sells exactly one unit and refuses the other 49 with FCODE_USED', async () => {
      const sale = await liveSale({ stock: 100, fcodeStock: 100 });
      const { codes } = await issueFcodes(app, sale.id, { count: 1 });
      const responses = await Promise.all(buyerIds(50).map((buyer) => buy(app, sale.id, buyer, { fcode: codes[0] })));
      expect(statuses(responses)).toEqual({ CREATED: 1, FCODE_USED: 49 });
      const order = responses.find((response) => response.status === 201)?.body;
      expect(order.pool).toBe('fcode');
      expect(await app.redis.hget(fcodeKey(app, sale.id, codes[0]), 'orderId')).toBe(order.id);
      const state = await app.redis.hmget(app.keys.forSale(sale.id).sale, 'fcodeRemaining', 'generalRemaining', 'fcodesRedeemed');
      expect(state).toEqual(['99', '100', '1']);
      await assertInvariants(app, sale.id);
    });
  });

  describe('when the code is refused', () => {
    it('refuses a code bound to another buyer with FCODE_INVALID, and its owner can still use it', async () => {
      const sale = await liveSale();
      const [owner, stranger] = buyerIds(2);
      const { codes } = await issueFcodes(app, sale.id, { userIds: [owner] });
      const before = await saleSnapshot(app, sale.id);
      const response = await buy(app, sale.id, stranger, { fcode: codes[0] });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('FCODE_INVALID');
      expect(await saleSnapshot(app, sale.id)).toEqual(before);
      expect((await buy(app, sale.id, owner, { fcode: codes[0] })).status).toBe(201);
    });

    it('refuses a voided code with FCODE_INVALID', async () => {
      const sale = await liveSale();
      const { codes } = await issueFcodes(app, sale.id, { count: 1 });
      expect((await app.request('POST', `/api/admin/fcodes/${codes[0]}/void`, { token: app.opsToken() })).status).toBe(200);
      const before = await saleSnapshot(app, sale.id);
      const response = await buy(app, sale.id, uniqueId('u'), { fcode: codes[0] });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('FCODE_INVALID');
      expect(await saleSnapshot(app, sale.id)).toEqual(before);
    });

    it('refuses an expired code with FCODE_EXPIRED, from its expiry on', async () => {
      const sale = await liveSale();
      const expiresAt = app.clock.now() + 30_000;
      const { codes } = await issueFcodes(app, sale.id, { count: 2, expiresAt });
      app.clock.set(expiresAt - 1);
      expect((await buy(app, sale.id, uniqueId('u'), { fcode: codes[0] })).status).toBe(201);
      app.clock.set(expiresAt);
      const before = await saleSnapshot(app, sale.id);
      const response = await buy(app, sale.id, uniqueId('u'), { fcode: codes[1] });
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('FCODE_EXPIRED');
      expect(response.body.message).toContain(new Date(expiresAt).toISOString());
      expect(await saleSnapshot(app, sale.id)).toEqual(before);
    });

    it('refuses a code of another sale with FCODE_INVALID', async () => {
      const sale = await liveSale();
      const other = await createSale(app, { stock: 10, fcodeStock: 10, startsAt: sale.startsAt });
      const { codes } = await issueFcodes(app, other.id, { count: 1 });
      const before = await saleSnapshot(app, sale.id);
      const response = await buy(app, sale.id, uniqueId('u'), { fcode: codes[0] });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('FCODE_INVALID');
      expect(await saleSnapshot(app, sale.id)).toEqual(before);
      expect((await buy(app, other.id, uniqueId('u'), { fcode: codes[0] })).status).toBe(201);
    });

    it('refuses a code with a one-character typo with FCODE_INVALID and says it looks mistyped', async () => {
      const sale = await liveSale();
      const { codes } = await issueFcodes(app, sale.id, { count: 1 });
      const before = await saleSnapshot(app, sale.id);
      const response = await buy(app, sale.id, uniqueId('u'), { fcode: withTypo(codes[0]) });
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ code: 'FCODE_INVALID', message: expect.stringContaining('mistyped'), details: [{ field: 'fcode', message: 'check character does not match' }] });
      expect(await saleSnapshot(app, sale.id)).toEqual(before);
    });

    it('accepts the code however it is typed: lower case, spaces, no dashes', async () => {
      const sale = await liveSale();
      const { codes } = await issueFcodes(app, sale.id, { count: 1 });
      const typed = ` ${codes[0].toLowerCase().replace(/-/g, ' ')} `;
      expect((await buy(app, sale.id, uniqueId('u'), { fcode: typed })).status).toBe(201);
    });
  });

  describe('in the priority window (from fcodeOpensAt to startsAt)', () => {
    it('lets a code holder buy, refuses a reserved buyer without a code, and lets both buy after startsAt', async () => {
      const now = app.clock.now();
      const sale = await createSale(app, { stock: 10, fcodeStock: 10, fcodeOpensAt: now + 10_000, startsAt: now + 60_000 });
      const [holder, reserved, laterHolder] = buyerIds(3);
      await reserveBuyersInRedis(app, sale.id, [reserved]);
      const { codes } = await issueFcodes(app, sale.id, { count: 2 });

      app.clock.set(sale.fcodeOpensAt - 1);
      const early = await buy(app, sale.id, holder, { fcode: codes[0] });
      expect(early.status).toBe(409);
      expect(early.body.code).toBe('SALE_NOT_STARTED');

      app.clock.set(sale.fcodeOpensAt);
      const holderPurchase = await buy(app, sale.id, holder, { fcode: codes[0] });
      expect(holderPurchase.status).toBe(201);
      expect(holderPurchase.body.pool).toBe('fcode');
      const reservedEarly = await buy(app, sale.id, reserved);
      expect(reservedEarly.status).toBe(409);
      expect(reservedEarly.body.code).toBe('SALE_NOT_STARTED');

      app.clock.set(sale.startsAt);
      expect((await buy(app, sale.id, reserved)).status).toBe(201);
      expect((await buy(app, sale.id, laterHolder, { fcode: codes[1] })).status).toBe(201);
      await assertInvariants(app, sale.id);
    });
  });

  describe('when the F-code pool is empty', () => {
    it('sells the holder a unit of the general pool, and SOLD_OUT once both pools are empty', async () => {
      const sale = await liveSale({ stock: 1, fcodeStock: 1 });
      const { codes } = await issueFcodes(app, sale.id, { count: 3 });
      const first = await buy(app, sale.id, uniqueId('u'), { fcode: codes[0] });
      expect(first.body.pool).toBe('fcode');
      const second = await buy(app, sale.id, uniqueId('u'), { fcode: codes[1] });
      expect(second.status).toBe(201);
      expect(second.body.pool).toBe('general');
      const before = await saleSnapshot(app, sale.id);
      const third = await buy(app, sale.id, uniqueId('u'), { fcode: codes[2] });
      expect(third.status).toBe(409);
      expect(third.body.code).toBe('SOLD_OUT');
      expect(await saleSnapshot(app, sale.id)).toEqual(before);
      expect(await app.redis.hget(fcodeKey(app, sale.id, codes[2]), 'orderId')).toBe('');
      await assertInvariants(app, sale.id);
    });
  });

  describe('when the holder already holds perUserLimit units', () => {
    it('refuses with LIMIT_REACHED and leaves the code unused', async () => {
      const sale = await liveSale({ perUserLimit: 1 });
      const [holder] = buyerIds(1);
      await reserveBuyersInRedis(app, sale.id, [holder]);
      expect((await buy(app, sale.id, holder)).status).toBe(201);
      const { codes } = await issueFcodes(app, sale.id, { userIds: [holder] });
      const before = await saleSnapshot(app, sale.id);
      const response = await buy(app, sale.id, holder, { fcode: codes[0] });
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('LIMIT_REACHED');
      expect(await saleSnapshot(app, sale.id)).toEqual(before);
      expect(await app.redis.hgetall(fcodeKey(app, sale.id, codes[0]))).toMatchObject({ status: 'issued', orderId: '' });
    });
  });

  describe('when code holders and reserved buyers race for the last units', () => {
    it('sells exactly the stock, never redeems a code twice, and keeps every invariant', async () => {
      const sale = await liveSale({ stock: 20, fcodeStock: 10 });
      const holders = buyerIds(30, uniqueId('holder'));
      const sharers = buyerIds(15, uniqueId('sharer'));
      const reserved = buyerIds(40, uniqueId('reserved'));
      await reserveBuyersInRedis(app, sale.id, reserved);
      const { codes } = await issueFcodes(app, sale.id, { count: holders.length });
      // Every holder uses their own code; half the codes are also tried at the same time by someone else.
      const attempts = [
        ...holders.map((buyer, index) => () => buy(app, sale.id, buyer, { fcode: codes[index] })),
        ...sharers.map((buyer, index) => () => buy(app, sale.id, buyer, { fcode: codes[index * 2] })),
        ...reserved.map((buyer) => () => buy(app, sale.id, buyer)),
      ].sort(() => Math.random() - 0.5);
      const responses = await Promise.all(attempts.map((attempt) => attempt()));

      const counts = statuses(responses);
      expect(counts.CREATED).toBe(30);
      for (const code of Object.keys(counts)) expect(['CREATED', 'FCODE_USED', 'SOLD_OUT']).toContain(code);
      const state = await app.redis.hmget(app.keys.forSale(sale.id).sale, 'generalRemaining', 'fcodeRemaining', 'unitsSold');
      expect(state).toEqual(['0', '0', '30']);
      const report = await assertInvariants(app, sale.id);
      const redeemedCodes = report.redisOrders.filter((order) => order.fcodeHash !== '').map((order) => order.fcodeHash);
      expect(new Set(redeemedCodes).size).toBe(redeemedCodes.length);
      expect(Number(await app.redis.hget(app.keys.forSale(sale.id).sale, 'fcodesRedeemed'))).toBe(redeemedCodes.length);
      expect(report.redisOrders.filter((order) => order.pool === 'fcode').every((order) => order.fcodeHash !== '')).toBe(true);
    });
  });

  describe('when a buyer or an address keeps trying wrong codes', () => {
    let limited: TestApp;

    beforeAll(async () => {
      limited = await createTestApp({ env: { FCODE_MAX_FAILURES: '5', FCODE_MAX_FAILURES_PER_IP: '8', FCODE_FAILURE_WINDOW_SECONDS: '600' } });
    });
    afterAll(async () => {
      await limited.close();
    });

    async function limitedSale(): Promise<{ sale: TestSale; codes: string[] }> {
      const sale = await createSale(limited, { stock: 10, fcodeStock: 10 });
      openSale(limited, sale);
      const { codes } = await issueFcodes(limited, sale.id, { count: 5 });
      return { sale, codes };
    }

    it('refuses further F-code attempts of that buyer with 429 RATE_LIMITED and Retry-After, even with a good code', async () => {
      const { sale, codes } = await limitedSale();
      const [guesser, honest] = buyerIds(2);
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const wrong = await buy(limited, sale.id, guesser, { fcode: withTypo(codes[0]) });
        expect(wrong.body.code).toBe('FCODE_INVALID');
      }
      const blocked = await buy(limited, sale.id, guesser, { fcode: codes[0] });
      expect(blocked.status).toBe(429);
      expect(blocked.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
      const retryAfter = Number(blocked.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(590);
      expect(retryAfter).toBeLessThanOrEqual(600);
      expect(await limited.redis.hget(fcodeKey(limited, sale.id, codes[0]), 'orderId')).toBe('');
      // Someone else, and this buyer without a code, are not braked.
      expect((await buy(limited, sale.id, honest, { fcode: codes[0] })).status).toBe(201);
      expect((await buy(limited, sale.id, guesser)).body.code).toBe('NOT_ELIGIBLE');
    });

    it('refuses F-code attempts from an address that sent too many wrong codes, whoever the buyer', async () => {
      const { sale, codes } = await limitedSale();
      const address = clientIp();
      for (const guesser of buyerIds(8)) expect((await buy(limited, sale.id, guesser, { fcode: withTypo(codes[0]), ip: address })).body.code).toBe('FCODE_INVALID');
      const [newcomer] = buyerIds(1);
      const blocked = await buy(limited, sale.id, newcomer, { fcode: codes[0], ip: address });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect((await buy(limited, sale.id, newcomer, { fcode: codes[0], ip: clientIp() })).status).toBe(201);
    });

    it('lets no more wrong codes of one buyer through than the allowance, even when they arrive all at once', async () => {
      const { sale, codes } = await limitedSale();
      const [guesser] = buyerIds(1);
      const burst = await Promise.all(Array.from({ length: 30 }, () => buy(limited, sale.id, guesser, { fcode: withTypo(codes[0]) })));
      expect(statuses(burst)).toEqual({ FCODE_INVALID: 5, RATE_LIMITED: 25 });
    });

    it('does not brake a burst of good codes from one address, nor count them against their buyers', async () => {
      const sale = await createSale(limited, { stock: 30, fcodeStock: 30 });
      openSale(limited, sale);
      const { codes } = await issueFcodes(limited, sale.id, { count: 30 });
      const address = clientIp();
      const buyers = buyerIds(30);
      const responses = await Promise.all(buyers.map((buyer, index) => buy(limited, sale.id, buyer, { fcode: codes[index], ip: address })));
      expect(statuses(responses)).toEqual({ CREATED: 30 });
      expect(await limited.redis.get(limited.keys.fcodeAttempts('ip', address))).toBeNull();
      for (const buyer of buyers) expect(await limited.redis.get(limited.keys.fcodeAttempts('user', buyer))).toBe('0');
    });

    it('counts codes that are unknown, void, bound to another buyer or mistyped', async () => {
      const { sale, codes } = await limitedSale();
      const [guesser, owner] = buyerIds(2);
      const bound = await issueFcodes(limited, sale.id, { userIds: [owner] });
      expect((await limited.request('POST', `/api/admin/fcodes/${codes[0]}/void`, { token: limited.opsToken() })).status).toBe(200);
      const unknown = await issueFcodes(limited, (await createSale(limited, { stock: 1 })).id, { count: 1 });
      for (const fcode of [unknown.codes[0], codes[0], bound.codes[0], withTypo(codes[1]), 'not-a-code']) {
        expect((await buy(limited, sale.id, guesser, { fcode })).body.code).toBe('FCODE_INVALID');
      }
      expect(await limited.redis.get(limited.keys.fcodeAttempts('user', guesser))).toBe('5');
      expect((await buy(limited, sale.id, guesser, { fcode: codes[1] })).status).toBe(429);
    });

    it('does not count codes that are used or expired', async () => {
      const { sale, codes } = await limitedSale();
      const expiring = await issueFcodes(limited, sale.id, { count: 1, expiresAt: limited.clock.now() + 1_000 });
      const [guesser, owner] = buyerIds(2);
      expect((await buy(limited, sale.id, owner, { fcode: codes[0] })).status).toBe(201);
      for (let attempt = 0; attempt < 6; attempt += 1) expect((await buy(limited, sale.id, guesser, { fcode: codes[0] })).body.code).toBe('FCODE_USED');
      limited.clock.advance(1_000);
      for (let attempt = 0; attempt < 6; attempt += 1) expect((await buy(limited, sale.id, guesser, { fcode: expiring.codes[0] })).body.code).toBe('FCODE_EXPIRED');
      expect((await buy(limited, sale.id, guesser, { fcode: codes[1] })).status).toBe(201);
      expect(await limited.redis.get(limited.keys.fcodeAttempts('user', guesser))).toBe('0');
    });

    it('lets the buyer try again once the window has passed', async () => {
      const shortWindow = await createTestApp({ env: { FCODE_MAX_FAILURES: '2', FCODE_FAILURE_WINDOW_SECONDS: '1' } });
      try {
        const sale = await createSale(shortWindow, { stock: 10, fcodeStock: 10 });
        openSale(shortWindow, sale);
        const { codes } = await issueFcodes(shortWindow, sale.id, { count: 1 });
        const [guesser] = buyerIds(1);
        for (let attempt = 0; attempt < 2; attempt += 1) await buy(shortWindow, sale.id, guesser, { fcode: withTypo(codes[0]) });
        const blocked = await buy(shortWindow, sale.id, guesser, { fcode: codes[0] });
        expect(blocked.status).toBe(429);
        expect(blocked.headers['retry-after']).toBe('1');
        // The window is Redis time, not the app's clock: poll (bounded) until the counter lapses.
        const deadline = Date.now() + 5_000;
        let response = blocked;
        while (response.status === 429 && Date.now() < deadline) {
          await sleep(100);
          response = await buy(shortWindow, sale.id, guesser, { fcode: codes[0] });
        }
        expect(response.status).toBe(201);
      } finally {
        await shortWindow.close();
      }
    });
  });
});

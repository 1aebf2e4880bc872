import { FcodeBatchEntity } from '../src/fcodes/fcode-batch.entity';
import { formatFcode, generateFcode, parseFcode } from '../src/fcodes/fcode-codec';
import { FcodeEntity } from '../src/fcodes/fcode.entity';
import { buy, fcodeKey, issueFcodes, parseCsv, withTypo } from './fcodes.fixtures';
import { buyerIds, createSale, openSale, SaleOptions, TestSale } from './support/sales';
import { startRedisServer } from './support/test-services';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

/** Ops side of F-codes through HTTP: issue, export, void, summary. */
describe('F-code administration', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  function fcodeSale(options: SaleOptions = {}): Promise<TestSale> {
    return createSale(app, { stock: 10, fcodeStock: 10, ...options });
  }

  function issue(saleId: string, body: unknown, token = app.opsToken()) {
    return app.request('POST', `/api/admin/sales/${saleId}/fcodes`, { token, body });
  }

  function exportCsv(saleId: string, batchId?: string) {
    return app.request('GET', `/api/admin/sales/${saleId}/fcodes.csv${batchId === undefined ? '' : `?batchId=${batchId}`}`, { token: app.opsToken() });
  }

  function summary(saleId: string) {
    return app.request('GET', `/api/admin/sales/${saleId}/fcodes/summary`, { token: app.opsToken() });
  }

  function voidCode(code: string) {
    return app.request('POST', `/api/admin/fcodes/${encodeURIComponent(code)}/void`, { token: app.opsToken() });
  }

  async function storedCodes(saleId: string): Promise<FcodeEntity[]> {
    return app.database.manager.find(FcodeEntity, { where: { saleId } });
  }

  describe('POST /api/admin/sales/:saleId/fcodes', () => {
    describe('when ops ask for a number of codes', () => {
      it('answers 201 with the batch and that many distinct, well-formed codes', async () => {
        const sale = await fcodeSale();
        const response = await issue(sale.id, { count: 25 });
        expect(response.status).toBe(201);
        expect(response.body).toEqual({ batchId: expect.stringMatching(/^fb_[0-9a-z]{26}$/), saleId: sale.id, count: 25, expiresAt: null, codes: expect.any(Array) });
        const codes: string[] = response.body.codes;
        expect(new Set(codes).size).toBe(25);
        for (const code of codes) {
          expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]$/);
          expect(parseFcode(code).ok).toBe(true);
        }
      });

      it('stores a keyed hash and an encrypted copy in the database, never the code itself', async () => {
        const sale = await fcodeSale();
        const { batchId, codes } = await issueFcodes(app, sale.id, { count: 5 });
        const rows = await storedCodes(sale.id);
        expect(rows).toHaveLength(5);
        const plain = codes.map((code) => code.replace(/-/g, ''));
        for (const row of rows) {
          expect(row).toMatchObject({ batchId, userId: null, status: 'issued', expiresAt: null, voidedAt: null });
          expect(row.codeHash).toMatch(/^[0-9a-f]{64}$/);
          for (const value of Object.values(row)) for (const code of plain) expect(String(value)).not.toContain(code);
        }
        const batch = await app.database.manager.findOne(FcodeBatchEntity, { where: { id: batchId } });
        expect(batch).toMatchObject({ saleId: sale.id, count: 5, expiresAt: null });
      });

      it('writes each code to Redis as the hot path reads it: unbound, never expiring, issued, unused', async () => {
        const sale = await fcodeSale();
        const { codes } = await issueFcodes(app, sale.id, { count: 3 });
        for (const code of codes) {
          expect(await app.redis.hgetall(fcodeKey(app, sale.id, code))).toEqual({ userId: '', expiresAt: '0', status: 'issued', orderId: '' });
        }
      });
    });

    describe('when ops give user ids', () => {
      it('issues one code per user, in their order, each bound to its user', async () => {
        const sale = await fcodeSale();
        const users = buyerIds(4);
        const { codes } = await issueFcodes(app, sale.id, { userIds: users });
        expect(codes).toHaveLength(4);
        for (const [index, code] of codes.entries()) expect(await app.redis.hget(fcodeKey(app, sale.id, code), 'userId')).toBe(users[index]);
        const rows = await storedCodes(sale.id);
        expect(rows.map((row) => row.userId).sort()).toEqual([...users].sort());
      });

      it('accepts a count equal to the number of user ids', async () => {
        const sale = await fcodeSale();
        const response = await issue(sale.id, { count: 2, userIds: buyerIds(2) });
        expect(response.status).toBe(201);
        expect(response.body.count).toBe(2);
      });
    });

    describe('when ops give an expiry', () => {
      it('stores it with every code and returns it', async () => {
        const sale = await fcodeSale();
        const expiresAt = app.clock.now() + 3_600_000;
        const response = await issue(sale.id, { count: 2, expiresAt: new Date(expiresAt).toISOString() });
        expect(response.status).toBe(201);
        expect(response.body.expiresAt).toBe(new Date(expiresAt).toISOString());
        for (const code of response.body.codes) expect(await app.redis.hget(fcodeKey(app, sale.id, code), 'expiresAt')).toBe(String(expiresAt));
        for (const row of await storedCodes(sale.id)) expect(row.expiresAt).toBe(expiresAt);
      });
    });

    describe('when the request is invalid', () => {
      it.each([
        ['no count and no user ids', {}, 'count'],
        ['a count of 0', { count: 0 }, 'count'],
        ['a count over 100,000', { count: 100_001 }, 'count'],
        ['a count that is a string', { count: '5' }, 'count'],
        ['a fractional count', { count: 1.5 }, 'count'],
        ['a count different from the number of user ids', { count: 3, userIds: ['a', 'b'] }, 'count'],
        ['repeated user ids', { userIds: ['a', 'b', 'a'] }, 'userIds'],
        ['an empty user id list', { userIds: [] }, 'userIds'],
        ['a user id with a space', { userIds: ['a b'] }, 'userIds'],
        ['a user id longer than 64 characters', { userIds: ['x'.repeat(65)] }, 'userIds'],
        ['user ids that are not strings', { userIds: [1, 2] }, 'userIds'],
        ['an expiry in the past', { count: 1, expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
        ['an expiry that is not a date', { count: 1, expiresAt: 'tomorrow' }, 'expiresAt'],
        ['an unknown field', { count: 1, batchSize: 5 }, 'batchSize'],
      ])('refuses %s with 400 VALIDATION_FAILED and issues nothing', async (_name, body, field) => {
        const sale = await fcodeSale();
        const response = await issue(sale.id, body);
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
        expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
        expect(await storedCodes(sale.id)).toHaveLength(0);
      });

      it('refuses a malformed sale id with 400 VALIDATION_FAILED', async () => {
        const response = await issue('bad%20id', { count: 1 });
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('VALIDATION_FAILED');
      });
    });

    describe('when the sale does not exist', () => {
      it('answers 404 SALE_NOT_FOUND', async () => {
        const response = await issue(uniqueId('s_missing'), { count: 1 });
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('SALE_NOT_FOUND');
      });
    });

    describe('when the sale has ended', () => {
      it('refuses with 409 SALE_ENDED and issues nothing', async () => {
        const sale = await fcodeSale();
        app.clock.set(sale.endsAt);
        try {
          const response = await issue(sale.id, { count: 1 });
          expect(response.status).toBe(409);
          expect(response.body.code).toBe('SALE_ENDED');
          expect(await storedCodes(sale.id)).toHaveLength(0);
        } finally {
          app.clock.set(Date.now());
        }
      });
    });

    describe('when the caller is not ops', () => {
      it('answers 401 without a token and 403 FORBIDDEN with a buyer token', async () => {
        const sale = await fcodeSale();
        expect((await app.request('POST', `/api/admin/sales/${sale.id}/fcodes`, { body: { count: 1 } })).status).toBe(401);
        const asBuyer = await issue(sale.id, { count: 1 }, app.token(uniqueId('u')));
        expect(asBuyer.status).toBe(403);
        expect(asBuyer.body.code).toBe('FORBIDDEN');
        expect(await storedCodes(sale.id)).toHaveLength(0);
      });
    });

    describe('when Redis fails halfway through the batch', () => {
      it('answers 503 UNAVAILABLE and leaves no code of the batch, in the database or in Redis', async () => {
        // A private Redis that runs out of memory partway through the batch: a real failure mid-write.
        const redisServer = await startRedisServer();
        const isolated = await createTestApp({ env: { REDIS_URL: redisServer.url } });
        try {
          const sale = await createSale(isolated, { stock: 10, fcodeStock: 10 });
          const used = Number(/used_memory:(\d+)/.exec(await isolated.redis.info('memory'))?.[1]);
          await isolated.redis.config('SET', 'maxmemory-policy', 'noeviction');
          await isolated.redis.config('SET', 'maxmemory', String(used + 2 * 1024 * 1024));
          await isolated.redis.config('RESETSTAT');
          const response = await isolated.request('POST', `/api/admin/sales/${sale.id}/fcodes`, { token: isolated.opsToken(), body: { count: 50_000 } });
          expect(response.status).toBe(503);
          expect(response.body.code).toBe('UNAVAILABLE');
          await isolated.redis.config('SET', 'maxmemory', '0');
          // Codes were written before Redis ran out of room (refused commands are not counted as calls),
          // and deleted again.
          const commandStats = await isolated.redis.info('commandstats');
          const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(commandStats)?.[1] ?? 0);
          expect(calls('hset')).toBeGreaterThan(0);
          expect(calls('hset')).toBeLessThan(50_000);
          expect(calls('del')).toBe(50_000);
          expect(await isolated.database.manager.count(FcodeEntity, { where: { saleId: sale.id } })).toBe(0);
          expect(await isolated.database.manager.count(FcodeBatchEntity, { where: { saleId: sale.id } })).toBe(0);
          const [, keys] = await isolated.redis.scan('0', 'MATCH', isolated.keys.forSale(sale.id).fcode('*'), 'COUNT', 1_000_000);
          expect(keys).toEqual([]);
          // And once Redis has room again, issuing works.
          expect((await isolated.request('POST', `/api/admin/sales/${sale.id}/fcodes`, { token: isolated.opsToken(), body: { count: 10 } })).status).toBe(201);
        } finally {
          await isolated.close();
          await redisServer.stop();
        }
      });
    });
  });

  describe('GET /api/admin/sales/:saleId/fcodes.csv', () => {
    describe('with a batch id', () => {
      it('exports that batch as text/csv with code,userId,status,expiresAt', async () => {
        const sale = await fcodeSale();
        const users = buyerIds(3);
        const expiresAt = app.clock.now() + 3_600_000;
        const { batchId, codes } = await issueFcodes(app, sale.id, { userIds: users, expiresAt });
        await issueFcodes(app, sale.id, { count: 2 });
        const response = await exportCsv(sale.id, batchId);
        expect(response.status).toBe(200);
        expect(response.headers['content-type']).toMatch(/^text\/csv/);
        expect(response.headers['content-disposition']).toBe(`attachment; filename="fcodes-${sale.id}-${batchId}.csv"`);
        const { header, rows } = parseCsv(response.text);
        expect(header).toBe('code,userId,status,expiresAt');
        expect(rows).toHaveLength(3);
        expect(rows.map((row) => row.code).sort()).toEqual([...codes].sort());
        const userOf = new Map(codes.map((code, index) => [code, users[index]]));
        for (const row of rows) expect(row).toEqual({ code: row.code, userId: userOf.get(row.code), status: 'issued', expiresAt: new Date(expiresAt).toISOString() });
      });
    });

    describe('without a batch id', () => {
      it('exports every code of the sale', async () => {
        const sale = await fcodeSale();
        const first = await issueFcodes(app, sale.id, { count: 3 });
        const second = await issueFcodes(app, sale.id, { count: 4 });
        const response = await exportCsv(sale.id);
        expect(response.status).toBe(200);
        const { rows } = parseCsv(response.text);
        expect(rows.map((row) => row.code).sort()).toEqual([...first.codes, ...second.codes].sort());
        for (const row of rows) expect(row).toMatchObject({ userId: '', status: 'issued', expiresAt: '' });
      });

      it('answers with just the header when the sale has no codes', async () => {
        const sale = await fcodeSale();
        const response = await exportCsv(sale.id);
        expect(response.status).toBe(200);
        expect(response.text).toBe('code,userId,status,expiresAt\r\n');
      });
    });

    describe('when codes have been redeemed, voided and have expired', () => {
      it('reports each code\'s status', async () => {
        const sale = await fcodeSale({ fcodeOpensAt: app.clock.now() + 1_000, startsAt: app.clock.now() + 60_000 });
        const expiresAt = sale.fcodeOpensAt + 10_000;
        const { codes } = await issueFcodes(app, sale.id, { count: 4, expiresAt });
        const [redeemed, voided, expired, redeemedThenPastExpiry] = codes;
        app.clock.set(sale.fcodeOpensAt);
        expect((await buy(app, sale.id, uniqueId('u'), { fcode: redeemed })).status).toBe(201);
        expect((await buy(app, sale.id, uniqueId('u'), { fcode: redeemedThenPastExpiry })).status).toBe(201);
        expect((await voidCode(voided)).status).toBe(200);
        app.clock.set(expiresAt);
        try {
          const { rows } = parseCsv((await exportCsv(sale.id)).text);
          const statusOf = new Map(rows.map((row) => [row.code, row.status]));
          expect(statusOf.get(redeemed)).toBe('redeemed');
          expect(statusOf.get(voided)).toBe('void');
          expect(statusOf.get(expired)).toBe('expired');
          expect(statusOf.get(redeemedThenPastExpiry)).toBe('redeemed');
        } finally {
          app.clock.set(Date.now());
        }
      });
    });

    describe('when a user id needs quoting', () => {
      it('quotes it as RFC 4180 says', async () => {
        const sale = await fcodeSale();
        const awkward = `a,"b"-${uniqueId()}`;
        await issueFcodes(app, sale.id, { userIds: [awkward] });
        const response = await exportCsv(sale.id);
        expect(response.text).toContain(`,"a,""b""-`);
        expect(parseCsv(response.text).rows[0].userId).toBe(awkward);
      });
    });

    describe('when the batch or the sale is unknown', () => {
      it('answers 404 NOT_FOUND for a batch of another sale', async () => {
        const sale = await fcodeSale();
        const other = await fcodeSale();
        const { batchId } = await issueFcodes(app, other.id, { count: 1 });
        const response = await exportCsv(sale.id, batchId);
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('NOT_FOUND');
      });

      it('answers 404 SALE_NOT_FOUND for an unknown sale', async () => {
        const response = await exportCsv(uniqueId('s_missing'));
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('SALE_NOT_FOUND');
      });

      it('answers 400 VALIDATION_FAILED for a malformed batch id', async () => {
        const sale = await fcodeSale();
        const response = await exportCsv(sale.id, 'bad%20batch');
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('VALIDATION_FAILED');
      });
    });
  });

  describe('POST /api/admin/fcodes/:code/void', () => {
    describe('when the code is issued and unused', () => {
      it('answers 200, and the code is FCODE_INVALID from then on', async () => {
        const sale = await fcodeSale({ startsAt: app.clock.now() + 1_000 });
        const { codes } = await issueFcodes(app, sale.id, { count: 1 });
        const response = await voidCode(codes[0].toLowerCase());
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ code: codes[0], status: 'void', saleId: sale.id, voidedAt: new Date(app.clock.now()).toISOString(), orderId: null });
        expect(await app.redis.hget(fcodeKey(app, sale.id, codes[0]), 'status')).toBe('void');
        expect((await storedCodes(sale.id))[0]).toMatchObject({ status: 'void', voidedAt: app.clock.now() });
        openSale(app, sale);
        try {
          const attempt = await buy(app, sale.id, uniqueId('u'), { fcode: codes[0] });
          expect(attempt.status).toBe(403);
          expect(attempt.body.code).toBe('FCODE_INVALID');
        } finally {
          app.clock.set(Date.now());
        }
      });

      it('answers the same again when the code is voided twice', async () => {
        const sale = await fcodeSale();
        const { codes } = await issueFcodes(app, sale.id, { count: 1 });
        const first = await voidCode(codes[0]);
        app.clock.advance(5_000);
        const second = await voidCode(codes[0]);
        expect(second.status).toBe(200);
        expect(second.body).toEqual(first.body);
      });
    });

    describe('when the code backs a live order', () => {
      it('voids it, names the order, leaves the order alone, and the code stays void after the order is cancelled', async () => {
        const sale = await fcodeSale({ startsAt: app.clock.now() + 1_000 });
        const { codes } = await issueFcodes(app, sale.id, { count: 1 });
        openSale(app, sale);
        try {
          const buyer = uniqueId('u');
          const order = await buy(app, sale.id, buyer, { fcode: codes[0] });
          expect(order.status).toBe(201);
          const response = await voidCode(codes[0]);
          expect(response.status).toBe(200);
          expect(response.body.orderId).toBe(order.body.id);
          expect((await app.request('GET', `/api/orders/${order.body.id}`, { token: app.token(buyer) })).body.status).toBe('pending_payment');

          const cancelled = await app.request('POST', `/api/orders/${order.body.id}/cancel`, { token: app.token(buyer) });
          expect(cancelled.status).toBe(200);
          const retry = await buy(app, sale.id, buyer, { fcode: codes[0] });
          expect(retry.status).toBe(403);
          expect(retry.body.code).toBe('FCODE_INVALID');
        } finally {
          app.clock.set(Date.now());
        }
      });
    });

    describe('when the code is unknown or not a code', () => {
      it('answers 404 NOT_FOUND for a well-formed code that was never issued', async () => {
        // 60 random bits: a fresh well-formed code is one nobody issued.
        const response = await voidCode(formatFcode(generateFcode()));
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('NOT_FOUND');
      });

      it('answers 400 VALIDATION_FAILED, saying so, for a code with a typo', async () => {
        const sale = await fcodeSale();
        const { codes } = await issueFcodes(app, sale.id, { count: 1 });
        const response = await voidCode(withTypo(codes[0]));
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('VALIDATION_FAILED');
        expect(response.body.details[0]).toEqual({ field: 'code', message: expect.stringContaining('mistyped') });
        expect(await app.redis.hget(fcodeKey(app, sale.id, codes[0]), 'status')).toBe('issued');
      });

      it('answers 400 VALIDATION_FAILED for something that is not a code', async () => {
        const response = await voidCode('hello');
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('VALIDATION_FAILED');
      });
    });
  });

  describe('GET /docs-json', () => {
    it('documents every F-code route with its operation, responses and bearer auth', async () => {
      const document = (await app.request('GET', '/docs-json')).body;
      const routes: [string, string][] = [
        ['/api/admin/sales/{saleId}/fcodes', 'post'],
        ['/api/admin/sales/{saleId}/fcodes.csv', 'get'],
        ['/api/admin/sales/{saleId}/fcodes/summary', 'get'],
        ['/api/admin/fcodes/{code}/void', 'post'],
      ];
      for (const [path, method] of routes) {
        const operation = document.paths[path]?.[method];
        expect(operation).toMatchObject({ summary: expect.any(String), security: [{ bearer: [] }] });
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403', '503']));
      }
      expect(Object.keys(document.components.schemas.IssueFcodesDto.properties).sort()).toEqual(['count', 'expiresAt', 'userIds']);
      expect(Object.keys(document.components.schemas.FcodeSummaryDto.properties).sort()).toEqual(['expired', 'issued', 'redeemed', 'void']);
    });
  });

  describe('GET /api/admin/sales/:saleId/fcodes/summary', () => {
    it('counts issued, redeemed, void and expired codes', async () => {
      const sale = await fcodeSale({ startsAt: app.clock.now() + 1_000 });
      const expiresAt = sale.startsAt + 10_000;
      const expiring = await issueFcodes(app, sale.id, { count: 4, expiresAt });
      const lasting = await issueFcodes(app, sale.id, { count: 3 });
      expect((await summary(sale.id)).body).toEqual({ issued: 7, redeemed: 0, void: 0, expired: 0 });

      openSale(app, sale);
      try {
        // Redeemed before expiry: still redeemed afterwards, not expired.
        expect((await buy(app, sale.id, uniqueId('u'), { fcode: expiring.codes[0] })).status).toBe(201);
        expect((await buy(app, sale.id, uniqueId('u'), { fcode: lasting.codes[0] })).status).toBe(201);
        expect((await voidCode(expiring.codes[1])).status).toBe(200);
        expect((await voidCode(lasting.codes[1])).status).toBe(200);
        expect((await summary(sale.id)).body).toEqual({ issued: 7, redeemed: 2, void: 2, expired: 0 });

        app.clock.set(expiresAt);
        const response = await summary(sale.id);
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ issued: 7, redeemed: 2, void: 2, expired: 2 });
      } finally {
        app.clock.set(Date.now());
      }
    });

    it('answers 404 SALE_NOT_FOUND for an unknown sale', async () => {
      const response = await summary(uniqueId('s_missing'));
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SALE_NOT_FOUND');
    });
  });
});

import { parseCsv } from './fcodes.fixtures';
import { createSale, openSale, purchase, reserveBuyers } from './support/sales';
import { createTestApp, TestApp, TestResponse, uniqueId } from './support/test-app';

const HOUR = 3600_000;

function expectValidationFailed(response: TestResponse, status = 400): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code: 'VALIDATION_FAILED' });
  expect(response.body).toEqual(expect.objectContaining({ statusCode: status, code: 'VALIDATION_FAILED', message: expect.any(String), details: expect.any(Array) }));
}

/** Bodies shaped to cost the server: each is refused before validation walks it. */
function manyKeys(count: number): string {
  const fields: string[] = [];
  for (let index = 0; index < count; index += 1) fields.push(`"k${index}":0`);
  return `{${fields.join(',')}}`;
}
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const longArray = (field: string, count: number) => `{"${field}":[${new Array(count).fill('0').join(',')}]}`;

describe('Edges of the input', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  function validSale(): Record<string, unknown> {
    const startsAt = app.clock.now() + 2 * HOUR;
    return { sku: uniqueId('sku-'), name: 'Edge', priceCents: 100, stock: 10, reservationOpensAt: new Date(startsAt - HOUR).toISOString(), startsAt: new Date(startsAt).toISOString() };
  }

  describe('body size', () => {
    const buyerRoutes: [string, string, () => string | undefined][] = [
      ['POST', '/api/orders/o_x.s_x/pay', () => app.token('edge-buyer')],
      ['POST', '/api/orders/o_x.s_x/cancel', () => app.token('edge-buyer')],
      ['POST', '/api/dev/tokens', () => undefined],
      ['POST', '/api/sales/s_x/purchase', () => app.token('edge-buyer')],
      ['POST', '/api/sales/s_x/reservations', () => app.token('edge-buyer')],
    ];

    it.each(buyerRoutes)('%s %s refuses a body over the buyer limit with 413', async (method, url, token) => {
      const body = JSON.stringify({ method: 'test-card', padding: 'x'.repeat(app.config.buyerBodyLimitBytes) });
      expectValidationFailed(await app.request(method, url, { token: token(), rawBody: body }), 413);
    });

    it.each(buyerRoutes)('%s %s refuses 50,000 unknown fields with 413', async (method, url, token) => {
      expectValidationFailed(await app.request(method, url, { token: token(), rawBody: manyKeys(50_000) }), 413);
    });

    it('keeps the large limit on the admin routes', async () => {
      const { body: sale } = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: validSale() });
      const userIds = Array.from({ length: 5_000 }, (_, index) => `edge-import-${index}`);
      const response = await app.request('POST', `/api/admin/sales/${sale.id}/reservations/import`, { token: app.opsToken(), body: { userIds } });
      expect(response.status).toBe(200);
      expect(response.body.imported).toBe(5_000);
    });

    it('refuses a large body to an admin route without an ops token before reading it', async () => {
      const body = JSON.stringify({ userIds: ['x'.repeat(app.config.buyerBodyLimitBytes * 4)] });
      expect((await app.request('POST', '/api/admin/sales/s_x/reservations/import', { rawBody: body })).body.code).toBe('UNAUTHENTICATED');
      expect((await app.request('POST', '/api/admin/sales/s_x/reservations/import', { token: app.token('edge-buyer'), rawBody: body })).body.code).toBe('FORBIDDEN');
    });
  });

  describe('body shape, bounded before validation', () => {
    const routes: [string, string, boolean][] = [
      ['POST', '/api/admin/sales', true],
      ['POST', '/api/admin/sales/s_x/reservations/import', true],
      ['POST', '/api/admin/sales/s_x/fcodes', true],
      ['POST', '/api/orders/o_x.s_x/pay', false],
      ['POST', '/api/dev/tokens', false],
      ['POST', '/api/sales/s_x/purchase', false],
    ];
    const tokenFor = (ops: boolean) => (ops ? app.opsToken() : app.token('edge-buyer'));

    it.each(routes)('%s %s refuses JSON nested 20,000 deep with a 4xx', async (method, url, ops) => {
      for (const body of [deepArray(20_000), deepObject(20_000), `{"userIds":${deepArray(20_000)}}`]) {
        const response = await app.request(method, url, { token: tokenFor(ops), rawBody: body });
        expect(response.status === 400 || response.status === 413 ? response.body.code : response.text).toBe('VALIDATION_FAILED');
      }
    });

    it.each(routes)('%s %s refuses nesting past the bound with 400 even in a small body', async (method, url, ops) => {
      expectValidationFailed(await app.request(method, url, { token: tokenFor(ops), rawBody: `{"a":${deepArray(40)}}` }));
    });

    it.each(routes)('%s %s refuses more fields than any body has, with 400', async (method, url, ops) => {
      const response = await app.request(method, url, { token: tokenFor(ops), rawBody: manyKeys(200) });
      expectValidationFailed(response);
      expect(response.body.details).toEqual([{ field: 'body', message: expect.stringMatching(/fields/) }]);
    });

    it('refuses 300,000-element arrays on the admin routes with 400', async () => {
      for (const url of ['/api/admin/sales/s_x/reservations/import', '/api/admin/sales/s_x/fcodes']) {
        const response = await app.request('POST', url, { token: app.opsToken(), rawBody: longArray('userIds', 300_000) });
        expectValidationFailed(response);
        expect(response.body.details).toEqual([{ field: 'userIds', message: expect.stringMatching(/elements/) }]);
      }
    });

    it('is not fooled by brackets, braces and commas inside strings', async () => {
      const response = await app.request('POST', '/api/dev/tokens', { rawBody: JSON.stringify({ userId: `${'[{,'.repeat(1_000)}\\"x` }) });
      // A 64-character user id rule refuses it, not the shape check.
      expectValidationFailed(response);
      expect(response.body.details).toEqual([{ field: 'userId', message: expect.any(String) }]);
      expect((await app.request('POST', '/api/dev/tokens', { body: { userId: 'edge-"[{,\\' } })).status).toBe(201);
    });

    it('answers 415 with the contract body to a form post', async () => {
      expectValidationFailed(await app.request('POST', '/api/dev/tokens', { rawBody: 'userId=u1', contentType: 'application/x-www-form-urlencoded' }), 415);
    });
  });

  describe('control characters', () => {
    it.each([
      ['a NUL in sku', { sku: 'a\u0000b' }],
      ['a NUL in name', { name: 'a\u0000b' }],
      ['a NUL in description', { description: 'a\u0000b' }],
      ['a line break in name', { name: 'a\nb' }],
      ['a tab in sku', { sku: 'a\tb' }],
      ['an escape in description', { description: 'a\u001b[31mb' }],
      ['a C1 control in name', { name: 'a\u0085b' }],
      ['a DEL in name', { name: 'a\u007fb' }],
    ])('POST /api/admin/sales refuses %s with 400', async (_description, fields) => {
      expectValidationFailed(await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: { ...validSale(), ...fields } }));
    });

    it('PATCH /api/admin/sales/:saleId refuses a NUL in name or description with 400, and keeps the sale unchanged', async () => {
      const { body: sale } = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: validSale() });
      for (const fields of [{ name: 'a\u0000b' }, { description: 'a\u0000b' }, { name: 'a\rb' }]) {
        expectValidationFailed(await app.request('PATCH', `/api/admin/sales/${sale.id}`, { token: app.opsToken(), body: fields }));
      }
      const after = await app.request('GET', `/api/admin/sales/${sale.id}`, { token: app.opsToken() });
      expect({ name: after.body.name, description: after.body.description }).toEqual({ name: 'Edge', description: '' });
    });

    it('keeps line breaks and tabs in a description', async () => {
      const description = 'Line one\nLine two\r\n\tindented';
      const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: { ...validSale(), description } });
      expect(response.status).toBe(201);
      expect(response.body.description).toBe(description);
    });

    it('refuses control characters in any string of any JSON body, field names included', async () => {
      expectValidationFailed(await app.request('POST', '/api/dev/tokens', { body: { userId: 'u1', roles: ['ops\u0000'] } }));
      expectValidationFailed(await app.request('POST', '/api/orders/o_x.s_x/pay', { token: app.token('edge-buyer'), body: { method: 'test-card\u0001' } }));
      expectValidationFailed(await app.request('POST', '/api/orders/o_x.s_x/pay', { token: app.token('edge-buyer'), rawBody: '{"method":"test-card","\\u0000":1}' }));
    });

    it.each([
      ['GET', '/api/orders/o_x%00.s_x'],
      ['POST', '/api/orders/o_x%01.s_x/cancel'],
      ['POST', '/api/admin/fcodes/ABCD%00EFGH/void'],
      ['GET', '/api/admin/sales/s_x%00/fcodes.csv'],
      ['GET', '/api/admin/sales/s_x/fcodes.csv?batchId=b%00'],
      ['POST', '/api/admin/sales/s_x%00/fcodes'],
      ['GET', '/api/admin/sales/s_x%1b/fcodes/summary'],
      ['GET', '/api/admin/sales/s_x%7f/fcodes/batches'],
      ['GET', '/api/sales/s_x%00'],
    ])('answers %s %s (a control character in the path or query) with a 4xx contract body', async (method, url) => {
      const response = await app.request(method, url, { token: app.opsToken(), body: method === 'POST' ? { count: 1 } : undefined });
      expect(response.status >= 400 && response.status < 500 ? response.body : response.text).toEqual(expect.objectContaining({ statusCode: response.status, code: expect.any(String) }));
    });

    it('refuses an F-code with a control character on the purchase route', async () => {
      const response = await app.request('POST', '/api/sales/s_x/purchase', { token: app.token('edge-buyer'), body: { fcode: 'ABCD\u0000EFGH' } });
      expectValidationFailed(response);
      expect(response.body.details).toEqual([{ field: 'fcode', message: expect.any(String) }]);
    });
  });

  describe('POST /api/admin/sales/:saleId/fcodes with null fields', () => {
    let saleId: string;
    beforeAll(async () => {
      saleId = (await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: { ...validSale(), fcodeStock: 5 } })).body.id;
    });

    it.each([
      ['count', { count: null }],
      ['expiresAt', { count: 1, expiresAt: null }],
      ['userIds', { count: 1, userIds: null }],
      ['userIds without count', { userIds: null }],
    ])('refuses %s: null with 400', async (field, body) => {
      const response = await app.request('POST', `/api/admin/sales/${saleId}/fcodes`, { token: app.opsToken(), body });
      expectValidationFailed(response);
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field.split(' ')[0]);
    });
  });

  describe('GET /api/admin/sales/:saleId/fcodes.csv', () => {
    it('writes user ids a spreadsheet would run as formulas with a leading quote', async () => {
      const { body: sale } = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: { ...validSale(), fcodeStock: 10 } });
      const userIds = ['=1+2', '+1', '-2+3', '@SUM(A1)', '=HYPERLINK("http://x","y")', 'plain', 'a=b'];
      const issued = await app.request('POST', `/api/admin/sales/${sale.id}/fcodes`, { token: app.opsToken(), body: { userIds } });
      expect(issued.status).toBe(201);
      const csv = await app.request('GET', `/api/admin/sales/${sale.id}/fcodes.csv`, { token: app.opsToken() });
      expect(csv.status).toBe(200);
      expect(csv.text).toContain(`,"'=HYPERLINK(""http://x"",""y"")",`);
      const written = parseCsv(csv.text).rows.map((row) => row.userId);
      expect(written.sort()).toEqual(["'+1", "'-2+3", "'=1+2", '\'=HYPERLINK("http://x","y")', "'@SUM(A1)", 'a=b', 'plain'].sort());
    });
  });

  describe('Idempotency-Key scope', () => {
    it('keeps the keys of user "u:x" with key "y" and user "u" with key "x:y" apart', async () => {
      const suffix = uniqueId('');
      const first = `u${suffix}:x`;
      const second = `u${suffix}`;
      const sale = await createSale(app, { stock: 5, perUserLimit: 1 });
      await reserveBuyers(app, sale.id, [first, second]);
      openSale(app, sale);
      const firstResponse = await purchase(app, sale.id, first, { idempotencyKey: 'y' });
      const secondResponse = await purchase(app, sale.id, second, { idempotencyKey: 'x:y' });
      expect([firstResponse.status, secondResponse.status]).toEqual([201, 201]);
      expect(firstResponse.body.userId).toBe(first);
      expect(secondResponse.body.userId).toBe(second);
      expect(secondResponse.body.id).not.toBe(firstResponse.body.id);
      // Each retry replays its own order.
      expect((await purchase(app, sale.id, second, { idempotencyKey: 'x:y' })).body.id).toBe(secondResponse.body.id);
      expect((await purchase(app, sale.id, first, { idempotencyKey: 'y' })).body.id).toBe(firstResponse.body.id);
    });
  });
});

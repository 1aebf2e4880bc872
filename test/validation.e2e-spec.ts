import { createTestApp, TestApp, TestResponse, uniqueId } from './support/test-app';

const HOUR = 3600_000;

/**
 * Malformed input of every kind, on every sales, reservations and purchase route: the answer is always a 4xx with
 * the contract's error body, never a 500 and never a stack trace.
 */
describe('Malformed input on the sales, reservations and purchase routes', () => {
  let app: TestApp;
  let saleId: string;

  beforeAll(async () => {
    app = await createTestApp();
    saleId = (await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: validSale() })).body.id;
  });
  afterAll(async () => {
    await app.close();
  });

  function validSale(): Record<string, unknown> {
    const startsAt = app.clock.now() + 2 * HOUR;
    return {
      sku: uniqueId('sku-'),
      name: 'Sweep',
      priceCents: 100,
      stock: 10,
      reservationOpensAt: new Date(startsAt - HOUR).toISOString(),
      startsAt: new Date(startsAt).toISOString(),
    };
  }

  function expectContractError(response: TestResponse, context: unknown): void {
    const summary = { context, status: response.status, code: response.body?.code };
    expect(summary).toEqual({ context, status: expect.any(Number), code: expect.any(String) });
    expect(response.status >= 400 && response.status < 500 ? 'a 4xx' : `status ${response.status}: ${response.text.slice(0, 300)}`).toBe('a 4xx');
    expect(response.body).toEqual(expect.objectContaining({ statusCode: response.status, code: expect.any(String), message: expect.any(String), details: expect.any(Array) }));
    expect(response.text).not.toMatch(/at .+\.(ts|js):\d+/);
  }

  type BodyRoute = { method: string; url: () => string; ops: boolean };
  const bodyRoutes: Record<string, BodyRoute> = {
    'POST /api/admin/sales': { method: 'POST', url: () => '/api/admin/sales', ops: true },
    'PATCH /api/admin/sales/:saleId': { method: 'PATCH', url: () => `/api/admin/sales/${saleId}`, ops: true },
    'POST /api/admin/sales/:saleId/stock': { method: 'POST', url: () => `/api/admin/sales/${saleId}/stock`, ops: true },
    'POST /api/admin/sales/:saleId/reservations/import': { method: 'POST', url: () => `/api/admin/sales/${saleId}/reservations/import`, ops: true },
    // Served by Fastify directly, with its own input check: the same sweep must hold there too.
    'POST /api/sales/:saleId/purchase': { method: 'POST', url: () => `/api/sales/${saleId}/purchase`, ops: false },
  };

  const huge = 'x'.repeat(100_000);
  const badBodies: [string, unknown][] = [
    ['an array instead of an object', [{ name: 'x' }]],
    ['a string', 'hello'],
    ['a number', 42],
    ['null', null],
    ['true', true],
    ['an unknown field', { unexpected: 1 }],
    ['a prototype-pollution key', JSON.parse('{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}')],
    ['every field with the wrong type', { sku: 1, name: [], description: {}, priceCents: '1', currency: 1, stock: true, fcodeStock: 'a', perUserLimit: '1', reservationRequired: 'yes', startsAt: 1, endsAt: false, paymentWindowSeconds: '900', add: '1', pool: 1, userIds: 'u1' }],
    ['negative numbers', { priceCents: -1, stock: -5, fcodeStock: -1, perUserLimit: -1, paymentWindowSeconds: -1, add: -1e12 }],
    ['huge numbers', { priceCents: 1e308, stock: Number.MAX_SAFE_INTEGER, perUserLimit: 1e20, add: 1e300 }],
    ['fractions', { priceCents: 0.5, stock: 1.5, add: 0.1 }],
    ['huge strings', { sku: huge, name: huge, description: huge + huge, currency: huge, startsAt: huge, pool: huge, userIds: [huge] }],
    ['dates in the wrong order', { startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-01T00:00:00Z', reservationOpensAt: '2030-01-03T00:00:00Z', reservationClosesAt: '2030-01-01T12:00:00Z', fcodeOpensAt: '2030-01-05T00:00:00Z' }],
    ['dates that are not dates', { startsAt: 'soon', endsAt: '2030-02-31T00:00:00Z', reservationOpensAt: '1e10', fcodeOpensAt: '' }],
    ['nested objects where scalars go', { sku: { $gt: '' }, stock: { value: 1 }, add: [1], pool: ['general'], userIds: [{ id: 'u1' }] }],
    ['an empty object', {}],
    ['deep nesting', JSON.parse('['.repeat(500) + ']'.repeat(500))],
  ];

  const tokenFor = (route: BodyRoute) => (route.ops ? app.opsToken() : app.token('sweep-buyer'));

  describe.each(Object.entries(bodyRoutes))('%s', (_name, route) => {
    it.each(badBodies)('answers a 4xx contract error to %s', async (description, body) => {
      const response = await app.request(route.method, route.url(), { token: tokenFor(route), rawBody: JSON.stringify(body) });
      expectContractError(response, description);
    });

    it('answers a 4xx contract error to malformed JSON', async () => {
      expectContractError(await app.request(route.method, route.url(), { token: tokenFor(route), rawBody: '{"name": "x",' }), 'malformed JSON');
    });

    it('answers a 4xx contract error to an unsupported content type', async () => {
      expectContractError(await app.request(route.method, route.url(), { token: tokenFor(route), rawBody: '<sale/>', contentType: 'application/xml' }), 'xml');
    });

    it('answers 413 to a body over the limit', async () => {
      const response = await app.request(route.method, route.url(), { token: tokenFor(route), rawBody: JSON.stringify({ userIds: ['x'.repeat(app.config.bodyLimitBytes)] }) });
      expectContractError(response, 'oversize');
      expect(response.status).toBe(413);
    });
  });

  describe('POST /api/admin/sales', () => {
    it('lists each failing field in details', async () => {
      const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: { ...validSale(), stock: -1, perUserLimit: 0, currency: 'eur', extra: 1 } });
      expect(response.status).toBe(400);
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toEqual(expect.arrayContaining(['stock', 'perUserLimit', 'currency', 'extra']));
    });
  });

  describe('POST /api/admin/sales/:saleId/reservations/import as text/csv', () => {
    it.each([
      ['binary noise', '\u0000\u0001\u0002\n\u00ff'],
      ['an id with a space', 'userId\nhas space'],
      ['an id too long', 'x'.repeat(65)],
      ['only a header', 'userId'],
      ['nothing', ''],
      ['commas (several columns)', 'u1,u2\n'],
    ])('answers a 4xx contract error to %s', async (description, csv) => {
      expectContractError(await app.request('POST', `/api/admin/sales/${saleId}/reservations/import`, { token: app.opsToken(), rawBody: csv, contentType: 'text/csv' }), description);
    });
  });

  const pathRoutes: [string, (id: string) => string][] = [
    ['GET', (id) => `/api/admin/sales/${id}`],
    ['PATCH', (id) => `/api/admin/sales/${id}`],
    ['POST', (id) => `/api/admin/sales/${id}/stock`],
    ['POST', (id) => `/api/admin/sales/${id}/pause`],
    ['POST', (id) => `/api/admin/sales/${id}/resume`],
    ['GET', (id) => `/api/admin/sales/${id}/stats`],
    ['POST', (id) => `/api/admin/sales/${id}/reservations/import`],
    ['GET', (id) => `/api/sales/${id}`],
    ['POST', (id) => `/api/sales/${id}/reservations`],
    ['GET', (id) => `/api/sales/${id}/reservations/me`],
    ['POST', (id) => `/api/sales/${id}/purchase`],
  ];
  const badIds = ['x'.repeat(101), 'has space', "s_1';DROP TABLE sales;--", '%00', 'ü', '..', '{sale:x}', '*', 's_unknown'];

  describe.each(pathRoutes)('%s %s with a bad sale id', (method, url) => {
    it.each(badIds)('answers a 4xx contract error to %j', async (badId) => {
      const body = method === 'GET' ? undefined : url('x').endsWith('/stock') ? { add: 1, pool: 'general' } : url('x').endsWith('/import') ? { userIds: ['u1'] } : method === 'PATCH' ? { name: 'x' } : {};
      const response = await app.request(method, url(encodeURIComponent(badId)), { token: app.opsToken(), body });
      expectContractError(response, badId);
      expect([400, 404, 414]).toContain(response.status);
    });
  });

  describe('the sale survives the sweep', () => {
    it('is unchanged', async () => {
      const response = await app.request('GET', `/api/admin/sales/${saleId}`, { token: app.opsToken() });
      expect(response.body).toMatchObject({ id: saleId, stock: 10, name: 'Sweep', paused: false, reservations: 0 });
    });
  });
});

import * as jwt from 'jsonwebtoken';
import { generateKeyPairSync } from 'node:crypto';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

const HOUR = 3600_000;

describe('Authentication', () => {
  let app: TestApp;
  let saleId: string;

  beforeAll(async () => {
    app = await createTestApp();
    const response = await app.request('POST', '/api/admin/sales', {
      token: app.opsToken(),
      body: { sku: uniqueId('sku-'), name: 'Auth', priceCents: 1, stock: 1, startsAt: new Date(app.clock.now() + HOUR).toISOString() },
    });
    saleId = response.body.id;
  });
  afterAll(async () => {
    await app.close();
  });

  const secret = () => app.config.jwtSecret;
  const adminRoutes = (): [string, string, unknown?][] => [
    ['POST', '/api/admin/sales', {}],
    ['GET', `/api/admin/sales/${saleId}`],
    ['PATCH', `/api/admin/sales/${saleId}`, { name: 'x' }],
    ['POST', `/api/admin/sales/${saleId}/stock`, { add: 1, pool: 'general' }],
    ['POST', `/api/admin/sales/${saleId}/pause`],
    ['POST', `/api/admin/sales/${saleId}/resume`],
    ['GET', `/api/admin/sales/${saleId}/stats`],
    ['POST', `/api/admin/sales/${saleId}/reservations/import`, { userIds: ['u1'] }],
  ];
  const buyerRoutes = (): [string, string][] => [
    ['POST', `/api/sales/${saleId}/reservations`],
    ['GET', `/api/sales/${saleId}/reservations/me`],
  ];

  async function expectUnauthenticated(headers: Record<string, string>, method = 'GET', url = `/api/sales/${saleId}/reservations/me`) {
    const response = await app.request(method, url, { headers });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ statusCode: 401, code: 'UNAUTHENTICATED', message: expect.any(String), details: [], requestId: expect.any(String) });
  }

  describe('without a token', () => {
    it('refuses every admin and buyer route with 401 UNAUTHENTICATED', async () => {
      for (const [method, url, body] of [...adminRoutes(), ...buyerRoutes()]) {
        const response = await app.request(method, url, { body });
        expect({ method, url, status: response.status, code: response.body.code }).toEqual({ method, url, status: 401, code: 'UNAUTHENTICATED' });
      }
    });

    it('serves the public sale view', async () => {
      expect((await app.request('GET', '/api/sales')).status).toBe(200);
      expect((await app.request('GET', `/api/sales/${saleId}`)).status).toBe(200);
    });
  });

  describe('with a bad token', () => {
    it('refuses a token signed with another secret', async () => {
      const token = jwt.sign({ roles: ['ops'] }, 'another-secret-of-enough-length', { algorithm: 'HS256', subject: 'u1', expiresIn: 60 });
      await expectUnauthenticated({ authorization: `Bearer ${token}` });
    });

    it('refuses an expired token', async () => {
      const token = jwt.sign({ roles: [], exp: Math.floor(Date.now() / 1000) - 10 }, secret(), { algorithm: 'HS256', subject: 'u1' });
      await expectUnauthenticated({ authorization: `Bearer ${token}` });
    });

    it('refuses a token signed with HS512 even with the right secret', async () => {
      const token = jwt.sign({ roles: [] }, secret(), { algorithm: 'HS512', subject: 'u1', expiresIn: 60 });
      await expectUnauthenticated({ authorization: `Bearer ${token}` });
    });

    it('refuses an unsigned token (alg none)', async () => {
      const token = jwt.sign({ roles: ['ops'] }, '', { algorithm: 'none', subject: 'u1', expiresIn: 60 });
      await expectUnauthenticated({ authorization: `Bearer ${token}` }, 'GET', `/api/admin/sales/${saleId}`);
    });

    it('refuses an RS256 token', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const token = jwt.sign({ roles: ['ops'] }, privateKey, { algorithm: 'RS256', subject: 'u1', expiresIn: 60 });
      await expectUnauthenticated({ authorization: `Bearer ${token}` }, 'GET', `/api/admin/sales/${saleId}`);
    });

    it('refuses a token without an expiry', async () => {
      const token = jwt.sign({ roles: [] }, secret(), { algorithm: 'HS256', subject: 'u1' });
      await expectUnauthenticated({ authorization: `Bearer ${token}` });
    });

    it('refuses a subject longer than 64 characters', async () => {
      const token = jwt.sign({ roles: [] }, secret(), { algorithm: 'HS256', subject: 'x'.repeat(65), expiresIn: 60 });
      await expectUnauthenticated({ authorization: `Bearer ${token}` });
    });

    it.each(['Basic dTE6cGFzcw==', 'Bearer', 'Bearer not.a.jwt', 'Bearer a b', 'token'])('refuses the header %j', async (authorization) => {
      await expectUnauthenticated({ authorization });
    });

    it('ignores identity headers other than the token', async () => {
      await expectUnauthenticated({ 'x-user-id': 'u1', 'x-roles': 'ops' }, 'GET', `/api/admin/sales/${saleId}`);
    });
  });

  describe('with a buyer token on an admin route', () => {
    it('refuses every admin route with 403 FORBIDDEN', async () => {
      for (const [method, url, body] of adminRoutes()) {
        const response = await app.request(method, url, { token: app.token(uniqueId('buyer')), body });
        expect({ method, url, status: response.status, code: response.body.code }).toEqual({ method, url, status: 403, code: 'FORBIDDEN' });
      }
    });

    it('refuses a role claim that is not an array of "ops"', async () => {
      const token = jwt.sign({ roles: 'ops' }, secret(), { algorithm: 'HS256', subject: 'u1', expiresIn: 60 });
      const response = await app.request('GET', `/api/admin/sales/${saleId}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('FORBIDDEN');
    });
  });

  describe('with an ops token', () => {
    it('reaches the admin routes', async () => {
      expect((await app.request('GET', `/api/admin/sales/${saleId}`, { token: app.opsToken() })).status).toBe(200);
    });
  });

  describe('POST /api/dev/tokens', () => {
    it('mints a token the service accepts, with the ops role when asked', async () => {
      const minted = await app.request('POST', '/api/dev/tokens', { body: { userId: 'dev-ops', roles: ['ops'] } });
      expect(minted.status).toBe(201);
      expect((await app.request('GET', `/api/admin/sales/${saleId}`, { token: minted.body.token })).status).toBe(200);
    });

    it('is not there when AUTH_DEV_TOKENS is false', async () => {
      const locked = await createTestApp({ env: { AUTH_DEV_TOKENS: 'false' } });
      try {
        const response = await locked.request('POST', '/api/dev/tokens', { body: { userId: 'u1', roles: ['ops'] } });
        expect(response.status).toBe(404);
        expect(response.body.token).toBeUndefined();
      } finally {
        await locked.close();
      }
    });
  });
});

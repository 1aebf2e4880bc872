import * as jwt from 'jsonwebtoken';
import { mintOpsToken, mintToken } from '../load-tests/lib/jwt';
import { saleDraft } from '../load-tests/lib/payloads';
import { createTestApp, TestApp, uniqueId } from './support/test-app';

// The load tests sign their own tokens with k6/crypto and k6/encoding (mapped to Node's crypto and
// Buffer here); these tests prove that the service accepts what they sign, and nothing else.
const SECRET = 'load-test-secret-0123456789';

describe('load-test token minting', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({ env: { JWT_SECRET: SECRET } });
  });

  afterAll(async () => {
    await app.close();
  });

  describe('a buyer token', () => {
    it('is a standard HS256 JWT with the buyer as subject and an expiry', () => {
      const token = mintToken(SECRET, 'buyer-42', { issuedAt: 1_700_000_000, ttlSeconds: 600 });
      expect(jwt.verify(token, SECRET, { algorithms: ['HS256'], clockTimestamp: 1_700_000_100 })).toEqual({ sub: 'buyer-42', iat: 1_700_000_000, exp: 1_700_000_600 });
    });

    it('is accepted by the service as that buyer', async () => {
      const response = await app.request('GET', '/api/me/orders', { token: mintToken(SECRET, uniqueId('buyer-')) });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ items: [] });
    });

    it('identifies the buyer it names', async () => {
      const ops = mintOpsToken(SECRET);
      const now = app.clock.now();
      const sale = await app.request('POST', '/api/admin/sales', {
        token: ops,
        body: saleDraft({ label: uniqueId('k6-token-'), stock: 1, reservationOpensAt: now - 1000, reservationClosesAt: now + 60_000, fcodeOpensAt: now + 60_000, startsAt: now + 60_000, endsAt: now + 120_000 }),
      });
      expect(sale.status).toBe(201);
      const buyer = uniqueId('buyer-');
      const reservation = await app.request('POST', `/api/sales/${sale.body.id}/reservations`, { token: mintToken(SECRET, buyer) });
      expect(reservation.status).toBe(201);
      expect(reservation.body.userId).toBe(buyer);
    });

    it('is refused on the admin routes', async () => {
      const response = await app.request('POST', '/api/admin/sales', { token: mintToken(SECRET, uniqueId('buyer-')), body: {} });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('FORBIDDEN');
    });

    it('is refused once expired', async () => {
      const expired = mintToken(SECRET, uniqueId('buyer-'), { issuedAt: Math.floor(Date.now() / 1000) - 7200, ttlSeconds: 3600 });
      const response = await app.request('GET', '/api/me/orders', { token: expired });
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('UNAUTHENTICATED');
    });

    it('is refused when signed with another secret', async () => {
      const response = await app.request('GET', '/api/me/orders', { token: mintToken('some-other-secret-0123456789', uniqueId('buyer-')) });
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('an ops token', () => {
    it('carries the ops role the admin routes require', () => {
      const claims = jwt.verify(mintOpsToken(SECRET, 'ops-7'), SECRET) as jwt.JwtPayload;
      expect(claims).toMatchObject({ sub: 'ops-7', roles: ['ops'] });
    });

    it('is accepted by the admin routes', async () => {
      const now = app.clock.now();
      const response = await app.request('POST', '/api/admin/sales', {
        token: mintOpsToken(SECRET),
        body: saleDraft({ label: uniqueId('k6-ops-'), stock: 10, reservationOpensAt: now, reservationClosesAt: now + 60_000, fcodeOpensAt: now + 60_000, startsAt: now + 60_000, endsAt: now + 120_000 }),
      });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ stock: 10, perUserLimit: 1, reservationRequired: true });
    });
  });
});

import { createTestApp, TestApp } from './support/test-app';

describe('Operations endpoints', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  describe('GET /health', () => {
    it('reports Redis and the database up', async () => {
      const response = await app.request('GET', '/health');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok', redis: 'up', database: 'up' });
    });
  });

  describe('GET /docs-json', () => {
    it('serves the OpenAPI document', async () => {
      const response = await app.request('GET', '/docs-json');
      expect(response.status).toBe(200);
      expect(response.body.openapi).toMatch(/^3\./);
      expect(Object.keys(response.body.paths)).toContain('/api/dev/tokens');
    });
  });

  describe('GET /metrics', () => {
    it('serves Prometheus text with per-route request counts', async () => {
      await app.request('GET', '/health');
      const response = await app.request('GET', '/metrics');
      expect(response.status).toBe(200);
      expect(response.text).toContain('sellout_http_requests_total{route="/health",method="GET",status="200"}');
    });
  });
});

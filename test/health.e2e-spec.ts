import { newSaleId } from '../src/common/ids';
import { createTestApp, TestApp, TestAppOptions, TestResponse } from './support/test-app';

/** Reads /health until it answers `status` (the writer and sweeper retry on timers: there is no event). */
async function healthUntil(app: TestApp, status: number): Promise<TestResponse> {
  let response = await app.request('GET', '/health');
  for (let attempt = 0; attempt < 200 && response.status !== status; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    response = await app.request('GET', '/health');
  }
  return response;
}

/**
 * A sale in the index whose outbox stream (or payment deadlines) key holds a string: every pass of the
 * order writer (or the sweeper) over it fails, as it would with the database or Redis refusing each one.
 */
async function breakSale(app: TestApp, part: 'events' | 'deadlines'): Promise<() => Promise<void>> {
  const keys = app.keys.forSale(newSaleId());
  await app.redis.set(keys[part], 'not a stream or a sorted set');
  await app.redis.sadd(app.keys.salesIndex, keys.saleId);
  return async () => {
    await app.redis.srem(app.keys.salesIndex, keys.saleId);
    await app.redis.del(keys[part]);
  };
}

describe.each<[string, TestAppOptions]>([
  ['the order writer on the event loop', {}],
  ['the order writer on its thread', { env: { ORDER_WRITER_THREAD: 'true' } }],
])('GET /health with %s', (_name, options) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(options);
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 503 with orderPipeline down while the order writer fails on every attempt, and 200 once it recovers', async () => {
    expect((await app.request('GET', '/health')).body).toEqual({ status: 'ok', redis: 'up', database: 'up', orderPipeline: 'up' });
    const repair = await breakSale(app, 'events');
    try {
      const failing = await healthUntil(app, 503);
      expect({ status: failing.status, body: failing.body }).toEqual({ status: 503, body: { status: 'error', redis: 'up', database: 'up', orderPipeline: 'down' } });
    } finally {
      await repair();
    }
    expect((await healthUntil(app, 200)).body).toEqual({ status: 'ok', redis: 'up', database: 'up', orderPipeline: 'up' });
  }, 30_000);

  it('answers 503 with orderPipeline down while the expiry sweeper fails on every attempt, and 200 once it recovers', async () => {
    const repair = await breakSale(app, 'deadlines');
    try {
      const failing = await healthUntil(app, 503);
      expect({ status: failing.status, body: failing.body }).toEqual({ status: 503, body: { status: 'error', redis: 'up', database: 'up', orderPipeline: 'down' } });
    } finally {
      await repair();
    }
    expect((await healthUntil(app, 200)).body).toEqual({ status: 'ok', redis: 'up', database: 'up', orderPipeline: 'up' });
  }, 30_000);
});

describe('Operations endpoints', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  describe('GET /health', () => {
    it('reports Redis, the database and the order pipeline up', async () => {
      const response = await app.request('GET', '/health');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok', redis: 'up', database: 'up', orderPipeline: 'up' });
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

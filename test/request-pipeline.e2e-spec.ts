import { storage } from 'nestjs-pino/storage';
import { buyerIds, openSale, purchase, reserveBuyersInRedis, seedSaleInRedis } from './support/sales';
import { createTestApp, TestApp } from './support/test-app';

/**
 * What every request goes through, whichever router serves it: the request id comes back on every
 * response, and no per-request async context is kept (one would make Node track every promise of the
 * process, and so hook every promise of the purchase path).
 */
describe('The request pipeline', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('keeps no per-request async context, on Nest routes and on the purchase route', async () => {
    const run = jest.spyOn(storage, 'run');
    try {
      const [buyer] = buyerIds(1);
      const sale = await seedSaleInRedis(app);
      await reserveBuyersInRedis(app, sale.id, [buyer]);
      openSale(app, sale);
      expect((await app.request('GET', '/health')).status).toBe(200);
      expect((await app.request('GET', '/api/me/orders', { token: app.token(buyer) })).status).toBe(200);
      expect((await purchase(app, sale.id, buyer)).status).toBe(201);
      expect(run).not.toHaveBeenCalled();
    } finally {
      run.mockRestore();
    }
  });

  it.each([
    ['a Nest route', 'GET', '/health'],
    ['the purchase route', 'POST', '/api/sales/s_unknown/purchase'],
    ['an unknown route', 'GET', '/nowhere'],
  ])('sends the request id back on %s, the caller’s when it is sane', async (_route, method, url) => {
    const token = app.token('pipeline-buyer');
    const given = await app.request(method, url, { token, headers: { 'x-request-id': 'trace-42' } });
    expect(given.headers['x-request-id']).toBe('trace-42');
    const insane = await app.request(method, url, { token, headers: { 'x-request-id': 'no spaces allowed' } });
    const again = await app.request(method, url, { token });
    // The service's own ids: this process's tag, then a counter; never the same twice.
    expect(insane.headers['x-request-id']).toMatch(/^[\w-]{8}-[0-9a-z]+$/);
    expect(again.headers['x-request-id']).toMatch(/^[\w-]{8}-[0-9a-z]+$/);
    expect(again.headers['x-request-id']).not.toBe(insane.headers['x-request-id']);
  });
});

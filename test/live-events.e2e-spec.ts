import type { AddressInfo } from 'node:net';
import { ManualClock } from '../src/common/clock';
import { SaleEventsHub } from '../src/live/sale-events.hub';
import { buyerIds, createSale, openSale, purchase, reserveBuyers } from './support/sales';
import { SseClient, type SseEvent } from './support/sse-client';
import { createTestApp, TestApp, TestAppOptions } from './support/test-app';
import { eventually } from './support/eventually';

const isSale = (check: (sale: any) => boolean) => (event: SseEvent) => event.event === 'sale' && check(event.data);

describe('Live updates: GET /api/sales/:saleId/events', () => {
  const apps: TestApp[] = [];
  const clients: SseClient[] = [];

  async function start(options: TestAppOptions = {}): Promise<{ app: TestApp; url: string }> {
    const app = await createTestApp(options);
    apps.push(app);
    await app.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.app.getHttpServer().address() as AddressInfo;
    return { app, url: `http://127.0.0.1:${port}` };
  }

  async function subscribe(url: string, saleId: string): Promise<SseClient> {
    const client = await SseClient.open(url, `/api/sales/${saleId}/events`);
    clients.push(client);
    return client;
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const app of apps.splice(0).reverse()) await app.close();
  });

  describe('when the request is wrong', () => {
    it('answers 400 VALIDATION_FAILED for a malformed sale id and 404 SALE_NOT_FOUND for an unknown one', async () => {
      const { url } = await start();
      const malformed = await subscribe(url, 'not%20an%20id');
      expect(malformed.response?.statusCode).toBe(400);
      expect(JSON.parse(await malformed.text())).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      const unknown = await subscribe(url, 's_unknown');
      expect(unknown.response?.statusCode).toBe(404);
      expect(JSON.parse(await unknown.text())).toMatchObject({ statusCode: 404, code: 'SALE_NOT_FOUND', details: [] });
    });

    it('refuses streams past SSE_MAX_CONNECTIONS with 503 UNAVAILABLE and Retry-After, and frees the place when a stream closes', async () => {
      const { app, url } = await start({ env: { SSE_MAX_CONNECTIONS: '1' } });
      const sale = await createSale(app);
      const first = await subscribe(url, sale.id);
      await first.next((event) => event.event === 'sale');
      const second = await subscribe(url, sale.id);
      expect(second.response?.statusCode).toBe(503);
      expect(second.response?.headers['retry-after']).toBe('5');
      expect(JSON.parse(await second.text())).toMatchObject({ statusCode: 503, code: 'UNAVAILABLE' });
      first.close();
      await eventually(() => app.app.get(SaleEventsHub).size === 0, { timeoutMs: 5000, what: 'the closed stream to leave' });
      const third = await subscribe(url, sale.id);
      expect(third.response?.statusCode).toBe(200);
    });
  });

  it('is described in the OpenAPI document', async () => {
    const { app } = await start();
    const document = (await app.request('GET', '/docs-json')).body;
    expect(Object.keys(document.paths['/api/sales/{saleId}/events'].get.responses)).toEqual(['200', '400', '404', '503']);
  });

  describe('on one process', () => {
    it('counts a stream in the request metrics once its client leaves, and leaves the other routes working meanwhile', async () => {
      const { app, url } = await start();
      const sale = await createSale(app);
      const client = await subscribe(url, sale.id);
      await client.next((event) => event.event === 'sale');
      expect((await app.request('GET', `/api/sales/${sale.id}`)).status).toBe(200);
      client.close();
      const counted = /sellout_http_requests_total\{route="\/api\/sales\/:saleId\/events",method="GET",status="200"\} 1/;
      await eventually(async () => counted.test((await app.request('GET', '/metrics')).text), { timeoutMs: 5000, what: 'the stream to be counted' });
    });

    it('sends the sale at once, then every change of stock, pause and phase', async () => {
      const clock = new ManualClock(Date.now());
      const { app, url } = await start({ clock });
      const sale = await createSale(app, { stock: 3, reservationRequired: false });
      const client = await subscribe(url, sale.id);
      expect(client.response?.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      const first = await client.next((event) => event.event === 'sale');
      expect(first.data).toMatchObject({ id: sale.id, remaining: 3, phase: 'reservation' });

      openSale(app, sale);
      expect((await purchase(app, sale.id, buyerIds(1)[0])).status).toBe(201);
      await client.next(isSale((view) => view.remaining === 2 && view.phase === 'live'));

      expect((await app.request('POST', `/api/admin/sales/${sale.id}/pause`, { token: app.opsToken() })).status).toBe(200);
      await client.next(isSale((view) => view.paused === true && view.phase === 'paused'));
      expect((await app.request('POST', `/api/admin/sales/${sale.id}/resume`, { token: app.opsToken() })).status).toBe(200);
      await client.next(isSale((view) => view.paused === false && view.phase === 'live' && view.remaining === 2));
    });

    it('sends sold_out once when the last unit goes, and a new one after units come back and go again', async () => {
      const { app, url } = await start();
      const sale = await createSale(app, { stock: 2, reservationRequired: false });
      openSale(app, sale);
      const client = await subscribe(url, sale.id);
      await client.next((event) => event.event === 'sale');
      const [first, second, third] = buyerIds(3);
      expect((await purchase(app, sale.id, first)).status).toBe(201);
      expect((await purchase(app, sale.id, second)).status).toBe(201);
      const soldOut = await client.next((event) => event.event === 'sold_out');
      expect(soldOut.data).toMatchObject({ saleId: sale.id });
      expect((await purchase(app, sale.id, third)).status).toBe(409);

      expect((await app.request('POST', `/api/admin/sales/${sale.id}/stock`, { token: app.opsToken(), body: { pool: 'general', add: 1 } })).status).toBe(200);
      await client.next(isSale((view) => view.stock === 3 && view.remaining === 1));
      expect((await purchase(app, sale.id, third)).status).toBe(201);
      await client.next((event) => event.event === 'sold_out' && event !== soldOut);
    });

    it('coalesces a burst of purchases into a few events rather than one per purchase', async () => {
      const { app, url } = await start();
      const buyers = buyerIds(60);
      const sale = await createSale(app, { stock: buyers.length });
      await reserveBuyers(app, sale.id, buyers);
      openSale(app, sale);
      const client = await subscribe(url, sale.id);
      await client.next((event) => event.event === 'sale');
      await Promise.all(buyers.map(async (buyer) => expect((await purchase(app, sale.id, buyer)).status).toBe(201)));
      await client.next((event) => event.event === 'sold_out');
      const saleEvents = client.events.filter((event) => event.event === 'sale').length;
      expect(saleEvents).toBeLessThan(buyers.length / 2);
      expect(client.events.at(-2)).toMatchObject({ event: 'sale', data: { remaining: 0, phase: 'sold_out' } });
    });
  });

  describe('across processes sharing one Redis and one database', () => {
    it('tells a stream on one process that the sale sold out on another', async () => {
      const { app: buyingApp } = await start();
      const { app: watchingApp, url: watchingUrl } = await start({ sqliteFile: buyingApp.sqliteFile });
      expect(watchingApp.config.redisKeyPrefix).toBe(buyingApp.config.redisKeyPrefix);
      const sale = await createSale(buyingApp, { stock: 1, reservationRequired: false });
      openSale(buyingApp, sale);
      openSale(watchingApp, sale);
      const client = await subscribe(watchingUrl, sale.id);
      await client.next((event) => event.event === 'sale');
      expect((await purchase(buyingApp, sale.id, buyerIds(1)[0])).status).toBe(201);
      const soldOut = await client.next((event) => event.event === 'sold_out');
      expect(soldOut.data).toMatchObject({ saleId: sale.id });
      expect(client.events.find(isSale((view) => view.remaining === 0))).toBeDefined();
    });
  });
});

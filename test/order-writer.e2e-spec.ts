import { OrderEntity } from '../src/orders/order.entity';
import { claimCheckIntervalMs, OrderWriterService } from '../src/order-writer/order-writer.service';
import { createOrderWriterWorker } from '../src/order-writer/order-writer.module';
import { MetricsService } from '../src/metrics/metrics.service';
import { ORDER_WRITER_GROUP } from '../src/redis/redis-keys';
import { assertInvariants, databaseOrdersOf, waitForOrderWriter } from './support/invariants';
import { buyerIds, openSale, purchase, reserveBuyersInRedis, seedSaleInRedis, TestSale } from './support/sales';
import { eventually } from './support/eventually';
import { createTestApp, TestApp, testConfig } from './support/test-app';

describe('Order writer', () => {
  const apps: TestApp[] = [];
  let sqliteFile: string | undefined;

  /** Apps of one test share one database (the same embedded file, or the run's PostgreSQL database). */
  async function startApp(env: Record<string, string> = {}): Promise<TestApp> {
    const app = await createTestApp({ env, sqliteFile });
    sqliteFile = app.sqliteFile;
    apps.push(app);
    return app;
  }

  async function sellTo(app: TestApp, buyers: string[], stock = buyers.length): Promise<{ sale: TestSale; orderIds: string[] }> {
    const sale = await seedSaleInRedis(app, { stock });
    await reserveBuyersInRedis(app, sale.id, buyers);
    openSale(app, sale);
    const responses = await Promise.all(buyers.map((buyer) => purchase(app, sale.id, buyer)));
    expect(responses.map((response) => response.status)).toEqual(buyers.map(() => 201));
    return { sale, orderIds: responses.map((response) => response.body.id) };
  }

  const storedCount = async (app: TestApp, saleId: string) => app.database.manager.count(OrderEntity, { where: { saleId } });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    sqliteFile = undefined;
  });

  describe('when it runs in the service', () => {
    it('persists every accepted order exactly once, in its current status', async () => {
      const app = await startApp();
      const { sale, orderIds } = await sellTo(app, buyerIds(300));
      const report = await assertInvariants(app, sale.id);
      expect(report.databaseOrders.map((order) => order.id).sort()).toEqual([...orderIds].sort());
    });

    it('applies status events with a compare-and-set on pending_payment', async () => {
      const app = await startApp();
      const { sale, orderIds } = await sellTo(app, buyerIds(2));
      await waitForOrderWriter(app, sale.id);
      const events = app.keys.forSale(sale.id).events;
      const paidAt = app.clock.now() + 1_000;
      await app.redis.xadd(events, '*', 'type', 'status', 'orderId', orderIds[0], 'status', 'paid', 'at', paidAt);
      // A late expiry of the paid order must not win, and a redelivered event changes nothing.
      await app.redis.xadd(events, '*', 'type', 'status', 'orderId', orderIds[0], 'status', 'expired', 'at', paidAt + 1);
      await app.redis.xadd(events, '*', 'type', 'status', 'orderId', orderIds[1], 'status', 'cancelled', 'at', paidAt + 2);
      await app.redis.xadd(events, '*', 'type', 'status', 'orderId', orderIds[1], 'status', 'cancelled', 'at', paidAt + 3);
      await waitForOrderWriter(app, sale.id);
      const rows = await app.database.manager.find(OrderEntity, { where: { saleId: sale.id } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      expect(byId.get(orderIds[0])).toMatchObject({ status: 'paid', paidAt, updatedAt: paidAt });
      expect(byId.get(orderIds[1])).toMatchObject({ status: 'cancelled', paidAt: null, updatedAt: paidAt + 2 });
      expect(await app.redis.xlen(app.keys.forSale(sale.id).deadEvents)).toBe(0);
    });

    it('reports its lag as a metric', async () => {
      const app = await startApp({ ORDER_WRITER_ENABLED: 'false' });
      const { sale } = await sellTo(app, buyerIds(3));
      const metrics = await app.request('GET', '/metrics');
      expect(metrics.text).toContain(`sellout_order_writer_lag{sale="${sale.id}"} 3`);
      expect(metrics.text).toContain(`sellout_stock_remaining{sale="${sale.id}",pool="general"} 0`);
    });
  });

  describe('when the writer stops with orders in the stream', () => {
    it('leaves them for the next writer, which persists each exactly once', async () => {
      const first = await startApp({ ORDER_WRITER_ENABLED: 'false' });
      const { sale, orderIds } = await sellTo(first, buyerIds(200));
      expect(await storedCount(first, sale.id)).toBe(0);
      await first.close();
      apps.splice(apps.indexOf(first), 1);

      const second = await startApp();
      await waitForOrderWriter(second, sale.id);
      const stored = await databaseOrdersOf(second, sale.id);
      expect(stored.map((order) => order.id).sort()).toEqual([...orderIds].sort());
      await assertInvariants(second, sale.id);
    });

    it('finishes the batch in flight before stopping: nothing it read is left unacknowledged', async () => {
      const app = await startApp({ ORDER_WRITER_BATCH_SIZE: '20' });
      const writer = app.app.get(OrderWriterService);
      const sale = await seedSaleInRedis(app, { stock: 400 });
      const buyers = buyerIds(400);
      await reserveBuyersInRedis(app, sale.id, buyers);
      openSale(app, sale);
      const purchases = Promise.all(buyers.map((buyer) => purchase(app, sale.id, buyer)));
      await eventually(async () => (await storedCount(app, sale.id)) > 0);
      await writer.stop();
      await purchases;
      const pending = (await app.redis.xpending(app.keys.forSale(sale.id).events, ORDER_WRITER_GROUP, '-', '+', 1000, writer.consumer)) as unknown[];
      expect(pending).toEqual([]);
      const storedWhenStopped = await storedCount(app, sale.id);
      expect(storedWhenStopped).toBeLessThanOrEqual(400);

      await writer.start();
      await assertInvariants(app, sale.id);
      expect(await storedCount(app, sale.id)).toBe(400);
    });
  });

  describe('when a consumer read messages and died without acknowledging them', () => {
    it('claims them after claimIdleMs and persists them', async () => {
      const seller = await startApp({ ORDER_WRITER_ENABLED: 'false' });
      const { sale } = await sellTo(seller, buyerIds(50));
      const events = seller.keys.forSale(sale.id).events;
      await seller.redis.xgroup('CREATE', events, ORDER_WRITER_GROUP, '0', 'MKSTREAM').catch((error: Error) => {
        if (!error.message.includes('BUSYGROUP')) throw error;
      });
      const read = (await seller.redis.xreadgroup('GROUP', ORDER_WRITER_GROUP, 'crashed-writer', 'COUNT', 1000, 'STREAMS', events, '>')) as [string, unknown[]][];
      expect(read[0][1]).toHaveLength(50);

      const rescuer = await startApp({ ORDER_WRITER_CLAIM_IDLE_MS: '300' });
      await waitForOrderWriter(rescuer, sale.id);
      expect(await storedCount(rescuer, sale.id)).toBe(50);
      const crashedPending = (await rescuer.redis.xpending(events, ORDER_WRITER_GROUP, '-', '+', 100, 'crashed-writer')) as unknown[];
      expect(crashedPending).toEqual([]);
      await assertInvariants(rescuer, sale.id);
    });

    it('claims them within one claim check interval of their becoming claimable, not half a claim idle later', async () => {
      const claimIdleMs = 6_000;
      const claimableIn = 1_500;
      const seller = await startApp({ ORDER_WRITER_ENABLED: 'false' });
      const { sale } = await sellTo(seller, buyerIds(5));
      const events = seller.keys.forSale(sale.id).events;
      await seller.redis.xgroup('CREATE', events, ORDER_WRITER_GROUP, '0', 'MKSTREAM');
      const read = (await seller.redis.xreadgroup('GROUP', ORDER_WRITER_GROUP, 'crashed-writer', 'COUNT', 100, 'STREAMS', events, '>')) as [string, [string, string[]][]][];
      const ids = read[0][1].map(([id]) => id);
      expect(ids).toHaveLength(5);

      const rescuer = await startApp({ ORDER_WRITER_ENABLED: 'false', ORDER_WRITER_CLAIM_IDLE_MS: String(claimIdleMs) });
      const writer = rescuer.app.get(OrderWriterService);
      // As if the crashed writer had read them claimIdleMs - claimableIn ago: they become claimable soon
      // after the rescuer's writer starts, and so after its first look for abandoned entries.
      await seller.redis.xclaim(events, ORDER_WRITER_GROUP, 'crashed-writer', 0, ...ids, 'IDLE', claimIdleMs - claimableIn, 'RETRYCOUNT', 1);
      const claimableAt = Date.now() + claimableIn;
      await writer.start();
      await eventually(async () => (await storedCount(rescuer, sale.id)) === 5, { timeoutMs: claimIdleMs * 2, what: 'the abandoned orders stored' });
      const storedAfter = Date.now() - claimableAt;
      expect(storedAfter).toBeGreaterThanOrEqual(-100);
      // One claim check interval, and time for the batch to commit on a busy machine.
      expect(storedAfter).toBeLessThan(claimCheckIntervalMs(claimIdleMs) + 700);
      await waitForOrderWriter(rescuer, sale.id);
      await assertInvariants(rescuer, sale.id);
    });
  });

  describe('when a message can never be applied', () => {
    it('parks it in events:dead, counts it, and keeps persisting the others', async () => {
      const app = await startApp({ ORDER_WRITER_MAX_DELIVERIES: '3', ORDER_WRITER_CLAIM_IDLE_MS: '100' });
      const sale = await seedSaleInRedis(app, { stock: 20 });
      const buyers = buyerIds(20);
      await reserveBuyersInRedis(app, sale.id, buyers);
      openSale(app, sale);
      const keys = app.keys.forSale(sale.id);
      const parkedBefore = (await app.app.get(MetricsService).orderWriterParked.get()).values[0]?.value ?? 0;

      const first = await Promise.all(buyers.slice(0, 10).map((buyer) => purchase(app, sale.id, buyer)));
      const unreadable = String(await app.redis.xadd(keys.events, '*', 'type', 'created', 'order', '{"id":'));
      const orphan = String(await app.redis.xadd(keys.events, '*', 'type', 'status', 'orderId', `o_missing.${sale.id}`, 'status', 'paid', 'at', app.clock.now()));
      const second = await Promise.all(buyers.slice(10).map((buyer) => purchase(app, sale.id, buyer)));
      expect([...first, ...second].every((response) => response.status === 201)).toBe(true);

      // The good orders do not wait for the poison to be parked.
      await eventually(async () => (await storedCount(app, sale.id)) === 20, { timeoutMs: 5_000 });
      await eventually(async () => (await app.redis.xlen(keys.deadEvents)) === 2);
      await waitForOrderWriter(app, sale.id);

      const dead = await app.redis.xrange(keys.deadEvents, '-', '+');
      const bySource = new Map(dead.map(([, fields]) => [fields[fields.indexOf('sourceId') + 1], fields]));
      expect(bySource.get(unreadable)).toEqual(expect.arrayContaining(['reason', 'type', 'created']));
      expect(bySource.get(orphan)).toEqual(expect.arrayContaining(['orderId', `o_missing.${sale.id}`]));
      const orphanReason = bySource.get(orphan)?.[1] ?? '';
      expect(orphanReason).toMatch(/after 3 deliveries/);
      // Parked once each, never again on a later delivery.
      expect(await app.redis.xlen(keys.deadEvents)).toBe(2);
      // The counter covers every sale this writer serves; in a Redis shared with earlier test files it may
      // also count their leftovers, so it must have grown by at least this sale's two.
      const parkedAfter = (await app.app.get(MetricsService).orderWriterParked.get()).values[0]?.value ?? 0;
      expect(parkedAfter - parkedBefore).toBeGreaterThanOrEqual(2);
      expect((await app.request('GET', '/metrics')).text).toMatch(/sellout_order_writer_parked_total \d+/);
    });
  });

  describe('when the database is unreachable for a while', () => {
    it('parks nothing, and persists every order once the database is back', async () => {
      const app = await startApp({ ORDER_WRITER_MAX_DELIVERIES: '2', ORDER_WRITER_CLAIM_IDLE_MS: '50' });
      const database = app.database;
      const transaction = database.transaction.bind(database);
      let attempts = 0;
      // The driver's "connection refused", as the writer would see it while the database is down.
      const outage = jest.spyOn(database, 'transaction').mockImplementation(async () => {
        attempts += 1;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      });
      try {
        const { sale } = await sellTo(app, buyerIds(30));
        // The outage lasts many claim intervals: a poison message would have used up its deliveries by then.
        const outageEnds = Date.now() + 800;
        await eventually(async () => attempts >= 4 && Date.now() >= outageEnds);
        expect(await app.redis.xlen(app.keys.forSale(sale.id).deadEvents)).toBe(0);
        expect(await app.app.get(OrderWriterService).lag(sale.id)).toBe(30);
        outage.mockImplementation(transaction);
        await assertInvariants(app, sale.id);
        expect(await storedCount(app, sale.id)).toBe(30);
      } finally {
        outage.mockRestore();
      }
    });
  });

  describe('when it runs as a standalone worker (npm run start:worker)', () => {
    it('persists the orders a service without a writer accepted', async () => {
      const service = await startApp({ ORDER_WRITER_ENABLED: 'false' });
      const { sale } = await sellTo(service, buyerIds(40));
      const { config } = testConfig({ sqliteFile, env: { ORDER_WRITER_ENABLED: 'false' } });
      const worker = await createOrderWriterWorker(config);
      try {
        await waitForOrderWriter(service, sale.id);
        expect(await storedCount(service, sale.id)).toBe(40);
        expect(worker.get(OrderWriterService).isRunning).toBe(true);
      } finally {
        await worker.close();
      }
      await assertInvariants(service, sale.id, { checkDatabase: true });
    });
  });

  describe('trimming', () => {
    it('drops acknowledged entries and keeps unacknowledged ones', async () => {
      const app = await startApp();
      const { sale } = await sellTo(app, buyerIds(30));
      await waitForOrderWriter(app, sale.id);
      const events = app.keys.forSale(sale.id).events;
      // An entry read by a consumer that has not acknowledged it yet must survive the trim.
      await app.app.get(OrderWriterService).stop();
      const unacknowledged = await app.redis.xadd(events, '*', 'type', 'status', 'orderId', 'o_x.y', 'status', 'paid', 'at', 1);
      await app.redis.xreadgroup('GROUP', ORDER_WRITER_GROUP, 'slow-writer', 'COUNT', 10, 'STREAMS', events, '>');
      const undelivered = await app.redis.xadd(events, '*', 'type', 'status', 'orderId', 'o_z.y', 'status', 'paid', 'at', 1);
      await app.app.get(OrderWriterService).trimAcknowledged([sale.id]);
      const remaining = (await app.redis.xrange(events, '-', '+')).map(([id]) => id);
      expect(remaining).toEqual(expect.arrayContaining([unacknowledged, undelivered]));
      expect(remaining.length).toBeLessThanOrEqual(3);
      expect(await app.app.get(OrderWriterService).lag(sale.id)).toBe(2);
    });
  });
});

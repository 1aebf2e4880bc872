import type { Cluster, Redis } from 'ioredis';
import { OutcomeUnknownError } from '../src/common/errors/outcome-unknown.error';
import { loadConfig } from '../src/config/app-config';
import { runScriptAtMostOnce, wasNeverSent } from '../src/redis/command-outcome';
import { LiveGateway } from '../src/live/live.gateway';
import { createClusterClient } from '../src/redis/redis-client.factory';
import { execPerNode, keySlot, masterOfKey, nodeKey } from '../src/redis/redis-topology';
import { MAX_COMMANDS_PER_WRITE } from '../src/redis/write-coalescing';
import { clientIp, issueFcodes, withTypo } from './fcodes.fixtures';
import { buy, buyOrFail, cancel, createLiveSale, pay, waitUntil } from './order-lifecycle.fixtures';
import { assertInvariants, databaseOrdersOf, waitForOrderWriter } from './support/invariants';
import { buyerIds, createSale, openSale, purchase, reserveBuyers, type TestSale } from './support/sales';
import { createTestApp, TestApp, TestAppOptions, testKeyPrefix, uniqueId } from './support/test-app';
import { createTestDatabase, startWorkerProcess, TestDatabase } from './support/server-process';
import { countWrites } from './support/socket-writes';
import { RedisClusterHandle, startRedisCluster, startRedisServer } from './support/test-services';

/**
 * Every feature on a 3-master Redis Cluster with a replica each (REDIS_CLUSTER_NODES), through the HTTP
 * API. Before the service knew clusters, a node behind REDIS_URL made sale creation answer 500 (MOVED on
 * the index of sales) and leave index entries behind, the sweeper fail every second, the order writer
 * stall on CROSSSLOT while accepted orders never reached the database, and a rebuild lose a paid order.
 */
describe('On a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let cluster: RedisClusterHandle;
  let admin: Cluster;
  let app: TestApp;
  // A database of its own: a booting app, and the rebuild after a master loses its memory, restore every
  // open sale of the database that the cluster lacks, and on a database shared with the run's earlier test
  // files those are theirs too (hundreds of sales, one with 100,000 F-codes), past the tests' bounds.
  let database: TestDatabase;
  /** The deployment's settings: its cluster, its database, its key prefix. */
  const deployment = (env: Record<string, string> = {}): TestAppOptions => ({
    redisClusterNodes: cluster.nodes,
    clock: app?.clock,
    env: { FCODE_MAX_FAILURES: '3', DATABASE_URL: database.url, REDIS_KEY_PREFIX: testKeyPrefix(database.url), ...env },
  });

  beforeAll(async () => {
    cluster = await startRedisCluster();
    admin = await cluster.client();
    database = await createTestDatabase();
    app = await createTestApp(deployment());
  });
  afterAll(async () => {
    await app?.close();
    admin?.disconnect();
    await cluster?.stop();
    await database?.drop();
  });

  const masterOfSale = (saleId: string) => cluster.masterPortOf(app.keys.forSale(saleId).sale);

  /** Another instance of the same deployment (same database, same cluster). */
  function secondInstance(options: TestAppOptions = {}): Promise<TestApp> {
    return createTestApp({ ...options, ...deployment(options.env) });
  }

  /** Creates live sales until every master serves at least one (sale ids are random; bounded). */
  async function salesOnEveryMaster(stock: number, perUserLimit = 1): Promise<Map<number, string[]>> {
    const byMaster = new Map<number, string[]>();
    for (let created = 0; byMaster.size < 3 || created < 3; created += 1) {
      if (created >= 40) throw new Error(`40 sales landed on only ${byMaster.size} master(s)`);
      const { saleId } = await createLiveSale(app, { stock, perUserLimit });
      const master = await masterOfSale(saleId);
      byMaster.set(master, [...(byMaster.get(master) ?? []), saleId]);
    }
    return byMaster;
  }

  describe('boot', () => {
    it('refuses REDIS_URL and REDIS_CLUSTER_NODES together, naming both', () => {
      expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: cluster.nodes.join(',') })).toThrow(/REDIS_URL and REDIS_CLUSTER_NODES are both set/);
    });

    it('refuses REDIS_URL pointing at a cluster node, naming the settings', async () => {
      await expect(createTestApp({ env: { REDIS_URL: `redis://${cluster.nodes[0]}` } })).rejects.toThrow(/REDIS_URL: .* is a node of a Redis Cluster; .*REDIS_CLUSTER_NODES/);
    });

    it('refuses REDIS_URL pointing at a cluster node in the standalone order writer (npm run start:worker) too, and runs it on REDIS_CLUSTER_NODES', async () => {
      const database = await createTestDatabase();
      try {
        const started = await startWorkerProcess({ REDIS_URL: `redis://${cluster.nodes[0]}`, DATABASE_URL: database.url, REDIS_KEY_PREFIX: uniqueId('worker') });
        expect(started).toMatchObject({ running: false, code: 1 });
        expect(started.stderr).toMatch(/REDIS_URL: .* is a node of a Redis Cluster; .*REDIS_CLUSTER_NODES/);
        // Pointed at the cluster as such, it runs.
        expect(await startWorkerProcess({ REDIS_CLUSTER_NODES: cluster.nodes.join(','), DATABASE_URL: database.url, REDIS_KEY_PREFIX: uniqueId('worker') })).toMatchObject({ running: true });
      } finally {
        await database.drop();
      }
    });

    it('refuses REDIS_CLUSTER_NODES naming a Redis without cluster support, in the service and in the standalone order writer', async () => {
      const single = await startRedisServer();
      const database = await createTestDatabase();
      try {
        const seed = `127.0.0.1:${single.port}`;
        const refusal = new RegExp(`REDIS_CLUSTER_NODES: ${seed.replace(/\./g, '\\.')} is a Redis without cluster support.*REDIS_URL=redis://${seed.replace(/\./g, '\\.')}`);
        await expect(createTestApp({ redisClusterNodes: [seed] })).rejects.toThrow(refusal);
        const started = await startWorkerProcess({ REDIS_CLUSTER_NODES: seed, DATABASE_URL: database.url, REDIS_KEY_PREFIX: uniqueId('worker') });
        expect(started).toMatchObject({ running: false, code: 1 });
        expect(started.stderr).toMatch(refusal);
      } finally {
        await database.drop();
        await single.stop();
      }
    });

    it('REDIS_DURABILITY=aof checks every master and names the one without an append-only file', async () => {
      await expect(createTestApp({ redisClusterNodes: cluster.nodes, env: { REDIS_DURABILITY: 'aof' } })).rejects.toThrow(/REDIS_DURABILITY=aof, but the Redis master 127\.0\.0\.1:\d+ runs with appendonly no/);
    });

    it('reports every master in /health', async () => {
      expect((await app.request('GET', '/health')).body).toEqual({ status: 'ok', redis: 'up', database: 'up', orderPipeline: 'up' });
    });
  });

  describe("the service's client, on each node connection", () => {
    const TIMEOUT_MS = 200;
    let client: Cluster;
    beforeAll(async () => {
      client = await createClusterClient(cluster.nodes, TIMEOUT_MS, 'sellout-test-nodes');
    });
    afterAll(() => {
      client?.disconnect();
    });

    /** The client's connection to the master serving `key`. */
    function connectionOf(key: string): Redis {
      const node = client.nodes('master').find((candidate) => nodeKey(candidate) === masterOfKey(client, key));
      if (!node) throw new Error(`no connection to the master of ${key}`);
      return node;
    }

    it('sends the commands of one event-loop turn to a master in one socket write per MAX_COMMANDS_PER_WRITE, and answers each of them', async () => {
      const key = `{${uniqueId('coalesce')}}:n`;
      const { writes } = countWrites(connectionOf(key));
      const replies = Promise.all(Array.from({ length: 50 }, (_, index) => client.incrby(key, index)));
      const totals = await replies;
      expect(writes()).toBe(Math.ceil(50 / MAX_COMMANDS_PER_WRITE));
      expect(totals).toEqual(Array.from({ length: 50 }, (_, index) => (index * (index + 1)) / 2));
      await client.del(key);
    });

    it('fails the commands a stalled master does not answer in time, with one timer for the connection rather than one per command', async () => {
      const key = `{${uniqueId('timeout')}}:n`;
      await client.set(key, 'before');
      const master = cluster.nodeClient(await cluster.masterPortOf(key));
      const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
      const timersBefore = timers();
      // Long enough to outlast the timeout by far; the UNPAUSE below waits for its end.
      await master.client('PAUSE', 1_500, 'ALL');
      let outcomes: string[];
      let elapsed: number;
      let timersWaiting: number;
      try {
        const started = Date.now();
        const stalled = Promise.all(Array.from({ length: 200 }, () => client.incr(`${key}:count`).then(() => 'answered', (error: Error) => error.message)));
        timersWaiting = timers();
        outcomes = await stalled;
        elapsed = Date.now() - started;
      } finally {
        await master.client('UNPAUSE');
        master.disconnect();
      }
      expect(new Set(outcomes)).toEqual(new Set(['Command timed out']));
      expect(timersWaiting - timersBefore).toBeLessThan(10);
      // Between the timeout and the timeout plus one check interval, with room for a slow machine.
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(elapsed).toBeLessThan(1_000);
      // The stalled commands' late replies are dropped: later commands get their own.
      expect(await client.get(key)).toBe('before');
      await client.del(key, `${key}:count`);
    });

    it('refuses a command as never sent once the client is closed: a script call fails at once instead of being resent to learn its outcome', async () => {
      const closed = await createClusterClient(cluster.nodes, TIMEOUT_MS, 'sellout-test-closed');
      const ended = new Promise((resolve) => closed.once('end', resolve));
      closed.disconnect();
      await ended;
      const started = Date.now();
      const error = await runScriptAtMostOnce(closed, 'release-lock', [uniqueId('lock')], ['token'], 3_000, 'a test call').then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(OutcomeUnknownError);
      expect(wasNeverSent(error)).toBe(true);
      expect(Date.now() - started).toBeLessThan(1_000);
    });
  });

  describe('sales', () => {
    it('spreads sales over all three masters, keeps each sale in one slot, and indexes exactly the sales created', async () => {
      const byMaster = await salesOnEveryMaster(5);
      expect(byMaster.size).toBe(3);
      const saleIds = [...byMaster.values()].flat();
      // Every key of a sale (created, bought, reserved) hashes to the sale's one slot.
      for (const saleId of saleIds.slice(0, 3)) await buyOrFail(app, saleId, uniqueId('u'));
      for (const saleId of saleIds) {
        const tagged: string[] = [];
        for (const node of admin.nodes('master')) tagged.push(...(await node.keys(`*{sale:${saleId}}*`)));
        expect(tagged.length).toBeGreaterThan(0);
        expect(new Set(tagged.map(keySlot)).size).toBe(1);
      }
      const indexed = await admin.smembers(app.keys.salesIndex);
      for (const saleId of saleIds) expect(indexed).toContain(saleId);

      const listed = await app.request('GET', '/api/admin/sales?limit=100', { token: app.opsToken() });
      expect(listed.status).toBe(200);
      const live = new Map<string, { stock: { generalRemaining: number } }>(listed.body.items.map((item: { id: string }) => [item.id, item]));
      for (const saleId of saleIds) expect(live.get(saleId)).toBeDefined();
    });

    it('reads the units sold of sales on every master at once, as the timeline samples them', async () => {
      const byMaster = await salesOnEveryMaster(5);
      const saleIds = [...byMaster.values()].map((ids) => ids[0]);
      await buyOrFail(app, saleIds[0], uniqueId('u'));

      expect(await app.app.get(LiveGateway).unitsSold([...saleIds, 'no-such-sale'])).toEqual([1, 0, 0, undefined]);
    });

    it('adjusts stock, pauses and reports stats of a sale on any master', async () => {
      const { saleId } = await createLiveSale(app, { stock: 2 });
      const adjusted = await app.request('POST', `/api/admin/sales/${saleId}/stock`, { token: app.opsToken(), body: { add: 3, pool: 'general' } });
      expect(adjusted.status).toBe(200);
      expect((await app.request('POST', `/api/admin/sales/${saleId}/pause`, { token: app.opsToken() })).status).toBe(200);
      expect((await purchase(app, saleId, uniqueId('u'))).body.code).toBe('SALE_PAUSED');
      expect((await app.request('POST', `/api/admin/sales/${saleId}/resume`, { token: app.opsToken() })).status).toBe(200);
      await buyOrFail(app, saleId, uniqueId('u'));
      const stats = await app.request('GET', `/api/admin/sales/${saleId}/stats`, { token: app.opsToken() });
      expect(stats.body).toMatchObject({ unitsSold: 1, stock: { general: 5, generalRemaining: 4 }, stockEquationHolds: true });
    });
  });

  describe('reservations and F-codes', () => {
    it('imports reservations and sells only to reserved buyers', async () => {
      const sale = await createSale(app, { stock: 5, reservationRequired: true });
      const [reserved, stranger] = buyerIds(2);
      await reserveBuyers(app, sale.id, [reserved]);
      openSale(app, sale);
      expect((await purchase(app, sale.id, stranger)).status).toBe(403);
      expect((await purchase(app, sale.id, reserved)).status).toBe(201);
      await assertInvariants(app, sale.id);
    });

    it('redeems F-codes and brakes wrong guesses (counters outside any sale slot)', async () => {
      const sale = await createSale(app, { stock: 0, fcodeStock: 2, reservationRequired: true });
      const { codes } = await issueFcodes(app, sale.id, { count: 2 });
      openSale(app, sale);
      const [holder, guesser] = buyerIds(2);
      const redeemed = await app.request('POST', `/api/sales/${sale.id}/purchase`, { token: app.token(holder), body: { fcode: codes[0] }, headers: { 'x-forwarded-for': clientIp() } });
      expect(redeemed.status).toBe(201);
      expect(redeemed.body.pool).toBe('fcode');
      const guesses = [];
      for (let attempt = 0; attempt < 4; attempt += 1) {
        guesses.push((await app.request('POST', `/api/sales/${sale.id}/purchase`, { token: app.token(guesser), body: { fcode: withTypo(codes[1]) }, headers: { 'x-forwarded-for': clientIp() } })).status);
      }
      expect(guesses).toEqual([403, 403, 403, 429]);
      await assertInvariants(app, sale.id);
    });
  });

  describe('orders', () => {
    it('pays, cancels and expires orders on every master, and the writer persists each order once', async () => {
      const byMaster = await salesOnEveryMaster(5, 1);
      const saleIds = [...byMaster.values()].map((ids) => ids[0]);
      const orders: { saleId: string; orderId: string; buyer: string }[] = [];
      for (const saleId of saleIds) {
        for (const buyer of buyerIds(3)) orders.push({ saleId, orderId: await buyOrFail(app, saleId, buyer), buyer });
      }
      for (const [index, order] of orders.entries()) {
        if (index % 3 === 0) expect((await pay(app, order.orderId, order.buyer)).status).toBe(200);
        if (index % 3 === 1) expect((await cancel(app, order.orderId, order.buyer)).status).toBe(200);
      }
      // The rest expire: the sweeper visits every sale on every master.
      app.clock.advance(901_000);
      await waitUntil('the sweeper expired the unpaid orders', async () => {
        const statuses = await Promise.all(orders.filter((_order, index) => index % 3 === 2).map((order) => admin.hget(app.keys.forSale(order.saleId).order(order.orderId), 'status')));
        return statuses.every((status) => status === 'expired');
      });
      for (const saleId of saleIds) {
        const report = await assertInvariants(app, saleId);
        expect(report.databaseOrders.map((order) => order.status).sort()).toEqual(['cancelled', 'expired', 'paid']);
      }
      const mine = await app.request('GET', '/api/me/orders', { token: app.token(orders[0].buyer) });
      expect(mine.body.items.map((order: { id: string }) => order.id)).toEqual([orders[0].orderId]);
    });

    it('reports the stock of sales on every master and the writer lag in /metrics', async () => {
      const byMaster = await salesOnEveryMaster(4);
      const metrics = (await app.request('GET', '/metrics')).text;
      for (const saleId of [...byMaster.values()].flat()) expect(metrics).toContain(`sellout_stock_remaining{sale="${saleId}",pool="general"} 4`);
      expect(metrics).toMatch(/sellout_order_writer_lag\{sale="[^"]+"\} 0/);
    });
  });

  describe('several instances', () => {
    let other: TestApp;
    beforeAll(async () => {
      // A sold-out flag trusted for ten minutes: only the stock-is-back announcement can clear it in time.
      other = await secondInstance({ env: { SOLD_OUT_FLAG_TTL_MS: '600000' } });
    });
    afterAll(async () => {
      await other?.close();
    });

    it('a cancel on one instance lets a buyer on another buy the unit at once (the stock-is-back signal crosses processes)', async () => {
      const byMaster = await salesOnEveryMaster(1);
      for (const saleId of [...byMaster.values()].map((ids) => ids[0])) {
        const [first, second] = buyerIds(2);
        const orderId = await buyOrFail(app, saleId, first);
        expect((await buy(other, saleId, second)).body.code).toBe('SOLD_OUT');
        expect((await cancel(app, orderId, first)).status).toBe(200);
        await waitUntil('the other instance sells the returned unit', async () => (await buy(other, saleId, second)).status === 201, 5_000);
        await assertInvariants(app, saleId);
      }
    });

    it('sells out several sales on every master concurrently across instances: the five invariants hold and every 201 is stored once', async () => {
      const byMaster = await salesOnEveryMaster(15, 2);
      const saleIds = [...byMaster.values()].flat();
      const accepted = new Map<string, string[]>(saleIds.map((saleId) => [saleId, []]));
      const attempts = saleIds.flatMap((saleId) => buyerIds(20).map((buyer) => ({ saleId, buyer })));
      const answers = await Promise.all(
        attempts.map(async ({ saleId, buyer }, index) => {
          const response = await buy(index % 2 === 0 ? app : other, saleId, buyer);
          if (response.status === 201) accepted.get(saleId)?.push(response.body.id as string);
          return response.status === 201 ? 201 : (response.body.code as string);
        }),
      );
      expect(new Set(answers)).toEqual(new Set([201, 'SOLD_OUT']));
      for (const saleId of saleIds) {
        const report = await assertInvariants(app, saleId);
        expect(report.unitsSold).toBe(15);
        const stored = (await databaseOrdersOf(app, saleId)).map((order) => order.id).sort();
        expect(stored).toEqual([...(accepted.get(saleId) ?? [])].sort());
      }
    });
  });

  describe('when Redis loses memory', () => {
    /** A live sale on `master` with a paid and a pending order, both persisted. */
    async function soldSaleOn(master: number): Promise<{ saleId: string; paid: string; pending: string }> {
      for (let attempt = 0; attempt < 40; attempt += 1) {
        const { saleId } = await createLiveSale(app, { stock: 10 });
        if ((await masterOfSale(saleId)) !== master) continue;
        const [payer, waiter] = buyerIds(2);
        const paid = await buyOrFail(app, saleId, payer);
        expect((await pay(app, paid, payer)).status).toBe(200);
        const pending = await buyOrFail(app, saleId, waiter);
        await waitForOrderWriter(app, saleId);
        return { saleId, paid, pending };
      }
      throw new Error(`no sale landed on master ${master} in 40 tries`);
    }

    const statsOf = async (saleId: string) => (await app.request('GET', `/api/admin/sales/${saleId}/stats`, { token: app.opsToken() })).body;

    it('rebuilds the sales of a master flushed under the running service, keeping paid orders, and leaves the other masters alone', async () => {
      const masters = (await cluster.state()).filter((node) => node.role === 'master').map((node) => node.port);
      const sold = await Promise.all(masters.map((master) => soldSaleOn(master)));
      // The master holding the index of sales (and perhaps the deployment key): the hardest one to lose.
      const flushed = await cluster.masterPortOf(app.keys.salesIndex);
      const lost = sold[masters.indexOf(flushed)];
      const untouched = sold.filter((sale) => sale !== lost);
      const versionsBefore = await Promise.all(untouched.map(({ saleId }) => admin.hget(app.keys.forSale(saleId).sale, 'stockVersion')));

      const node = cluster.nodeClient(flushed);
      await node.flushall();
      node.disconnect();
      // Requests for the lost sale answer 503 (never 404) until it is back, then sell on.
      await waitUntil('the flushed master is rebuilt', async () => {
        const response = await buy(app, lost.saleId, uniqueId('after'));
        if (response.status !== 201) expect(response.body.code).toBe('UNAVAILABLE');
        return response.status === 201;
      }, 10_000);
      expect(await statsOf(lost.saleId)).toMatchObject({ unitsSold: 3, orders: { paid: 1, pending_payment: 2 }, stock: { generalRemaining: 7 }, stockEquationHolds: true });
      // The other masters' sales were not rebuilt (their stockVersion is unchanged) and are all indexed.
      expect(await Promise.all(untouched.map(({ saleId }) => admin.hget(app.keys.forSale(saleId).sale, 'stockVersion')))).toEqual(versionsBefore);
      // The index of sales may have lived on the flushed master: the rebuild lists every sale again, or
      // the order writer and the sweeper would not find the sales of the other masters.
      await waitUntil('every sale is indexed again', async () => {
        const indexed = await admin.smembers(app.keys.salesIndex);
        return sold.every(({ saleId }) => indexed.includes(saleId));
      });
      for (const { saleId } of sold) await assertInvariants(app, saleId);
    });

    it('lists again a sale that has ended but is still in its payment window: its orders are still paid, expired and stored', async () => {
      const indexMaster = await cluster.masterPortOf(app.keys.salesIndex);
      const startsAt = app.clock.now() + 60_000;
      // A sale on another master than the index's, so that only the index of sales loses it.
      let sale: TestSale | undefined;
      for (let attempt = 0; attempt < 40 && sale === undefined; attempt += 1) {
        const candidate = await createSale(app, { stock: 5, reservationRequired: false, startsAt, endsAt: startsAt + 60_000, paymentWindowSeconds: 600 });
        if ((await masterOfSale(candidate.id)) !== indexMaster) sale = candidate;
      }
      if (sale === undefined) throw new Error(`40 sales landed on the master of the index (${indexMaster})`);
      openSale(app, sale);
      const [payer, waiter] = buyerIds(2);
      const paid = await buyOrFail(app, sale.id, payer);
      const unpaid = await buyOrFail(app, sale.id, waiter);
      await waitForOrderWriter(app, sale.id);
      // Ended, with both orders still payable (payBy is the start plus 600 s).
      app.clock.set(sale.endsAt + 1_000);

      const node = cluster.nodeClient(indexMaster);
      await node.flushall();
      node.disconnect();
      const saleId = sale.id;
      await waitUntil('the ended sale is indexed again', async () => (await admin.smembers(app.keys.salesIndex)).includes(saleId));
      expect((await pay(app, paid, payer)).status).toBe(200);
      app.clock.set(startsAt + 601_000);
      await waitUntil('the sweeper expired the unpaid order', async () => (await admin.hget(app.keys.forSale(saleId).order(unpaid), 'status')) === 'expired');
      await waitForOrderWriter(app, saleId);
      const stored = new Map((await databaseOrdersOf(app, saleId)).map((order) => [order.id, order.status]));
      expect(Object.fromEntries(stored)).toEqual({ [paid]: 'paid', [unpaid]: 'expired' });
      await assertInvariants(app, saleId);
    });

    it('rebuilds every sale at boot after the whole cluster lost its memory, paid orders included', async () => {
      const masters = (await cluster.state()).filter((node) => node.role === 'master').map((node) => node.port);
      const sold = await soldSaleOn(masters[1]);
      const before = await statsOf(sold.saleId);
      await app.close();
      for (const master of masters) {
        const node = cluster.nodeClient(master);
        await node.flushall();
        node.disconnect();
      }
      app = await createTestApp(deployment());
      const after = await statsOf(sold.saleId);
      expect(after).toMatchObject({ unitsSold: 2, orders: { paid: 1, pending_payment: 1 }, stock: { generalRemaining: 8 }, stockEquationHolds: true });
      expect(after.stock).toEqual(before.stock);
      expect((await pay(app, sold.pending, (await databaseOrdersOf(app, sold.saleId)).find((order) => order.id === sold.pending)?.userId ?? '')).status).toBe(200);
      await assertInvariants(app, sold.saleId);
    });
  });

  describe('failover', () => {
    it('fails over the master of a sale mid-sale (CLUSTER FAILOVER on its replica): 0 oversold, every 201 stored', async () => {
      const { saleId } = await createLiveSale(app, { stock: 400 });
      const master = await masterOfSale(saleId);
      const buyer = uniqueId('b');
      const accepted: string[] = [];
      let next = 0;
      // Buyers keep coming from before the failover until 50 purchases after it. The failover waits for
      // every node to agree on the new slot map, seconds in which refusals of the sold-out sale come fast:
      // the count bound is far above what that takes.
      const maxPurchases = 200_000;
      let stopAt = maxPurchases;
      const buyLoop = async () => {
        while (next < stopAt) {
          const response = await buy(app, saleId, `${buyer}-${next++}`);
          if (response.status === 201) accepted.push(response.body.id as string);
          else expect(['SOLD_OUT', 'UNAVAILABLE', 'OUTCOME_UNKNOWN']).toContain(response.body.code);
        }
      };
      const selling = Promise.all([buyLoop(), buyLoop(), buyLoop(), buyLoop()]);
      await waitUntil('the sale is under way', async () => accepted.length >= 10);
      const promoted = await cluster.failover(master);
      const failedOverAt = next;
      stopAt = Math.min(maxPurchases, failedOverAt + 50);
      await selling;
      expect(next).toBeGreaterThan(failedOverAt);
      expect(await masterOfSale(saleId)).toBe(promoted);
      const report = await assertInvariants(app, saleId);
      expect(report.unitsSold).toBeLessThanOrEqual(400);
      expect(accepted.length).toBeLessThanOrEqual(report.unitsSold);
      const stored = new Set((await databaseOrdersOf(app, saleId)).map((order) => order.id));
      for (const orderId of accepted) expect(stored.has(orderId)).toBe(true);
    });

    it('sends the commands of a pipeline over several slots to the new master after a failover, as it does a single command', async () => {
      const client = await createClusterClient(cluster.nodes, 2_000, 'sellout-test-pipeline-failover');
      try {
        // Streams in different slots of one master, as the order writer reads them: ioredis follows MOVED
        // for a pipeline only when every reply is the same redirection, or every command that succeeded
        // was a read.
        const first = `{${uniqueId('failover')}}:events`;
        const master = masterOfKey(client, first);
        const streams = [first];
        while (streams.length < 3) {
          const candidate = `{${uniqueId('failover')}}:events`;
          if (masterOfKey(client, candidate) === master) streams.push(candidate);
        }
        for (const stream of streams) {
          await client.xgroup('CREATE', stream, 'writers', '0', 'MKSTREAM');
          await client.xadd(stream, '*', 'before', '1');
        }
        const promoted = await cluster.failover(await cluster.masterPortOf(first));
        for (const stream of streams) await admin.xadd(stream, '*', 'after', '2');
        const replies = await execPerNode(client, streams, (key) => key, (pipeline, key) => pipeline.xreadgroup('GROUP', 'writers', 'reader', 'COUNT', 10, 'STREAMS', key, '>'));
        for (const [error, reply] of replies) {
          expect(error).toBeNull();
          expect((reply as [string, unknown[]][])[0][1]).toHaveLength(2);
        }
        expect(masterOfKey(client, first)).toBe(`127.0.0.1:${promoted}`);
      } finally {
        client.disconnect();
      }
    });
  });

  describe('REDIS_DURABILITY=replicas:1', () => {
    let durable: TestApp;
    beforeAll(async () => {
      durable = await secondInstance({ env: { REDIS_DURABILITY: 'replicas:1', REDIS_COMMAND_TIMEOUT_MS: '400' } });
    });
    afterAll(async () => {
      await durable?.close();
    });

    it('WAITs on the master that took the write: a stalled replica fails the sales of its own master (503 OUTCOME_UNKNOWN), not the others', async () => {
      const byMaster = await salesOnEveryMaster(5);
      for (const saleIds of byMaster.values()) {
        const response = await buy(durable, saleIds[0], uniqueId('u'));
        expect(response.status).toBe(201);
      }
      const [stalledMaster, otherMaster] = [...byMaster.keys()];
      const [replicaPort] = await cluster.replicaPortsOf(stalledMaster);
      const replica = cluster.servers.find((server) => server.port === replicaPort);
      if (!replica) throw new Error(`no server on port ${replicaPort}`);
      process.kill(replica.pid, 'SIGSTOP');
      try {
        const stalled = await buy(durable, (byMaster.get(stalledMaster) ?? [])[0], uniqueId('u'));
        expect(stalled.status).toBe(503);
        expect(stalled.body.code).toBe('OUTCOME_UNKNOWN');
        // A keyless WAIT sent to any node would have been confirmed by a replica that is not stalled.
        const elsewhere = await buy(durable, (byMaster.get(otherMaster) ?? [])[0], uniqueId('u'));
        expect(elsewhere.status).toBe(201);
      } finally {
        process.kill(replica.pid, 'SIGCONT');
      }
      await cluster.waitUntilHealthy();
      for (const saleIds of byMaster.values()) await assertInvariants(durable, saleIds[0]);
    });
  });
});

import type { Cluster } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { claimCheckIntervalMs } from '../../src/order-writer/order-writer.service';
import { ORDER_WRITER_GROUP, RedisKeys } from '../../src/redis/redis-keys';
import { eventually } from '../support/eventually';
import { assertInvariants, InvariantSource, ObservedOrder, redisOrdersOf } from '../support/invariants';
import { createTestDatabase, devToken, httpCall, HttpAnswer, ServerProcess, TestDatabase } from '../support/server-process';
import { RedisClusterHandle, startRedisCluster } from '../support/test-services';

/**
 * The service as it scales out: two instances and a `WEB_CONCURRENCY=2` one (the built service, each its
 * own process), on a 3-master Redis Cluster with a replica each and one PostgreSQL database, with
 * REDIS_DURABILITY=replicas:1. Buyers are spread over the instances and sales over the masters; after
 * each scenario the five invariants hold and every order answered `201` is in the database exactly once.
 */
const PREFIX = 'topology';
const CLAIM_IDLE_MS = 3_000;
const postgres = /^postgres(ql)?:/.test(process.env.DATABASE_URL ?? '');

const describeOnPostgres = postgres ? describe : describe.skip;
if (!postgres) process.stderr.write('The topology suite runs on PostgreSQL: set DATABASE_URL=postgres://… (skipped)\n');

describeOnPostgres('Topology: several service processes on a Redis Cluster and PostgreSQL', () => {
  let cluster: RedisClusterHandle;
  let admin: Cluster;
  let database: TestDatabase;
  let instances: ServerProcess[] = [];
  const keys = new RedisKeys(PREFIX);
  const ops = devToken('ops-topology', ['ops']);

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    REDIS_CLUSTER_NODES: cluster.nodes.join(','),
    DATABASE_URL: database.url,
    REDIS_KEY_PREFIX: PREFIX,
    ORDER_WRITER_CLAIM_IDLE_MS: String(CLAIM_IDLE_MS),
    // Every 201 waits until the replica of the sale's master has the order: a master may die below.
    REDIS_DURABILITY: 'replicas:1',
    ...extra,
  });

  async function databaseOrders(saleId: string): Promise<ObservedOrder[]> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string; user_id: string; quantity: number; status: string; pool: string; fcode_hash: string | null; created_at: string }>(
        'SELECT id, user_id, quantity, status, pool, fcode_hash, created_at FROM orders WHERE sale_id = $1',
        [saleId],
      );
      return rows.map((row) => ({ id: row.id, userId: row.user_id, quantity: row.quantity, status: row.status, pool: row.pool, fcodeHash: row.fcode_hash ?? '', createdAt: Number(row.created_at) }));
    } finally {
      await client.end();
    }
  }

  /** Polls until the database holds every order of the sale in its Redis status (bounded). */
  async function waitForOrderWriter(saleId: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [inRedis, stored] = await Promise.all([redisOrdersOf({ redis: admin, keys }, saleId), databaseOrders(saleId)]);
      const statusOf = new Map(stored.map((order) => [order.id, order.status]));
      const accepted = Number((await admin.hget(keys.forSale(saleId).sale, 'accepted')) ?? 0);
      if (stored.length === accepted && inRedis.every((order) => statusOf.get(order.id) === (order.status === 'paying' ? 'pending_payment' : order.status))) return;
      if (Date.now() > deadline) throw new Error(`the order writers have not stored sale ${saleId} after ${timeoutMs} ms (${stored.length} of ${accepted}); the instances' last warnings:\n${lastWarnings()}`);
      await sleep(50);
    }
  }

  /** What the instances last logged at warn level or above, for a failure message. */
  const lastWarnings = (): string =>
    instances
      .flatMap((instance) => instance.lines.filter((line) => Number(line.level) >= 40).map((line) => `${instance.port}: ${JSON.stringify(line)}`))
      .slice(-20)
      .join('\n');

  const source = (): InvariantSource => ({ redis: admin, keys, databaseOrders, waitForOrderWriter });

  beforeAll(async () => {
    cluster = await startRedisCluster();
    admin = await cluster.client();
    database = await createTestDatabase();
    // Booting together: the migrations run once, under a lock, whichever process gets it.
    instances = await Promise.all([ServerProcess.start(env()), ServerProcess.start(env()), ServerProcess.start(env({ WEB_CONCURRENCY: '2' }))]);
  });
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    admin?.disconnect();
    await cluster?.stop();
    await database?.drop();
  });

  const live = () => instances.filter((instance) => instance.child.exitCode === null && instance.child.signalCode === null);
  const iso = (ms: number) => new Date(ms).toISOString();

  async function createSale(stock: number, perUserLimit = 1): Promise<string> {
    const startsAt = Date.now() - 1000;
    const created = await httpCall(instances[0].url, 'POST', '/api/admin/sales', {
      token: ops,
      body: { sku: `sku-topology-${Date.now()}-${Math.random()}`, name: 'Topology phone', priceCents: 100, stock, perUserLimit, reservationRequired: false, reservationOpensAt: iso(startsAt - 3600_000), reservationClosesAt: iso(startsAt), startsAt: iso(startsAt) },
    });
    if (created.status !== 201) throw new Error(`creating a sale failed: ${created.status} ${JSON.stringify(created.body)}`);
    return created.body.id as string;
  }

  /** Sales until every master serves one (bounded). */
  async function salesOnEveryMaster(stock: number): Promise<string[]> {
    const masters = new Set<number>();
    const saleIds: string[] = [];
    while (masters.size < 3 || saleIds.length < 4) {
      if (saleIds.length >= 40) throw new Error('40 sales landed on fewer than three masters');
      const saleId = await createSale(stock);
      saleIds.push(saleId);
      masters.add(await cluster.masterPortOf(keys.forSale(saleId).sale));
    }
    return saleIds;
  }

  const buy = (instance: ServerProcess, saleId: string, userId: string): Promise<HttpAnswer> => httpCall(instance.url, 'POST', `/api/sales/${saleId}/purchase`, { token: devToken(userId), body: {} });

  /** Runs `attempts` with at most `concurrency` in flight. */
  async function inParallel<T>(attempts: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
    const results: T[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < attempts.length) {
          const index = next++;
          results[index] = await attempts[index]();
        }
      }),
    );
    return results;
  }

  async function expectEveryAcceptedStoredOnce(saleId: string, accepted: string[]): Promise<void> {
    await assertInvariants(source(), saleId);
    const stored = (await databaseOrders(saleId)).map((order) => order.id);
    expect(new Set(stored).size).toBe(stored.length);
    for (const orderId of accepted) expect(stored).toContain(orderId);
  }

  it('sells out several sales spread over every master, buyers spread over every instance: invariants hold, every 201 stored once', async () => {
    const saleIds = await salesOnEveryMaster(30);
    const accepted = new Map<string, string[]>(saleIds.map((saleId) => [saleId, []]));
    const attempts = saleIds.flatMap((saleId) =>
      Array.from({ length: 45 }, (_, index) => async () => {
        const answer = await buy(instances[index % instances.length], saleId, `topo-${saleId}-${index}`);
        if (answer.status === 201) accepted.get(saleId)?.push(answer.body.id as string);
        return answer.status === 201 ? 201 : (answer.body?.code as string);
      }),
    );
    const answers = await inParallel(attempts, 24);
    expect(new Set(answers)).toEqual(new Set([201, 'SOLD_OUT']));
    for (const saleId of saleIds) {
      expect(accepted.get(saleId)).toHaveLength(30);
      await expectEveryAcceptedStoredOnce(saleId, accepted.get(saleId) ?? []);
    }
  });

  it('a cancel on one instance lets a buyer on another buy the unit at once', async () => {
    const saleId = await createSale(1);
    const first = await buy(instances[0], saleId, 'topo-cancel-first');
    expect(first.status).toBe(201);
    expect((await buy(instances[1], saleId, 'topo-cancel-second')).body.code).toBe('SOLD_OUT');
    expect((await httpCall(instances[0].url, 'POST', `/api/orders/${first.body.id}/cancel`, { token: devToken('topo-cancel-first') })).status).toBe(200);
    const started = Date.now();
    let second: HttpAnswer;
    do {
      second = await buy(instances[1], saleId, 'topo-cancel-second');
      if (second.status !== 201) await sleep(20);
    } while (second.status !== 201 && Date.now() - started < 2_000);
    expect(second.status).toBe(201);
    await expectEveryAcceptedStoredOnce(saleId, [second.body.id as string]);
  });

  it('fails over the master of a sale mid-sale: 0 oversold, every 201 stored', async () => {
    const saleId = await createSale(300);
    const master = await cluster.masterPortOf(keys.forSale(saleId).sale);
    const accepted: string[] = [];
    let next = 0;
    let stopAt = 3_000;
    const buyers = Array.from({ length: 8 }, async (_, lane) => {
      while (next < stopAt) {
        const index = next++;
        const answer = await buy(live()[index % live().length], saleId, `topo-failover-${index}`);
        if (answer.status === 201) accepted.push(answer.body.id as string);
        else expect(['SOLD_OUT', 'UNAVAILABLE', 'OUTCOME_UNKNOWN']).toContain(answer.body?.code);
        if (lane === 0 && accepted.length === 0) await sleep(1);
      }
    });
    await eventually(() => accepted.length >= 20, { timeoutMs: 30_000, what: 'the first 20 accepted purchases' });
    await cluster.failover(master);
    stopAt = Math.min(stopAt, next + 100);
    await Promise.all(buyers);
    expect(await cluster.masterPortOf(keys.forSale(saleId).sale)).not.toBe(master);
    const report = await assertInvariants(source(), saleId);
    expect(report.unitsSold).toBeLessThanOrEqual(300);
    await expectEveryAcceptedStoredOnce(saleId, accepted);
  });

  it('rebuilds the sales of a master flushed under the running instances, paid orders included', async () => {
    const saleIds = await salesOnEveryMaster(10);
    const paid: { saleId: string; orderId: string }[] = [];
    for (const saleId of saleIds) {
      const bought = await buy(instances[0], saleId, `topo-flush-${saleId}`);
      expect(bought.status).toBe(201);
      expect((await httpCall(instances[2].url, 'POST', `/api/orders/${bought.body.id}/pay`, { token: devToken(`topo-flush-${saleId}`), body: { method: 'test-card' } })).status).toBe(200);
      paid.push({ saleId, orderId: bought.body.id as string });
      await waitForOrderWriter(saleId);
    }
    const lost = saleIds[0];
    const node = cluster.nodeClient(await cluster.masterPortOf(keys.forSale(lost).sale));
    await node.flushall();
    node.disconnect();
    const started = Date.now();
    let answer: HttpAnswer;
    do {
      answer = await buy(instances[1], lost, `topo-flush-after-${Date.now()}`);
      if (answer.status !== 201) {
        expect(answer.body.code).toBe('UNAVAILABLE');
        await sleep(50);
      }
    } while (answer.status !== 201 && Date.now() - started < 10_000);
    expect(answer.status).toBe(201);
    const stats = await httpCall(instances[0].url, 'GET', `/api/admin/sales/${lost}/stats`, { token: ops });
    expect(stats.body).toMatchObject({ unitsSold: 2, orders: { paid: 1, pending_payment: 1 }, stock: { generalRemaining: 8 }, stockEquationHolds: true });
    for (const saleId of saleIds) await assertInvariants(source(), saleId);
  });

  it('kill -9 an instance mid-sale: the others store its orders within ORDER_WRITER_CLAIM_IDLE_MS', async () => {
    const saleId = await createSale(200);
    const victim = instances[1];
    const events = keys.forSale(saleId).events;
    /** Entries read but not acknowledged by the victim's order writer (its consumer names carry its pid). */
    const victimPending = async (): Promise<number> => {
      const consumers = ((await admin.xinfo('CONSUMERS', events, ORDER_WRITER_GROUP).catch(() => [])) as unknown[][]).map((flat) => Object.fromEntries(pairs(flat)));
      return consumers.filter((consumer) => String(consumer.name).includes(`-${victim.pid}-`)).reduce((sum, consumer) => sum + Number(consumer.pending), 0);
    };
    // The orders table locked against writes: every writer, the victim's included, holds the batch it
    // read unacknowledged until the lock goes, so the victim surely dies with entries of its own pending.
    const lock = new Client({ connectionString: database.url });
    await lock.connect();
    let killedAt: number;
    const accepted: string[] = [];
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE orders IN SHARE MODE');
      // Buyers keep coming until the kill (bounded by the stock).
      const attempts = Array.from({ length: 200 }, (_, index) => async () => {
        if (victim.child.signalCode !== null) return;
        const answer = await buy(victim, saleId, `topo-kill-${index}`).catch(() => undefined);
        if (answer?.status === 201) accepted.push(answer.body.id as string);
      });
      const selling = inParallel(attempts, 12);
      const started = Date.now();
      while (accepted.length < 30 || (await victimPending()) === 0) {
        if (Date.now() - started > 30_000) throw new Error("the victim's order writer read nothing in 30 s");
        await sleep(5);
      }
      victim.kill('SIGKILL');
      killedAt = Date.now();
      await selling;
      await victim.exited;
      expect(await victimPending()).toBeGreaterThan(0);
    } finally {
      await lock.query('COMMIT').catch(() => undefined);
      await lock.end();
    }
    await waitForOrderWriter(saleId, CLAIM_IDLE_MS * 3);
    // What the victim's writer had read became claimable at most CLAIM_IDLE_MS after the kill; a live
    // writer looks for it every claim check interval. The rest is the batch's commit and this test's own
    // polling, on a busy machine.
    expect(Date.now() - killedAt).toBeLessThan(CLAIM_IDLE_MS + claimCheckIntervalMs(CLAIM_IDLE_MS) + 1_500);
    expect(await victimPending()).toBe(0);
    await expectEveryAcceptedStoredOnce(saleId, accepted);
  });

  // Last: the cluster is left with a master that has no replica.
  it('kills the master of a sale mid-sale (its replica takes over): 0 oversold, and no order answered 201 is lost', async () => {
    const saleId = await createSale(300);
    const master = await cluster.masterPortOf(keys.forSale(saleId).sale);
    const accepted: string[] = [];
    let next = 0;
    let stopAt = 3_000;
    const buyers = Array.from({ length: 8 }, async () => {
      while (next < stopAt) {
        const index = next++;
        const answer = await buy(live()[index % live().length], saleId, `topo-kill-master-${index}`);
        if (answer.status === 201) accepted.push(answer.body.id as string);
        else expect(['SOLD_OUT', 'UNAVAILABLE', 'OUTCOME_UNKNOWN']).toContain(answer.body?.code);
        if (answer.status !== 201) await sleep(5);
      }
    });
    await eventually(() => accepted.length >= 20, { timeoutMs: 30_000, what: 'the first 20 accepted purchases' });
    const server = cluster.servers.find((candidate) => candidate.port === master);
    if (!server) throw new Error(`no server on port ${master}`);
    await server.kill();
    const killedAt = Date.now();
    while ((await cluster.masterPortOf(keys.forSale(saleId).sale).catch(() => master)) === master) {
      if (Date.now() - killedAt > 30_000) throw new Error('no replica took over the killed master within 30 s');
      await sleep(100);
    }
    // Buyers go on for a while on the promoted replica, then stop (bounded by the buyer count).
    const promotedAt = Date.now();
    while (Date.now() - promotedAt < 3_000 && next < stopAt) await sleep(50);
    stopAt = Math.min(stopAt, next);
    await Promise.all(buyers);
    const report = await assertInvariants(source(), saleId);
    expect(report.unitsSold).toBeLessThanOrEqual(300);
    const inRedis = new Set(report.redisOrders.map((order) => order.id));
    for (const orderId of accepted) expect(inRedis.has(orderId)).toBe(true);
    await expectEveryAcceptedStoredOnce(saleId, accepted);
  });
});

/** The name/value pairs of an XINFO reply's flat list. */
function pairs(flat: unknown[]): [string, unknown][] {
  const result: [string, unknown][] = [];
  for (let index = 0; index + 1 < flat.length; index += 2) result.push([String(flat[index]), flat[index + 1]]);
  return result;
}

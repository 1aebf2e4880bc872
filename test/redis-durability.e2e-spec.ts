import Redis from 'ioredis';
import { createLiveSale } from './order-lifecycle.fixtures';
import { purchase } from './support/sales';
import { createTestApp, TestApp, uniqueId } from './support/test-app';
import { eventually } from './support/eventually';
import { RedisServerHandle, RedisServerOptions, startRedisServer } from './support/test-services';

/** REDIS_DURABILITY: what a 201 waits for, and the boot checks that keep the setting honest. */

describe('REDIS_DURABILITY', () => {
  const servers: RedisServerHandle[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  async function redisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
    const server = await startRedisServer(options);
    servers.push(server);
    return server;
  }

  describe('aof', () => {
    it('refuses to boot against a Redis without an append-only file, naming the setting', async () => {
      const server = await redisServer();
      await expect(createTestApp({ env: { REDIS_URL: server.url, REDIS_DURABILITY: 'aof' } })).rejects.toThrow(/REDIS_DURABILITY=aof.*appendonly no/);
    });

    it('refuses to boot when Redis will not say how it persists (CONFIG refused), and says what to choose instead', async () => {
      // A managed Redis typically renames or disables CONFIG.
      const server = await redisServer({ appendfsync: 'everysec', extraArgs: ['--rename-command', 'CONFIG', '""'] });
      await expect(createTestApp({ env: { REDIS_URL: server.url, REDIS_DURABILITY: 'aof' } })).rejects.toThrow(/REDIS_DURABILITY=aof: cannot check.*replicas:N/);
    });

    it('boots against a Redis with appendonly yes and sells', async () => {
      const server = await redisServer({ appendfsync: 'always' });
      const app = await createTestApp({ env: { REDIS_URL: server.url, REDIS_DURABILITY: 'aof' } });
      try {
        const { saleId } = await createLiveSale(app, { stock: 1 });
        expect((await purchase(app, saleId, uniqueId('u'))).status).toBe(201);
      } finally {
        await app.close();
      }
    });
  });

  describe('replicas:1', () => {
    let app: TestApp;
    let replica: RedisServerHandle;

    beforeAll(async () => {
      const master = await redisServer();
      replica = await redisServer({ replicaOf: `127.0.0.1:${master.port}` });
      const replicaClient = new Redis(replica.url);
      // Until the replica has synced, WAIT cannot count it.
      await eventually(async () => /master_link_status:up/.test(await replicaClient.info('replication')), { timeoutMs: 10_000, intervalMs: 25, what: 'the replica in sync' });
      await replicaClient.quit();
      app = await createTestApp({ env: { REDIS_URL: master.url, REDIS_DURABILITY: 'replicas:1', REDIS_COMMAND_TIMEOUT_MS: '400' } });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('answers 201 once the replica has the order', async () => {
      const { saleId } = await createLiveSale(app, { stock: 5 });
      const response = await purchase(app, saleId, uniqueId('u'));
      expect(response.status).toBe(201);
      const onReplica = new Redis(replica.url);
      try {
        expect(await onReplica.exists(`${(await app.redis.keys(`*order:${response.body.id}`))[0]}`)).toBe(1);
      } finally {
        await onReplica.quit();
      }
    });

    it('answers 503 OUTCOME_UNKNOWN, not 201, when no replica confirms the write; the retry with its key replays it', async () => {
      const { saleId } = await createLiveSale(app, { stock: 5 });
      const userId = uniqueId('u');
      await replica.stop();
      const first = await purchase(app, saleId, userId, { idempotencyKey: 'k1' });
      expect(first.status).toBe(503);
      expect(first.body).toMatchObject({ statusCode: 503, code: 'OUTCOME_UNKNOWN' });
      expect(first.headers['retry-after']).toBeDefined();
      // The order was taken on the master: a retry with the same key finds it rather than buying again.
      const orders = await app.redis.keys(`*{sale:${saleId}}*order:*`);
      expect(orders).toHaveLength(1);
      const retry = await purchase(app, saleId, userId, { idempotencyKey: 'k1' });
      expect(retry.body.code).toBe('OUTCOME_UNKNOWN');
      expect(await app.redis.keys(`*{sale:${saleId}}*order:*`)).toHaveLength(1);
    });
  });
});

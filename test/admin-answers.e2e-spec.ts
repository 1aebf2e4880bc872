import Redis from 'ioredis';
import type { SaleEntity } from '../src/sales/sale.entity';
import { SalesGateway } from '../src/sales/sales.gateway';
import { SalesRepository } from '../src/sales/sales.repository';
import { eventually } from './support/eventually';
import { createSale, saleRequestBody, TestSale } from './support/sales';
import { createTestApp, TestApp, TestResponse } from './support/test-app';
import { RedisServerHandle, startRedisServer } from './support/test-services';

/**
 * What the ops routes' answers mean while Redis stalls: `200`/`201` — the change is in the database and
 * in Redis; `503 UNAVAILABLE` — it is in neither; `503 OUTCOME_UNKNOWN` — it may be in Redis. Each test
 * stalls Redis's writes around one request and then holds the answer against the row and the hash.
 */

const COMMAND_TIMEOUT_MS = 200;

interface Stalled {
  redis: RedisServerHandle;
  app: TestApp;
  admin: Redis;
}

async function startStalled(probeMs: number): Promise<Stalled> {
  const redis = await startRedisServer();
  const app = await createTestApp({
    env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS), REDIS_OUTCOME_PROBE_MS: String(probeMs) },
  });
  return { redis, app, admin: new Redis(redis.url) };
}

async function stopStalled(stalled: Stalled | undefined): Promise<void> {
  if (!stalled) return;
  await stalled.admin.client('UNPAUSE').catch(() => undefined);
  await stalled.admin.quit();
  await stalled.app.close();
  await stalled.redis.stop();
}

/** Sends `request` while every write to Redis waits `pauseMs`, then lets Redis run what it queued. */
async function whileWritesStall(stalled: Stalled, pauseMs: number, request: () => Promise<TestResponse>): Promise<TestResponse> {
  await stalled.admin.client('PAUSE', pauseMs, 'WRITE');
  try {
    return await request();
  } finally {
    await stalled.admin.client('UNPAUSE');
  }
}

/** Until the service's own connection answers again after a stall (its queued commands ran by then). */
async function settled(stalled: Stalled): Promise<void> {
  await eventually(() => stalled.app.redis.ping().then(() => true, () => false), { timeoutMs: 10_000, what: "the service's Redis connection answering" });
}

function patch(app: TestApp, sale: TestSale, body: Record<string, unknown>): Promise<TestResponse> {
  return app.request('PATCH', `/api/admin/sales/${sale.id}`, { token: app.opsToken(), body });
}

function addStock(app: TestApp, sale: TestSale, add: number): Promise<TestResponse> {
  return app.request('POST', `/api/admin/sales/${sale.id}/stock`, { token: app.opsToken(), body: { pool: 'general', add } });
}

/** The sale's database row (the admin view would show Redis's stock instead). */
async function rowOf(app: TestApp, saleId: string): Promise<SaleEntity> {
  const row = await app.app.get(SalesRepository).findById(saleId);
  if (!row) throw new Error(`sale ${saleId} has no row`);
  return row;
}

describe('Ops answers while Redis stalls', () => {
  describe('for less than the outcome probe', () => {
    let stalled: Stalled;
    beforeAll(async () => {
      stalled = await startStalled(5_000);
    });
    afterAll(() => stopStalled(stalled));
    beforeEach(() => settled(stalled));

    it('carries a PATCH through (the settings write is sent again until Redis answers) and answers 200', async () => {
      const { app } = stalled;
      const sale = await createSale(app, { perUserLimit: 1 });
      const answer = await whileWritesStall(stalled, 1_000, () => patch(app, sale, { perUserLimit: 3 }));

      expect(answer.status).toBe(200);
      expect(answer.body.perUserLimit).toBe(3);
      await settled(stalled);
      expect((await rowOf(app, sale.id)).perUserLimit).toBe(3);
      expect(await app.redis.hget(app.keys.forSale(sale.id).sale, 'perUserLimit')).toBe('3');
    });

    it('carries a pause through and answers 200', async () => {
      const { app } = stalled;
      const sale = await createSale(app);
      const answer = await whileWritesStall(stalled, 1_000, () => app.request('POST', `/api/admin/sales/${sale.id}/pause`, { token: app.opsToken() }));

      expect(answer.status).toBe(200);
      await settled(stalled);
      expect((await rowOf(app, sale.id)).paused).toBe(true);
      expect(await app.redis.hget(app.keys.forSale(sale.id).sale, 'paused')).toBe('1');
    });

    it('adds stock exactly once however often the change is sent, and answers 200', async () => {
      const { app } = stalled;
      const sale = await createSale(app, { stock: 10 });
      const answer = await whileWritesStall(stalled, 1_000, () => addStock(app, sale, 5));

      expect(answer.status).toBe(200);
      await settled(stalled);
      expect((await rowOf(app, sale.id)).stock).toBe(15);
      expect(await app.redis.hmget(app.keys.forSale(sale.id).sale, 'general', 'generalRemaining')).toEqual(['15', '15']);
    });

    it('creates a sale once and answers 201', async () => {
      const { app } = stalled;
      const body = saleRequestBody(app);
      const answer = await whileWritesStall(stalled, 1_000, () => app.request('POST', '/api/admin/sales', { token: app.opsToken(), body }));

      expect(answer.status).toBe(201);
      await settled(stalled);
      expect(await app.redis.exists(app.keys.forSale(answer.body.id as string).sale)).toBe(1);
      expect((await rowOf(app, answer.body.id as string)).id).toBe(answer.body.id);
    });

    it('answers 200 once the change is committed, even when reading the live numbers back fails', async () => {
      const { app } = stalled;
      const sale = await createSale(app, { perUserLimit: 1 });
      const liveNumbers = jest.spyOn(app.app.get(SalesGateway), 'liveNumbers').mockRejectedValueOnce(new Error('Command timed out'));
      try {
        const answer = await patch(app, sale, { perUserLimit: 2 });
        expect(liveNumbers).toHaveBeenCalled();
        expect(answer.status).toBe(200);
        expect(answer.body.perUserLimit).toBe(2);
        expect(answer.body.stock).toBe(sale.stock);
      } finally {
        liveNumbers.mockRestore();
      }
      expect((await rowOf(app, sale.id)).perUserLimit).toBe(2);
    });
  });

  describe('for longer than the outcome probe', () => {
    let stalled: Stalled;
    beforeAll(async () => {
      stalled = await startStalled(400);
    });
    afterAll(() => stopStalled(stalled));
    beforeEach(() => settled(stalled));

    /** An answer is true when 200 means "in both", UNAVAILABLE "in neither"; OUTCOME_UNKNOWN claims nothing. */
    function expectTrue(answer: TestResponse, inRow: boolean, inRedis: boolean): void {
      if (answer.status === 200 || answer.status === 201) {
        expect([inRow, inRedis]).toEqual([true, true]);
      } else {
        expect(answer.status).toBe(503);
        if (answer.body.code === 'UNAVAILABLE') expect([inRow, inRedis]).toEqual([false, false]);
        else expect(answer.body.code).toBe('OUTCOME_UNKNOWN');
        expect(inRow).toBe(false);
      }
    }

    it('answers a PATCH truthfully', async () => {
      const { app } = stalled;
      const sale = await createSale(app, { perUserLimit: 1 });
      const answer = await whileWritesStall(stalled, 2_000, () => patch(app, sale, { perUserLimit: 4 }));
      await settled(stalled);
      const inRow = (await rowOf(app, sale.id)).perUserLimit === 4;
      const inRedis = (await app.redis.hget(app.keys.forSale(sale.id).sale, 'perUserLimit')) === '4';
      expectTrue(answer, inRow, inRedis);
      expect(answer.status).toBe(503);
    });

    it('answers a stock change truthfully', async () => {
      const { app } = stalled;
      const sale = await createSale(app, { stock: 10 });
      const answer = await whileWritesStall(stalled, 2_000, () => addStock(app, sale, 5));
      await settled(stalled);
      const inRow = (await rowOf(app, sale.id)).stock === 15;
      const inRedis = (await app.redis.hget(app.keys.forSale(sale.id).sale, 'general')) === '15';
      expectTrue(answer, inRow, inRedis);
      expect(answer.status).toBe(503);
    });
  });
});

import Redis from 'ioredis';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReservationEntity } from '../src/reservations/reservation.entity';
import { SaleEntity } from '../src/sales/sale.entity';
import { buyerIds } from './support/sales';
import { createTestApp, TestApp, TestResponse, uniqueId } from './support/test-app';
import { freePort } from './support/test-services';

const HOUR = 3600_000;
const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** A redis-server of this file's own, fsyncing every write, that can crash (SIGKILL) and come back with its data. */
class CrashableRedis {
  private pid?: number;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<CrashableRedis> {
    const redis = new CrashableRedis(await freePort(), mkdtempSync(join(tmpdir(), 'sellout-redis-')));
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore', detached: true });
    child.unref();
    this.pid = child.pid;
  }

  crash(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGKILL');
    this.pid = undefined;
  }

  dispose(): void {
    try {
      this.crash();
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('Sales and reservations while Redis is unreachable', () => {
  let redis: CrashableRedis;
  let app: TestApp;

  beforeAll(async () => {
    redis = await CrashableRedis.start();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        app = await createTestApp({ env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '500' } });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
  });
  afterAll(async () => {
    await app.close();
    redis.dispose();
  });

  async function withRedisDown<T>(work: () => Promise<T>): Promise<T> {
    redis.crash();
    // The service has noticed: a write is refused before anything is changed.
    for (const deadline = Date.now() + 10_000; app.redis.status === 'ready'; ) {
      if (Date.now() > deadline) throw new Error('the app did not notice that Redis went away');
      await sleep(10);
    }
    const outcome = await work().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await redis.start();
    const deadline = Date.now() + 15_000;
    while ((app.redis.status as string) !== 'ready') {
      if (Date.now() > deadline) throw new Error('the app did not reconnect to Redis');
      await sleep(50);
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  function expectUnavailable(response: TestResponse): void {
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ statusCode: 503, code: 'UNAVAILABLE', details: [] });
  }

  async function createSale() {
    const now = app.clock.now();
    const body = { sku: uniqueId('sku-'), name: 'Outage', priceCents: 100, stock: 10, reservationOpensAt: iso(now), startsAt: iso(now + HOUR) };
    const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body });
    expect(response.status).toBe(201);
    return response.body;
  }

  it('creates no sale: 503 and no row', async () => {
    const sku = uniqueId('sku-');
    const response = await withRedisDown(() =>
      app.request('POST', '/api/admin/sales', { token: app.opsToken(), body: { sku, name: 'Lost', priceCents: 1, stock: 1, startsAt: iso(app.clock.now() + HOUR) } }),
    );
    expectUnavailable(response);
    expect(await app.database.manager.count(SaleEntity, { where: { sku } })).toBe(0);
  });

  it('changes no stock and no pause flag: 503 and the row as it was', async () => {
    const sale = await createSale();
    const [stock, pause] = await withRedisDown(() =>
      Promise.all([
        app.request('POST', `/api/admin/sales/${sale.id}/stock`, { token: app.opsToken(), body: { add: 5, pool: 'general' } }),
        app.request('POST', `/api/admin/sales/${sale.id}/pause`, { token: app.opsToken() }),
      ]),
    );
    expectUnavailable(stock);
    expectUnavailable(pause);
    expect(await app.database.manager.findOneByOrFail(SaleEntity, { id: sale.id })).toMatchObject({ stock: 10, paused: false });
    expect(await app.redis.hmget(app.keys.forSale(sale.id).sale, 'general', 'paused')).toEqual(['10', '0']);
  });

  it('answers 503 UNAVAILABLE to a reservation and records nothing; a retry once Redis is back reserves', async () => {
    const sale = await createSale();
    const userId = uniqueId('u');
    const during = await withRedisDown(() => app.request('POST', `/api/sales/${sale.id}/reservations`, { token: app.token(userId) }));
    expectUnavailable(during);
    expect(await app.database.manager.count(ReservationEntity, { where: { saleId: sale.id, userId } })).toBe(0);

    app.clock.advance(60_000);
    const retry = await app.request('POST', `/api/sales/${sale.id}/reservations`, { token: app.token(userId) });

    expect(retry.status).toBe(201);
    expect(await app.redis.hget(app.keys.forSale(sale.id).reservations, userId)).toBe(String(app.clock.now()));
  });

  it('answers 503 OUTCOME_UNKNOWN when Redis stalls after the database recorded a reservation, and a retry completes it with the first reservedAt', async () => {
    const sale = await createSale();
    const userId = uniqueId('u');
    const reservedAt = app.clock.now();
    const admin = new Redis(redis.url);
    try {
      await admin.client('PAUSE', 1_500, 'WRITE');
      const during = await app.request('POST', `/api/sales/${sale.id}/reservations`, { token: app.token(userId) });
      expect(during.status).toBe(503);
      expect(during.body).toMatchObject({ statusCode: 503, code: 'OUTCOME_UNKNOWN' });
      expect(await app.database.manager.count(ReservationEntity, { where: { saleId: sale.id, userId } })).toBe(1);
      await admin.client('UNPAUSE');
    } finally {
      await admin.quit();
    }

    app.clock.advance(60_000);
    const retry = await app.request('POST', `/api/sales/${sale.id}/reservations`, { token: app.token(userId) });

    expect(retry.status).toBe(200);
    expect(retry.body.reservedAt).toBe(iso(reservedAt));
    expect(await app.redis.hget(app.keys.forSale(sale.id).reservations, userId)).toBe(String(reservedAt));
  });

  it('answers 503 to an import, and repeating it once Redis is back completes it', async () => {
    const sale = await createSale();
    const ids = buyerIds(500);
    const during = await withRedisDown(() => app.request('POST', `/api/admin/sales/${sale.id}/reservations/import`, { token: app.opsToken(), body: { userIds: ids } }));
    expectUnavailable(during);
    expect(await app.database.manager.count(ReservationEntity, { where: { saleId: sale.id } })).toBe(0);

    const retry = await app.request('POST', `/api/admin/sales/${sale.id}/reservations/import`, { token: app.opsToken(), body: { userIds: ids } });

    expect(retry.status).toBe(200);
    expect(retry.body.imported + retry.body.duplicates).toBe(500);
    expect(await app.database.manager.count(ReservationEntity, { where: { saleId: sale.id } })).toBe(500);
    expect(await app.redis.hlen(app.keys.forSale(sale.id).reservations)).toBe(500);
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { MetricsService } from '../src/metrics/metrics.service';
import { assertInvariants } from './support/invariants';
import { buyerIds, openSale, purchase, reserveBuyersInRedis, seedSaleInRedis } from './support/sales';
import { createTestApp, TestApp } from './support/test-app';
import { freePort } from './support/test-services';

/** Whether a Redis answers PING on this port (a bare socket: no client library timers left behind). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * A redis-server of this test's own that writes every command to its append-only file before answering,
 * so it can be killed (SIGKILL, as a crash) and started again on the same port with the same data.
 */
class DurableRedis {
  private pid?: number;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<DurableRedis> {
    const redis = new DurableRedis(await freePort(), mkdtempSync(join(tmpdir(), 'sellout-redis-')));
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], {
      stdio: 'ignore',
      detached: true,
    });
    child.unref();
    this.pid = child.pid;
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(this.port))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`);
      await sleep(50);
    }
  }

  kill(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGKILL');
    this.pid = undefined;
  }

  dispose(): void {
    try {
      this.kill();
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('POST /api/sales/:saleId/purchase when Redis is unreachable', () => {
  let redis: DurableRedis;
  let app: TestApp;

  beforeAll(async () => {
    redis = await DurableRedis.start();
    app = await createTestApp({ env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '500' } });
  });
  afterAll(async () => {
    await app.close();
    redis.dispose();
  });

  it('answers 503 UNAVAILABLE, sells nothing, and sells again once Redis is back', async () => {
    const buyers = buyerIds(3);
    const sale = await seedSaleInRedis(app, { stock: 10 });
    await reserveBuyersInRedis(app, sale.id, buyers);
    openSale(app, sale);
    expect((await purchase(app, sale.id, buyers[0])).status).toBe(201);
    const keys = app.keys.forSale(sale.id);
    const snapshot = async () => ({
      sale: await app.redis.hgetall(keys.sale),
      buyers: await app.redis.hgetall(keys.buyers),
      events: await app.redis.xlen(keys.events),
      userOrders: await app.redis.scard(keys.userOrders(buyers[1])),
    });
    const before = await snapshot();

    redis.kill();
    // Once the service knows the connection is gone, a purchase is refused before anything is sent: that
    // is "nothing changed". (A purchase already written to the dying connection may have run; it is
    // answered OUTCOME_UNKNOWN instead — see truthful-answers.e2e-spec.ts.)
    for (const deadline = Date.now() + 10_000; app.redis.status === 'ready'; ) {
      if (Date.now() > deadline) throw new Error('the app did not notice that Redis went away');
      await sleep(10);
    }
    const attempts = await Promise.all([purchase(app, sale.id, buyers[1]), purchase(app, sale.id, buyers[1], { idempotencyKey: 'during-outage' })]);
    for (const response of attempts) {
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ statusCode: 503, code: 'UNAVAILABLE', message: expect.any(String), details: [] });
      expect(response.headers['retry-after']).toBe('1');
    }
    const outcomes = (await app.app.get(MetricsService).purchaseOutcomes.get()).values;
    expect(outcomes.find((sample) => sample.labels.code === 'UNAVAILABLE')?.value).toBe(2);

    await redis.start();
    const deadline = Date.now() + 15_000;
    while ((app.redis.status as string) !== 'ready') {
      if (Date.now() > deadline) throw new Error('the app did not reconnect to Redis');
      await sleep(50);
    }
    expect(await snapshot()).toEqual(before);

    const retried = await purchase(app, sale.id, buyers[1], { idempotencyKey: 'during-outage' });
    expect(retried.status).toBe(201);
    // The order writer reconnects too: both orders reach the database.
    const report = await assertInvariants(app, sale.id);
    expect(report.databaseOrders).toHaveLength(2);
  });
});

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { OrderEntity } from '../src/orders/order.entity';
import { OrderWriterService } from '../src/order-writer/order-writer.service';
import { issueFcodes } from './fcodes.fixtures';
import { buyerIds, createSale, openSale, purchase } from './support/sales';
import { eventually } from './support/eventually';
import { createTestApp, TestApp } from './support/test-app';

const ROOT = resolve(__dirname, '..');

const newPrefix = () => `ks-${randomBytes(5).toString('hex')}`;
const otherDatabase = () => `sqlite:${join(tmpdir(), `sellout-test-other-${randomBytes(6).toString('hex')}.sqlite`)}`;

/** Every key of this Redis database whose name contains `fragment`. */
async function keysContaining(redis: Redis, fragment: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `*${fragment.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

/** Runs the real server (`src/main.ts`) until it exits; resolves to its exit code and what it wrote to stderr. */
function runServer(env: Record<string, string>, timeoutMs = 90_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', ORDER_WRITER_ENABLED: 'false', SWEEPER_ENABLED: 'false', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stderr });
    });
  });
}

describe('One Redis keyspace, one deployment', () => {
  const apps: TestApp[] = [];
  const start = async (options: Parameters<typeof createTestApp>[0]) => {
    const app = await createTestApp(options);
    apps.push(app);
    return app;
  };
  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
  });

  describe('REDIS_KEY_PREFIX', () => {
    it('starts every key of the deployment, the sales index and the stock channel included', async () => {
      const prefix = newPrefix();
      const app = await start({ env: { REDIS_KEY_PREFIX: prefix } });
      const sale = await createSale(app, { stock: 5, fcodeStock: 1, reservationRequired: false });
      const { codes } = await issueFcodes(app, sale.id, { count: 1 });
      openSale(app, sale);
      const [buyer, holder, guesser] = buyerIds(3);
      expect((await purchase(app, sale.id, buyer, { idempotencyKey: 'k1' })).status).toBe(201);
      expect((await purchase(app, sale.id, holder, { fcode: codes[0] })).status).toBe(201);
      expect((await purchase(app, sale.id, guesser, { fcode: 'AAAA-AAAA-AAAA-AAAA' })).status).toBe(403);

      const subscriber = new Redis(app.config.redisUrl);
      try {
        const announced = new Promise<string>((resolveMessage) => subscriber.on('message', (channel: string) => resolveMessage(channel)));
        await subscriber.subscribe(`${prefix}:stock`);
        expect((await app.request('POST', `/api/admin/sales/${sale.id}/stock`, { token: app.opsToken(), body: { pool: 'general', add: 1 } })).status).toBe(200);
        expect(await announced).toBe(`${prefix}:stock`);
      } finally {
        subscriber.disconnect();
      }

      const saleKeys = await keysContaining(app.redis, `{sale:${sale.id}}`);
      expect(saleKeys.length).toBeGreaterThanOrEqual(8);
      for (const key of saleKeys) expect(key.startsWith(`${prefix}:{sale:${sale.id}}:`)).toBe(true);
      expect(await app.redis.sismember(`${prefix}:sales`, sale.id)).toBe(1);
      expect(await app.redis.exists(`sellout:{sale:${sale.id}}:sale`)).toBe(0);
      for (const key of await keysContaining(app.redis, guesser)) expect(key.startsWith(`${prefix}:fcode-attempts:`)).toBe(true);
      expect(await app.redis.get(`${prefix}:deployment`)).toMatch(/^db_[0-9a-f]{24}$/);
    });
  });

  describe('when a second deployment uses the prefix with the same database', () => {
    it('starts: both are one deployment', async () => {
      const prefix = newPrefix();
      const first = await start({ env: { REDIS_KEY_PREFIX: prefix } });
      const second = await start({ env: { REDIS_KEY_PREFIX: prefix }, sqliteFile: first.sqliteFile });
      expect((await second.request('GET', '/health')).status).toBe(200);
      expect(await second.redis.get(`${prefix}:deployment`)).toBe(await first.redis.get(`${prefix}:deployment`));
    });
  });

  describe('when a second deployment uses the prefix with another database', () => {
    it('refuses to start, naming REDIS_KEY_PREFIX and DATABASE_URL', async () => {
      const prefix = newPrefix();
      const first = await start({ env: { REDIS_KEY_PREFIX: prefix } });
      const bound = await first.redis.get(`${prefix}:deployment`);

      const { code, stderr } = await runServer({ REDIS_URL: first.config.redisUrl, REDIS_KEY_PREFIX: prefix, DATABASE_URL: otherDatabase() });

      expect(code).toBe(1);
      expect(stderr).toContain('REDIS_KEY_PREFIX');
      expect(stderr).toContain('DATABASE_URL');
      expect(stderr).toContain(String(bound));
      expect(await first.redis.get(`${prefix}:deployment`)).toBe(bound);
    });
  });

  describe('when two deployments share the prefix anyway (the binding removed by hand)', () => {
    it("never writes the other deployment's orders: they are left to their own writer or parked, and shown", async () => {
      const prefix = newPrefix();
      const owner = await start({ env: { REDIS_KEY_PREFIX: prefix } });
      await owner.redis.del(`${prefix}:deployment`);
      const intruder = await start({ env: { REDIS_KEY_PREFIX: prefix, DATABASE_URL: otherDatabase() } });
      const sale = await createSale(owner, { stock: 300, reservationRequired: false });
      openSale(owner, sale);

      const responses = await Promise.all(buyerIds(300).map((buyer) => purchase(owner, sale.id, buyer)));
      expect(responses.filter((response) => response.status === 201)).toHaveLength(300);

      const dead = `${prefix}:{sale:${sale.id}}:events:dead`;
      const stored = () => owner.database.manager.count(OrderEntity, { where: { saleId: sale.id } });
      await eventually(async () => (await stored()) + (await owner.redis.xlen(dead)) === 300 && (await owner.app.get(OrderWriterService).lag(sale.id)) === 0, {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: 'every order stored or parked',
      });

      expect(await intruder.database.manager.count(OrderEntity, { where: { saleId: sale.id } })).toBe(0);
      const parked = await owner.redis.xlen(dead);
      expect((await stored()) + parked).toBe(300);
      const stats = await owner.request('GET', `/api/admin/sales/${sale.id}/stats`, { token: owner.opsToken() });
      expect(stats.body.orderWriter).toMatchObject({ lag: 0, parked });
      if (parked > 0) {
        const [, fields] = (await owner.redis.xrange(dead, '-', '+', 'COUNT', 1))[0];
        expect(fields.join(' ')).toContain('is not in this service');
        expect((await intruder.request('GET', '/metrics')).text).toMatch(/sellout_order_writer_parked_total [1-9]/);
      }
    });
  });
});

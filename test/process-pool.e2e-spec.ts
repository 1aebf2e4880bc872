import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, RedisServerHandle } from './support/test-services';
import { createTestDatabase, devToken, httpCall, HttpAnswer, isAlive, ServerProcess, TestDatabase } from './support/server-process';

/**
 * `WEB_CONCURRENCY=2 npm run start:prod`: a primary and two HTTP workers on one port, against their own
 * Redis and a fresh database. Which worker answered is read from the access log, whose lines carry the
 * process id and the request id sent back in `x-request-id`.
 */
describe('WEB_CONCURRENCY: a process per core', () => {
  let redis: RedisServerHandle;
  let database: TestDatabase;
  let server: ServerProcess | undefined;
  let sequence = 0;

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis.stop();
  });
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    if (server) {
      for (const pid of workerPids(server)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      await server.stop();
      server = undefined;
    }
    await database.drop();
  });

  const start = async (env: Record<string, string> = {}) => {
    // Each test has a database of its own, so a key prefix of its own too (a prefix is bound to one database).
    sequence += 1;
    server = await ServerProcess.start({ WEB_CONCURRENCY: '2', REDIS_URL: redis.url, REDIS_KEY_PREFIX: `cluster-${process.pid}-${sequence}`, DATABASE_URL: database.url, ...env });
    return server;
  };

  function workerPids(process: ServerProcess): number[] {
    return process.lines.flatMap((line) => {
      const match = /^Worker (\d+) starting$/.exec(line.msg ?? '');
      return match ? [Number(match[1])] : [];
    });
  }

  /** Sends `count` requests, each on a new connection, and returns the pids of the workers that answered. */
  async function answeringPids(process: ServerProcess, count: number): Promise<number[]> {
    const ids = Array.from({ length: count }, () => `cluster-${(sequence += 1)}-${Date.now()}`);
    for (const id of ids) {
      const answer = await httpCall(process.url, 'GET', '/api/sales', { headers: { 'x-request-id': id } });
      expect(answer.status).toBe(200);
    }
    const lines = await Promise.all(ids.map((id) => process.waitForLine((line) => line.requestId === id)));
    return lines.map((line) => line.pid as number);
  }

  async function openSale(process: ServerProcess, stock: number): Promise<string> {
    const startsAt = Date.now() - 1000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const answer = await httpCall(process.url, 'POST', '/api/admin/sales', {
      token: devToken('ops-cluster', ['ops']),
      body: { sku: `sku-${Date.now()}`, name: 'Cluster phone', priceCents: 100, stock, reservationRequired: false, reservationOpensAt: iso(startsAt - 3600_000), reservationClosesAt: iso(startsAt), startsAt: iso(startsAt) },
    });
    expect(answer.status).toBe(201);
    return answer.body.id as string;
  }

  describe('with two workers', () => {
    it('serves one port from two worker processes, neither of them the primary, and sells from both without overselling', async () => {
      const cluster = await start();
      const pids = new Set(await answeringPids(cluster, 8));
      expect(pids.size).toBe(2);
      expect(pids.has(cluster.pid)).toBe(false);
      expect([...pids].sort()).toEqual(workerPids(cluster).sort());

      const saleId = await openSale(cluster, 5);
      const answers = await Promise.all(Array.from({ length: 12 }, (_, index) => httpCall(cluster.url, 'POST', `/api/sales/${saleId}/purchase`, { token: devToken(`buyer-${index}`), body: {} })));
      expect(answers.filter((answer) => answer.status === 201)).toHaveLength(5);
      expect(answers.filter((answer) => answer.status !== 201).map((answer) => answer.body.code)).toEqual(Array(7).fill('SOLD_OUT'));
    });

    it('answers /metrics for the whole service whichever worker gets the scrape: counters summed over both, Redis gauges once', async () => {
      const cluster = await start();
      expect(new Set(await answeringPids(cluster, 8))).toEqual(new Set(workerPids(cluster)));
      const saleId = await openSale(cluster, 5);
      const answers = await Promise.all(Array.from({ length: 12 }, (_, index) => httpCall(cluster.url, 'POST', `/api/sales/${saleId}/purchase`, { token: devToken(`metrics-buyer-${index}`), body: {} })));
      expect(answers.filter((answer) => answer.status === 201)).toHaveLength(5);

      const ids = Array.from({ length: 4 }, () => `metrics-${(sequence += 1)}-${Date.now()}`);
      const scrapes: string[] = [];
      for (const id of ids) {
        const answer = await httpCall(cluster.url, 'GET', '/metrics', { headers: { 'x-request-id': id } });
        expect(answer.status).toBe(200);
        scrapes.push(answer.body as string);
      }
      // The scrapes went to both workers, and each showed the same totals.
      const scrapedBy = await Promise.all(ids.map((id) => cluster.waitForLine((line) => line.requestId === id)));
      expect(new Set(scrapedBy.map((line) => line.pid))).toEqual(new Set(workerPids(cluster)));
      for (const text of scrapes) {
        expect(text).toMatch(/^sellout_metrics_processes 2$/m);
        expect(text).toContain('sellout_http_requests_total{route="/api/sales",method="GET",status="200"} 8');
        expect(text).toContain('sellout_purchase_outcomes_total{code="CREATED"} 5');
        expect(text).toContain('sellout_purchase_outcomes_total{code="SOLD_OUT"} 7');
        expect(text).toContain(`sellout_stock_remaining{sale="${saleId}",pool="general"} 0`);
      }
    });

    it('replaces a worker killed with SIGKILL while the other keeps serving the port', async () => {
      const cluster = await start();
      const [victim, survivor] = workerPids(cluster);
      process.kill(victim, 'SIGKILL');
      await cluster.waitForLine((line) => line.msg === `Worker ${victim} exited with signal SIGKILL; starting another now`);
      // Until the replacement listens, the survivor answers everything.
      expect(new Set(await answeringPids(cluster, 4))).toEqual(new Set([survivor]));

      const replacement = Number(/^Worker (\d+) starting$/.exec((await cluster.waitForLine((line) => /^Worker \d+ starting$/.test(line.msg ?? '') && line.msg !== `Worker ${victim} starting` && line.msg !== `Worker ${survivor} starting`)).msg ?? '')?.[1]);
      await cluster.waitForLine((line) => line.msg === `Worker ${replacement} listening`);
      expect(new Set(await answeringPids(cluster, 8))).toEqual(new Set([survivor, replacement]));
      expect(isAlive(victim)).toBe(false);
    });
  });

  describe('on SIGTERM', () => {
    /**
     * Starts the service, holds a purchase in flight on one worker and sends SIGTERM: returns once the
     * other worker, which has nothing in flight, has exited and the one holding the request is draining.
     */
    async function drainingWithAHeldPurchase() {
      const cluster = await start();
      const saleId = await openSale(cluster, 3);
      const workers = workerPids(cluster);
      const held = holdRequest(cluster.url, `/api/sales/${saleId}/purchase`, devToken('held-buyer'), {});
      await held.reachedServer;

      cluster.kill('SIGTERM');
      await cluster.waitForLine((line) => /^Worker \d+ exited \((signal SIGTERM|code 0)\); 1 still draining$/.test(line.msg ?? ''));
      return { cluster, saleId, workers, held };
    }

    it('answers the request in flight, then every worker and the primary exit cleanly', async () => {
      const { cluster, saleId, workers, held } = await drainingWithAHeldPurchase();
      held.sendBody();
      const answer = await held.answer;
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ saleId, userId: 'held-buyer', status: 'pending_payment' });

      await expect(cluster.exited).resolves.toEqual({ code: 0, signal: null });
      expect(workers.filter(isAlive)).toEqual([]);
    });

    it('kills the workers still draining on a second SIGTERM', async () => {
      const { cluster, workers, held } = await drainingWithAHeldPurchase();
      cluster.kill('SIGTERM');
      await expect(cluster.exited).resolves.toEqual({ code: 1, signal: null });
      await expect(held.answer).rejects.toThrow();
      expect(workers.filter(isAlive)).toEqual([]);
    });
  });

  describe('when a worker cannot start', () => {
    it('stops the service with exit code 1 instead of forking it again and again', async () => {
      // A file cannot hold a folder, and nothing listens on port 1.
      const folder = mkdtempSync(join(tmpdir(), 'sellout-not-a-folder-'));
      writeFileSync(join(folder, 'file'), '');
      const url = database.url.startsWith('sqlite:') ? `sqlite:${join(folder, 'file')}/sellout.sqlite` : 'postgres://postgres@127.0.0.1:1/none';
      try {
        await expect(start({ DATABASE_URL: url })).rejects.toThrow(/exited \(1\) while starting/);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });
  });
});

/**
 * A POST whose headers reach the server (the server answers `100 Continue`) but whose body is sent only
 * when the test says: a request that is in flight for as long as the test wants.
 */
function holdRequest(url: string, path: string, token: string, body: unknown): { reachedServer: Promise<void>; sendBody(): void; answer: Promise<HttpAnswer> } {
  const payload = JSON.stringify(body);
  let reached!: () => void;
  const reachedServer = new Promise<void>((resolve) => (reached = resolve));
  const request = httpRequest(`${url}${path}`, {
    method: 'POST',
    agent: false,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), expect: '100-continue' },
  });
  request.on('continue', () => reached());
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) }));
    });
  });
  // Settled either way, so that a test expecting it to fail does not leave a rejection unobserved meanwhile.
  answer.catch(() => undefined);
  request.flushHeaders();
  return { reachedServer, sendBody: () => request.end(payload), answer };
}

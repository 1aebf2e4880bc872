import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, freePort, RedisServerHandle } from './support/test-services';
import { createTestDatabase, devToken, httpCall, ServerProcess, TestDatabase } from './support/server-process';

/**
 * The example configuration `docs/deploy/nginx.conf`, run as written (only the instance addresses and
 * the listening port replaced) by a private nginx in front of two service instances that share one
 * Redis and one database. nginx is a Debian package (`apt-get install nginx`); without it the test is
 * skipped, saying so.
 */
const EXAMPLE = join(__dirname, '..', 'docs', 'deploy', 'nginx.conf');
const nginxMissing = spawnSync('nginx', ['-v']).error !== undefined;

/** The example with its upstream servers and its listening port replaced; nothing else changes. */
function renderExample(upstreamPorts: number[], listenPort: number): string {
  const example = readFileSync(EXAMPLE, 'utf8');
  const servers = [...example.matchAll(/^(\s*)server\s+[\d.]+:\d+(\s[^;]*)?;$/gm)];
  if (servers.length === 0) throw new Error('the example has no upstream server lines');
  const indent = servers[0][1];
  const options = servers[0][2] ?? '';
  const rendered = example.replace(/^\s*server\s+[\d.]+:\d+(\s[^;]*)?;\n/gm, '');
  const withUpstreams = rendered.replace(/^(\s*)least_conn;$/m, (line) => `${line}\n${upstreamPorts.map((port) => `${indent}server 127.0.0.1:${port}${options};`).join('\n')}`);
  const withListen = withUpstreams.replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${listenPort};`);
  if (!withListen.includes(`listen 127.0.0.1:${listenPort};`)) throw new Error('the example has no `listen 80;` line');
  return withListen;
}

/** Purchases an instance answered, from its `sellout_purchase_outcomes_total` counters. */
function purchasesAnswered(metrics: string): number {
  return [...metrics.matchAll(/^sellout_purchase_outcomes_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

(nginxMissing ? describe.skip : describe)('docs/deploy/nginx.conf in front of two instances', () => {
  let redis: RedisServerHandle;
  let database: TestDatabase;
  let instances: ServerProcess[] = [];
  let nginx: ChildProcess | undefined;
  let prefix: string;
  let url: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    database = await createTestDatabase();
    const ports = [await freePort(), await freePort()];
    // Both boot at once on the fresh database, as a rolling deploy's new instances do.
    instances = await Promise.all(ports.map((port) => ServerProcess.start({ PORT: String(port), REDIS_URL: redis.url, DATABASE_URL: database.url, TRUST_PROXY: '127.0.0.1' })));

    prefix = mkdtempSync(join(tmpdir(), 'sellout-nginx-'));
    const listenPort = await freePort();
    url = `http://127.0.0.1:${listenPort}`;
    writeFileSync(join(prefix, 'sellout.conf'), renderExample(ports, listenPort));
    writeFileSync(
      join(prefix, 'nginx.conf'),
      [
        'daemon off;',
        'worker_processes 1;',
        `pid ${prefix}/nginx.pid;`,
        `error_log ${prefix}/error.log warn;`,
        'events { worker_connections 512; }',
        'http {',
        `  access_log ${prefix}/access.log;`,
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${prefix}/${kind};`),
        `  include ${prefix}/sellout.conf;`,
        '}',
      ].join('\n'),
    );
    const check = spawnSync('nginx', ['-t', '-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx -t refused the rendered example:\n${check.stderr}`);
    nginx = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { stdio: 'ignore' });
    // nginx says nothing when it is ready: ask through it until an instance answers.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const answer = await httpCall(url, 'GET', '/health').catch(() => undefined);
      if (answer?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`nginx did not answer; see ${prefix}/error.log`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    if (nginx?.pid && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await Promise.all(instances.map((instance) => instance.stop()));
    await database?.drop();
    await redis?.stop();
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  });

  it('spreads requests over both instances and passes on their request ids', async () => {
    const answers = [];
    for (let index = 0; index < 6; index += 1) answers.push(await httpCall(url, 'GET', '/api/sales'));
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(200));
    const ids = answers.map((answer) => answer.headers['x-request-id'] as string);
    // nginx's $request_id: 32 hex digits, the same in its log and the instance's.
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    const answeredBy = await Promise.all(ids.map((id) => Promise.race(instances.map((instance, index) => instance.waitForLine((line) => line.requestId === id, 10_000).then(() => index)))));
    expect(new Set(answeredBy)).toEqual(new Set([0, 1]));
  });

  it('sells through the proxy without overselling, the answers coming from both instances', async () => {
    const startsAt = Date.now() - 1000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const created = await httpCall(url, 'POST', '/api/admin/sales', {
      token: devToken('ops-nginx', ['ops']),
      body: { sku: `sku-nginx-${Date.now()}`, name: 'Proxied phone', priceCents: 100, stock: 5, reservationRequired: false, reservationOpensAt: iso(startsAt - 3600_000), reservationClosesAt: iso(startsAt), startsAt: iso(startsAt) },
    });
    expect(created.status).toBe(201);
    const saleId = created.body.id as string;

    const answers = await Promise.all(Array.from({ length: 12 }, (_, index) => httpCall(url, 'POST', `/api/sales/${saleId}/purchase`, { token: devToken(`nginx-buyer-${index}`), body: {} })));
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(5);
    expect(answers.filter((answer) => answer.status !== 201).map((answer) => answer.body.code)).toEqual(Array(7).fill('SOLD_OUT'));

    // Each instance counts the purchases it answered (its own /metrics, asked directly): both took some.
    const answeredByEach = await Promise.all(instances.map(async (instance) => purchasesAnswered((await httpCall(instance.url, 'GET', '/metrics')).body as string)));
    expect(answeredByEach.every((count) => count > 0)).toBe(true);
    expect(answeredByEach.reduce((sum, count) => sum + count, 0)).toBe(12);

    // Every order is readable through the proxy, whichever instance took it and whichever answers now.
    const orders = answers.filter((answer) => answer.status === 201).map((answer) => answer.body as { id: string; userId: string });
    for (const order of orders) {
      const read = await httpCall(url, 'GET', `/api/orders/${order.id}`, { token: devToken(order.userId) });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id: order.id, saleId, status: 'pending_payment' });
    }
  });
});

if (nginxMissing) {
  describe('docs/deploy/nginx.conf', () => {
    it.skip('is tested only where nginx is installed (Debian: apt-get install nginx)', () => undefined);
  });
  process.stderr.write('nginx is not on PATH: skipping the test of docs/deploy/nginx.conf (Debian: apt-get install nginx)\n');
}

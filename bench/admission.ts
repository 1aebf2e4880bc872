import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { envInt } from '../load-tests/lib/env';
import { AdmissionTokens } from '../src/admission/admission-token';
import { randomPlace, WaitingRoomGateway } from '../src/admission/waiting-room/waiting-room.gateway';
import { createApp } from '../src/app.factory';
import { TokenService } from '../src/auth/token.service';
import { ManualClock } from '../src/common/clock';
import { loadConfig } from '../src/config/app-config';
import { RedisKeys } from '../src/redis/redis-keys';
import { REDIS_CLIENT } from '../src/redis/redis.constants';
import { obtainRedis } from './processes';

/**
 * `npm run bench:admission`: the rehearsal of fair admission on one machine, in simulated time.
 *
 * 1. Waiting room: JOINERS buyers join a sale's waiting room before its start (written straight into the
 *    line with a Redis pipeline, each with a random place as the join route draws it: a million HTTP joins
 *    would measure the load generator), then the sale starts and the clock moves a second at a time: the
 *    waiting room admits ADMISSION_RATE buyers a second, each admitted buyer asks for their place (and
 *    token) and buys through the real HTTP routes (in-process, Fastify inject) until the sale sells out.
 *    Prints the line, admissions/s and purchases/s per simulated second, the wait of the buyer who got
 *    the last unit, and checks the sell-out is exact.
 * 2. The admission token check alone: µs per check.
 *
 * The lottery's draw has a benchmark of its own, `npm run bench:lottery` (bench/lottery.ts).
 *
 * Bounded: at most MAX_STEPS simulated seconds and MAX_RUN_S of wall time for the waiting room.
 */

const log = (line: string) => process.stdout.write(`${line}\n`);
const env = process.env;
const JOINERS = envInt(env, 'JOINERS', 1_000_000, 1, 10_000_000);
const STOCK = envInt(env, 'STOCK', 50_000, 1, 10_000_000);
const RATE = envInt(env, 'ADMISSION_RATE', 5_000, 1, 100_000);
const TTL_SECONDS = envInt(env, 'ADMISSION_TTL_S', 120, 10, 3600);
const CONCURRENCY = envInt(env, 'CONCURRENCY', 64, 1, 1024);
const MAX_STEPS = envInt(env, 'MAX_STEPS', 2_000, 1, 100_000);
const MAX_RUN_MS = envInt(env, 'MAX_RUN_S', 300, 1) * 1000;
const PIPELINE_CHUNK = 10_000;

interface Response {
  status: number;
  body: any;
}

class Harness {
  constructor(
    readonly app: NestFastifyApplication,
    readonly clock: ManualClock,
  ) {}

  get redis(): Redis {
    return this.app.get<Redis>(REDIS_CLIENT);
  }

  get keys(): RedisKeys {
    return this.app.get(RedisKeys);
  }

  token(userId: string, roles: string[] = []): string {
    return this.app.get(TokenService).sign(userId, roles);
  }

  async request(method: 'GET' | 'POST', url: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const response = await this.app
      .getHttpAdapter()
      .getInstance()
      .inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, payload: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.statusCode, body: response.body.length > 0 ? JSON.parse(response.body) : undefined };
  }

  async createSale(fields: Record<string, unknown>): Promise<any> {
    const startsAt = this.clock.now() + 3600_000;
    const response = await this.request('POST', '/api/admin/sales', this.token('bench-ops', ['ops']), {
      sku: `bench-admission-${randomBytes(4).toString('hex')}`,
      name: 'Admission rehearsal',
      priceCents: 69900,
      reservationRequired: false,
      perUserLimit: 1,
      startsAt: new Date(startsAt).toISOString(),
      ...fields,
    });
    if (response.status !== 201) throw new Error(`creating a sale failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

const seconds = (milliseconds: number) => `${(milliseconds / 1000).toFixed(2)} s`;
const count = (value: number) => Math.round(value).toLocaleString('en-US');

async function waitingRoom(harness: Harness): Promise<boolean> {
  log(`\nwaiting room: ${count(JOINERS)} buyers join before the start, ${count(STOCK)} units, ${count(RATE)} admitted a second, admissions last ${TTL_SECONDS} s`);
  const sale = await harness.createSale({ admission: 'queue', stock: STOCK, admissionRatePerSecond: RATE, admissionTtlSeconds: TTL_SECONDS, queueOpensAt: new Date(harness.clock.now()).toISOString() });
  const keys = harness.keys.forSale(sale.id);
  const buyer = (index: number) => `queue-buyer-${index}`;

  // One buyer through the route, the rest straight into the line with the same random places.
  const joined = await harness.request('POST', `/api/sales/${sale.id}/queue`, harness.token(buyer(0)), {});
  if (joined.status !== 201) throw new Error(`joining failed: ${joined.status} ${JSON.stringify(joined.body)}`);
  const seedStart = performance.now();
  for (let start = 1; start < JOINERS; start += PIPELINE_CHUNK) {
    const members: (string | number)[] = [];
    for (let index = start; index < Math.min(JOINERS, start + PIPELINE_CHUNK); index += 1) members.push(randomPlace(), buyer(index));
    await harness.redis.zadd(keys.queue, ...members);
  }
  await harness.redis.sadd(harness.keys.waitingRooms, sale.id);
  log(`  ${count(await harness.redis.zcard(keys.queue))} in line (seeded by pipeline in ${seconds(performance.now() - seedStart)})`);

  const startsAt = Date.parse(sale.startsAt);
  harness.clock.set(startsAt);
  const lastRanked = (await harness.redis.zrange(keys.queue, -1, -1))[0];
  const lastEta = (await harness.request('GET', `/api/sales/${sale.id}/queue/me`, harness.token(lastRanked))).body.etaSeconds as number;
  log(`  at the start, the last in line is told: ${count(lastEta)} s to wait (${count(JOINERS)} ÷ ${count(RATE)}/s)`);

  const gateway = harness.app.get(WaitingRoomGateway);
  log('  t (s) | waiting   | admitted/s | purchases/s | sold out');
  const wallStart = performance.now();
  let admitted = 0;
  let sold = 0;
  let lastUnitAt: number | undefined;
  let refusedNotAdmitted = 0;
  const admissionsPerStep: number[] = [];
  for (let step = 1; step <= MAX_STEPS && performance.now() - wallStart < MAX_RUN_MS; step += 1) {
    harness.clock.advance(1000);
    const room = await gateway.advance(sale.id, harness.clock.now());
    if (room === undefined) throw new Error('the sale has no Redis state');
    const newcomers = room.admitted > admitted ? await harness.redis.zrange(keys.queue, admitted, room.admitted - 1) : [];
    admissionsPerStep.push(newcomers.length);
    admitted = room.admitted;
    let purchases = 0;
    await pool(newcomers, CONCURRENCY, async (userId) => {
      const token = harness.token(userId);
      const status = (await harness.request('GET', `/api/sales/${sale.id}/queue/me`, token)).body;
      if (status.admissionToken === undefined) return;
      const bought = await harness.request('POST', `/api/sales/${sale.id}/purchase`, token, { quantity: 1 }, { 'admission-token': status.admissionToken });
      if (bought.status === 201) purchases += 1;
      if (bought.status === 403) refusedNotAdmitted += 1;
    });
    sold += purchases;
    if (purchases > 0 && sold === STOCK) lastUnitAt = harness.clock.now();
    const soldOut = (await harness.request('GET', `/api/sales/${sale.id}/queue/me`, harness.token(lastRanked))).body.soldOut as boolean;
    if (step <= 5 || step % 5 === 0 || soldOut) log(`  ${String(step).padStart(5)} | ${count(room.length - room.admitted).padStart(9)} | ${count(newcomers.length).padStart(10)} | ${count(purchases).padStart(11)} | ${soldOut}`);
    if (soldOut || room.admitted >= room.length) break;
  }

  // Someone still waiting is told at once that it is over; nobody more is let in.
  const stillWaiting = (await harness.redis.zrange(keys.queue, admitted, admitted))[0];
  const waitingStatus = stillWaiting === undefined ? undefined : (await harness.request('GET', `/api/sales/${sale.id}/queue/me`, harness.token(stillWaiting))).body;
  harness.clock.advance(10_000);
  const afterSellOut = await gateway.advance(sale.id, harness.clock.now());
  const stats = (await harness.request('GET', `/api/admin/sales/${sale.id}/stats`, harness.token('bench-ops', ['ops']))).body;
  let liveAdmissionsMax = 0;
  for (let index = 0; index < admissionsPerStep.length; index += 1) {
    liveAdmissionsMax = Math.max(liveAdmissionsMax, admissionsPerStep.slice(Math.max(0, index - TTL_SECONDS + 1), index + 1).reduce((sum, value) => sum + value, 0));
  }
  const exact = stats.unitsSold === STOCK && stats.stock.generalRemaining === 0 && stats.accepted === STOCK && stats.stockEquationHolds === true;
  log(`  buyer who got the last unit waited ${lastUnitAt === undefined ? '– (not sold out)' : seconds(lastUnitAt - startsAt)} after the start; wall time ${seconds(performance.now() - wallStart)}`);
  log(`  admitted ${count(admitted)} of ${count(JOINERS)}; purchases refused NOT_ADMITTED ${count(refusedNotAdmitted)}; most admissions alive at once ${count(liveAdmissionsMax)} (rate × TTL = ${count(RATE * TTL_SECONDS)})`);
  log(`  after the sell-out: a waiting buyer is told ${waitingStatus === undefined ? '(nobody left waiting)' : `soldOut=${waitingStatus.soldOut}, position ${count(waitingStatus.position)}`}; 10 s later admitted ${count(afterSellOut?.admitted ?? -1)} (unchanged: ${afterSellOut?.admitted === admitted})`);
  log(`  sell-out exact: ${exact} (unitsSold ${count(stats.unitsSold)}, generalRemaining ${stats.stock.generalRemaining}, accepted ${count(stats.accepted)}, stock equation ${stats.stockEquationHolds})`);
  return exact && afterSellOut?.admitted === admitted && (waitingStatus === undefined || waitingStatus.soldOut === true);
}

function tokenCheck(): void {
  const tokens = new AdmissionTokens(randomBytes(24).toString('hex'));
  const expiresAt = Date.now() + 120_000;
  const signed = Array.from({ length: 1000 }, (_, index) => tokens.sign({ saleId: 's_bench', userId: `buyer-${index}`, expiresAt }));
  const checks = 200_000;
  let admitted = 0;
  const cpuStart = process.cpuUsage();
  for (let index = 0; index < checks; index += 1) if (tokens.admits(signed[index % 1000], 's_bench', `buyer-${index % 1000}`, Date.now())) admitted += 1;
  const cpu = process.cpuUsage(cpuStart);
  log(`admission token check: ${((cpu.user + cpu.system) / checks).toFixed(2)} µs of CPU per check (${count(checks)} checks, ${count(admitted)} admitted)`);
}

async function main(): Promise<number> {
  log(`Sellout npm run bench:admission on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  const scratch = join(tmpdir(), `sellout-bench-admission-${Date.now()}`);
  mkdirSync(scratch, { recursive: true });
  const redis = await obtainRedis(env.REDIS_URL, log, ['--appendonly', 'no'], scratch);
  const clock = new ManualClock(Date.now());
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    REDIS_URL: redis.url,
    DATABASE_URL: `sqlite:${join(scratch, 'sellout.sqlite')}`,
    DATA_DIR: scratch,
    REDIS_KEY_PREFIX: `bench-admission-${randomBytes(4).toString('hex')}`,
    JWT_SECRET: randomBytes(24).toString('hex'),
    FCODE_SECRET: randomBytes(24).toString('hex'),
    // Orders of the rehearsal stay in Redis: the database writer is measured by the other benchmarks.
    ORDER_WRITER_ENABLED: 'false',
    SWEEPER_ENABLED: 'false',
  });
  const app = await createApp(config, { clock });
  await app.init();
  const harness = new Harness(app, clock);
  try {
    tokenCheck();
    const queueExact = await waitingRoom(harness);
    log(queueExact ? 'all checks passed' : 'FAILURE: a check above did not pass');
    return queueExact ? 0 : 1;
  } finally {
    await app.close();
    await redis.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);

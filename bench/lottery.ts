import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type Redis from 'ioredis';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { envInt } from '../load-tests/lib/env';
import { createApp } from '../src/app.factory';
import { TokenService } from '../src/auth/token.service';
import { ManualClock } from '../src/common/clock';
import { loadConfig } from '../src/config/app-config';
import { DatabaseService } from '../src/database/database.service';
import { SaleRestoreService } from '../src/rebuild/sale-restore.service';
import { RedisKeys } from '../src/redis/redis-keys';
import { REDIS_CLIENT } from '../src/redis/redis.constants';
import { SalesRepository } from '../src/sales/sales.repository';
import type { ClientReport, ClientRequest, TimedResponse } from './lottery-client';
import { obtainRedis } from './processes';

/**
 * `npm run bench:lottery`: the draw of a large lottery, through the real HTTP routes on a real socket.
 *
 * Per draw: a lottery sale gets LOTTERY_ENTRIES entries, written straight into the database and Redis
 * as the entry route writes them (a million HTTP entries would measure the load generator); ops commit a
 * seed; the clock moves to the close; then `POST …/lottery/draw` is timed to the last byte of its answer
 * (the whole result, streamed), while another client asks `GET /health` every PROBE_MS to show how long
 * the service kept others waiting meanwhile. Then `GET …/lottery/result`, timed the same way; the winners
 * and entries recomputed from the published seed and the ids alone (plain SHA-256 and a sort, as anyone
 * checking the draw would); the result from a second process of the service, which ranks the entries
 * again; and the rebuild of the drawn lottery after its Redis state is deleted (its entries, its ranking
 * computed again, its rounds), timed, checked against sampled buyers' places.
 *
 * Exit code 1 when a check fails (result not as recomputed, a rank changed by the rebuild), 0 otherwise.
 */

const log = (line: string) => process.stdout.write(`${line}\n`);
const env = process.env;
const ENTRIES = envInt(env, 'LOTTERY_ENTRIES', 1_000_000, 1, 10_000_000);
const DRAWS = envInt(env, 'LOTTERY_DRAWS', 1, 1, 10);
const STOCK = envInt(env, 'STOCK', 100_000, 1, 10_000_000);
const PROBE_MS = envInt(env, 'PROBE_MS', 25, 1, 1000);
const SEED_CHUNK = 50_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const seconds = (milliseconds: number) => `${(milliseconds / 1000).toFixed(2)} s`;
const count = (value: number) => Math.round(value).toLocaleString('en-US');

/** Runs the HTTP client (bench/lottery-client.ts) on its own thread: see there. */
function runClient(request: ClientRequest): Promise<ClientReport> {
  const worker = new Worker(`require('ts-node/register/transpile-only'); require(${JSON.stringify(join(__dirname, 'lottery-client.ts'))});`, { eval: true, workerData: request });
  return new Promise((resolve, reject) => {
    worker.once('message', (message: { report?: ClientReport; error?: string }) => (message.report ? resolve(message.report) : reject(new Error(`the HTTP client failed: ${message.error}`))));
    worker.once('error', reject);
  }).finally(() => void worker.terminate()) as Promise<ClientReport>;
}

const parsed = (response: TimedResponse) => JSON.parse(Buffer.from(response.body).toString('utf8'));

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
};

/** Writes the entries as the entry route does: a row each in the database, and Redis's copy. */
async function seedEntries(app: NestFastifyApplication, saleId: string, ids: string[], enteredAt: number): Promise<void> {
  const database = app.get(DatabaseService);
  const redis = app.get<Redis>(REDIS_CLIENT);
  const entriesKey = app.get(RedisKeys).forSale(saleId).lotteryEntries;
  for (let start = 0; start < ids.length; start += SEED_CHUNK) {
    const chunk = ids.slice(start, start + SEED_CHUNK);
    await redis.hset(entriesKey, Object.fromEntries(chunk.map((id) => [id, enteredAt])));
  }
  const runner = database.dataSource.createQueryRunner();
  try {
    if (database.kind === 'postgres') {
      for (let start = 0; start < ids.length; start += SEED_CHUNK) {
        await runner.query('INSERT INTO lottery_entries (sale_id, user_id, entered_at) SELECT $1, id, $3 FROM unnest($2::text[]) AS id', [saleId, ids.slice(start, start + SEED_CHUNK), enteredAt]);
      }
    } else {
      const connection = (await runner.connect()) as SqliteDatabase;
      const insert = connection.prepare('INSERT INTO lottery_entries (sale_id, user_id, entered_at) VALUES (?, ?, ?)');
      connection.transaction(() => {
        for (const id of ids) insert.run(saleId, id, enteredAt);
      })();
      // Entries that came in over days would have been checkpointed into the database file as they came;
      // a million written at once sit in the write-ahead log until the next commit copies them over.
      connection.pragma('wal_checkpoint(TRUNCATE)');
    }
  } finally {
    await runner.release();
  }
}

/** The draw as anyone holding the ids would recompute it from the published result. */
function recompute(seed: string, ids: string[]): { ranked: string[]; winners: string[]; entries: string[] } {
  const keyed = ids.map((id) => ({ id, key: sha256(`${seed}:${id}`) }));
  keyed.sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : left.id < right.id ? -1 : 1));
  const ranked = keyed.map((entry) => entry.id);
  return { ranked, winners: ranked.map(sha256), entries: ids.map(sha256).sort() };
}

function sameList(published: string[], expected: string[], length: number): boolean {
  if (published.length !== length) return false;
  for (let index = 0; index < length; index += 1) if (published[index] !== expected[index]) return false;
  return true;
}

async function drawOnce(app: NestFastifyApplication, other: string, clock: ManualClock, baseUrl: string, draw: number): Promise<boolean> {
  const tokens = app.get(TokenService);
  const ops = { authorization: `Bearer ${tokens.sign('bench-ops', ['ops'])}` };
  clock.set(Date.now());
  const startsAt = clock.now() + 3600_000;
  const created = await fetch(`${baseUrl}/api/admin/sales`, {
    method: 'POST',
    headers: { ...ops, 'content-type': 'application/json' },
    body: JSON.stringify({
      sku: `bench-lottery-${randomBytes(4).toString('hex')}`,
      name: 'Lottery draw benchmark',
      priceCents: 69900,
      stock: STOCK,
      perUserLimit: 1,
      reservationRequired: false,
      admission: 'lottery',
      startsAt: new Date(startsAt).toISOString(),
      lotteryClosesAt: new Date(startsAt - 60_000).toISOString(),
    }),
  });
  const sale = (await created.json()) as { id: string };
  if (created.status !== 201) throw new Error(`creating the sale failed: ${created.status} ${JSON.stringify(sale)}`);
  const ids = Array.from({ length: ENTRIES }, (_, index) => `lottery-buyer-${draw}-${index}`);
  const seedStart = performance.now();
  await seedEntries(app, sale.id, ids, clock.now());
  const seededMs = performance.now() - seedStart;
  const commit = (await (await fetch(`${baseUrl}/api/admin/sales/${sale.id}/lottery/commit`, { method: 'POST', headers: ops })).json()) as { seedHash: string };
  clock.set(startsAt - 60_000);

  // Started before the draw, so that the client thread's start-up does not count.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const cpuStart = process.cpuUsage();
  loopDelay.enable();
  const report = await runClient({ baseUrl, drawPath: `/api/admin/sales/${sale.id}/lottery/draw`, resultPath: `/api/sales/${sale.id}/lottery/result`, headers: ops, probeMs: PROBE_MS });
  loopDelay.disable();
  const cpu = process.cpuUsage(cpuStart);
  const { drawn, result, probes } = report;
  if (drawn.status !== 200) throw new Error(`the draw failed: ${drawn.status} ${Buffer.from(drawn.body).toString('utf8').slice(0, 500)}`);
  const drawnBody = parsed(drawn);
  const resultBody = parsed(result);
  const winners = drawnBody.rounds[0].winners as number;
  log(`draw ${draw}: ${count(ENTRIES)} entries (written in ${seconds(seededMs)}), ${count(winners)} winners`);
  log(`  POST …/lottery/draw: ${seconds(drawn.totalMs)} to the last byte (first byte ${seconds(drawn.firstByteMs)}, ${count(drawn.bytes / 1e6)} MB)`);
  log(`  meanwhile GET /health every ${PROBE_MS} ms: ${count(probes.length)} answers, p50 ${probes.length ? percentile(probes, 50).toFixed(1) : '–'} ms, p99 ${probes.length ? percentile(probes, 99).toFixed(1) : '–'} ms, slowest ${probes.length ? Math.max(...probes).toFixed(1) : '–'} ms`);
  log(`  the service's event loop, draw and result: delay max ${(loopDelay.max / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms; CPU of the process (every thread, the client's included) ${seconds((cpu.user + cpu.system) / 1000)}`);
  log(`  GET …/lottery/result: ${seconds(result.totalMs)} to the last byte (first byte ${seconds(result.firstByteMs)}, ${count(result.bytes / 1e6)} MB)`);
  // Another process of the service keeps no ranking of this draw: it ranks the recorded entries again.
  const coldStart = performance.now();
  const cold = await fetch(`${other}/api/sales/${sale.id}/lottery/result`);
  const coldFirstByteMs = performance.now() - coldStart;
  const coldBody = Buffer.from(await cold.arrayBuffer());
  const coldMs = performance.now() - coldStart;
  const sameAsDrawn = cold.status === 200 && coldBody.equals(Buffer.from(drawn.body));
  log(`  GET …/lottery/result from another process of the service: ${seconds(coldMs)} to the last byte (first byte ${seconds(coldFirstByteMs)}), ${sameAsDrawn ? 'the same bytes as the draw answered' : 'DIFFERENT from the draw'}`);

  // The rebuild after Redis lost the sale (entries, the ranking computed again, the rounds), before the
  // check below fills the heap: some buyers' places must be what they were.
  const sample = Array.from({ length: 200 }, (_, index) => ids[Math.floor((index * ENTRIES) / 200)]);
  const place = async (userId: string) => (await (await fetch(`${baseUrl}/api/sales/${sale.id}/lottery/me`, { headers: { authorization: `Bearer ${tokens.sign(userId)}` } })).json()) as { won: boolean; rank: number };
  const before = await Promise.all(sample.map(place));
  const redis = app.get<Redis>(REDIS_CLIENT);
  await redis.del(...(await redis.keys(`${app.get(RedisKeys).prefix}:{sale:${sale.id}}:*`)));
  const row = await app.get(SalesRepository).findById(sale.id);
  const rebuildStart = performance.now();
  const rebuilt = await app.get(SaleRestoreService).restoreSale(row as NonNullable<typeof row>);
  const rebuildMs = performance.now() - rebuildStart;
  const after = await Promise.all(sample.map(place));
  const samePlaces = rebuilt && JSON.stringify(after) === JSON.stringify(before);
  log(`  rebuilt from the database after its Redis keys were deleted in ${seconds(rebuildMs)}: ${sample.length} buyers ${samePlaces ? 'in the same places' : 'MOVED'}`);

  const checkStart = performance.now();
  const expected = recompute(drawnBody.seed, ids);
  const sampled = new Set(sample);
  const rankOf = new Map<string, number>();
  expected.ranked.forEach((userId, index) => sampled.has(userId) && rankOf.set(userId, index + 1));
  const verified =
    sha256(drawnBody.seed) === commit.seedHash &&
    winners === Math.min(ENTRIES, STOCK) &&
    sameList(drawnBody.winners, expected.winners, winners) &&
    sameList(drawnBody.entries, expected.entries, ENTRIES) &&
    sameList(resultBody.winners, expected.winners, winners) &&
    sameList(resultBody.entries, expected.entries, ENTRIES) &&
    sample.every((userId, index) => before[index].rank === rankOf.get(userId) && before[index].won === before[index].rank <= winners);
  log(`  recomputed from the seed and the ids in ${seconds(performance.now() - checkStart)}: ${verified ? 'same winners, same entries, same places' : 'MISMATCH'}`);
  return verified && samePlaces && sameAsDrawn;
}

async function main(): Promise<number> {
  log(`Sellout npm run bench:lottery on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  const scratch = join(tmpdir(), `sellout-bench-lottery-${Date.now()}`);
  mkdirSync(scratch, { recursive: true });
  const redis = await obtainRedis(env.REDIS_URL, log, ['--appendonly', 'no'], scratch);
  const clock = new ManualClock(Date.now());
  const config = loadConfig({
    NODE_ENV: 'test',
    // The service logs each draw's phases at `info`.
    LOG_LEVEL: env.LOG_LEVEL ?? 'silent',
    REDIS_URL: redis.url,
    DATABASE_URL: env.DATABASE_URL ?? `sqlite:${join(scratch, 'sellout.sqlite')}`,
    DATA_DIR: scratch,
    REDIS_KEY_PREFIX: `bench-lottery-${randomBytes(4).toString('hex')}`,
    JWT_SECRET: randomBytes(24).toString('hex'),
    FCODE_SECRET: randomBytes(24).toString('hex'),
    ORDER_WRITER_ENABLED: 'false',
    SWEEPER_ENABLED: 'false',
  });
  log(`database: ${config.database.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'embedded SQLite'}`);
  const app = await createApp(config, { clock });
  await app.listen(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  // A second process of the same deployment, as WEB_CONCURRENCY or a second host would run.
  const other = await createApp(config, { clock });
  await other.listen(0, '127.0.0.1');
  const otherUrl = `http://127.0.0.1:${(other.getHttpServer().address() as { port: number }).port}`;
  try {
    let passed = true;
    for (let draw = 1; draw <= DRAWS; draw += 1) passed = (await drawOnce(app, otherUrl, clock, baseUrl, draw)) && passed;
    log(`load average after: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
    log(passed ? 'all checks passed' : 'FAILURE: a check above did not pass');
    return passed ? 0 : 1;
  } finally {
    await other.close();
    await app.close();
    await redis.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(2);
    },
  );
}

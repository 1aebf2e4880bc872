import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkStock, type SaleStats } from '../load-tests/lib/invariants';
import { buyerId, runTag, saleDraft } from '../load-tests/lib/payloads';
import { RedisKeys } from '../src/redis/redis-keys';
import { AdminClient } from './admin-client';
import { ChildHandle, ensureBuilt, obtainRedis, sleep, snapshotDist, startBaseline, startService, startWorker } from './processes';
import { CpuProfile, summarizeProfile } from './profile-summary';
import { renderReport } from './report';
import { SellOutLoad } from './sell-out';
import { benchSettings, BenchSettings, redisPersistenceArgs, serviceDurability } from './settings';
import { spread } from './statistics';
import { aggregateRuns, evaluateTargets, failuresOf, medianRun, oneLineSummary, runLine } from './summary';
import { distinctIndexes, mintToken } from './tokens';
import type { BenchMode, BenchResult, PersistResult, RunResult } from './types';

/**
 * The launch rehearsal on one machine: builds and starts the service as `npm run start:prod` would,
 * creates a sale per run with STOCK units and RESERVED reserved buyers (through the import route),
 * sells it out under load from many connections, waits for the order writer, checks the stock, and
 * finally measures the bare baseline. Writes `bench/results/<date>.json` (and `.html`), prints a line
 * per run, min/median/max, the targets and a one-line summary. Exits 1 on any correctness failure.
 *
 *   npm run bench | npm run bench:purchase | npm run bench:smoke      (variables: bench/README.md)
 */

const log = (line: string) => process.stdout.write(`${line}\n`);
const DAY_MS = 24 * 3600_000;

function parseMode(argument: string | undefined): BenchMode {
  if (argument === 'full' || argument === 'purchase' || argument === 'smoke') return argument;
  throw new Error(`usage: bench/run.ts full|purchase|smoke (got "${argument ?? ''}")`);
}

interface Context {
  settings: BenchSettings;
  service: ChildHandle;
  /** The standalone order writer (BENCH_WRITER=process). */
  worker?: ChildHandle;
  /** Where the service writes its CPU profile of the first sell-out (BENCH_CPU_PROFILE=true). */
  cpuProfileFile?: string;
  redis: Redis;
  /** The keys of this invocation's deployment (its own REDIS_KEY_PREFIX, bound to its own database). */
  keys: RedisKeys;
  admin: AdminClient;
  serviceUrl: string;
  tag: string;
  buyerPrefix: string;
  authorizations: string[];
  /** Starts the service (and the standalone writer, if any) again after a baseline run stopped them. */
  restart: () => Promise<void>;
}

/** A sale created and filled through the service's admin routes, starting far in the future. */
async function prepareSale(context: Context, label: string): Promise<{ saleId: string; importSeconds: number }> {
  const { settings, admin } = context;
  const now = Date.now();
  const farStart = now + DAY_MS;
  const sale = await admin.createSale(
    saleDraft({ label, stock: settings.stock, perUserLimit: 1, reservationOpensAt: now - 60_000, reservationClosesAt: farStart, fcodeOpensAt: farStart, startsAt: farStart, endsAt: farStart + DAY_MS }),
  );
  const imported = await admin.importReservations(sale.id, context.buyerPrefix, settings.reserved);
  if (imported.imported !== settings.reserved) throw new Error(`imported ${imported.imported} of ${settings.reserved} reservations`);
  log(`  ${label}: sale ${sale.id}, ${imported.imported.toLocaleString('en-US')} reserved buyers imported in ${imported.seconds.toFixed(1)} s`);
  return { saleId: sale.id, importSeconds: imported.seconds };
}

function loadFor(context: Context, target: 'service' | 'baseline', run: number, server: ChildHandle, saleId: string, importSeconds: number, startsAt: number): SellOutLoad {
  const { settings } = context;
  return new SellOutLoad({
    target,
    run,
    baseUrl: server.url,
    serverPid: server.pid,
    writerPid: target === 'service' ? context.worker?.pid : undefined,
    redis: context.redis,
    keys: context.keys,
    saleId,
    stock: settings.stock,
    reserved: settings.reserved,
    importSeconds,
    startsAt,
    authorizations: context.authorizations,
    perUserLimit: 1,
    connections: settings.connections,
    warmupMs: settings.warmupMs,
    pollRate: target === 'service' ? settings.pollRate : 0,
    pollConnections: settings.pollConnections,
    idempotencyKeys: settings.idempotencyKeys,
    sampleIntervalMs: settings.sampleIntervalMs,
    soldOutTailMs: settings.soldOutTailMs,
    maxRunMs: settings.maxRunMs,
  });
}

/** Polls the stats until the database holds every accepted order; times it from the sell-out. */
async function awaitPersisted(context: Context, saleId: string, load: SellOutLoad): Promise<{ persist: PersistResult; stats: SaleStats }> {
  const reference = load.soldOutTime ?? Date.now();
  const deadline = Date.now() + context.settings.persistTimeoutMs;
  for (;;) {
    const stats = await context.admin.stats(saleId);
    const check = checkStock(stats);
    const now = Date.now();
    if ((check.persistedAll && check.ordersAccepted >= load.acceptedCount) || now >= deadline) {
      return {
        stats,
        persist: { ordersAccepted: check.ordersAccepted, ordersPersisted: check.ordersPersisted, lastLandedAfterSellOutMs: check.persistedAll ? Math.max(0, now - reference) : null },
      };
    }
    await sleep(50);
  }
}

async function serviceRun(context: Context, run: number): Promise<RunResult> {
  const { settings } = context;
  const { saleId, importSeconds } = await prepareSale(context, `bench-${context.tag}-run${run}`);
  const startsAt = Date.now() + settings.startLeadMs + settings.warmupMs;
  await context.admin.reschedule(saleId, { reservationClosesAt: startsAt, fcodeOpensAt: startsAt, startsAt });
  const load = loadFor(context, 'service', run, context.service, saleId, importSeconds, startsAt);
  const profiling = run === 1 && context.cpuProfileFile !== undefined;
  const profileStart = profiling ? setTimeout(() => context.service.send({ cpuProfile: 'start' }), Math.max(0, startsAt - Date.now())) : undefined;
  await load.run();
  if (profiling) {
    clearTimeout(profileStart);
    context.service.send({ cpuProfile: 'stop' });
  }
  const { persist } = await awaitPersisted(context, saleId, load);
  await load.stopSampling();
  if (load.samplingError) log(`  sampling Redis failed at least once: ${load.samplingError}`);
  const stats = await context.admin.stats(saleId);
  return { ...load.result(), persist, stockCheck: checkStock(stats) };
}

/**
 * The baseline sells a sale prepared by the service (so its Redis state is exactly the service's),
 * with the service stopped so that both get the machine to themselves. Its start is set in the sale's
 * hash directly: nothing else is running that could read it.
 */
async function baselineRun(context: Context, run: number, jwtSecret: string, redisUrl: string, logFile: string): Promise<RunResult> {
  const { settings, redis } = context;
  const { saleId, importSeconds } = await prepareSale(context, `bench-${context.tag}-baseline${run}`);
  await context.service.stop();
  await context.worker?.stop();
  const baseline = await startBaseline(redisUrl, jwtSecret, context.keys.prefix, logFile);
  try {
    const startsAt = Date.now() + settings.startLeadMs + settings.warmupMs;
    const keys = context.keys.forSale(saleId);
    await redis.hset(keys.sale, { startsAt, fcodeOpensAt: startsAt, reservationClosesAt: startsAt });
    const load = loadFor(context, 'baseline', run, baseline, saleId, importSeconds, startsAt);
    await load.run();
    await load.stopSampling();
    const [general, fcode, generalRemaining, fcodeRemaining, unitsSold, accepted] = (await redis.hmget(keys.sale, 'general', 'fcode', 'generalRemaining', 'fcodeRemaining', 'unitsSold', 'accepted')).map(Number);
    // No database behind the baseline: its orders stay in the stream, so only the stock is checked.
    const stats: SaleStats = {
      saleId,
      phase: 'live',
      stock: { general, fcode, generalRemaining, fcodeRemaining },
      unitsSold,
      reservations: settings.reserved,
      orders: { pending_payment: accepted, paid: 0, expired: 0, cancelled: 0, persisted: accepted },
    };
    return { ...load.result(), persist: null, stockCheck: checkStock(stats) };
  } finally {
    await baseline.stop();
  }
}

/** Drops the Redis state of the benchmark's sales when nothing else will ever read it. */
async function forgetSales(redis: Redis, redisKeys: RedisKeys, saleIds: string[]): Promise<void> {
  for (const saleId of saleIds) {
    const tag = redisKeys.forSale(saleId).tag;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${tag.replace(/[*?[\]]/g, '\\$&')}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.srem(redisKeys.salesIndex, saleId);
  }
  // The invocation's database is gone with its scratch folder: so is its binding.
  await redis.del(redisKeys.deployment, redisKeys.salesIndex);
}

/** Waits for the profiler's file to be complete and summarises it. */
async function readProfile(file: string): Promise<BenchResult['profile']> {
  const deadline = Date.now() + 30_000;
  let lastSize = -1;
  while (Date.now() < deadline) {
    const size = existsSync(file) ? statSync(file).size : -1;
    if (size > 0 && size === lastSize) {
      const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
      return { file, ...summary };
    }
    lastSize = size;
    await sleep(250);
  }
  log(`no CPU profile appeared at ${file}`);
  return null;
}

function printSpread(label: string, values: { min: number; median: number; max: number } | null, format: (value: number) => string): void {
  log(`  ${label.padEnd(22)} ${values ? `${format(values.min)} / ${format(values.median)} / ${format(values.max)}` : '–'}`);
}

async function main(): Promise<number> {
  const mode = parseMode(process.argv[2]);
  const settings = benchSettings(mode, process.env);
  const startedAt = new Date();
  const loadAverageBefore = loadavg();
  const command = `npm run ${mode === 'full' ? 'bench' : `bench:${mode}`}`;
  log(`Sellout ${command}: ${settings.stock.toLocaleString('en-US')} units, ${settings.reserved.toLocaleString('en-US')} reserved buyers, ${settings.runs} run(s), ${settings.connections} connections`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadAverageBefore.map((value) => value.toFixed(2)).join(' ')}`);

  ensureBuilt(settings.build, log, settings.distDir);
  const resultsDir = resolve(settings.resultsDir);
  mkdirSync(resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const serviceLog = join(resultsDir, `${stamp}-${mode}-service.log`);
  const scratch = join(tmpdir(), `sellout-bench-${stamp}`);
  mkdirSync(scratch, { recursive: true });
  const redisHandle = await obtainRedis(settings.redisUrl, log, redisPersistenceArgs(settings.durability), scratch, settings.durability.startsWith('replicas'));
  const databaseUrl = settings.databaseUrl ?? `sqlite:${join(scratch, 'sellout.sqlite')}`;
  const jwtSecret = randomBytes(24).toString('hex');
  const cpuProfileFile = settings.cpuProfile ? join(resultsDir, `${stamp}-${mode}-service.cpuprofile`) : undefined;
  const distDir = snapshotDist(settings.distDir, join(resultsDir, `.dist-${stamp}`));
  // Also on a failed start, which leaves before the cleanup below.
  process.on('exit', () => rmSync(distDir, { recursive: true, force: true }));
  const serviceEnv = {
    NODE_ENV: 'production',
    REDIS_URL: redisHandle.url,
    REDIS_DURABILITY: serviceDurability(settings.durability),
    DATABASE_URL: databaseUrl,
    DATA_DIR: scratch,
    // Each invocation has a database of its own (unless DATABASE_URL), so a keyspace of its own too: a
    // Redis keeps the binding of a prefix to the database that first used it.
    REDIS_KEY_PREFIX: `bench-${randomBytes(6).toString('hex')}`,
    JWT_SECRET: jwtSecret,
    FCODE_SECRET: randomBytes(24).toString('hex'),
    LOG_LEVEL: settings.logLevel,
    ORDER_WRITER_ENABLED: String(settings.writer !== 'process'),
    ORDER_WRITER_THREAD: String(settings.writer === 'thread'),
  };
  const service = await startService(distDir, serviceEnv, serviceLog, cpuProfileFile);
  const worker = settings.writer === 'process' ? await startWorker(distDir, serviceEnv, join(resultsDir, `${stamp}-${mode}-worker.log`)) : undefined;
  log(`service pid ${service.pid} at ${service.url} (REDIS_DURABILITY=${serviceDurability(settings.durability)}, ${settings.databaseUrl ? 'DATABASE_URL' : 'embedded database'}, order writer ${worker ? `in its own process, pid ${worker.pid}` : settings.writer === 'thread' ? 'on its own thread in the service' : "on the service's event loop"}, log ${serviceLog})`);

  const redis = new Redis(redisHandle.url);
  const tag = runTag();
  const buyerPrefix = `bench-${tag}-`;
  const minted = Date.now();
  const authorizations = distinctIndexes(settings.tokenPool, settings.reserved).map((index) => `Bearer ${mintToken(jwtSecret, buyerId(buyerPrefix, index))}`);
  log(`minted ${authorizations.length.toLocaleString('en-US')} buyer tokens in ${((Date.now() - minted) / 1000).toFixed(1)} s`);
  const opsToken = mintToken(jwtSecret, 'bench-ops', ['ops']);
  const context: Context = {
    settings,
    service,
    worker,
    cpuProfileFile,
    redis,
    keys: new RedisKeys(serviceEnv.REDIS_KEY_PREFIX),
    admin: new AdminClient(service.url, opsToken),
    serviceUrl: service.url,
    tag,
    buyerPrefix,
    authorizations,
    restart: async () => {
      context.service = await startService(distDir, serviceEnv, serviceLog);
      if (settings.writer === 'process') context.worker = await startWorker(distDir, serviceEnv, join(resultsDir, `${stamp}-${mode}-worker.log`));
      context.admin = new AdminClient(context.service.url, opsToken);
      context.serviceUrl = context.service.url;
    },
  };

  const runs: RunResult[] = [];
  const baselines: RunResult[] = [];
  let profile: BenchResult['profile'] = null;
  const measureBaseline = async (run: number) => {
    const result = await baselineRun(context, run, jwtSecret, redisHandle.url, join(resultsDir, `${stamp}-${mode}-baseline.log`));
    baselines.push(result);
    log(runLine(result, settings.runs));
  };
  try {
    for (let run = 1; run <= settings.runs; run += 1) {
      const result = await serviceRun(context, run);
      runs.push(result);
      log(runLine(result, settings.runs));
      if (run === 1 && cpuProfileFile) profile = await readProfile(cpuProfileFile);
      if (settings.baseline && settings.baselineEachRun) {
        // Service and baseline take turns, so that both see the machine as it is at that moment.
        await measureBaseline(run);
        if (run < settings.runs) await context.restart();
      }
    }
    if (settings.baseline && !settings.baselineEachRun) await measureBaseline(1);
  } finally {
    await context.service.stop();
    await context.worker?.stop();
    if (!redisHandle.private && !settings.databaseUrl) await forgetSales(redis, context.keys, [...runs, ...baselines].map((run) => run.saleId));
    redis.disconnect();
    await redisHandle.stop();
    if (!settings.databaseUrl) rmSync(scratch, { recursive: true, force: true });
    rmSync(distDir, { recursive: true, force: true });
  }

  const finishedAt = new Date();
  const baseline = medianRun(baselines);
  const partial = {
    mode,
    runs,
    baselines,
    baseline,
    aggregate: aggregateRuns(runs, baselines),
    totalSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
  };
  const result: BenchResult = {
    ...partial,
    command,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      redis: `${redisHandle.version}${redisHandle.private ? ' (private)' : ''}`,
      database: settings.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : 'embedded SQLite',
      loadAverageBefore,
      loadAverageAfter: loadavg(),
    },
    settings: Object.fromEntries(Object.entries(settings).filter(([name]) => name !== 'redisUrl' && name !== 'databaseUrl')) as Record<string, string | number | boolean>,
    targets: evaluateTargets(partial, settings.stock),
    profile,
    failures: failuresOf(runs, baselines),
  };

  const jsonFile = join(resultsDir, `${stamp}-${mode}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  let htmlFile: string | undefined;
  if (settings.htmlReport) {
    htmlFile = join(resultsDir, `${stamp}-${mode}.html`);
    writeFileSync(htmlFile, renderReport(result));
  }

  log('');
  log(`min / median / max over ${runs.length} run(s):`);
  printSpread('sell-out', result.aggregate.sellOutMs, (value) => `${(value / 1000).toFixed(2)} s`);
  printSpread('purchase requests/s', result.aggregate.requestsPerSecond, (value) => Math.round(value).toLocaleString('en-US'));
  printSpread('accepted/s', result.aggregate.acceptedPerSecond, (value) => Math.round(value).toLocaleString('en-US'));
  printSpread('p99 (ms)', result.aggregate.p99Ms, (value) => value.toFixed(1));
  if (baselines.length > 1) printSpread('baseline requests/s', spread(baselines.map((run) => run.sellOutWindow.requestsPerSecond)), (value) => Math.round(value).toLocaleString('en-US'));
  if (result.aggregate.baselineRatio !== null) {
    const bare = spread(baselines.map((run) => run.sellOutWindow.requestsPerSecond))?.median ?? 0;
    log(`  ${'vs baseline'.padEnd(22)} ${result.aggregate.baselineRatio.toFixed(2)}× (${Math.round(bare).toLocaleString('en-US')} req/s bare${baselines.length > 1 ? ', medians' : ''})`);
  }
  if (result.aggregate.cpuCostRatio !== null) {
    const serviceCost = spread(runs.map((run) => run.cpu?.serverMicrosPerResponse ?? Number.NaN));
    const baselineCost = spread(baselines.map((run) => run.cpu?.serverMicrosPerResponse ?? Number.NaN));
    log(`  ${'CPU per response'.padEnd(22)} service ${Math.round(serviceCost?.median ?? 0)} µs, baseline ${Math.round(baselineCost?.median ?? 0)} µs (${result.aggregate.cpuCostRatio.toFixed(2)}×)`);
  }
  if (profile) {
    log(`service CPU during the first sell-out (${profile.seconds.toFixed(1)} s profiled, ${profile.file}):`);
    log(`  by area:     ${profile.byArea.slice(0, 10).map((share) => `${share.name} ${share.percent.toFixed(1)}%`).join(', ')}`);
    for (const share of profile.byFunction.slice(0, 12)) log(`  ${share.percent.toFixed(1).padStart(5)}%  ${share.name}`);
  }
  log('targets:');
  for (const target of result.targets) log(`  ${target.met ? 'MET   ' : 'MISSED'} ${target.name}: ${target.value} (wanted ${target.target})`);
  for (const failure of result.failures) log(`FAILURE: ${failure}`);
  log(`results: ${jsonFile}${htmlFile ? `, ${htmlFile}` : ''}`);
  log(oneLineSummary(result));
  return result.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);

import Redis, { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SaleStats } from '@sellout/contract';
import { checkStock, type StockFigures } from '../load-tests/lib/invariants';
import { buyerId, runTag, saleDraft } from '../load-tests/lib/payloads';
import { AdmissionTokens } from '../src/admission/admission-token';
import { Clock } from '../src/common/clock';
import type { AppConfig } from '../src/config/app-config';
import type { LiveGateway } from '../src/live/live.gateway';
import { TimelineRecorder } from '../src/live/timeline-recorder';
import type { TimelineRepository } from '../src/live/timeline.repository';
import { RedisKeys } from '../src/redis/redis-keys';
import { AdminClient } from './admin-client';
import { ChildHandle, ClusterHandle, ensureBuilt, obtainRedis, RedisHandle, sleep, snapshotDist, startBaseline, startClusterRedis, startService, startWorker } from './processes';
import { cpuSnapshot, type BenchRedis, type CpuSnapshot } from './cpu-usage';
import { CpuProfile, summarizeProfile } from './profile-summary';
import { renderReport } from './report';
import { SellOutLoad } from './sell-out';
import { benchSettings, BenchSettings, redisPersistenceArgs, redisTopology, serviceDurability } from './settings';
import { spread } from './statistics';
import { aggregateRuns, costLines, evaluateTargets, failuresOf, medianRun, oneLineSummary, runLine } from './summary';
import { distinctIndexes, mintToken } from './tokens';
import type { BenchMode, BenchResult, LoadGenerator, PersistResult, RunResult } from './types';
import { wrkAvailable } from './wrk';

/**
 * The launch rehearsal on one machine: builds and starts the service as `npm run start:prod` would,
 * creates a sale per run with STOCK units and RESERVED reserved buyers (through the import route),
 * sells it out under load from many connections, waits for the order writer, checks the stock, and
 * finally measures the bare baseline. Writes `bench/results/<date>.json` (and `.html`), prints a line
 * per run, min/median/max, the targets and a one-line summary. Exits 1 on any correctness failure.
 *
 *   npm run bench | npm run bench:purchase | npm run bench:smoke | npm run bench:sse   (variables: bench/README.md)
 */

const log = (line: string) => process.stdout.write(`${line}\n`);
const DAY_MS = 24 * 3600_000;

function parseMode(argument: string | undefined): BenchMode {
  if (argument === 'full' || argument === 'purchase' || argument === 'smoke') return argument;
  throw new Error(`usage: bench/run.ts full|purchase|smoke|sse (got "${argument ?? ''}")`);
}

interface Context {
  settings: BenchSettings;
  service: ChildHandle;
  /** The standalone order writer (BENCH_WRITER=process). */
  worker?: ChildHandle;
  /** Where the service writes its CPU profile of the first sell-out (BENCH_CPU_PROFILE=true). */
  cpuProfileFile?: string;
  redis: BenchRedis;
  /** The keys of this invocation's deployment (its own REDIS_KEY_PREFIX, bound to its own database). */
  keys: RedisKeys;
  admin: AdminClient;
  serviceUrl: string;
  tag: string;
  buyerPrefix: string;
  authorizations: string[];
  /** The buyer ids behind `authorizations`, in the same order. */
  buyers: string[];
  /** Signs admission tokens as the service does (BENCH_ADMISSION=queue). */
  admissionTokens: AdmissionTokens;
  generator: LoadGenerator;
  /** The authorizations, one per line, for wrk. */
  tokensFile: string;
  scratch: string;
  /** Starts the service (and the standalone writer, if any) again after a baseline run stopped them. */
  restart: () => Promise<void>;
}

/** A sale created and filled through the service's admin routes, starting far in the future. */
async function prepareSale(context: Context, label: string, admission: 'open' | 'queue' = 'open'): Promise<{ saleId: string; importSeconds: number }> {
  const { settings, admin } = context;
  const now = Date.now();
  const farStart = now + DAY_MS;
  // `admission` is sent only when it is not the default: builds from before admission modes (run with
  // BENCH_DIST_DIR to compare against) refuse a field they do not know.
  const sale = await admin.createSale({
    ...saleDraft({ label, stock: settings.stock, perUserLimit: 1, reservationOpensAt: now - 60_000, reservationClosesAt: farStart, fcodeOpensAt: farStart, startsAt: farStart, endsAt: farStart + DAY_MS }),
    ...(admission === 'open' ? {} : { admission }),
  });
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
    // Every buyer holds a valid token: the run measures the check, not refusals.
    admissionTokens:
      target === 'service' && settings.admission === 'queue'
        ? context.buyers.map((userId) => context.admissionTokens.sign({ saleId, userId, expiresAt: startsAt + DAY_MS }))
        : undefined,
    perUserLimit: 1,
    connections: settings.connections,
    warmupMs: settings.warmupMs,
    pollRate: target === 'service' ? settings.pollRate : 0,
    pollConnections: settings.pollConnections,
    idempotencyKeys: settings.idempotencyKeys,
    sampleIntervalMs: settings.sampleIntervalMs,
    soldOutTailMs: settings.soldOutTailMs,
    maxRunMs: settings.maxRunMs,
    generator: context.generator,
    tokensFile: context.tokensFile,
    generatorThreads: settings.loadThreads,
    scratchDir: context.scratch,
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
  const { saleId, importSeconds } = await prepareSale(context, `bench-${context.tag}-run${run}`, settings.admission);
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
  const writer = writerCost(load.startCpu, await cpuSnapshot(context.service.pid, context.redis, context.worker?.pid), persist.ordersPersisted);
  await load.stopSampling();
  if (load.samplingError) log(`  sampling Redis failed at least once: ${load.samplingError}`);
  const stats = await context.admin.stats(saleId);
  return { ...load.result(), persist, stockCheck: checkStock(stats), writer };
}

/**
 * The order writer's CPU per order, from the sale's start until the last order was in the database: its
 * own process's, or on its thread the service's threads other than the main one (GC helper threads
 * included, so a little more than the writer's).
 */
function writerCost(from: CpuSnapshot | null, to: CpuSnapshot, orders: number): RunResult['writer'] {
  if (!from || orders === 0) return null;
  if (from.writer !== undefined && to.writer !== undefined) {
    return from.writer === null || to.writer === null ? null : { microsPerOrder: ((to.writer - from.writer) * 1e6) / orders, measuredAs: 'process' };
  }
  if (from.server === null || to.server === null || !from.serverMain || !to.serverMain) return null;
  const otherThreads = to.server - to.serverMain - (from.server - from.serverMain);
  return { microsPerOrder: (otherThreads * 1e6) / orders, measuredAs: 'other threads' };
}

/**
 * The baseline sells a sale prepared by the service (so its Redis state is exactly the service's),
 * with the service stopped so that both get the machine to themselves. Its start is set in the sale's
 * hash directly: nothing else is running that could read it.
 */
async function baselineRun(context: Context, run: number, jwtSecret: string, redisUrl: string, logFile: string, cpuProfileFile?: string): Promise<RunResult> {
  const { settings, redis } = context;
  const { saleId, importSeconds } = await prepareSale(context, `bench-${context.tag}-baseline${run}`);
  await context.service.stop();
  await context.worker?.stop();
  const baseline = await startBaseline(redisUrl, jwtSecret, context.keys.prefix, logFile, cpuProfileFile);
  try {
    const startsAt = Date.now() + settings.startLeadMs + settings.warmupMs;
    const keys = context.keys.forSale(saleId);
    await redis.hset(keys.sale, { startsAt, fcodeOpensAt: startsAt, reservationClosesAt: startsAt });
    const load = loadFor(context, 'baseline', run, baseline, saleId, importSeconds, startsAt);
    const profileStart = cpuProfileFile ? setTimeout(() => baseline.send({ cpuProfile: 'start' }), Math.max(0, startsAt - Date.now())) : undefined;
    await load.run();
    if (cpuProfileFile) {
      clearTimeout(profileStart);
      baseline.send({ cpuProfile: 'stop' });
    }
    await load.stopSampling();
    const [general, fcode, generalRemaining, fcodeRemaining, unitsSold, accepted] = (await redis.hmget(keys.sale, 'general', 'fcode', 'generalRemaining', 'fcodeRemaining', 'unitsSold', 'accepted')).map(Number);
    // No database behind the baseline: its orders stay in the stream, so only the stock is checked.
    const stats: StockFigures = {
      stock: { general, fcode, generalRemaining, fcodeRemaining },
      unitsSold,
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

/**
 * Whether the service records the sale timeline in this run (BENCH_TIMELINE). `ab` runs off, on, on, off,
 * off, on, …: each setting comes first as often as last, so a machine that slows down (or speeds up)
 * over the benchmark does not favour either.
 */
function timelineOn(settings: BenchSettings, run: number): boolean {
  return settings.timeline === 'ab' ? run % 4 === 2 || run % 4 === 3 : settings.timeline === 'on';
}

/** BENCH_TIMELINE=ab: the service's CPU per response with the timeline off and on. */
function printTimelineCost(settings: BenchSettings, runs: RunResult[]): void {
  const cost = (on: boolean) => spread(runs.filter((_run, index) => timelineOn(settings, index + 1) === on).map((run) => run.cpu?.serverMicrosPerResponse ?? Number.NaN));
  const off = cost(false);
  const on = cost(true);
  log('timeline (BENCH_TIMELINE=ab), service CPU per response, min / median / max:');
  printSpread('timeline off', off, (value) => `${Math.round(value)} µs`);
  printSpread('timeline on', on, (value) => `${Math.round(value)} µs`);
  if (off && on) log(`  ${'cost of the timeline'.padEnd(22)} ${(((on.median - off.median) / off.median) * 100).toFixed(1)}% of CPU per response (medians)`);
  // The difference of two noisy medians cannot resolve a fraction of a percent; the counting the purchase
  // path does is also timed on its own here, against the same CPU per response.
  const nanos = timelineRecordNanos();
  const perResponse = off?.median ?? Number.NaN;
  log(`  ${'counting, timed alone'.padEnd(22)} ${nanos.toFixed(0)} ns per purchase = ${((nanos / 1000 / perResponse) * 100).toFixed(3)}% of ${Math.round(perResponse)} µs`);
}

/** Nanoseconds of CPU per `TimelineRecorder.record` (the purchase path's share of the timeline), over 2,000,000 calls on 20 sales. */
function timelineRecordNanos(): number {
  const config = { timelineEnabled: true } as AppConfig;
  const recorder = new TimelineRecorder({} as TimelineRepository, {} as LiveGateway, new Clock(), config);
  const sales = Array.from({ length: 20 }, (_, index) => `s_bench${index}`);
  const outcomes = ['CREATED', 'SOLD_OUT', 'LIMIT_REACHED'];
  const calls = 2_000_000;
  const started = process.cpuUsage();
  for (let call = 0; call < calls; call += 1) recorder.record(sales[call % sales.length], outcomes[call % outcomes.length]);
  const used = process.cpuUsage(started);
  return ((used.user + used.system) * 1000) / calls;
}

/** One Redis topology the service runs on: its Redis, the service's environment for it, and a client for the harness. */
interface Deployment {
  topology: 'node' | 'cluster';
  env: Record<string, string>;
  redis: BenchRedis;
  keys: RedisKeys;
}

function deploymentOn(handle: RedisHandle | ClusterHandle, env: Record<string, string>): Deployment {
  const keys = new RedisKeys(env.REDIS_KEY_PREFIX);
  if ('url' in handle) return { topology: 'node', env: { ...env, REDIS_URL: handle.url }, redis: new Redis(handle.url), keys };
  const redis = new Cluster(handle.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })), { scaleReads: 'master' });
  return { topology: 'cluster', env: { ...env, REDIS_CLUSTER_NODES: handle.nodes.join(',') }, redis, keys };
}

/** The environment of a second deployment: its own embedded database and key prefix (a given DATABASE_URL is shared). */
function ownDatabase(env: Record<string, string>, scratch: string, name: string, databaseUrl: string | undefined): Record<string, string> {
  const dataDir = join(scratch, name);
  mkdirSync(dataDir, { recursive: true });
  return { ...env, DATA_DIR: dataDir, DATABASE_URL: databaseUrl ?? `sqlite:${join(dataDir, 'sellout.sqlite')}`, REDIS_KEY_PREFIX: `bench-${randomBytes(6).toString('hex')}` };
}

/** BENCH_REDIS=ab: throughput and CPU per response on a Redis Cluster against one Redis server. */
function printClusterCost(runs: RunResult[]): void {
  const median = (topology: 'node' | 'cluster', value: (run: RunResult) => number | null | undefined) => spread(runs.filter((run) => run.redisTopology === topology).map((run) => value(run) ?? Number.NaN))?.median ?? Number.NaN;
  const rate = (run: RunResult) => run.sellOutWindow.requestsPerSecond;
  // CPU of the sell-out phase: the service's process tree, and Redis summed over every node.
  const sellOut = (run: RunResult) => run.phases?.find((phase) => phase.name === 'sellOut');
  const serviceCpu = (run: RunResult) => sellOut(run)?.serverMicrosPerResponse;
  const redisCpu = (run: RunResult) => sellOut(run)?.redisMicrosPerResponse;
  const bothCpu = (run: RunResult) => (serviceCpu(run) ?? Number.NaN) + (redisCpu(run) ?? Number.NaN);
  log('Redis topology (BENCH_REDIS=ab), medians, cluster against one node (CPU per response of the sell-out):');
  const rows: [string, (run: RunResult) => number | null | undefined, (value: number) => string][] = [
    ['purchase requests/s', rate, (value) => Math.round(value).toLocaleString('en-US')],
    ['service CPU/response', serviceCpu, (value) => `${Math.round(value)} µs`],
    ['Redis CPU/response', redisCpu, (value) => `${Math.round(value)} µs`],
    ['service + Redis CPU', bothCpu, (value) => `${Math.round(value)} µs`],
  ];
  for (const [label, value, format] of rows) {
    const node = median('node', value);
    const cluster = median('cluster', value);
    log(`  ${label.padEnd(22)} node ${format(node)}, cluster ${format(cluster)} (${(cluster / node).toFixed(2)}×)`);
  }
}

/** wrk when asked for, or on `auto` when it is installed; autocannon otherwise. */
function chooseGenerator(choice: BenchSettings['loadGenerator']): LoadGenerator {
  if (choice === 'autocannon') return 'autocannon';
  if (wrkAvailable()) return 'wrk';
  if (choice === 'wrk') throw new Error('LOAD_GENERATOR=wrk but wrk is not on PATH (Debian/Ubuntu: apt-get install wrk)');
  return 'autocannon';
}

function printSpread(label: string, values: { min: number; median: number; max: number } | null, format: (value: number) => string): void {
  log(`  ${label.padEnd(22)} ${values ? `${format(values.min)} / ${format(values.median)} / ${format(values.max)}` : '–'}`);
}

async function main(): Promise<number> {
  // Idle live-update streams: a benchmark of its own (bench/sse.ts), not a sell-out.
  if (process.argv[2] === 'sse') return (await import('./sse')).runSseBench();
  const mode = parseMode(process.argv[2]);
  const settings = benchSettings(mode, process.env);
  const startedAt = new Date();
  const loadAverageBefore = loadavg();
  const command = `npm run ${mode === 'full' ? 'bench' : `bench:${mode}`}`;
  log(`Sellout ${command}: ${settings.stock.toLocaleString('en-US')} units, ${settings.reserved.toLocaleString('en-US')} reserved buyers, ${settings.runs} run(s), ${settings.connections} connections, admission ${settings.admission}`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadAverageBefore.map((value) => value.toFixed(2)).join(' ')}`);

  const generator = chooseGenerator(settings.loadGenerator);
  // wrk sends the bearer tokens from a file and nothing per buyer besides: no admission tokens.
  if (settings.admission === 'queue' && generator === 'wrk') throw new Error('BENCH_ADMISSION=queue needs LOAD_GENERATOR=autocannon (wrk sends no Admission-Token)');
  log(`load generator: ${generator === 'wrk' ? `wrk (${settings.loadThreads} thread(s))` : 'autocannon (in this process)'}${settings.loadGenerator === 'auto' && generator === 'autocannon' ? ': wrk is not installed' : ''}`);
  ensureBuilt(settings.build, log, settings.distDir);
  const resultsDir = resolve(settings.resultsDir);
  mkdirSync(resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const serviceLog = join(resultsDir, `${stamp}-${mode}-service.log`);
  const scratch = join(tmpdir(), `sellout-bench-${stamp}`);
  mkdirSync(scratch, { recursive: true });
  const redisHandle = settings.redis === 'cluster' ? undefined : await obtainRedis(settings.redisUrl, log, redisPersistenceArgs(settings.durability), scratch, settings.durability.startsWith('replicas'));
  const clusterHandle = settings.redis === 'node' ? undefined : await startClusterRedis(log);
  const databaseUrl = settings.databaseUrl ?? `sqlite:${join(scratch, 'sellout.sqlite')}`;
  const jwtSecret = randomBytes(24).toString('hex');
  const cpuProfileFile = settings.cpuProfile ? join(resultsDir, `${stamp}-${mode}-service.cpuprofile`) : undefined;
  const distDir = snapshotDist(settings.distDir, join(resultsDir, `.dist-${stamp}`));
  // Also on a failed start, which leaves before the cleanup below.
  process.on('exit', () => rmSync(distDir, { recursive: true, force: true }));
  const fcodeSecret = randomBytes(24).toString('hex');
  const commonEnv = {
    NODE_ENV: 'production',
    REDIS_DURABILITY: serviceDurability(settings.durability),
    DATABASE_URL: databaseUrl,
    DATA_DIR: scratch,
    // Each invocation has a database of its own (unless DATABASE_URL), so a keyspace of its own too: a
    // Redis keeps the binding of a prefix to the database that first used it.
    REDIS_KEY_PREFIX: `bench-${randomBytes(6).toString('hex')}`,
    JWT_SECRET: jwtSecret,
    FCODE_SECRET: fcodeSecret,
    LOG_LEVEL: settings.logLevel,
    ORDER_WRITER_ENABLED: String(settings.writer !== 'process'),
    ORDER_WRITER_THREAD: String(settings.writer === 'thread'),
    WEB_CONCURRENCY: String(settings.webConcurrency),
    TIMELINE_ENABLED: String(timelineOn(settings, 1)),
  };
  // With BENCH_REDIS=ab each topology has a database (and data folder) of its own, as two deployments would.
  const deployments = {
    node: redisHandle ? deploymentOn(redisHandle, { ...commonEnv }) : undefined,
    cluster: clusterHandle ? deploymentOn(clusterHandle, settings.redis === 'ab' ? ownDatabase(commonEnv, scratch, 'cluster', settings.databaseUrl) : { ...commonEnv }) : undefined,
  };
  const deploymentFor = (run: number): Deployment => {
    const deployment = deployments[redisTopology(settings, run)];
    if (!deployment) throw new Error(`no ${redisTopology(settings, run)} Redis was started`);
    return deployment;
  };
  let deployment = deploymentFor(1);
  let serviceEnv = deployment.env;
  const service = await startService(distDir, serviceEnv, serviceLog, cpuProfileFile);
  const worker = settings.writer === 'process' ? await startWorker(distDir, serviceEnv, join(resultsDir, `${stamp}-${mode}-worker.log`), settings.cpuProfile ? resultsDir : undefined) : undefined;
  log(`service pid ${service.pid} at ${service.url} (Redis ${deployment.topology}, WEB_CONCURRENCY=${settings.webConcurrency}, REDIS_DURABILITY=${serviceDurability(settings.durability)}, ${settings.databaseUrl ? 'DATABASE_URL' : 'embedded database'}, order writer ${worker ? `in its own process, pid ${worker.pid}` : settings.writer === 'thread' ? 'on its own thread in the service' : "on the service's event loop"}, log ${serviceLog})`);

  const tag = runTag();
  const buyerPrefix = `bench-${tag}-`;
  const minted = Date.now();
  const buyers = distinctIndexes(settings.tokenPool, settings.reserved).map((index) => buyerId(buyerPrefix, index));
  const authorizations = buyers.map((userId) => `Bearer ${mintToken(jwtSecret, userId)}`);
  log(`minted ${authorizations.length.toLocaleString('en-US')} buyer tokens in ${((Date.now() - minted) / 1000).toFixed(1)} s`);
  const tokensFile = join(scratch, 'authorizations.txt');
  if (generator === 'wrk') writeFileSync(tokensFile, `${authorizations.join('\n')}\n`);
  const opsToken = mintToken(jwtSecret, 'bench-ops', ['ops']);
  const context: Context = {
    settings,
    service,
    worker,
    cpuProfileFile,
    redis: deployment.redis,
    keys: deployment.keys,
    admin: new AdminClient(service.url, opsToken),
    serviceUrl: service.url,
    tag,
    buyerPrefix,
    authorizations,
    buyers,
    admissionTokens: new AdmissionTokens(jwtSecret),
    generator,
    tokensFile,
    scratch,
    restart: async () => {
      context.redis = deployment.redis;
      context.keys = deployment.keys;
      context.service = await startService(distDir, serviceEnv, serviceLog);
      if (settings.writer === 'process') context.worker = await startWorker(distDir, serviceEnv, join(resultsDir, `${stamp}-${mode}-worker.log`));
      context.admin = new AdminClient(context.service.url, opsToken);
      context.serviceUrl = context.service.url;
    },
  };

  const runs: RunResult[] = [];
  const baselines: RunResult[] = [];
  let profile: BenchResult['profile'] = null;
  let baselineProfile: BenchResult['profile'] = null;
  const baselineProfileFile = settings.cpuProfile ? join(resultsDir, `${stamp}-${mode}-baseline.cpuprofile`) : undefined;
  const measureBaseline = async (run: number) => {
    const profiling = run === 1 ? baselineProfileFile : undefined;
    if (!redisHandle) throw new Error('the baseline needs a single Redis server');
    const result = await baselineRun(context, run, jwtSecret, redisHandle.url, join(resultsDir, `${stamp}-${mode}-baseline.log`), profiling);
    if (profiling) baselineProfile = await readProfile(profiling);
    baselines.push(result);
    log(runLine(result, settings.runs));
    for (const line of costLines(result)) log(line);
  };
  try {
    for (let run = 1; run <= settings.runs; run += 1) {
      const result: RunResult = { ...(await serviceRun(context, run)), redisTopology: deployment.topology };
      runs.push(result);
      log(runLine(result, settings.runs));
    for (const line of costLines(result)) log(line);
      if (run === 1 && cpuProfileFile) profile = await readProfile(cpuProfileFile);
      // The next run's timeline setting and Redis take effect at the restart before it.
      for (const next of Object.values(deployments)) if (next) next.env.TIMELINE_ENABLED = String(timelineOn(settings, run + 1));
      deployment = deploymentFor(Math.min(run + 1, settings.runs));
      serviceEnv = deployment.env;
      if (settings.baseline && settings.baselineEachRun) {
        // Service and baseline take turns, so that both see the machine as it is at that moment.
        await measureBaseline(run);
        if (run < settings.runs) await context.restart();
      } else if ((settings.timeline === 'ab' || settings.redis === 'ab') && run < settings.runs) {
        await context.service.stop();
        await context.worker?.stop();
        await context.restart();
      }
    }
    if (settings.baseline && !settings.baselineEachRun) await measureBaseline(1);
  } finally {
    await context.service.stop();
    await context.worker?.stop();
    if (redisHandle && deployments.node && !redisHandle.private && !settings.databaseUrl) await forgetSales(deployments.node.redis as Redis, deployments.node.keys, [...runs, ...baselines].filter((run) => run.redisTopology !== 'cluster').map((run) => run.saleId));
    for (const opened of Object.values(deployments)) opened?.redis.disconnect();
    await redisHandle?.stop();
    await clusterHandle?.stop();
    rmSync(tokensFile, { force: true });
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
      redis: [redisHandle && `${redisHandle.version}${redisHandle.private ? ' (private)' : ''}`, clusterHandle && `${clusterHandle.version} Cluster, 3 masters + 3 replicas (private)`].filter(Boolean).join(' and '),
      database: settings.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : 'embedded SQLite',
      loadAverageBefore,
      loadAverageAfter: loadavg(),
    },
    settings: Object.fromEntries(Object.entries(settings).filter(([name]) => name !== 'redisUrl' && name !== 'databaseUrl')) as Record<string, string | number | boolean>,
    targets: evaluateTargets(partial, settings.stock),
    profile,
    baselineProfile,
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
  if (settings.timeline === 'ab') printTimelineCost(settings, runs);
  if (settings.redis === 'ab') printClusterCost(runs);
  for (const [name, summary] of [['service', profile], ['baseline', baselineProfile]] as const) {
    if (!summary) continue;
    log(`${name} CPU during the first sell-out (${summary.seconds.toFixed(1)} s profiled, ${summary.file}):`);
    log(`  by area:     ${summary.byArea.slice(0, 10).map((share) => `${share.name} ${share.percent.toFixed(1)}%`).join(', ')}`);
    for (const share of summary.byFunction.slice(0, 12)) log(`  ${share.percent.toFixed(1).padStart(5)}%  ${share.name}`);
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

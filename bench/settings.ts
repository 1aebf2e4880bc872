import { Env, envBool, envChoice, envInt, envString } from '../load-tests/lib/env';
import type { BenchMode } from './types';

/**
 * What a benchmark does, from its mode and the environment. `full` is the launch rehearsal (`npm run
 * bench`), `purchase` the hot-path benchmark (`npm run bench:purchase`: three sell-outs, each followed
 * by a baseline sell-out, no polling, no HTML), `smoke` a few-seconds version for CI (`npm run
 * bench:smoke`).
 */
/**
 * How the benchmark's private Redis persists, and the service's REDIS_DURABILITY to match: `none`; an
 * append-only file synced every second or on every write; or one replica that every answer `WAIT`s for.
 */
export const BENCH_DURABILITIES = ['none', 'aof-everysec', 'aof-always', 'replicas:1'] as const;
export type BenchDurability = (typeof BENCH_DURABILITIES)[number];

/** REDIS_DURABILITY of the service for a benchmark durability. */
export function serviceDurability(durability: BenchDurability): string {
  return durability.startsWith('aof') ? 'aof' : durability;
}

/** redis-server arguments of the benchmark's private Redis for a benchmark durability. */
export function redisPersistenceArgs(durability: BenchDurability): string[] {
  if (durability === 'aof-everysec') return ['--appendonly', 'yes', '--appendfsync', 'everysec'];
  if (durability === 'aof-always') return ['--appendonly', 'yes', '--appendfsync', 'always'];
  return ['--appendonly', 'no'];
}

export interface BenchSettings {
  mode: BenchMode;
  stock: number;
  reserved: number;
  runs: number;
  connections: number;
  /** Distinct reserved buyers the purchases are drawn from (with replacement, so some click twice). */
  tokenPool: number;
  pollRate: number;
  pollConnections: number;
  warmupMs: number;
  startLeadMs: number;
  soldOutTailMs: number;
  maxRunMs: number;
  persistTimeoutMs: number;
  sampleIntervalMs: number;
  idempotencyKeys: boolean;
  baseline: boolean;
  /** A baseline run after every service run (the service is restarted in between), instead of one at the end. */
  baselineEachRun: boolean;
  htmlReport: boolean;
  logLevel: string;
  build: 'auto' | 'always' | 'never';
  redisUrl: string | undefined;
  databaseUrl: string | undefined;
  resultsDir: string;
  /** Profile the service's CPU during the first sell-out and print where the time went. */
  cpuProfile: boolean;
  /** The build to measure (`dist` by default; another folder, e.g. a branch's build, is used as it is). */
  distDir: string;
  /**
   * Where the order writer runs: `thread`, on its own thread in the service (the default deployment);
   * `inline`, on the service's event loop (ORDER_WRITER_THREAD=false); `process`, as its own process
   * (`npm run start:worker`).
   */
  writer: 'thread' | 'inline' | 'process';
  /** BENCH_DURABILITY: how Redis persists and what the service's answers wait for. */
  durability: BenchDurability;
  /** LOAD_GENERATOR: `auto` (wrk when it is on PATH, autocannon otherwise), `wrk` or `autocannon`. */
  loadGenerator: 'auto' | 'wrk' | 'autocannon';
  /** LOAD_THREADS: wrk's threads. */
  loadThreads: number;
  /** BENCH_WEB_CONCURRENCY: the service's WEB_CONCURRENCY (its HTTP worker processes). */
  webConcurrency: number;
  /**
   * BENCH_TIMELINE: the service's TIMELINE_ENABLED: `on`, `off`, or `ab` — runs off, on, on, off, off, on, …
   * (the service restarted between), to measure what recording the sale timeline costs the purchase path.
   */
  timeline: 'on' | 'off' | 'ab';
  /**
   * BENCH_ADMISSION: `queue` sells the service's sales through a waiting room, every purchase carrying a
   * valid admission token (minted by the harness), to measure the token check; the baseline stays open.
   */
  admission: 'open' | 'queue';
  /**
   * BENCH_REDIS: `node`, one Redis server (REDIS_URL's or a private one); `cluster`, a private 3-master Redis
   * Cluster (one replica each) the service reaches through REDIS_CLUSTER_NODES; or `ab` — runs node, cluster,
   * cluster, node, … (the service restarted between) with the ratios of the two printed.
   */
  redis: 'node' | 'cluster' | 'ab';
}

const DEFAULTS: Record<BenchMode, { stock: number; reserved: number; runs: number; connections: number; pollRate: number; htmlReport: boolean; baselineEachRun: boolean }> = {
  full: { stock: 100_000, reserved: 1_000_000, runs: 3, connections: 128, pollRate: 500, htmlReport: true, baselineEachRun: false },
  purchase: { stock: 100_000, reserved: 1_000_000, runs: 3, connections: 128, pollRate: 0, htmlReport: false, baselineEachRun: true },
  smoke: { stock: 2_000, reserved: 20_000, runs: 1, connections: 32, pollRate: 100, htmlReport: true, baselineEachRun: false },
};

export function benchSettings(mode: BenchMode, env: Env): BenchSettings {
  const defaults = DEFAULTS[mode];
  const redis = envChoice(env, 'BENCH_REDIS', ['node', 'cluster', 'ab'] as const, 'node');
  // The bare baseline speaks to one Redis server only, and the cluster the benchmark starts keeps nothing on disk.
  const baseline = envBool(env, 'BASELINE', redis === 'node');
  if (redis !== 'node' && baseline) throw new Error(`BENCH_REDIS=${redis} runs no baseline: leave BASELINE unset or false`);
  const durability = envChoice(env, 'BENCH_DURABILITY', BENCH_DURABILITIES, 'none');
  if (redis !== 'node' && durability !== 'none') throw new Error(`BENCH_REDIS=${redis} takes BENCH_DURABILITY=none only`);
  const stock = envInt(env, 'STOCK', defaults.stock, 1);
  const reserved = envInt(env, 'RESERVED', defaults.reserved, 1);
  return {
    mode,
    stock,
    reserved,
    runs: envInt(env, 'RUNS', defaults.runs, 1, 100),
    connections: envInt(env, 'CONNECTIONS', defaults.connections, 1, 10_000),
    // Twice the stock: enough distinct buyers to sell out, and some draw the same buyer twice.
    tokenPool: Math.min(reserved, envInt(env, 'TOKEN_POOL', Math.max(2 * stock, 1_000), 1)),
    pollRate: envInt(env, 'POLL_RATE', defaults.pollRate, 0),
    // Each connection waits for its answer, so the rate needs about rate × latency of them.
    pollConnections: envInt(env, 'POLL_CONNECTIONS', 64, 1, 10_000),
    warmupMs: envInt(env, 'WARMUP_MS', 1_000, 0),
    startLeadMs: envInt(env, 'START_LEAD_MS', 500, 0),
    soldOutTailMs: envInt(env, 'SOLD_OUT_TAIL_MS', 1_000, 0),
    maxRunMs: envInt(env, 'MAX_RUN_S', 120, 1) * 1000,
    persistTimeoutMs: envInt(env, 'PERSIST_TIMEOUT_S', 30, 1) * 1000,
    sampleIntervalMs: envInt(env, 'SAMPLE_MS', 200, 20),
    idempotencyKeys: envBool(env, 'IDEMPOTENCY_KEYS', true),
    baseline,
    baselineEachRun: envBool(env, 'BASELINE_EACH_RUN', defaults.baselineEachRun),
    htmlReport: envBool(env, 'HTML_REPORT', defaults.htmlReport),
    logLevel: envChoice(env, 'BENCH_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'warn'),
    build: envChoice(env, 'BENCH_BUILD', ['auto', 'always', 'never'] as const, 'auto'),
    redisUrl: env.REDIS_URL || undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    resultsDir: envString(env, 'RESULTS_DIR', 'bench/results'),
    cpuProfile: envBool(env, 'BENCH_CPU_PROFILE', false),
    distDir: envString(env, 'BENCH_DIST_DIR', 'dist'),
    writer: envChoice(env, 'BENCH_WRITER', ['thread', 'inline', 'process'] as const, 'thread'),
    durability,
    loadGenerator: envChoice(env, 'LOAD_GENERATOR', ['auto', 'wrk', 'autocannon'] as const, 'auto'),
    loadThreads: envInt(env, 'LOAD_THREADS', 1, 1, 64),
    webConcurrency: envInt(env, 'BENCH_WEB_CONCURRENCY', 1, 1, 64),
    timeline: envChoice(env, 'BENCH_TIMELINE', ['on', 'off', 'ab'] as const, 'on'),
    admission: envChoice(env, 'BENCH_ADMISSION', ['open', 'queue'] as const, 'open'),
    redis,
  };
}

/**
 * The Redis a run's service uses (BENCH_REDIS). `ab` runs node, cluster, cluster, node, node, cluster, …:
 * each first as often as last, so a machine that slows down over the benchmark favours neither.
 */
export function redisTopology(settings: Pick<BenchSettings, 'redis'>, run: number): 'node' | 'cluster' {
  if (settings.redis === 'ab') return run % 4 === 2 || run % 4 === 3 ? 'cluster' : 'node';
  return settings.redis;
}

import { DEFAULT_KEY_PREFIX, KEY_PREFIX_PATTERN } from '../redis/redis-keys';

/**
 * The one place that reads `process.env`. Every variable is parsed and checked here at boot; a bad
 * value stops the process with a message that names the variable. Everything else receives a typed
 * `AppConfig` through dependency injection.
 */
export const DEV_JWT_SECRET = 'sellout-dev-secret-change-me';
export const DEV_FCODE_SECRET = 'sellout-dev-fcode-secret-change-me';

export type DatabaseConfig =
  | { kind: 'postgres'; url: string }
  | { kind: 'sqlite'; file: string };

/**
 * What a `201`/`200` waits for before it is sent: `aof` — Redis logs every write to its append-only file
 * (checked at boot; how often it reaches the disk is Redis's `appendfsync`); `replicas` — Redis `WAIT`s
 * until that many replicas have the write; `none` — an acknowledged write is lost if Redis loses its memory.
 */
export type RedisDurability = { mode: 'aof' } | { mode: 'replicas'; replicas: number } | { mode: 'none' };

export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  redisUrl: string;
  /** Seed nodes (`host:port`) of a Redis Cluster (REDIS_CLUSTER_NODES); empty when the service runs on the one node of `redisUrl`. */
  redisClusterNodes: string[];
  /** First part of every Redis key and channel of this deployment (REDIS_KEY_PREFIX). */
  redisKeyPrefix: string;
  database: DatabaseConfig;
  dataDir: string;
  jwtSecret: string;
  fcodeSecret: string;
  authDevTokens: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  bodyLimitBytes: number;
  /** Bodies of every route outside `/api/admin` (buyers, dev tokens): small, refused before parsing. */
  buyerBodyLimitBytes: number;
  redisCommandTimeoutMs: number;
  /** How long an unanswered change is sent again (a replay) to learn its outcome before OUTCOME_UNKNOWN. */
  redisOutcomeProbeMs: number;
  /** After SIGTERM, how long requests are still answered (each closing its connection) before closing. */
  shutdownGraceMs: number;
  redisDurability: RedisDurability;
  orderWriter: { enabled: boolean; thread: boolean; nice: number; batchSize: number; blockMs: number; lingerMs: number; claimIdleMs: number; maxDeliveries: number };
  sweeper: { enabled: boolean; intervalMs: number; batchSize: number };
  soldOutFlagTtlMs: number;
  fcodeLimiter: { maxFailuresPerUser: number; maxFailuresPerIp: number; windowMs: number };
  /** Fastify's `trustProxy`: whether (or which) proxies' X-Forwarded-For decides the client address. */
  trustProxy: boolean | number | string;
  /** HTTP worker processes sharing the port (Node's cluster); 1 runs the service in this process alone. */
  webConcurrency: number;
  /** Live updates: open event streams per process (SSE_MAX_CONNECTIONS) and the heartbeat period. */
  liveEvents: { maxConnections: number; heartbeatMs: number };
  /** Whether purchase attempts are counted into the sale timeline (TIMELINE_ENABLED; off only to measure its cost). */
  timelineEnabled: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max} (got "${value}")`);
      return fallback;
    }
    return parsed;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
    this.problems.push(`${name} must be true or false (got "${value}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return value as T;
  }
}

export function loadConfig(env: Env = process.env): AppConfig {
  const read = new EnvReader(env);
  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = nodeEnv === 'production';

  const redisUrl = read.string('REDIS_URL', 'redis://127.0.0.1:6379');
  if (!/^rediss?:\/\/[^\s]+$/.test(redisUrl)) read.problems.push(`REDIS_URL must be a redis:// or rediss:// URL (got "${redisUrl}")`);
  const redisClusterNodes = readClusterNodes(read);
  const redisKeyPrefix = read.string('REDIS_KEY_PREFIX', DEFAULT_KEY_PREFIX);
  if (!KEY_PREFIX_PATTERN.test(redisKeyPrefix)) read.problems.push(`REDIS_KEY_PREFIX must be 1 to 32 letters, digits, '-' or '_' (got "${redisKeyPrefix}")`);

  const dataDir = read.string('DATA_DIR', './data');
  const databaseUrl = read.raw('DATABASE_URL');
  let database: DatabaseConfig = { kind: 'sqlite', file: `${dataDir}/sellout.sqlite` };
  if (databaseUrl !== undefined) {
    if (/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) database = { kind: 'postgres', url: databaseUrl };
    else if (databaseUrl.startsWith('sqlite:')) database = { kind: 'sqlite', file: databaseUrl.slice('sqlite:'.length) || ':memory:' };
    else read.problems.push(`DATABASE_URL must be a postgres:// URL, a sqlite:<file> path, or unset for the embedded database (got "${databaseUrl}")`);
  }

  const jwtSecret = read.string('JWT_SECRET', DEV_JWT_SECRET);
  if (production && jwtSecret === DEV_JWT_SECRET) read.problems.push('JWT_SECRET must be set to your own secret when NODE_ENV=production (the dev secret is refused)');
  if (jwtSecret.length < 16) read.problems.push('JWT_SECRET must be at least 16 characters');

  const fcodeSecret = read.string('FCODE_SECRET', DEV_FCODE_SECRET);
  if (production && fcodeSecret === DEV_FCODE_SECRET) read.problems.push('FCODE_SECRET must be set to your own secret when NODE_ENV=production (the dev secret is refused)');
  if (fcodeSecret.length < 16) read.problems.push('FCODE_SECRET must be at least 16 characters');

  const config: AppConfig = {
    nodeEnv,
    port: read.integer('PORT', 3000, 0, 65535),
    host: read.string('HOST', '127.0.0.1'),
    redisUrl,
    redisClusterNodes,
    redisKeyPrefix,
    database,
    dataDir,
    jwtSecret,
    fcodeSecret,
    // Dev tokens are forced off in production whatever the variable says.
    authDevTokens: production ? false : read.boolean('AUTH_DEV_TOKENS', true),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    bodyLimitBytes: read.integer('BODY_LIMIT_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    buyerBodyLimitBytes: read.integer('BUYER_BODY_LIMIT_BYTES', 16 * 1024, 1024, 1024 * 1024),
    redisCommandTimeoutMs: read.integer('REDIS_COMMAND_TIMEOUT_MS', 5000, 100, 600000),
    redisOutcomeProbeMs: read.integer('REDIS_OUTCOME_PROBE_MS', 3000, 0, 600000),
    shutdownGraceMs: read.integer('SHUTDOWN_GRACE_MS', 1000, 0, 60000),
    redisDurability: readRedisDurability(read, production),
    orderWriter: {
      enabled: read.boolean('ORDER_WRITER_ENABLED', true),
      thread: read.boolean('ORDER_WRITER_THREAD', true),
      nice: read.integer('ORDER_WRITER_NICE', 19, 0, 19),
      batchSize: read.integer('ORDER_WRITER_BATCH_SIZE', 500, 1, 10000),
      blockMs: read.integer('ORDER_WRITER_BLOCK_MS', 1000, 10, 60000),
      lingerMs: read.integer('ORDER_WRITER_LINGER_MS', 100, 0, 10000),
      claimIdleMs: read.integer('ORDER_WRITER_CLAIM_IDLE_MS', 30000, 10, 3600000),
      maxDeliveries: read.integer('ORDER_WRITER_MAX_DELIVERIES', 5, 1, 1000),
    },
    sweeper: {
      enabled: read.boolean('SWEEPER_ENABLED', true),
      intervalMs: read.integer('SWEEPER_INTERVAL_MS', 1000, 10, 600000),
      batchSize: read.integer('SWEEPER_BATCH_SIZE', 500, 1, 10000),
    },
    soldOutFlagTtlMs: read.integer('SOLD_OUT_FLAG_TTL_MS', 1000, 0, 600000),
    fcodeLimiter: {
      maxFailuresPerUser: read.integer('FCODE_MAX_FAILURES', 10, 1, 1000000),
      // Higher than the per-user threshold: many honest buyers can share one address behind a NAT.
      maxFailuresPerIp: read.integer('FCODE_MAX_FAILURES_PER_IP', 100, 1, 1000000),
      windowMs: read.integer('FCODE_FAILURE_WINDOW_SECONDS', 600, 1, 86400) * 1000,
    },
    trustProxy: readTrustProxy(read),
    webConcurrency: read.integer('WEB_CONCURRENCY', 1, 1, 64),
    liveEvents: {
      maxConnections: read.integer('SSE_MAX_CONNECTIONS', 25000, 0, 1000000),
      heartbeatMs: read.integer('SSE_HEARTBEAT_SECONDS', 20, 1, 3600) * 1000,
    },
    timelineEnabled: read.boolean('TIMELINE_ENABLED', true),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

/**
 * REDIS_CLUSTER_NODES: comma-separated `host:port` seeds of a Redis Cluster. The service then runs on the
 * cluster, so a REDIS_URL as well would leave it unclear which Redis holds the sales: both are refused.
 */
function readClusterNodes(read: EnvReader): string[] {
  const value = read.raw('REDIS_CLUSTER_NODES');
  if (value === undefined) return [];
  if (read.raw('REDIS_URL') !== undefined) {
    read.problems.push('REDIS_URL and REDIS_CLUSTER_NODES are both set: set REDIS_CLUSTER_NODES to run on a Redis Cluster, or REDIS_URL to run on one Redis node, not both');
  }
  const nodes = value.split(',').map((node) => node.trim());
  const malformed = nodes.filter((node) => !/^[^\s:,]+:\d{1,5}$/.test(node) || Number(node.slice(node.lastIndexOf(':') + 1)) > 65535);
  if (malformed.length > 0) read.problems.push(`REDIS_CLUSTER_NODES must be comma-separated host:port seed nodes of a Redis Cluster (got "${value}")`);
  return nodes;
}

/**
 * REDIS_DURABILITY: `aof` in production unless chosen otherwise, so that a production deployment never
 * runs without persistence by accident; `none` elsewhere, where a throwaway Redis is the norm.
 */
function readRedisDurability(read: EnvReader, production: boolean): RedisDurability {
  const value = read.raw('REDIS_DURABILITY');
  if (value === undefined) return production ? { mode: 'aof' } : { mode: 'none' };
  if (value === 'aof' || value === 'none') return { mode: value };
  const replicas = /^replicas:(\d+)$/.exec(value);
  if (replicas && Number(replicas[1]) >= 1 && Number(replicas[1]) <= 16) return { mode: 'replicas', replicas: Number(replicas[1]) };
  read.problems.push(`REDIS_DURABILITY must be aof, none, or replicas:N with N from 1 to 16 (got "${value}")`);
  return { mode: 'none' };
}

/**
 * TRUST_PROXY: off by default, because a client that can set X-Forwarded-For itself could otherwise pick
 * its own address and dodge the per-address F-code brake. `true` trusts every proxy, a number trusts
 * that many hops, anything else is a comma-separated list of proxy addresses or CIDR ranges.
 */
function readTrustProxy(read: EnvReader): boolean | number | string {
  const value = read.raw('TRUST_PROXY');
  if (value === undefined || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(value)) return read.integer('TRUST_PROXY', 0, 0, 100);
  if (!/^[0-9a-fA-F:./, ]+$/.test(value)) read.problems.push(`TRUST_PROXY must be true, false, a hop count, or a comma-separated list of proxy addresses/CIDR ranges (got "${value}")`);
  return value;
}

/**
 * `loadConfig` for an entry point: a bad configuration prints its problems (each naming its variable) and
 * stops the process with exit code 1 instead of a stack trace.
 */
export function loadConfigOrExit(env: Env = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

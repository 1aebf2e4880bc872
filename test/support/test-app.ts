import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type Redis from 'ioredis';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory';
import { ManualClock } from '../../src/common/clock';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { TokenService } from '../../src/auth/token.service';
import { RedisKeys } from '../../src/redis/redis-keys';
import { REDIS_CLIENT } from '../../src/redis/redis.constants';
import type { RedisClient } from '../../src/redis/redis-topology';
import { DatabaseService } from '../../src/database/database.service';

export interface TestAppOptions {
  /** Extra environment variables (as the server would read them). */
  env?: Record<string, string>;
  /** A clock the test controls; a ManualClock at the real time by default. */
  clock?: ManualClock;
  /** Reuse an embedded database file (restart tests); a fresh temp file otherwise. */
  sqliteFile?: string;
  /** Run on this Redis Cluster (REDIS_CLUSTER_NODES, `host:port` seeds) instead of the run's Redis node. */
  redisClusterNodes?: string[];
}

export interface InjectOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  rawBody?: string;
  contentType?: string;
}

export interface TestResponse<T = any> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
  text: string;
}

export class TestApp {
  constructor(
    readonly app: NestFastifyApplication,
    readonly config: AppConfig,
    readonly clock: ManualClock,
    readonly sqliteFile: string | undefined,
  ) {}

  get redis(): Redis {
    return this.app.get<Redis>(REDIS_CLIENT);
  }

  /** The app's client as it is: a Redis Cluster client when the app runs on one (`redisClusterNodes`). */
  get redisClient(): RedisClient {
    return this.app.get<RedisClient>(REDIS_CLIENT);
  }

  /** The keys of this app's deployment (its `REDIS_KEY_PREFIX`). */
  get keys(): RedisKeys {
    return this.app.get(RedisKeys);
  }

  get database(): DatabaseService {
    return this.app.get(DatabaseService);
  }

  token(userId: string, roles: string[] = []): string {
    return this.app.get(TokenService).sign(userId, roles);
  }

  opsToken(userId = 'ops-1'): string {
    return this.token(userId, ['ops']);
  }

  async request<T = any>(method: string, url: string, options: InjectOptions = {}): Promise<TestResponse<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | undefined;
    if (options.rawBody !== undefined) {
      payload = options.rawBody;
      headers['content-type'] = options.contentType ?? 'application/json';
    } else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await this.app.getHttpAdapter().getInstance().inject({ method: method as 'GET', url, headers, payload });
    let body: any = response.body;
    try {
      body = response.body.length > 0 ? JSON.parse(response.body) : undefined;
    } catch {
      // not JSON (CSV, metrics, HTML)
    }
    return { status: response.statusCode, body, headers: response.headers, text: response.body };
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}

/**
 * Test files in parallel workers share the run's Redis and PostgreSQL, and every app's expiry sweeper acts
 * on each sale it finds by its own test clock (and a booting app restores any sale of the database that
 * its Redis lacks): one Redis database and one PostgreSQL database per worker keep one file's clock away
 * from another file's orders.
 */
const worker = Number(process.env.JEST_WORKER_ID ?? '1');

function workerRedisUrl(): string {
  const url = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  if (url.pathname === '' || url.pathname === '/') url.pathname = `/${worker % 16}`;
  return url.toString();
}

function workerDatabaseUrl(): string | undefined {
  const base = process.env.TEST_DATABASE_URL;
  if (base === undefined || worker <= 1 || worker > Number(process.env.TEST_DATABASE_WORKERS ?? '1')) return base;
  const url = new URL(base);
  url.pathname = `${url.pathname}_w${worker}`;
  return url.toString();
}

/**
 * The Redis key prefix of a test app: one per database, as a deployment has. Apps on one database (a
 * restart, two instances of one deployment) share their keys; apps with databases of their own (every
 * embedded-database app) share a Redis database without ever meeting, as the prefix binding demands.
 */
export function testKeyPrefix(databaseUrl: string): string {
  return `t${createHash('sha256').update(databaseUrl).digest('hex').slice(0, 16)}`;
}

/** Configuration for a test app: the private test Redis and the run's database (see global-setup). */
export function testConfig(options: TestAppOptions = {}): { config: AppConfig; sqliteFile?: string } {
  const sqliteFile = process.env.TEST_DATABASE_URL ? undefined : (options.sqliteFile ?? join(tmpdir(), `sellout-test-${randomBytes(6).toString('hex')}.sqlite`));
  const databaseUrl = workerDatabaseUrl() ?? `sqlite:${sqliteFile}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    ...(options.redisClusterNodes ? { REDIS_CLUSTER_NODES: options.redisClusterNodes.join(',') } : { REDIS_URL: workerRedisUrl() }),
    DATABASE_URL: databaseUrl,
    REDIS_KEY_PREFIX: testKeyPrefix(databaseUrl),
    ORDER_WRITER_BLOCK_MS: '50',
    // Most tests stop, start and inspect the writer inside the test's own process; the writer's thread
    // (the service's default) has tests of its own.
    ORDER_WRITER_THREAD: 'false',
    ORDER_WRITER_CLAIM_IDLE_MS: '500',
    SWEEPER_INTERVAL_MS: '100',
    // The tests stand in for a trusted proxy: they set X-Forwarded-For to give buyers distinct addresses.
    TRUST_PROXY: 'true',
    ...(options.env ?? {}),
  });
  return { config, sqliteFile };
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const { config, sqliteFile } = testConfig(options);
  const clock = options.clock ?? new ManualClock(Date.now());
  const app = await createApp(config, { clock });
  return new TestApp(app, config, clock, sqliteFile);
}

/** A unique suffix so each test's users and sales never meet another test's. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { OutcomeUnknownError } from '../common/errors/outcome-unknown.error';
import { createClusterClient } from './redis-client.factory';
import { RedisKeys } from './redis-keys';
import { REDIS_CLIENT } from './redis.constants';
import { isCluster, masterNodes, masterOfKey, nodeKey, type RedisClient } from './redis-topology';

/** Longest a `WAIT` may hold the connection when replicas lag (it blocks the commands queued behind it). */
const MAX_WAIT_MS = 1000;

/**
 * Makes an acknowledged write as durable as `REDIS_DURABILITY` promises before its `201`/`200` is sent.
 *
 * - `aof`: Redis must run with `appendonly yes`, checked at boot (`checkAppendOnly`); nothing is done per request (Redis's
 *   `appendfsync` decides how much a crash of the machine can lose: `always` nothing, `everysec` up to a
 *   second).
 * - `replicas:N`: after a write, Redis `WAIT`s until N replicas have it. `WAIT` covers every earlier write
 *   of the connection, so the writes answered in one event-loop turn share one `WAIT` (a group commit).
 *   Too few replicas in time: the write happened on the master but may not survive a failover, so the
 *   caller answers `503 OUTCOME_UNKNOWN`. On a Redis Cluster the `WAIT` must reach the connection of the
 *   master that took the write (a keyless command goes to any node): it is sent in one pipeline behind a
 *   read of the sale's key, which ioredis routes to that master's connection, one group commit per master.
 * - `none`: nothing; acknowledged writes are lost if Redis loses its memory.
 */
@Injectable()
export class RedisDurability implements OnModuleInit {
  private readonly logger = new Logger(RedisDurability.name);
  private readonly replicas: number;
  private readonly waitMs: number;
  /** The group commit of this event-loop turn, per master ('' on one node). */
  private readonly nextWaits = new Map<string, Promise<number>>();

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: RedisKeys,
  ) {
    const durability = config.redisDurability;
    this.replicas = durability.mode === 'replicas' ? durability.replicas : 0;
    this.waitMs = Math.min(MAX_WAIT_MS, Math.max(10, Math.floor(config.redisCommandTimeoutMs / 2)));
  }

  /** True when a write must be confirmed (`confirm`) before it is answered. */
  get waitsForReplicas(): boolean {
    return this.replicas > 0;
  }

  async onModuleInit(): Promise<void> {
    const durability = this.config.redisDurability;
    if (durability.mode === 'replicas') await this.reportReplicas(durability.replicas);
    else if (durability.mode === 'none' && this.config.nodeEnv === 'production') this.logger.warn('REDIS_DURABILITY=none: orders answered 201 are lost if Redis loses its memory before the order writer stores them');
  }

  /**
   * Resolves once the writes this connection has had answered so far are on enough replicas; rejects
   * with OutcomeUnknownError when they are not in time. Call only when `waitsForReplicas`.
   */
  async confirm(saleId: string, what: string): Promise<void> {
    const saleKey = this.keys.forSale(saleId).sale;
    const master = masterOfKey(this.redis, saleKey);
    let nextWait = this.nextWaits.get(master);
    if (!nextWait) {
      nextWait = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.nextWaits.delete(master);
        return this.waitFor(saleKey);
      });
      this.nextWaits.set(master, nextWait);
    }
    let acknowledged: number;
    try {
      acknowledged = await nextWait;
    } catch (error) {
      throw new OutcomeUnknownError(what, error);
    }
    if (acknowledged < this.replicas) throw new OutcomeUnknownError(`${what} (${acknowledged} of ${this.replicas} replica(s) confirmed the write)`);
  }

  /** WAITs on the connection that wrote `saleKey`'s slot; resolves to the replicas that acknowledged. */
  private async waitFor(saleKey: string): Promise<number> {
    if (!isCluster(this.redis)) return this.redis.wait(this.replicas, this.waitMs);
    const replies = await this.redis.pipeline().exists(saleKey).wait(this.replicas, this.waitMs).exec();
    const [error, acknowledged] = replies?.[1] ?? [new Error('Redis pipeline was discarded'), 0];
    if (error) throw error;
    return Number(acknowledged);
  }

  private async reportReplicas(wanted: number): Promise<void> {
    for (const node of masterNodes(this.redis)) {
      const info = await node.info('replication');
      const connected = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
      const which = isCluster(this.redis) ? `the Redis master ${nodeKey(node)}` : 'Redis';
      if (connected < wanted) this.logger.warn(`REDIS_DURABILITY=replicas:${wanted}, but ${which} has ${connected} replica(s) connected: writes will answer 503 OUTCOME_UNKNOWN until enough replicas are up`);
    }
  }
}

/**
 * The boot check of `REDIS_DURABILITY=aof`, run on a connection of its own before the application is
 * built, so that a refused boot leaves nothing open behind it: on the node of REDIS_URL, or on every
 * master of the cluster of REDIS_CLUSTER_NODES (one master without its log loses its sales' orders).
 * Throws a message naming the setting; resolves to `appendfsync`.
 */
export async function checkAppendOnly(config: Pick<AppConfig, 'redisUrl' | 'redisClusterNodes' | 'redisCommandTimeoutMs'>): Promise<string> {
  if (config.redisClusterNodes.length === 0) {
    const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await checkNodeAppendOnly(redis, 'Redis');
    } finally {
      redis.disconnect();
    }
  }
  const cluster = await createClusterClient(config.redisClusterNodes, config.redisCommandTimeoutMs, 'sellout-boot-check', { clusterRetryStrategy: () => null });
  try {
    const fsyncs = new Set<string>();
    for (const node of cluster.nodes('master')) fsyncs.add(await checkNodeAppendOnly(node, `the Redis master ${nodeKey(node)}`));
    return [...fsyncs].join(', ');
  } finally {
    cluster.disconnect();
  }
}

async function checkNodeAppendOnly(redis: Redis, which: string): Promise<string> {
  let reply: string[];
  try {
    reply = (await redis.config('GET', 'appendonly')) as string[];
  } catch (error) {
    throw new Error(
      `REDIS_DURABILITY=aof: cannot check that ${which} runs with appendonly yes, because CONFIG GET was refused (${(error as Error).message}). ` +
        'Managed Redis services often disable CONFIG: use REDIS_DURABILITY=replicas:N (checked on every write with WAIT) if the service has replicas, or REDIS_DURABILITY=none to accept losing acknowledged orders if Redis loses its memory.',
    );
  }
  if (reply[1] !== 'yes') {
    throw new Error(
      `REDIS_DURABILITY=aof, but ${which} runs with appendonly ${reply[1] ?? 'unknown'}: orders answered 201 would be lost if it restarted. ` +
        'Run Redis with --appendonly yes (and appendfsync everysec or always), or choose REDIS_DURABILITY=replicas:N or none.',
    );
  }
  const fsync = (await redis.config('GET', 'appendfsync')) as string[];
  return fsync[1] ?? 'unknown';
}

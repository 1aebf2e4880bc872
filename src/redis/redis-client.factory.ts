import Redis, { Cluster, type ClusterOptions, RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { enforceCommandTimeout, markClusterRefusals } from './command-timeout';
import { defineScripts } from './lua-scripts';
import { type RedisClient } from './redis-topology';
import { coalesceWrites } from './write-coalescing';

/**
 * Builds an ioredis client for the hot path. While Redis is unreachable, commands fail at once
 * (no offline queue, one retry) so that a purchase answers 503 quickly instead of queueing buyers
 * behind a dead connection; the client keeps reconnecting in the background.
 *
 * Auto-pipelining is deliberately off: it took about 5% off the service's CPU in the purchase benchmark, but
 * with the offline queue disabled, commands issued right after a Redis restart kept failing with
 * "Stream isn't writeable" although the client reported ready (see test/reservations-redis-down).
 */
const HOT_PATH_OPTIONS: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  // A command written to a connection that then closed may have run. Sending it again on the next
  // connection would carry it out twice; instead it fails as unanswered (`command-timeout.ts`) and the
  // caller learns its outcome by an idempotent resend (`command-outcome.ts`).
  autoResendUnfulfilledCommands: false,
  connectTimeout: 5000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
};

/**
 * The client, with `commandTimeoutMs` enforced by one watchdog rather than ioredis's timer per command
 * (`command-timeout.ts`). Its duplicates get ioredis's own `commandTimeout` if they pass one.
 */
export async function createRedisClient(url: string, commandTimeoutMs: number, name: string): Promise<Redis> {
  const client = new Redis(url, { ...HOT_PATH_OPTIONS, connectionName: name });
  defineScripts(client);
  enforceCommandTimeout(client, commandTimeoutMs);
  coalesceWrites(client);
  // Without this listener ioredis prints every reconnect failure as an unhandled error event.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`REDIS_URL: cannot connect to Redis at ${url}: ${(error as Error).message}`);
  }
  return client;
}

/**
 * The boot check of the topology, on connections of its own before the application is built (a refused
 * boot leaves nothing open); the service and the standalone order writer (`npm run start:worker`) both
 * run it. A cluster node behind REDIS_URL answers MOVED for most keys: sale creation would fail half-way
 * and the order writer stall, so it is refused, naming the settings; so is a REDIS_CLUSTER_NODES seed that
 * is a Redis without cluster support. An unreachable Redis is left to the client, which boots and reports
 * it in /health (or, for a cluster, fails naming REDIS_CLUSTER_NODES).
 */
export async function checkRedisTopology(config: Pick<AppConfig, 'redisUrl' | 'redisClusterNodes'>): Promise<void> {
  if (config.redisClusterNodes.length === 0) {
    if (clusterEnabled(await clusterInfo(config.redisUrl)) === true) {
      throw new Error(`REDIS_URL: ${config.redisUrl} is a node of a Redis Cluster; run on the cluster with REDIS_CLUSTER_NODES=host:port,… (and REDIS_URL unset) instead`);
    }
    return;
  }
  for (const [index, seed] of clusterSeeds(config.redisClusterNodes).entries()) {
    const node = config.redisClusterNodes[index];
    const enabled = clusterEnabled(await clusterInfo(seed));
    if (enabled === undefined) continue;
    if (!enabled) {
      throw new Error(`REDIS_CLUSTER_NODES: ${node} is a Redis without cluster support, not a node of a Redis Cluster; run on it with REDIS_URL=redis://${node} (and REDIS_CLUSTER_NODES unset) instead`);
    }
    return;
  }
}

/** `INFO cluster` of the Redis at `url` (or host and port), or undefined when it does not answer. */
async function clusterInfo(at: string | { host: string; port: number }): Promise<string | undefined> {
  const options: RedisOptions = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 };
  const redis = typeof at === 'string' ? new Redis(at, options) : new Redis({ ...at, ...options });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.info('cluster');
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

function clusterEnabled(info: string | undefined): boolean | undefined {
  if (info === undefined) return undefined;
  return /cluster_enabled:1/.test(info);
}

const SLOTS_REFRESH_INTERVAL_MS = 5_000;

/**
 * Options of a cluster client. ioredis resends a command whose connection closed under it
 * (`retryDelayOnFailover`): a script that may have run would run twice, so that is off and such a command
 * fails as unanswered, like on one node. Redirections (MOVED, ASK) and TRYAGAIN/CLUSTERDOWN replies, which
 * mean the command did not run, are still followed. The slot map is also asked for again every
 * `SLOTS_REFRESH_INTERVAL_MS`: a manual failover closes no connection, so a client that sends only
 * pipelines over several slots (which ioredis does not redirect) would otherwise learn of it from
 * nothing (`execPerNode` follows such MOVED replies itself; this covers every other pipeline).
 * For a few seconds after a failover, a node's slot map may leave the demoted master out (it lists a
 * replica once gossip has brought it the replica's replication offset); a refresh that reads such a map
 * closes the connection to that node, and what is in flight on it fails as unanswered.
 */

function clusterOptions(name: string): ClusterOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    scaleReads: 'master',
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 16,
    slotsRefreshInterval: SLOTS_REFRESH_INTERVAL_MS,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    redisOptions: { connectionName: name, connectTimeout: 5000, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 1 },
  };
}

function clusterSeeds(nodes: string[]): { host: string; port: number }[] {
  return nodes.map((node) => ({ host: node.slice(0, node.lastIndexOf(':')), port: Number(node.slice(node.lastIndexOf(':') + 1)) }));
}

/**
 * A client of the Redis Cluster seeded by `nodes` (REDIS_CLUSTER_NODES), with every master's connection
 * open before it is used. Each node's connection (ioredis opens one per node it learns of) gets what the
 * single-node client has: `commandTimeoutMs` enforced by one watchdog per connection rather than a timer
 * per command, the commands of one event-loop turn sent in a few socket writes, and refusals at hand-over
 * marked as never sent (`markClusterRefusals` does the same for the cluster client's own).
 */
export async function createClusterClient(nodes: string[], commandTimeoutMs: number, name: string, extra: ClusterOptions = {}): Promise<Cluster> {
  const cluster = new Cluster(clusterSeeds(nodes), { ...clusterOptions(name), ...extra });
  // Before connect(): every node connection is created after this, and announced before its first command.
  cluster.on('+node', (node: Redis) => {
    enforceCommandTimeout(node, commandTimeoutMs);
    coalesceWrites(node);
  });
  markClusterRefusals(cluster);
  defineScripts(cluster);
  cluster.on('error', () => undefined);
  try {
    await cluster.connect();
    await Promise.all(cluster.nodes('master').map((node) => node.ping()));
  } catch (error) {
    cluster.disconnect();
    throw new Error(`REDIS_CLUSTER_NODES: cannot connect to the Redis Cluster at ${nodes.join(',')}: ${(error as Error).message}`);
  }
  return cluster;
}

/** The hot-path client of the configured topology: the cluster of REDIS_CLUSTER_NODES, or the node of REDIS_URL. */
export function createHotPathClient(config: AppConfig, name: string): Promise<RedisClient> {
  if (config.redisClusterNodes.length > 0) return createClusterClient(config.redisClusterNodes, config.redisCommandTimeoutMs, name);
  return createRedisClient(config.redisUrl, config.redisCommandTimeoutMs, name);
}

/**
 * The subscriber of the configured topology. On a cluster, a PUBLISH (the scripts announce returned stock
 * with one) reaches the subscribers of every node, so one subscription on any node hears every sale;
 * ioredis moves it to another node when that one fails.
 */
export async function createTopologySubscriber(config: AppConfig, name: string): Promise<RedisClient> {
  if (config.redisClusterNodes.length === 0) return createSubscriber(config.redisUrl, name);
  const cluster = new Cluster(clusterSeeds(config.redisClusterNodes), { ...clusterOptions(name), enableOfflineQueue: true });
  cluster.on('error', () => undefined);
  await cluster.connect();
  return cluster;
}

/** A subscriber connection: offline queue on, so SUBSCRIBE is replayed after a reconnect. */
export async function createSubscriber(url: string, name: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, connectionName: name, retryStrategy: (attempt) => Math.min(attempt * 100, 2000) });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

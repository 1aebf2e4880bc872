import Redis, { Cluster, type ChainableCommander } from 'ioredis';
import calculateSlot from 'cluster-key-slot';

/**
 * The hot-path client: one Redis node (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`). Both speak
 * the same commands; on a cluster every command, script, pipeline and transaction must keep to one slot
 * (a pipeline may span the slots of one master), so code that reads many sales goes through
 * `execPerNode` or works sale by sale.
 */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/** The master nodes: the client itself on one node, every master's connection on a cluster. */
export function masterNodes(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

/** `host:port` of a node's connection, as cluster slot maps name it. */
export function nodeKey(node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

/**
 * The cluster slot of a key: only its hash tag (the first non-empty `{…}`) counts when it has one. The
 * very function ioredis routes commands with, so what this code groups by master is what ioredis sends.
 */
export const keySlot: (key: string) => number = calculateSlot;

/** The master serving a key's slot, as the client's slot map says ('' when unknown or on one node). */
export function masterOfKey(client: RedisClient, key: string): string {
  return isCluster(client) ? (client.slots[keySlot(key)]?.[0] ?? '') : '';
}

/**
 * Rounds of sending again the commands a cluster answered MOVED, each after a fresh slot map. One is
 * enough once the map is fresh; a node asked for the map right after a failover may still describe the
 * one before it.
 */
const MOVED_ROUNDS = 3;

/**
 * Runs one command per item and answers the replies in item order: in one pipeline on one node, in one
 * pipeline per master on a cluster (a cluster pipeline must keep to one master's slots). `keyOf` names
 * the key each item's command touches; `add` queues that command.
 *
 * On a cluster, commands answered MOVED are sent again to the master the refreshed slot map names: a
 * MOVED command did not run. ioredis does this by itself for a single command, but for a pipeline only
 * when every reply is the same redirection or every command that succeeded was a read. A pipeline of
 * writes over several slots of a master that has just failed over would otherwise fail, without even
 * refreshing the map, for as long as nothing else refreshed it (the order writer's own client sends
 * little else).
 */
export async function execPerNode<T>(client: RedisClient, items: T[], keyOf: (item: T) => string, add: (pipeline: ChainableCommander, item: T) => void): Promise<[Error | null, unknown][]> {
  const replies = new Array<[Error | null, unknown]>(items.length);
  let pending = items.map((_, index) => index);
  for (let round = 0; pending.length > 0; round += 1) {
    await execGroupedByMaster(client, pending, items, keyOf, add, replies);
    if (!isCluster(client) || round === MOVED_ROUNDS) break;
    pending = pending.filter((index) => replies[index][0]?.message.startsWith('MOVED ') === true);
    if (pending.length > 0 && !(await refreshSlotMap(client))) break;
  }
  return replies;
}

/** The values of `execPerNode`'s replies, in order; when a command failed, its error is thrown instead. */
export function valuesOrThrow(replies: [Error | null, unknown][]): unknown[] {
  for (const [error] of replies) if (error) throw error;
  return replies.map(([, value]) => value);
}

async function execGroupedByMaster<T>(
  client: RedisClient,
  indexes: number[],
  items: T[],
  keyOf: (item: T) => string,
  add: (pipeline: ChainableCommander, item: T) => void,
  replies: [Error | null, unknown][],
): Promise<void> {
  const groups = new Map<string, number[]>();
  for (const index of indexes) {
    const master = masterOfKey(client, keyOf(items[index]));
    const group = groups.get(master);
    if (group) group.push(index);
    else groups.set(master, [index]);
  }
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const pipeline = client.pipeline();
      for (const index of group) add(pipeline, items[index]);
      const results = await pipeline.exec();
      if (!results) throw new Error('Redis pipeline was discarded');
      group.forEach((itemIndex, position) => (replies[itemIndex] = results[position]));
    }),
  );
}

/** Asks the cluster for its slot map again; false when no node answered. */
function refreshSlotMap(cluster: Cluster): Promise<boolean> {
  return new Promise((resolve) => cluster.refreshSlotsCache((error) => resolve(!error)));
}

import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ORDER_WRITER_GROUP, RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';
import { execPerNode, isCluster, type RedisClient } from '../redis/redis-topology';

/** One entry read from a sale's `events` stream. */
export interface StreamMessage {
  saleId: string;
  id: string;
  fields: string[];
}

export interface OrderWriterBacklog {
  /** Stream entries not yet acknowledged by the order writers' group. */
  lag: number;
  /** Entries the writer gave up on (`events:dead`). */
  parked: number;
}

type StreamEntry = [id: string, fields: string[]];

/** A consumer with nothing pending and silent this long is gone (each process start is a new consumer). */
const FORGET_CONSUMER_AFTER_MS = 3_600_000;
/**
 * On a Redis Cluster the writer polls (see `readPerSale`): again this soon after a read found events,
 * then twice as late after each empty one, up to `CLUSTER_POLL_MAX_MS` (or ORDER_WRITER_BLOCK_MS if lower).
 */
const CLUSTER_POLL_MIN_MS = 10;
const CLUSTER_POLL_MAX_MS = 250;

/**
 * The order writer's door to Redis: every sale's outbox stream (`events`), its consumer group, and the
 * dead-letter stream (`events:dead`). Also the one place the writer's lag is computed, for the metric,
 * the sale stats and the rebuild alike.
 */
@Injectable()
export class OrderWriterGateway {
  /** The blocking reader's own connection, while this process runs a writer loop on one Redis node. */
  private reader?: RedisClient;
  /** Whether this process runs a writer loop (on a cluster, it reads through the shared client). */
  private reading = false;
  private clusterPollMs = CLUSTER_POLL_MIN_MS;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Opens the connection for blocking reads: they would hold up every other command on a shared one, and
   * need a command timeout longer than the block.
   */
  async openReader(): Promise<void> {
    this.reading = true;
    if (isCluster(this.redis)) return;
    const reader = this.redis.duplicate({ connectionName: 'sellout-order-writer', commandTimeout: this.config.orderWriter.blockMs + this.config.redisCommandTimeoutMs, lazyConnect: true });
    reader.on('error', () => undefined);
    await reader.connect();
    this.reader = reader;
  }

  closeReader(): void {
    this.reader?.disconnect();
    this.reader = undefined;
    this.reading = false;
  }

  get hasReader(): boolean {
    return this.reading;
  }

  /** Sales in the index (those with an outbox to persist). */
  indexedSales(): Promise<string[]> {
    return this.redis.smembers(this.keys.salesIndex);
  }

  /** Creates the writers' consumer group on the sale's stream (and the stream), unless it exists. */
  async createGroup(saleId: string): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.forSale(saleId).events, ORDER_WRITER_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  }

  /**
   * New entries of every sale's stream: one blocking read on one Redis node, a read per sale on a cluster.
   * Waits for new entries at most `waitMs` (ORDER_WRITER_BLOCK_MS or less).
   */
  async readNew(consumer: string, saleIds: string[], waitMs = this.config.orderWriter.blockMs): Promise<StreamMessage[]> {
    if (!this.reading) return [];
    if (!this.reader) return this.readPerSale(consumer, saleIds, waitMs);
    const streams = saleIds.map((saleId) => this.keys.forSale(saleId).events);
    const { batchSize } = this.config.orderWriter;
    const blockMs = Math.max(1, Math.min(waitMs, this.config.orderWriter.blockMs));
    const reply = (await this.reader.xreadgroup('GROUP', ORDER_WRITER_GROUP, consumer, 'COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', ...streams, ...streams.map(() => '>'))) as
      | [string, StreamEntry[]][]
      | null;
    const messages: StreamMessage[] = [];
    for (const [stream, entries] of reply ?? []) {
      const saleId = saleIds[streams.indexOf(stream)];
      for (const [id, fields] of entries) messages.push({ saleId, id, fields });
    }
    return messages;
  }

  /**
   * On a Redis Cluster each sale's stream lives in its own slot, and one command never spans slots: one
   * XREADGROUP per sale, sent as one pipeline per master. A read cannot block on many slots, so the
   * writer polls, sooner while events flow and more lazily while they do not.
   */
  private async readPerSale(consumer: string, saleIds: string[], waitMs: number): Promise<StreamMessage[]> {
    const { batchSize, blockMs } = this.config.orderWriter;
    const replies = await execPerNode(
      this.redis,
      saleIds,
      (saleId) => this.keys.forSale(saleId).events,
      (pipeline, saleId) => pipeline.xreadgroup('GROUP', ORDER_WRITER_GROUP, consumer, 'COUNT', batchSize, 'STREAMS', this.keys.forSale(saleId).events, '>'),
    );
    const messages: StreamMessage[] = [];
    saleIds.forEach((saleId, index) => {
      const [error, reply] = replies[index];
      if (error) throw error;
      for (const [, entries] of (reply as [string, StreamEntry[]][] | null) ?? []) for (const [id, fields] of entries) messages.push({ saleId, id, fields });
    });
    if (messages.length > 0) {
      this.clusterPollMs = CLUSTER_POLL_MIN_MS;
    } else {
      await sleep(Math.min(this.clusterPollMs, waitMs));
      this.clusterPollMs = Math.min(this.clusterPollMs * 2, CLUSTER_POLL_MAX_MS, blockMs);
    }
    return messages;
  }

  /**
   * The first XAUTOCLAIM page of every sale's stream (as `claimPage` from the start), in one pipeline per
   * Redis node: a look for abandoned entries costs a round trip per node, however many sales there are.
   */
  async claimFirstPages(consumer: string, saleIds: string[]): Promise<{ saleId: string; next: string; messages: StreamMessage[] }[]> {
    const { claimIdleMs, batchSize } = this.config.orderWriter;
    const replies = await execPerNode(
      this.redis,
      saleIds,
      (saleId) => this.keys.forSale(saleId).events,
      (pipeline, saleId) => pipeline.xautoclaim(this.keys.forSale(saleId).events, ORDER_WRITER_GROUP, consumer, claimIdleMs, '0-0', 'COUNT', batchSize),
    );
    return saleIds.map((saleId, index) => {
      const [error, reply] = replies[index];
      if (error) throw error;
      return { saleId, ...claimedPage(saleId, reply) };
    });
  }

  /** One XAUTOCLAIM page of entries left unacknowledged for `claimIdleMs`; `next` is '0-0' after the last page. */
  async claimPage(saleId: string, consumer: string, cursor: string): Promise<{ next: string; messages: StreamMessage[] }> {
    const { claimIdleMs, batchSize } = this.config.orderWriter;
    return claimedPage(saleId, await this.redis.xautoclaim(this.keys.forSale(saleId).events, ORDER_WRITER_GROUP, consumer, claimIdleMs, cursor, 'COUNT', batchSize));
  }

  /**
   * Drops entries every consumer has acknowledged, so the stream does not grow without bound: everything
   * below both the oldest unacknowledged entry and the group's read position (read as one snapshot).
   * Also forgets consumers of processes long gone that left nothing pending (never `consumer`, this one).
   */
  async trimAcknowledged(saleId: string, consumer: string): Promise<void> {
    const stream = this.keys.forSale(saleId).events;
    const replies = await this.redis.multi().xinfo('GROUPS', stream).xpending(stream, ORDER_WRITER_GROUP).exec();
    if (!replies || replies.some(([error]) => error)) return;
    const group = (replies[0][1] as unknown[][]).map(toRecord).find((candidate) => candidate.name === ORDER_WRITER_GROUP);
    if (!group) return;
    const [pendingCount, oldestPending] = replies[1][1] as [number, string | null];
    const position = String(group['last-delivered-id']);
    const keepFrom = pendingCount > 0 && oldestPending !== null && compareIds(oldestPending, position) < 0 ? oldestPending : position;
    if (keepFrom !== '0-0') await this.redis.xtrim(stream, 'MINID', keepFrom);
    const consumers = ((await this.redis.xinfo('CONSUMERS', stream, ORDER_WRITER_GROUP)) as unknown[][]).map(toRecord);
    for (const other of consumers) {
      if (other.name === consumer || Number(other.pending) > 0 || Number(other.idle) < FORGET_CONSUMER_AFTER_MS) continue;
      await this.redis.xgroup('DELCONSUMER', stream, ORDER_WRITER_GROUP, String(other.name));
    }
  }

  /** One XACK per stream for the whole batch. */
  async acknowledge(messages: StreamMessage[]): Promise<void> {
    const idsBySale = new Map<string, string[]>();
    for (const message of messages) {
      const ids = idsBySale.get(message.saleId);
      if (ids) ids.push(message.id);
      else idsBySale.set(message.saleId, [message.id]);
    }
    const replies = await execPerNode(
      this.redis,
      [...idsBySale],
      ([saleId]) => this.keys.forSale(saleId).events,
      (pipeline, [saleId, ids]) => pipeline.xack(this.keys.forSale(saleId).events, ORDER_WRITER_GROUP, ...ids),
    );
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
  }

  /** How many times the entry has been delivered to the group (0 when it is not pending). */
  async deliveries(message: StreamMessage): Promise<number> {
    const pending = (await this.redis.xpending(this.keys.forSale(message.saleId).events, ORDER_WRITER_GROUP, message.id, message.id, 1)) as [string, string, number, number][];
    return pending[0]?.[3] ?? 0;
  }

  /** Moves an entry to the sale's dead-letter stream and acknowledges it, in one transaction. */
  async park(message: StreamMessage, reason: string, consumer: string): Promise<void> {
    const keys = this.keys.forSale(message.saleId);
    await this.redis
      .multi()
      .xadd(keys.deadEvents, '*', 'reason', reason, 'sourceId', message.id, 'consumer', consumer, ...message.fields)
      .xack(keys.events, ORDER_WRITER_GROUP, message.id)
      .exec();
  }

  /**
   * Entries of each sale's stream not yet persisted: never delivered (the group's `lag`) plus delivered
   * but unacknowledged (`pending`); the whole stream when no group exists yet, 0 when there is no stream.
   * Two round trips (per master, on a cluster) for any number of sales.
   */
  async lagOf(saleIds: string[]): Promise<number[]> {
    const commands = saleIds.flatMap((saleId) => [
      { saleId, read: 'groups' },
      { saleId, read: 'length' },
    ]);
    const replies = await execPerNode(
      this.redis,
      commands,
      ({ saleId }) => this.keys.forSale(saleId).events,
      (pipeline, { saleId, read }) => (read === 'groups' ? pipeline.xinfo('GROUPS', this.keys.forSale(saleId).events) : pipeline.xlen(this.keys.forSale(saleId).events)),
    );
    return Promise.all(
      saleIds.map(async (saleId, index) => {
        const [groupsError, groups] = replies[index * 2] ?? [];
        const [, length] = replies[index * 2 + 1] ?? [];
        // No stream yet (ERR no such key) means nothing to persist.
        if (groupsError) return 0;
        const group = (groups as unknown[][]).map(toRecord).find((candidate) => candidate.name === ORDER_WRITER_GROUP);
        if (!group) return Number(length ?? 0);
        const pending = Number(group.pending ?? 0);
        if (group.lag !== null && group.lag !== undefined) return Number(group.lag) + pending;
        // Redis cannot always tell the lag (entries deleted after the group's position): count them.
        const undelivered = await this.redis.xrange(this.keys.forSale(saleId).events, `(${String(group['last-delivered-id'])}`, '+', 'COUNT', 100_000);
        return undelivered.length + pending;
      }),
    );
  }

  /** The sale's lag (as `lagOf`) and its parked entries. */
  async backlog(saleId: string): Promise<OrderWriterBacklog> {
    const [[lag], parked] = await Promise.all([this.lagOf([saleId]), this.redis.xlen(this.keys.forSale(saleId).deadEvents)]);
    return { lag, parked };
  }
}

/** An XAUTOCLAIM reply: the cursor of the next page and the entries claimed (deleted ones come back null). */
function claimedPage(saleId: string, reply: unknown): { next: string; messages: StreamMessage[] } {
  const [next, entries] = reply as [string, (StreamEntry | null)[], string[]?];
  const messages = entries.filter((entry): entry is StreamEntry => entry !== null).map(([id, fields]) => ({ saleId, id, fields }));
  return { next, messages };
}

/** XINFO replies are flat [name, value, name, value, …] lists. */
function toRecord(flat: unknown[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (let index = 0; index + 1 < flat.length; index += 2) record[String(flat[index])] = flat[index + 1];
  return record;
}

function compareIds(left: string, right: string): number {
  const [leftMs, leftSeq] = left.split('-').map(BigInt);
  const [rightMs, rightSeq] = right.split('-').map(BigInt);
  if (leftMs !== rightMs) return leftMs < rightMs ? -1 : 1;
  if (leftSeq !== rightSeq) return leftSeq < rightSeq ? -1 : 1;
  return 0;
}

import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type Redis from 'ioredis';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { EntityManager } from 'typeorm';
import { isInfrastructureError } from '../common/errors/infrastructure-error';
import { ulid } from '../common/ids';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { DatabaseService } from '../database/database.service';
import { MetricsService } from '../metrics/metrics.service';
import { ORDER_WRITER_GROUP, RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';
import { OrderEvent, parseOrderEvent } from './order-events';
import { MalformedOrderError } from './order-record';
import { SalesRepository } from '../sales/sales.repository';
import { OrdersRepository } from './orders.repository';
import { WriterThread } from './order-writer-thread';

/** One entry read from a sale's `events` stream. */
interface StreamMessage {
  saleId: string;
  id: string;
  fields: string[];
}

interface ParsedMessage extends StreamMessage {
  event: OrderEvent;
}

type StreamEntry = [id: string, fields: string[]];

/** A status event that arrived before its order is in the database; retried like any failure. */
class OrderNotPersistedError extends Error {
  constructor(orderId: string) {
    super(`order ${orderId} is not in the database yet`);
    this.name = 'OrderNotPersistedError';
  }
}

/**
 * An event of a sale this service's database does not know: another deployment's, sharing the key
 * prefix. Never written here (a later rebuild would sell its units again); it stays pending for its own
 * deployment's writer to claim, and is parked after `maxDeliveries` like any event that keeps failing.
 */
class SaleNotInDatabaseError extends Error {
  constructor(saleId: string) {
    super(`sale ${saleId} is not in this service's database (another deployment's event on the same REDIS_KEY_PREFIX?)`);
    this.name = 'SaleNotInDatabaseError';
  }
}

const MAX_BACKOFF_MS = 2000;
/** Attempts in a row that failed after which the writer counts as failing (`/health` answers 503). */
const FAILING_AFTER_ATTEMPTS = 3;
const TRIM_INTERVAL_MS = 10_000;
/** A consumer with nothing pending and silent this long is gone (each process start is a new consumer). */
const FORGET_CONSUMER_AFTER_MS = 3_600_000;

/**
 * Persists orders from every sale's outbox stream into the database: a consumer group per stream, batches
 * read with XREADGROUP on a dedicated blocking connection and applied in one transaction each, acknowledged
 * only after the commit. Redelivery is harmless (insert-or-ignore, compare-and-set status updates), so a
 * crash at any point loses nothing: unacknowledged entries of a dead consumer are claimed by a live one
 * (XAUTOCLAIM). A message that keeps failing is parked in `events:dead` after `maxDeliveries`, never retried
 * forever; while the database itself is unreachable nothing is parked, the writer just waits and retries.
 *
 * Runs inside the service by default (ORDER_WRITER_ENABLED) and alone in `npm run start:worker`.
 */
@Injectable()
export class OrderWriterService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OrderWriterService.name);
  readonly consumer = `${hostname()}-${process.pid}-${ulid().slice(-8)}`;
  private reader?: Redis;
  /** The writer's worker thread, when it runs on one (`runsOnThread`). */
  private thread?: WriterThread;
  private running = false;
  private loop?: Promise<void>;
  private readonly groupsReady = new Set<string>();
  /** Messages whose batch failed because the database was unreachable; applied again before new reads. */
  private retryLater: StreamMessage[] = [];
  private lastClaimAt = 0;
  private lastTrimAt = Date.now();
  private failuresInARow = 0;
  /** Sales found in the database (sales are never deleted, so a hit is remembered). */
  private readonly knownSales = new Set<string>();
  private readonly reportedUnknownSales = new Set<string>();

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: DatabaseService,
    private readonly orders: OrdersRepository,
    private readonly metrics: MetricsService,
    private readonly sales: SalesRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.orderWriter.enabled) await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Whether the writer fails on every attempt lately (`/health`); on a thread, as the thread reports it. */
  get isFailing(): boolean {
    if (this.thread) return this.thread.isFailing;
    return this.failuresInARow >= FAILING_AFTER_ATTEMPTS;
  }

  /**
   * Whether the writer runs on a worker thread (ORDER_WRITER_THREAD) rather than on the event loop that
   * serves HTTP. Not for an in-memory database, which another thread's connection would not see.
   */
  get runsOnThread(): boolean {
    const { database, orderWriter } = this.config;
    return orderWriter.thread && !(database.kind === 'sqlite' && database.file === ':memory:');
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.runsOnThread) {
      this.thread = await WriterThread.start(this.config, this.metrics);
      this.running = true;
      return;
    }
    const { blockMs } = this.config.orderWriter;
    // Blocking reads get their own connection (they would hold up every other command on a shared one)
    // and a command timeout longer than the block.
    this.reader = this.redis.duplicate({ connectionName: 'sellout-order-writer', commandTimeout: blockMs + this.config.redisCommandTimeoutMs, lazyConnect: true });
    this.reader.on('error', () => undefined);
    await this.reader.connect();
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the batch in flight is committed and acknowledged. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.thread) {
      await this.thread.stop();
      this.thread = undefined;
      return;
    }
    await this.loop;
    this.reader?.disconnect();
    this.reader = undefined;
  }

  /** Entries of the sale's stream not yet persisted: never delivered, plus delivered but unacknowledged. */
  async lag(saleId: string): Promise<number> {
    return (await this.lagOf([saleId]))[0];
  }

  async isIdle(saleId: string): Promise<boolean> {
    return (await this.lag(saleId)) === 0;
  }

  /** Lags of several sales in two round trips (the `orderWriterLag` gauge). */
  async lagOf(saleIds: string[]): Promise<number[]> {
    if (saleIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const saleId of saleIds) {
      pipeline.xinfo('GROUPS', this.keys.forSale(saleId).events);
      pipeline.xlen(this.keys.forSale(saleId).events);
    }
    const replies = (await pipeline.exec()) ?? [];
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

  onLagCollect = async (): Promise<void> => {
    const saleIds = await this.redis.smembers(this.keys.salesIndex);
    const lags = await this.lagOf(saleIds);
    saleIds.forEach((saleId, index) => this.metrics.orderWriterLag.set({ sale: saleId }, lags[index]));
  };

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.step();
        this.failuresInARow = 0;
      } catch (error) {
        this.failuresInARow += 1;
        if (String((error as Error).message).includes('NOGROUP')) this.groupsReady.clear();
        // One warning per outage, not one per retry.
        if (this.failuresInARow === 1) this.logger.warn(`Order writer step failed, retrying with backoff: ${(error as Error).message}`);
        await sleep(Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(this.failuresInARow, 6)));
      }
    }
  }

  private async step(): Promise<void> {
    if (this.retryLater.length > 0) {
      const messages = this.retryLater;
      this.retryLater = [];
      await this.process(messages);
      return;
    }
    const saleIds = await this.activeSales();
    const now = Date.now();
    if (now - this.lastClaimAt >= this.config.orderWriter.claimIdleMs / 2) {
      this.lastClaimAt = now;
      await this.claimAbandoned(saleIds);
    }
    if (now - this.lastTrimAt >= TRIM_INTERVAL_MS) {
      this.lastTrimAt = now;
      await this.trimAcknowledged(saleIds);
    }
    if (saleIds.length === 0 || !this.reader) {
      await sleep(this.config.orderWriter.blockMs);
      return;
    }
    const streams = saleIds.map((saleId) => this.keys.forSale(saleId).events);
    const { batchSize, blockMs } = this.config.orderWriter;
    // One blocking read over every sale's stream; on Redis Cluster this call would be issued per slot.
    const reply = (await this.reader.xreadgroup('GROUP', ORDER_WRITER_GROUP, this.consumer, 'COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', ...streams, ...streams.map(() => '>'))) as
      | [string, StreamEntry[]][]
      | null;
    if (!reply) return;
    const messages: StreamMessage[] = [];
    for (const [stream, entries] of reply) {
      const saleId = saleIds[streams.indexOf(stream)];
      for (const [id, fields] of entries) messages.push({ saleId, id, fields });
    }
    await this.process(messages);
    // A short batch during a busy sale: let the next events gather rather than reading them a few at a
    // time. Each batch costs a read, a transaction and an acknowledgement whatever its size, and the
    // database's cost per row falls about threefold from batches of 20 to batches of 500. After a quiet
    // spell the blocking read still returns the first event at once.
    const { lingerMs } = this.config.orderWriter;
    if (lingerMs > 0 && messages.length < batchSize && this.running) await sleep(lingerMs);
  }

  /** Sales in the index, with the consumer group created on each stream (from its first entry). */
  private async activeSales(): Promise<string[]> {
    const saleIds = await this.redis.smembers(this.keys.salesIndex);
    for (const saleId of saleIds) {
      if (this.groupsReady.has(saleId)) continue;
      try {
        await this.redis.xgroup('CREATE', this.keys.forSale(saleId).events, ORDER_WRITER_GROUP, '0', 'MKSTREAM');
      } catch (error) {
        if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
      }
      this.groupsReady.add(saleId);
    }
    return saleIds;
  }

  /** Takes over entries another consumer (or this one, after a failure) left unacknowledged too long. */
  private async claimAbandoned(saleIds: string[]): Promise<void> {
    const { claimIdleMs, batchSize } = this.config.orderWriter;
    for (const saleId of saleIds) {
      let cursor = '0-0';
      do {
        const [next, entries] = (await this.redis.xautoclaim(this.keys.forSale(saleId).events, ORDER_WRITER_GROUP, this.consumer, claimIdleMs, cursor, 'COUNT', batchSize)) as [
          string,
          (StreamEntry | null)[],
          string[]?,
        ];
        const messages = entries.filter((entry): entry is StreamEntry => entry !== null).map(([id, fields]) => ({ saleId, id, fields }));
        if (messages.length > 0) await this.process(messages);
        cursor = next;
      } while (cursor !== '0-0' && this.running);
    }
  }

  /**
   * Drops entries every consumer has acknowledged, so the streams do not grow without bound: everything
   * below both the oldest unacknowledged entry and the group's read position (read as one snapshot).
   * Also forgets consumers of processes long gone that left nothing pending.
   */
  async trimAcknowledged(saleIds: string[]): Promise<void> {
    for (const saleId of saleIds) {
      const stream = this.keys.forSale(saleId).events;
      const replies = await this.redis.multi().xinfo('GROUPS', stream).xpending(stream, ORDER_WRITER_GROUP).exec();
      if (!replies || replies.some(([error]) => error)) continue;
      const group = (replies[0][1] as unknown[][]).map(toRecord).find((candidate) => candidate.name === ORDER_WRITER_GROUP);
      if (!group) continue;
      const [pendingCount, oldestPending] = replies[1][1] as [number, string | null];
      const position = String(group['last-delivered-id']);
      const keepFrom = pendingCount > 0 && oldestPending !== null && compareIds(oldestPending, position) < 0 ? oldestPending : position;
      if (keepFrom !== '0-0') await this.redis.xtrim(stream, 'MINID', keepFrom);
      await this.forgetGoneConsumers(stream);
    }
  }

  private async forgetGoneConsumers(stream: string): Promise<void> {
    const consumers = ((await this.redis.xinfo('CONSUMERS', stream, ORDER_WRITER_GROUP)) as unknown[][]).map(toRecord);
    for (const consumer of consumers) {
      if (consumer.name === this.consumer || Number(consumer.pending) > 0 || Number(consumer.idle) < FORGET_CONSUMER_AFTER_MS) continue;
      await this.redis.xgroup('DELCONSUMER', stream, ORDER_WRITER_GROUP, String(consumer.name));
    }
  }

  /** Applies messages; acknowledges what was committed; parks what can never succeed. */
  private async process(messages: StreamMessage[]): Promise<void> {
    let parsed: ParsedMessage[] = [];
    for (const message of messages) {
      try {
        parsed.push({ ...message, event: parseOrderEvent(message.fields) });
      } catch (error) {
        // No number of retries makes an unreadable event readable.
        await this.park(message, (error as Error).message);
      }
    }
    if (parsed.length === 0) return;
    let unknownSales: Set<string>;
    try {
      unknownSales = await this.unknownSales(parsed);
    } catch (error) {
      if (isInfrastructureError(error)) this.retryLater.push(...parsed);
      throw error;
    }
    if (unknownSales.size > 0) {
      for (const message of parsed) if (unknownSales.has(message.saleId)) await this.onMessageFailed(message, new SaleNotInDatabaseError(message.saleId));
      parsed = parsed.filter((message) => !unknownSales.has(message.saleId));
      if (parsed.length === 0) return;
    }
    try {
      await this.database.transaction((manager) => this.apply(manager, parsed));
      await this.acknowledge(parsed);
      return;
    } catch (error) {
      if (isInfrastructureError(error)) {
        this.retryLater.push(...parsed);
        throw error;
      }
    }
    // The batch failed for a reason of its own: find the culprit(s), one message per transaction.
    for (const [index, message] of parsed.entries()) {
      try {
        await this.database.transaction((manager) => this.apply(manager, [message]));
        await this.acknowledge([message]);
      } catch (error) {
        if (isInfrastructureError(error)) {
          this.retryLater.push(...parsed.slice(index));
          throw error;
        }
        await this.onMessageFailed(message, error as Error);
      }
    }
  }

  /** Sales of these messages that the database does not hold (checked afresh each time: a sale row may commit after its first event). */
  private async unknownSales(messages: ParsedMessage[]): Promise<Set<string>> {
    const unchecked = [...new Set(messages.map((message) => message.saleId))].filter((saleId) => !this.knownSales.has(saleId));
    if (unchecked.length === 0) return new Set();
    const found = await this.sales.existingIds(unchecked);
    const unknown = new Set<string>();
    for (const saleId of unchecked) {
      if (found.has(saleId)) {
        this.knownSales.add(saleId);
      } else {
        unknown.add(saleId);
        if (!this.reportedUnknownSales.has(saleId)) {
          this.reportedUnknownSales.add(saleId);
          this.logger.error(`Order events of sale ${saleId}, which this service's database does not hold, are left unwritten (and parked after ${this.config.orderWriter.maxDeliveries} deliveries): is another deployment using this REDIS_KEY_PREFIX?`);
        }
      }
    }
    return unknown;
  }

  private async apply(manager: EntityManager, messages: ParsedMessage[]): Promise<void> {
    // Orders first, then statuses in stream order: a status event always follows its order's creation.
    const created = messages.flatMap((message) => (message.event.type === 'created' ? [message.event.order] : []));
    await this.orders.insertIgnoringDuplicates(manager, created);
    for (const { event } of messages) {
      if (event.type !== 'status') continue;
      const changed = await this.orders.markIfPending(manager, event.orderId, event.status, event.at);
      // Unchanged is fine when the status was applied before (redelivery), not when the order is missing,
      // nor when it is still pending: another writer's INSERT of it committed after this UPDATE looked
      // (PostgreSQL's UPDATE skips a row it cannot see yet), and the status must be applied again.
      if (!changed && ((await this.orders.statusOf(manager, event.orderId)) ?? 'pending_payment') === 'pending_payment') throw new OrderNotPersistedError(event.orderId);
    }
  }

  /** One XACK per stream for the whole batch, and one metric update per event type. */
  private async acknowledge(messages: ParsedMessage[]): Promise<void> {
    const idsBySale = new Map<string, string[]>();
    const countsByType = new Map<string, number>();
    for (const message of messages) {
      const ids = idsBySale.get(message.saleId);
      if (ids) ids.push(message.id);
      else idsBySale.set(message.saleId, [message.id]);
      countsByType.set(message.event.type, (countsByType.get(message.event.type) ?? 0) + 1);
    }
    const pipeline = this.redis.pipeline();
    for (const [saleId, ids] of idsBySale) pipeline.xack(this.keys.forSale(saleId).events, ORDER_WRITER_GROUP, ...ids);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    for (const [type, count] of countsByType) this.metrics.orderWriterPersisted.inc({ type }, count);
  }

  /** Leaves a failed message pending (claimed again after claimIdleMs) until it has used up its deliveries. */
  private async onMessageFailed(message: ParsedMessage, error: Error): Promise<void> {
    const pending = (await this.redis.xpending(this.keys.forSale(message.saleId).events, ORDER_WRITER_GROUP, message.id, message.id, 1)) as [string, string, number, number][];
    const deliveries = pending[0]?.[3] ?? 0;
    if (deliveries >= this.config.orderWriter.maxDeliveries) {
      await this.park(message, `${error.name}: ${error.message} (after ${deliveries} deliveries)`);
    } else if (!(error instanceof OrderNotPersistedError || error instanceof MalformedOrderError || error instanceof SaleNotInDatabaseError)) {
      this.logger.warn(`Order event ${message.id} of sale ${message.saleId} failed (delivery ${deliveries}): ${error.message}`);
    }
  }

  /** Moves a message to the sale's dead-letter stream and acknowledges it, in one transaction. */
  private async park(message: StreamMessage, reason: string): Promise<void> {
    const keys = this.keys.forSale(message.saleId);
    await this.redis
      .multi()
      .xadd(keys.deadEvents, '*', 'reason', reason, 'sourceId', message.id, 'consumer', this.consumer, ...message.fields)
      .xack(keys.events, ORDER_WRITER_GROUP, message.id)
      .exec();
    this.metrics.orderWriterParked.inc();
    this.logger.error(`Parked order event ${message.id} of sale ${message.saleId}: ${reason}`);
  }
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

import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from 'typeorm';
import { isInfrastructureError } from '../common/errors/infrastructure-error';
import { ulid } from '../common/ids';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { DatabaseService } from '../database/database.service';
import { MetricsService } from '../metrics/metrics.service';
import { OrderEvent, parseOrderEvent } from './order-events';
import { OrderWriterGateway, StreamMessage } from './order-writer.gateway';
import { MalformedOrderError } from '../orders/order-record';
import { SalesRepository } from '../sales/sales.repository';
import { OrdersRepository } from '../orders/orders.repository';
import { WriterThread } from './writer-thread';

interface ParsedMessage extends StreamMessage {
  event: OrderEvent;
}

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

/**
 * How often the writer looks for entries a dead consumer left unacknowledged: a tenth of
 * ORDER_WRITER_CLAIM_IDLE_MS, at most a second, so that they are claimed within that slack of becoming
 * claimable rather than up to half the claim idle later. A look is one XAUTOCLAIM per sale, sent as one
 * pipeline per Redis node, and finds nothing in the ordinary case.
 */
export function claimCheckIntervalMs(claimIdleMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(claimIdleMs / 10)));
}

/** Attempts in a row that failed after which the writer counts as failing (`/health` answers 503). */
const FAILING_AFTER_ATTEMPTS = 3;
const TRIM_INTERVAL_MS = 10_000;

/**
 * Persists orders from every sale's outbox stream into the database: a consumer group per stream, batches
 * read with XREADGROUP (on a dedicated blocking connection; on a Redis Cluster, polled per sale through the
 * shared client) and applied in one transaction each, acknowledged
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
  /** The writer's worker thread, when it runs on one (`runsOnThread`). */
  private thread?: WriterThread;
  private running = false;
  private loop?: Promise<void>;
  private readonly groupsReady = new Set<string>();
  /** Messages whose batch failed because the database was unreachable; applied again before new reads. */
  private retryLater: StreamMessage[] = [];
  /** When the writer next looks for entries a dead consumer left (see `claimCheckIntervalMs`). */
  private nextClaimAt = 0;
  private lastTrimAt = Date.now();
  private failuresInARow = 0;
  /** Sales found in the database (sales are never deleted, so a hit is remembered). */
  private readonly knownSales = new Set<string>();
  private readonly reportedUnknownSales = new Set<string>();

  constructor(
    private readonly gateway: OrderWriterGateway,
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
    await this.gateway.openReader();
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
    this.gateway.closeReader();
  }

  /** Entries of the sale's stream not yet persisted: never delivered, plus delivered but unacknowledged. */
  async lag(saleId: string): Promise<number> {
    return (await this.gateway.lagOf([saleId]))[0];
  }

  /** Fills the `orderWriterLag` gauge for every sale in the index. */
  onLagCollect = async (): Promise<void> => {
    const saleIds = await this.gateway.indexedSales();
    const lags = await this.gateway.lagOf(saleIds);
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
    if (now >= this.nextClaimAt) {
      this.nextClaimAt = now + claimCheckIntervalMs(this.config.orderWriter.claimIdleMs);
      await this.claimAbandoned(saleIds);
    }
    if (now - this.lastTrimAt >= TRIM_INTERVAL_MS) {
      this.lastTrimAt = now;
      await this.trimAcknowledged(saleIds);
    }
    // A read waits for new events at most until the next look for abandoned ones is due.
    const waitMs = Math.max(1, Math.min(this.config.orderWriter.blockMs, this.nextClaimAt - Date.now()));
    if (saleIds.length === 0 || !this.gateway.hasReader) {
      await sleep(waitMs);
      return;
    }
    const messages = await this.gateway.readNew(this.consumer, saleIds, waitMs);
    if (messages.length === 0) return;
    await this.process(messages);
    // A short batch during a busy sale: let the next events gather rather than reading them a few at a
    // time. Each batch costs a read, a transaction and an acknowledgement whatever its size, and the
    // database's cost per row falls about threefold from batches of 20 to batches of 500. After a quiet
    // spell the blocking read still returns the first event at once.
    const { lingerMs, batchSize } = this.config.orderWriter;
    if (lingerMs > 0 && messages.length < batchSize && this.running) await sleep(lingerMs);
  }

  /** Sales in the index, with the consumer group created on each stream (from its first entry). */
  private async activeSales(): Promise<string[]> {
    const saleIds = await this.gateway.indexedSales();
    for (const saleId of saleIds) {
      if (this.groupsReady.has(saleId)) continue;
      await this.gateway.createGroup(saleId);
      this.groupsReady.add(saleId);
    }
    return saleIds;
  }

  /**
   * Takes over entries another consumer (or this one, after a failure) left unacknowledged for
   * ORDER_WRITER_CLAIM_IDLE_MS: the first page of every sale at once, then any further pages sale by sale.
   */
  private async claimAbandoned(saleIds: string[]): Promise<void> {
    const pages = await this.gateway.claimFirstPages(this.consumer, saleIds);
    const claimed = pages.flatMap((page) => page.messages);
    const { batchSize } = this.config.orderWriter;
    for (let start = 0; start < claimed.length; start += batchSize) await this.process(claimed.slice(start, start + batchSize));
    for (const page of pages) {
      let cursor = page.next;
      while (cursor !== '0-0' && this.running) {
        const { next, messages } = await this.gateway.claimPage(page.saleId, this.consumer, cursor);
        if (messages.length > 0) await this.process(messages);
        cursor = next;
      }
    }
  }

  /** Trims each sale's stream of what every consumer has acknowledged (see OrderWriterGateway.trimAcknowledged). */
  async trimAcknowledged(saleIds: string[]): Promise<void> {
    for (const saleId of saleIds) await this.gateway.trimAcknowledged(saleId, this.consumer);
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
    await this.gateway.acknowledge(messages);
    const countsByType = new Map<string, number>();
    for (const message of messages) countsByType.set(message.event.type, (countsByType.get(message.event.type) ?? 0) + 1);
    for (const [type, count] of countsByType) this.metrics.orderWriterPersisted.inc({ type }, count);
  }

  /** Leaves a failed message pending (claimed again after claimIdleMs) until it has used up its deliveries. */
  private async onMessageFailed(message: ParsedMessage, error: Error): Promise<void> {
    const deliveries = await this.gateway.deliveries(message);
    if (deliveries >= this.config.orderWriter.maxDeliveries) {
      await this.park(message, `${error.name}: ${error.message} (after ${deliveries} deliveries)`);
    } else if (!(error instanceof OrderNotPersistedError || error instanceof MalformedOrderError || error instanceof SaleNotInDatabaseError)) {
      this.logger.warn(`Order event ${message.id} of sale ${message.saleId} failed (delivery ${deliveries}): ${error.message}`);
    }
  }

  /** Moves a message to the sale's dead-letter stream and acknowledges it, in one transaction. */
  private async park(message: StreamMessage, reason: string): Promise<void> {
    await this.gateway.park(message, reason, this.consumer);
    this.metrics.orderWriterParked.inc();
    this.logger.error(`Parked order event ${message.id} of sale ${message.saleId}: ${reason}`);
  }
}

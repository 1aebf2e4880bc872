import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT, REDIS_SUBSCRIBER } from '../redis/redis.constants';
import { execPerNode, type RedisClient } from '../redis/redis-topology';
import { parseSaleSignal, saleChangedMessage, type SaleSignal } from './sale-signal';

/**
 * The one door of live updates, the sold-out flags and the timeline to Redis: the stock channel (stock
 * announcements and change notices, one subscription per process for every listener), and the units sold
 * the timeline samples. A deployment on sharded pub/sub changes only this class.
 */
@Injectable()
export class LiveGateway implements OnModuleDestroy {
  private readonly logger = new Logger(LiveGateway.name);
  private readonly listeners = new Set<(signal: SaleSignal) => void>();
  private subscribed?: Promise<unknown>;
  private readonly onMessage = (channel: string, message: string) => {
    if (channel !== this.keys.soldOutChannel || this.listeners.size === 0) return;
    const signal = parseSaleSignal(message);
    if (signal === undefined) {
      this.logger.warn(`Ignoring malformed message "${message}" on the stock channel`);
      return;
    }
    for (const listener of this.listeners) listener(signal);
  };

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Tells every process that something buyers see of this sale changed. Never throws: a lost notice is caught up by the next. */
  publishChanged(saleId: string): void {
    this.redis.publish(this.keys.soldOutChannel, saleChangedMessage(saleId)).catch((error: unknown) => {
      this.logger.warn({ err: error, saleId }, 'Could not publish a sale change notice');
    });
  }

  /** Calls `listener` for every notice on the stock channel, from any process (this one included). */
  async onSaleSignal(listener: (signal: SaleSignal) => void): Promise<void> {
    this.listeners.add(listener);
    if (!this.subscribed) {
      this.subscriber.on('message', this.onMessage);
      this.subscribed = this.subscriber.subscribe(this.keys.soldOutChannel);
    }
    await this.subscribed;
  }

  /** Units in live orders of each sale, as its Redis hash holds them now (undefined where it holds none). */
  async unitsSold(saleIds: string[]): Promise<(number | undefined)[]> {
    // One pipeline per master: on a cluster, one pipeline over sales of several masters is refused whole.
    const replies = await execPerNode(
      this.redis,
      saleIds,
      (saleId) => this.keys.forSale(saleId).sale,
      (pipeline, saleId) => pipeline.hget(this.keys.forSale(saleId).sale, 'unitsSold'),
    );
    return saleIds.map((_saleId, index) => {
      const [error, value] = replies[index];
      return error || value === null || value === undefined ? undefined : Number(value);
    });
  }

  onModuleDestroy(): void {
    this.listeners.clear();
    this.subscriber.off('message', this.onMessage);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { runScript } from '../redis/lua-scripts';
import { ORDER_WRITER_GROUP, RedisKeys } from '../redis/redis-keys';
import { REDIS_CLIENT } from '../redis/redis.constants';
import type { SaleLiveNumbers } from './dto/sale-response.dto';
import { COUNTER_FIELDS, type SaleCounters } from './sale-redis-state';

export type StockPool = 'general' | 'fcode';

/** What `adjust-stock.lua` did. */
export type StockAdjustment =
  | { outcome: 'ADJUSTED'; applied: number; total: number; remaining: number; stockVersion: number }
  | { outcome: 'SALE_NOT_FOUND' }
  | { outcome: 'OVER_CAPACITY'; total: number };

export interface OrderWriterBacklog {
  /** Stream entries not yet acknowledged by the order writers' group. */
  lag: number;
  /** Entries the writer gave up on (`events:dead`). */
  parked: number;
}

const LIVE_FIELDS = ['general', 'fcode', 'generalRemaining', 'fcodeRemaining', 'paused'] as const;

const toInteger = (value: string | null | undefined) => (value === null || value === undefined || value === '' ? 0 : Number(value));

/**
 * The sales feature's door to Redis: the sale-admin scripts and the reads of a sale's hash. Keys come
 * from `RedisKeys`; replies come back typed.
 */
@Injectable()
export class SalesGateway {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Creates the `sale` hash if absent (init-sale.lua) and lists the sale in the index. True when created. */
  async initSale(saleId: string, fields: Record<string, string | number>): Promise<boolean> {
    const created = await runScript<number>(this.redis, 'init-sale', [this.keys.forSale(saleId).sale], Object.entries(fields).flat());
    await this.redis.sadd(this.keys.salesIndex, saleId);
    return created === 1;
  }

  /** Undoes `initSale` for a sale whose database row was never committed. */
  async removeSale(saleId: string): Promise<void> {
    await this.redis.multi().del(this.keys.forSale(saleId).sale).srem(this.keys.salesIndex, saleId).exec();
  }

  async saleExists(saleId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.forSale(saleId).sale)) === 1;
  }

  /** The live numbers of each sale (one pipeline round trip); undefined where the sale has no Redis state. */
  async liveNumbers(saleIds: string[]): Promise<(SaleLiveNumbers | undefined)[]> {
    if (saleIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const saleId of saleIds) {
      const keys = this.keys.forSale(saleId);
      pipeline.hmget(keys.sale, ...LIVE_FIELDS);
      pipeline.hlen(keys.reservations);
    }
    const replies = await pipeline.exec();
    if (!replies) throw new Error('Redis pipeline was discarded');
    return saleIds.map((_saleId, index) => {
      const [hashError, values] = replies[index * 2];
      const [countError, reservations] = replies[index * 2 + 1];
      if (hashError) throw hashError;
      if (countError) throw countError;
      const [general, fcode, generalRemaining, fcodeRemaining, paused] = values as (string | null)[];
      if (general === null) return undefined;
      return {
        general: toInteger(general),
        fcode: toInteger(fcode),
        generalRemaining: toInteger(generalRemaining),
        fcodeRemaining: toInteger(fcodeRemaining),
        paused: paused === '1',
        reservations: Number(reservations),
      };
    });
  }

  /** Every counter of the `sale` hash; undefined when the sale has no Redis state. */
  async counters(saleId: string): Promise<SaleCounters | undefined> {
    const values = await this.redis.hmget(this.keys.forSale(saleId).sale, ...COUNTER_FIELDS);
    if (values[0] === null) return undefined;
    return Object.fromEntries(COUNTER_FIELDS.map((field, index) => [field, toInteger(values[index])])) as unknown as SaleCounters;
  }

  /** Sets settings fields of an existing `sale` hash (update-sale.lua). False when the sale has no hash. */
  async updateSettings(saleId: string, fields: Record<string, string | number>): Promise<boolean> {
    if (Object.keys(fields).length === 0) return this.saleExists(saleId);
    const written = await runScript<number>(this.redis, 'update-sale', [this.keys.forSale(saleId).sale], Object.entries(fields).flat());
    return written === 1;
  }

  /** Adds (or, negative, removes unsold) units of one pool atomically (adjust-stock.lua). */
  async adjustStock(saleId: string, pool: StockPool, add: number, maxTotal: number): Promise<StockAdjustment> {
    const reply = await runScript<[string, ...number[]]>(this.redis, 'adjust-stock', [this.keys.forSale(saleId).sale], [pool, add, maxTotal, saleId, this.keys.soldOutChannel]);
    switch (reply[0]) {
      case 'ADJUSTED':
        return { outcome: 'ADJUSTED', applied: Number(reply[1]), total: Number(reply[2]), remaining: Number(reply[3]), stockVersion: Number(reply[4]) };
      case 'OVER_CAPACITY':
        return { outcome: 'OVER_CAPACITY', total: Number(reply[1]) };
      case 'SALE_NOT_FOUND':
        return { outcome: 'SALE_NOT_FOUND' };
      default:
        throw new Error(`adjust-stock.lua answered ${String(reply[0])}`);
    }
  }

  /**
   * How far the order writers are behind on this sale's outbox: the group's `lag` (entries never
   * delivered) plus `pending` (delivered, not acknowledged); the whole stream when no group exists yet.
   */
  async orderWriterBacklog(saleId: string): Promise<OrderWriterBacklog> {
    const keys = this.keys.forSale(saleId);
    const [length, parked] = await Promise.all([this.redis.xlen(keys.events), this.redis.xlen(keys.deadEvents)]);
    if (length === 0) return { lag: 0, parked };
    const groups = (await this.redis.xinfo('GROUPS', keys.events)) as unknown[][];
    for (const group of groups) {
      const info = new Map<string, unknown>();
      for (let index = 0; index + 1 < group.length; index += 2) info.set(String(group[index]), group[index + 1]);
      if (info.get('name') !== ORDER_WRITER_GROUP) continue;
      const lag = info.get('lag');
      const pending = Number(info.get('pending') ?? 0);
      // Redis reports no lag when it cannot tell (after deletions); count the whole stream then.
      return { lag: lag === null || lag === undefined ? length : Number(lag) + pending, parked };
    }
    return { lag: length, parked };
  }
}
